// The scheduler against an in-process ApiServer, for tests and benchmarks: list/watch sources for
// its informers and a Binder, with no network in between.

import type { KubeObject, Pod } from "../../api/registry.js";
import { ApiError } from "../../apiserver/api_error.js";
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

interface BindingServer {
  bind(req: { namespace: string; name: string; uid?: string; target: { name: string } }): Promise<unknown>;
}

/**
 * A Binder writing through the server's binding subresource when it has one; otherwise an update
 * of spec.nodeName guarded by the resourceVersion, which refuses a bound pod just as binding does.
 */
export function serverBinder(server: ApiServer): Binder {
  const withBinding = server as unknown as Partial<BindingServer>;
  if (typeof withBinding.bind === "function") {
    return {
      async bind(namespace, name, nodeName, o) {
        await (withBinding as BindingServer).bind({ namespace, name, uid: o.uid, target: { name: nodeName } });
      },
    };
  }
  return {
    async bind(namespace, name, nodeName, o) {
      const pod = (await server.get({ resource: "pods", namespace, name })) as Pod;
      if (o.uid && pod.metadata?.uid !== o.uid) throw new ApiError("Conflict", `Cannot bind pod ${namespace}/${name}: uid is ${pod.metadata?.uid}, not ${o.uid}`);
      if (pod.spec?.nodeName) throw new ApiError("Conflict", `Cannot bind pod ${namespace}/${name}: it is already assigned to node ${JSON.stringify(pod.spec.nodeName)}`);
      pod.spec!.nodeName = nodeName;
      await server.update({ resource: "pods", object: pod });
    },
  };
}
