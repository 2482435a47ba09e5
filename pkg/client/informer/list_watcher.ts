// What a reflector needs from the API: a consistent list, and a watch from a resourceVersion.
// The NavarchClient provides both (listAll pages at one revision; watch resumes on another master
// without a gap); tests use pkg/client/testing's in-memory FakeListWatch.

import type { KubeObject } from '../../api/registry.js';
import type { NavarchClient } from '../client.js';
import type { ClientWatchEvent } from '../watch.js';

export interface ListWatchResult<T extends KubeObject> {
  items: T[];
  /** The revision the list was read at; the watch starts after it. */
  resourceVersion: string;
}

export interface WatchFromOptions {
  /** Deliver changes after this revision. */
  resourceVersion: string;
  allowBookmarks: boolean;
}

/**
 * An open watch: events in revision order; ends (by throwing ApiError Expired) when its revision is
 * gone. `batches`, when there, gives the same events in bulk (ResumableWatch.batches): iterate one or the other.
 */
export type WatchStream<T extends KubeObject> = AsyncIterable<ClientWatchEvent<T>> & { close(): void; batches?(): AsyncIterable<readonly ClientWatchEvent<T>[]> };

export interface ListWatcher<T extends KubeObject = KubeObject> {
  /** Every object, consistently (one revision). */
  list(): Promise<ListWatchResult<T>>;
  watch(o: WatchFromOptions): WatchStream<T>;
  /**
   * Its objects come decoded for a cache already (ListOptions.forCache: shared strings and parts,
   * or a watch cache's frozen objects): an informer keeps them as they are instead of sharing their
   * values again, a second walk of every object.
   */
  readonly decodedForCache?: boolean;
}

export interface ClientListWatcherOptions {
  /** "" or absent: every namespace. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Items per list page. @default 500 */
  pageSize?: number;
}

/** A ListWatcher for one resource (plural name, e.g. "pods") through a NavarchClient. */
export function clientListWatcher<T extends KubeObject = KubeObject>(client: NavarchClient, resource: string, o: ClientListWatcherOptions = {}): ListWatcher<T> {
  const filter = { namespace: o.namespace, labelSelector: o.labelSelector, fieldSelector: o.fieldSelector };
  return {
    decodedForCache: true,
    async list() {
      const page = await client.listAll<T>(resource, { ...filter, pageSize: o.pageSize ?? 500, forCache: true });
      return { items: page.items, resourceVersion: page.resourceVersion };
    },
    watch(w) {
      return client.watch<T>(resource, { ...filter, resourceVersion: w.resourceVersion, allowBookmarks: w.allowBookmarks, forCache: true });
    },
  };
}
