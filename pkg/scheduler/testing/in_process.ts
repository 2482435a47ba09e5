// The scheduler against an in-process ApiServer, for tests and benchmarks: list/watch sources for
// its informers and a Binder, with no network in between.

import type { KubeObject } from "../../api/registry.js";
import type { ApiServer } from "../../apiserver/api_server.js";
import type { ListWatcher, WatchStream } from "../../client/informer/list_watcher.js";
import type { ClientWatchEvent } from "../../client/watch.js";
import type { Binder } from "../binder.js";

/** A ListWatcher over the server: a paged list at one revision, then a watch from it. */
export function serverListWatcher<T extends KubeObject = KubeObject>(server: ApiServer, resource: string, pageSize = 5000): ListWatcher<T> {
  return {
    async list() {
      const items: T[] = [];
      let r = await server.list({ resource, limit: pageSize });
      const resourceVersion = r.resourceVersion;
      for (;;) {
        items.push(...(r.items as T[]));
        if (!r.continue) break;
        r = await server.list({ resource, limit: pageSize, continue: r.continue });
      }
      return { items, resourceVersion };
    },
    watch(o) {
      const w = server.watch({ resource, resourceVersion: o.resourceVersion, allowBookmarks: o.allowBookmarks });
      return w as unknown as WatchStream<T> & AsyncIterable<ClientWatchEvent<T>>;
    },
  };
}

/** A Binder through the server's binding subresource (Conflict when the pod is already bound). */
export function serverBinder(server: ApiServer): Binder {
  return {
    async bind(namespace, name, nodeName, o) {
      await server.bind({ namespace, name, uid: o.uid, target: { name: nodeName } });
    },
  };
}
