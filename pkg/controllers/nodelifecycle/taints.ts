// The taints this controller manages and how long a pod may stay on a node that has them: the
// NoExecute taint manager's arithmetic (Kubernetes' pkg/controller/tainteviction), pure.

import type { Pod } from '../../api/registry.js';

export interface Taint {
  key?: string | undefined;
  value?: string | undefined;
  effect?: string | undefined;
  timeAdded?: string | undefined;
}

export interface Toleration {
  key?: string | undefined;
  operator?: string | undefined;
  value?: string | undefined;
  effect?: string | undefined;
  tolerationSeconds?: number | undefined;
}

import { TAINT_NOT_READY, TAINT_UNREACHABLE, tolerationsCoverKey } from '../../apiserver/default_tolerations.js';

export { TAINT_NOT_READY, TAINT_UNREACHABLE };
export const NO_EXECUTE = 'NoExecute';
export const NO_SCHEDULE = 'NoSchedule';

export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

/** NoSchedule taints for node conditions other than Ready, as Kubernetes' nodeConditionToTaintKeyStatusMap (condition True). */
export const CONDITION_TAINTS: Readonly<Record<string, string>> = {
  MemoryPressure: 'node.kubernetes.io/memory-pressure',
  DiskPressure: 'node.kubernetes.io/disk-pressure',
  PIDPressure: 'node.kubernetes.io/pid-pressure',
  NetworkUnavailable: 'node.kubernetes.io/network-unavailable',
};
const CONDITION_TAINT_KEYS = new Set([...Object.values(CONDITION_TAINTS), TAINT_UNSCHEDULABLE]);

/** True for the taints this controller adds and removes. */
export function isManagedTaint(t: Taint): boolean {
  if (t.key === TAINT_UNREACHABLE || t.key === TAINT_NOT_READY) return t.effect === NO_EXECUTE || t.effect === NO_SCHEDULE;
  return t.effect === NO_SCHEDULE && CONDITION_TAINT_KEYS.has(t.key ?? '');
}

export function sameTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

/** Kubernetes' Toleration.ToleratesTaint. */
export function tolerates(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key && tol.key !== taint.key) return false;
  switch (tol.operator ?? '') {
    case '':
    case 'Equal':
      return (tol.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/** Forever: the pod tolerates the node's NoExecute taints without a time limit. */
export const FOREVER = Infinity;

/**
 * How long (ms) after a NoExecute taint appeared the pod may stay, per taint: 0 when it does not
 * tolerate it; the smallest tolerationSeconds among the tolerations that match, or FOREVER when
 * none of them sets one. The API server gives new pods tolerations for the not-ready and
 * unreachable taints (default_tolerations.ts); a pod that the admission would have given one but
 * has none (created before it did) is treated as if it had, for defaultTolerationSeconds.
 */
export function tolerationMs(pod: Pod, taint: Taint, defaultTolerationSeconds: number): number {
  const matching = (pod.spec?.tolerations ?? []).filter((t) => tolerates(t, taint));
  if (matching.length === 0) {
    const admissionWouldAdd = (taint.key === TAINT_UNREACHABLE || taint.key === TAINT_NOT_READY) && !tolerationsCoverKey(pod.spec?.tolerations, taint.key);
    return admissionWouldAdd ? Math.max(0, defaultTolerationSeconds) * 1000 : 0;
  }
  let min = FOREVER;
  for (const t of matching) if (t.tolerationSeconds !== undefined) min = Math.min(min, Math.max(0, t.tolerationSeconds) * 1000);
  return min;
}

/**
 * When (ms) the pod must be evicted from a node with these NoExecute taints, each with the time it
 * was first seen; FOREVER if never.
 */
export function evictionAtMs(pod: Pod, taints: ReadonlyArray<{ taint: Taint; sinceMs: number }>, defaultTolerationSeconds: number): number {
  let at = FOREVER;
  for (const { taint, sinceMs } of taints) at = Math.min(at, sinceMs + tolerationMs(pod, taint, defaultTolerationSeconds));
  return at;
}
