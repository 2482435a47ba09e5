// How the garbage collector sees an object's owners, as Kubernetes' classifyReferences: each
// ownerReference is solid (the owner exists and is not waiting on its dependents), dangling (no
// object with that uid: the owner is gone), or waiting (the owner is being deleted in the
// foreground and waits for its dependents to go first) or unresolvable (a kind this cluster does
// not serve, or a namespaced owner of a cluster-scoped object: Kubernetes leaves such an object
// alone rather than guess).

import type { OwnerReference } from '../../../gen/navarch/api/v1/meta.js';
import { kindByName, kindFor, type KindInfo, type KubeObject } from '../../api/registry.js';
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN } from '../../apiserver/delete.js';

export { FINALIZER_FOREGROUND, FINALIZER_ORPHAN };

export interface ClassifiedRefs {
  solid: OwnerReference[];
  dangling: OwnerReference[];
  waiting: OwnerReference[];
  unresolvable: OwnerReference[];
}

/** What a lookup returns for a reference that cannot name an object this cluster could hold. */
export const UNRESOLVABLE = Symbol('unresolvable owner');

/**
 * The kind an ownerReference names (another version of a served group's kind counts); undefined
 * for a kind this cluster does not serve, such as a custom resource whose kind is "Service" or
 * "Deployment" in a group of its own.
 */
export function ownerKind(ref: OwnerReference): KindInfo | undefined {
  const exact = kindFor(ref.apiVersion ?? '', ref.kind ?? '');
  if (exact) return exact;
  const byName = kindByName(ref.kind ?? '');
  const apiVersion = ref.apiVersion ?? '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return byName && byName.group === group ? byName : undefined;
}

export function isWaitingForDependents(o: KubeObject): boolean {
  return !!o.metadata?.deletionTimestamp && (o.metadata.finalizers ?? []).includes(FINALIZER_FOREGROUND);
}

export function hasFinalizer(o: KubeObject, f: string): boolean {
  return (o.metadata?.finalizers ?? []).includes(f);
}

/** Sorts refs by what `lookup` finds: the owner as it is (same uid), undefined when it is gone, or UNRESOLVABLE. */
export async function classifyReferences(refs: readonly OwnerReference[], lookup: (ref: OwnerReference) => Promise<KubeObject | undefined | typeof UNRESOLVABLE>): Promise<ClassifiedRefs> {
  const out: ClassifiedRefs = { solid: [], dangling: [], waiting: [], unresolvable: [] };
  for (const ref of refs) {
    const owner = await lookup(ref);
    if (owner === UNRESOLVABLE) out.unresolvable.push(ref);
    else if (owner === undefined) out.dangling.push(ref);
    else if (isWaitingForDependents(owner)) out.waiting.push(ref);
    else out.solid.push(ref);
  }
  return out;
}

/** The propagation policy for deleting a dependent whose owners are all gone or waiting. */
export function policyForDependent(o: KubeObject, waiting: readonly OwnerReference[], hasDependents: boolean): 'Orphan' | 'Foreground' | 'Background' {
  // An owner waiting on us: our own dependents go before us, so the owner's wait is complete.
  if (waiting.length > 0 && hasDependents) return 'Foreground';
  if (hasFinalizer(o, FINALIZER_ORPHAN)) return 'Orphan';
  if (hasFinalizer(o, FINALIZER_FOREGROUND)) return 'Foreground';
  return 'Background';
}
