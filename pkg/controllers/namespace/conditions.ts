// The conditions a terminating Namespace reports (what `kubectl describe namespace` shows while it
// hangs), with Kubernetes' types, reasons and message shapes.

import type { Namespace } from '../../api/registry.js';
import { KINDS } from '../../api/registry.js';
import { formatTimeMs } from '../controller_utils.js';

type NamespaceCondition = NonNullable<Namespace['status']>['conditions'][number];

export interface ContentsReport {
  /** Objects still present, by plural resource. */
  remaining: Readonly<Record<string, number>>;
  /** Objects held by each finalizer, among the remaining ones. */
  finalizers: Readonly<Record<string, number>>;
  /** Deletes that failed, as messages. */
  failures: readonly string[];
}

/** "pods." or "deployments.apps", as Kubernetes prints a group resource. */
function groupResource(resource: string): string {
  const info = KINDS.find((k) => k.resource === resource);
  return `${resource}.${info?.group ?? ''}`;
}

function condition(type: string, status: 'True' | 'False', reason: string, message: string): NamespaceCondition {
  return { type, status, reason, message };
}

export function namespaceConditions(r: ContentsReport): NamespaceCondition[] {
  const remaining = Object.entries(r.remaining).sort(([a], [b]) => a.localeCompare(b));
  const finalizers = Object.entries(r.finalizers).sort(([a], [b]) => a.localeCompare(b));
  return [
    // Kubernetes reports discovery and group-version parsing too; every kind here is known, so neither fails.
    condition('NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered', 'All resources successfully discovered'),
    condition('NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions', 'All legacy kube types successfully parsed'),
    r.failures.length > 0
      ? condition('NamespaceDeletionContentFailure', 'True', 'ContentDeletionFailed', `Failed to delete all resource types, ${r.failures.length} remaining: ${r.failures.join(', ')}`)
      : condition('NamespaceDeletionContentFailure', 'False', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization'),
    remaining.length > 0
      ? condition('NamespaceContentRemaining', 'True', 'SomeResourcesRemain', `Some resources are remaining: ${remaining.map(([res, n]) => `${groupResource(res)} has ${n} resource instances`).join(', ')}`)
      : condition('NamespaceContentRemaining', 'False', 'ContentRemoved', 'All content successfully removed'),
    finalizers.length > 0
      ? condition('NamespaceFinalizersRemaining', 'True', 'SomeFinalizersRemain', `Some content in the namespace has finalizers remaining: ${finalizers.map(([f, n]) => `${f} in ${n} resource instances`).join(', ')}`)
      : condition('NamespaceFinalizersRemaining', 'False', 'ContentHasNoFinalizers', 'All content-preserving finalizers finished'),
  ];
}

/** `current` with `wanted` merged in (by type); a condition keeps its lastTransitionTime while its status holds. Undefined if nothing changed. */
export function mergeConditions(current: readonly NamespaceCondition[], wanted: readonly NamespaceCondition[], nowMs: number): NamespaceCondition[] | undefined {
  let changed = false;
  const out = [...current];
  for (const w of wanted) {
    const i = out.findIndex((c) => c.type === w.type);
    const old = i < 0 ? undefined : out[i];
    if (old !== undefined && old.status === w.status && old.reason === w.reason && old.message === w.message) continue;
    changed = true;
    const next = { ...w, lastTransitionTime: old !== undefined && old.status === w.status ? old.lastTransitionTime : formatTimeMs(nowMs) };
    if (i < 0) out.push(next);
    else out[i] = next;
  }
  return changed ? out : undefined;
}
