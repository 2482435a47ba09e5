// How the scheduler writes its decision: one call per pod, Kubernetes' POST pods/{name}/binding.
// The API answers Conflict when the pod is already bound (by another scheduler, or by this one
// before a failover) or is not the pod with that uid any more; the scheduler then forgets it.

export interface BindOptions {
  /** The pod must still be this one (a pod recreated under the same name is another pod). */
  uid?: string;
}

export interface Binder {
  bind(namespace: string, name: string, nodeName: string, o: BindOptions): Promise<void>;
}

/**
 * The Binder of a client that has `bind` (NavarchClient, fenced or not). Checked when called, so a
 * client without it fails at construction with a clear message rather than on the first pod.
 */
export function clientBinder(client: object): Binder {
  const f = (client as { bind?: unknown }).bind;
  if (typeof f !== "function") throw new TypeError("Cannot bind pods through this client: it has no bind(namespace, name, nodeName, {uid}) method");
  return {
    async bind(namespace, name, nodeName, o) {
      await (f as Binder["bind"]).call(client, namespace, name, nodeName, o);
    },
  };
}
