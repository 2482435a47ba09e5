// Watch: an AsyncIterable of ADDED / MODIFIED / DELETED events from a resourceVersion, in revision
// order with no gap, filtered by namespace and selectors (an object that stops matching is seen as
// DELETED, one that starts matching as ADDED), with BOOKMARKs on request. A resourceVersion that
// compaction has dropped ends the watch with an Expired error: relist, then watch from the list.
//
// The store watch underneath is bounded (watchBufferEvents). When this consumer falls behind and
// the store cuts it off, the watch resumes from the store's history at the next revision, which is
// read on demand: a slow consumer costs no memory, and if it falls behind past compaction it gets
// Expired like any other stale watcher.

import type { KindInfo, KubeObject } from '../api/registry.js';
import { ApiError, expired } from './api_error.js';
import { fromStoreError, type BackendWatch } from './backend.js';
import { resolve, type Context, type ResourceRef } from './context.js';
import { list } from './list.js';
import { decodeStoredKv, resourcePrefix } from './objects.js';
import { parseResourceVersion } from './resource_version.js';
import { parseSelectors, type ObjectFilter, type SelectorOptions } from './selectors.js';
import { CompactedError, WatchOverflowError, prefixEnd, type KeyValue, type WatchEvent as StoreEvent } from '../store/mod.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchEvent {
  type: WatchEventType;
  /** For BOOKMARK: only apiVersion, kind and metadata.resourceVersion are meaningful. */
  object: KubeObject;
}

export interface WatchRequest extends ResourceRef, SelectorOptions {
  /**
   * Deliver changes after this revision. "" or "0": first an ADDED event for every current object
   * (a consistent list), then changes after it.
   */
  resourceVersion?: string;
  /** Deliver BOOKMARK events when asked (requestBookmark or ApiServer.requestWatchProgress). */
  allowBookmarks?: boolean;
  /** Ends the watch; the iterator then finishes. */
  signal?: AbortSignal;
  /** Events the store may hold for this watch before it falls back to reading history. */
  watchBufferEvents?: number;
}

export class ApiWatch implements AsyncIterable<WatchEvent> {
  private inner: BackendWatch | undefined;
  private closed = false;
  private bookmarkWanted = false;
  /** Every change at or below this revision has been delivered (or filtered out). */
  private delivered: number;
  private readonly initial: boolean;
  private readonly onAbort = () => this.close();

  constructor(
    private readonly ctx: Context,
    readonly info: KindInfo,
    private readonly namespace: string | undefined,
    private readonly filter: ObjectFilter,
    private readonly req: WatchRequest,
    private readonly onClose: (w: ApiWatch) => void,
  ) {
    const rv = parseResourceVersion(req.resourceVersion);
    this.initial = rv === 0;
    this.delivered = rv;
    if (req.signal?.aborted) this.closed = true;
    req.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The revision up to which this watch has delivered everything: resume from here. */
  get resourceVersion(): string {
    return String(this.delivered);
  }

  /** Asks for a BOOKMARK once every event up to the current revision is delivered (needs allowBookmarks). */
  requestBookmark(): void {
    if (!this.req.allowBookmarks || this.closed) return;
    this.bookmarkWanted = true;
    this.inner?.requestProgress();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inner?.cancel();
    this.req.signal?.removeEventListener('abort', this.onAbort);
    this.onClose(this);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    try {
      if (this.initial) yield* this.initialEvents();
      while (!this.closed) {
        const inner = this.open();
        try {
          for await (const resp of inner) {
            if (this.closed) return;
            for (const e of resp.events) {
              const out = this.convert(e);
              if (out) yield out;
            }
            if (resp.events.length) this.delivered = resp.events[resp.events.length - 1].kv.modRevision;
            if (resp.progress) {
              this.delivered = Math.max(this.delivered, resp.headerRevision);
              if (this.bookmarkWanted) {
                this.bookmarkWanted = false;
                yield this.bookmark();
              }
            }
          }
          return;
        } catch (err) {
          if (err instanceof WatchOverflowError) {
            this.delivered = err.nextRevision - 1;
            continue;
          }
          if (err instanceof CompactedError) throw expired(this.delivered, err.compactRevision);
          throw fromStoreError(err);
        }
      }
    } finally {
      this.close();
    }
  }

  private open(): BackendWatch {
    const key = resourcePrefix(this.info, this.namespace);
    this.inner = this.ctx.backend.watch({ key, rangeEnd: prefixEnd(key), startRevision: this.delivered + 1, prevKv: true, watchBufferEvents: this.req.watchBufferEvents });
    if (this.bookmarkWanted) this.inner.requestProgress();
    return this.inner;
  }

  private async *initialEvents(): AsyncGenerator<WatchEvent> {
    let cont: string | undefined;
    do {
      const page = await list(this.ctx, {
        resource: this.info,
        namespace: this.namespace,
        labelSelector: this.req.labelSelector,
        fieldSelector: this.req.fieldSelector,
        continue: cont,
      });
      this.delivered = Number(page.resourceVersion);
      for (const object of page.items) {
        if (this.closed) return;
        yield { type: 'ADDED', object };
      }
      cont = page.continue;
    } while (cont && !this.closed);
  }

  private decode(kv: KeyValue, modRevision = kv.modRevision): KubeObject {
    const o = decodeStoredKv(this.info, kv);
    o.metadata!.resourceVersion = String(modRevision);
    return o;
  }

  private convert(e: StoreEvent): WatchEvent | undefined {
    if (e.type === 'delete') {
      // The delete event's kv is empty; the object is its last state, at the delete's revision.
      if (!e.prevKv) return undefined;
      const object = this.decode(e.prevKv, e.kv.modRevision);
      return this.filter.matches(object) ? { type: 'DELETED', object } : undefined;
    }
    const object = this.decode(e.kv);
    const now = this.filter.matches(object);
    if (e.kv.version === 1 || this.filter.everything) return now ? { type: e.kv.version === 1 ? 'ADDED' : 'MODIFIED', object } : undefined;
    const before = e.prevKv ? this.filter.matches(this.decode(e.prevKv)) : now;
    if (now) return { type: before ? 'MODIFIED' : 'ADDED', object };
    return before ? { type: 'DELETED', object } : undefined;
  }

  private bookmark(): WatchEvent {
    return {
      type: 'BOOKMARK',
      object: { apiVersion: this.info.apiVersion, kind: this.info.kind, metadata: { resourceVersion: String(this.delivered), labels: {}, annotations: {}, ownerReferences: [], finalizers: [] } } as KubeObject,
    };
  }
}

export function openWatch(ctx: Context, req: WatchRequest, onClose: (w: ApiWatch) => void): ApiWatch {
  const info = resolve(req.resource);
  const namespace = info.namespaced ? req.namespace || undefined : undefined;
  const filter = parseSelectors(info, req);
  if (req.watchBufferEvents !== undefined && (!Number.isSafeInteger(req.watchBufferEvents) || req.watchBufferEvents < 1)) {
    throw new ApiError('Invalid', `Invalid watchBufferEvents ${JSON.stringify(req.watchBufferEvents)}: expected a positive integer`);
  }
  return new ApiWatch(ctx, info, namespace, filter, req, onClose);
}
