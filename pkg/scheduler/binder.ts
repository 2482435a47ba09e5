// How the scheduler writes its decision: one call per pod, Kubernetes' POST pods/{name}/binding.
// The API answers Conflict when the pod is already bound (by another scheduler, or by this one
// before a failover) or is not the pod with that uid any more; the scheduler then forgets it.
// NavarchClient (fenced through withFencing in a master) is a Binder as it is.

export interface BindOptions {
  /** The pod must still be this one (a pod recreated under the same name is another pod). */
  uid?: string;
}

export interface Binder {
  bind(namespace: string, name: string, nodeName: string, o: BindOptions): Promise<void>;
}

/** A Binder calling `client.bind` (keeps `this`, so the method can be passed around). */
export function clientBinder(client: Binder): Binder {
  return { bind: (namespace, name, nodeName, o) => client.bind(namespace, name, nodeName, o) };
}
