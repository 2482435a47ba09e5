// A Namespace as Kubernetes' namespace strategies write it. spec.finalizers holds "kubernetes"
// from the start, and only the finalize subresource (namespaces/NAME/finalize, the namespace
// controller's) changes it: an update or patch of the namespace itself keeps the stored list, so
// `kubectl edit` cannot delete a Terminating namespace while its objects are still stored. A new
// namespace is Active whatever status it was sent with.

import type { KindInfo, KubeObject, Namespace } from '../api/registry.js';

/** The finalizer a Namespace's spec carries until the namespace controller has emptied it (Kubernetes' "kubernetes"). */
export const FINALIZER_NAMESPACE = 'kubernetes';

/** A Namespace is kept while spec.finalizers (the namespace controller's) is not empty, as metadata.finalizers keep any object. */
export function hasSpecFinalizers(o: KubeObject): boolean {
  return o.kind === 'Namespace' && ((o as { spec?: { finalizers?: string[] } }).spec?.finalizers ?? []).length > 0;
}

export function prepareNamespaceForCreate(info: KindInfo, o: KubeObject): void {
  if (info.kind !== 'Namespace') return;
  const ns = o as Namespace;
  const finalizers = ns.spec?.finalizers ?? [];
  ns.spec = { ...ns.spec, finalizers: finalizers.includes(FINALIZER_NAMESPACE) ? finalizers : [...finalizers, FINALIZER_NAMESPACE] };
  ns.status = { phase: 'Active', conditions: [] };
}

/** An update of the namespace itself: spec.finalizers as stored. */
export function keepNamespaceFinalizers(next: Namespace, old: Namespace): void {
  next.spec = { ...next.spec, finalizers: [...(old.spec?.finalizers ?? [])] };
}

/** The finalize subresource: the stored namespace with only spec.finalizers taken from `incoming`. */
export function finalizeNamespace(old: Namespace, incoming: Namespace): Namespace {
  return { ...old, metadata: { ...old.metadata }, spec: { ...old.spec, finalizers: [...(incoming.spec?.finalizers ?? [])] } } as Namespace;
}
