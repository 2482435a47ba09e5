// A ListWatcher straight over an in-process ApiServer (no gRPC), so agent and hollow-node tests
// run informers against the real API core: selectors, resourceVersions, watch semantics.

import type { KubeObject } from '../../api/registry.js';
import type { ApiServer } from '../../apiserver/api_server.js';
import type { ListWatcher, WatchStream } from '../../client/informer/list_watcher.js';
import type { ClientWatchEvent } from '../../client/watch.js';

export function serverListWatcher<T extends KubeObject = KubeObject>(server: ApiServer, resource: string, o: { fieldSelector?: string; labelSelector?: string } = {}): ListWatcher<T> {
  return {
    async list() {
      const r = await server.list({ resource, fieldSelector: o.fieldSelector, labelSelector: o.labelSelector });
      return { items: r.items as T[], resourceVersion: r.resourceVersion };
    },
    watch(w): WatchStream<T> {
      const inner = server.watch({ resource, fieldSelector: o.fieldSelector, labelSelector: o.labelSelector, resourceVersion: w.resourceVersion, allowBookmarks: w.allowBookmarks });
      return {
        close: () => inner.close(),
        async *[Symbol.asyncIterator]() {
          for await (const ev of inner) yield ev as ClientWatchEvent<T>;
        },
      };
    },
  };
}
