// An object's key in an informer's store, as client-go's MetaNamespaceKeyFunc:
// "namespace/name" for namespaced objects, "name" for cluster-scoped ones.

import type { KubeObject } from '../../api/registry.js';

export function objectKey(o: KubeObject): string {
  const name = o.metadata?.name;
  if (!name) throw new TypeError(`Cannot key a ${o.kind || 'object'} without metadata.name`);
  const ns = o.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

export function namespacedKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** [namespace, name]; namespace is "" for a cluster-scoped key. */
export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return i < 0 ? ['', key] : [key.slice(0, i), key.slice(i + 1)];
}
