// What the disruption controller writes into a PodDisruptionBudget's status, as pure functions of the
// budget, its pods and the time (Kubernetes' buildDisruptedPodMap, countHealthyPods,
// updatePdbStatus and the component-helpers' DisruptionAllowed condition helpers).

import type { PodDisruptionBudgetStatus } from '../../../gen/navarch/api/v1/policy.js';
import { deepEqual } from '../../api/deep_equal.js';
import {
  DISRUPTION_ALLOWED_CONDITION,
  INSUFFICIENT_PODS_REASON,
  setStatusCondition,
  SUFFICIENT_PODS_REASON,
  updateDisruptionAllowedCondition,
} from '../../api/disruption_conditions.js';
import type { Pod, PodDisruptionBudget } from '../../api/registry.js';
import { isPodReady, parseTimeMs } from '../controller_utils.js';

/**
 * How long a pod may stay in status.disruptedPods (its eviction allowed) without being seen marked
 * for deletion; after that it is taken to be not deleted after all (Kubernetes' DeletionTimeout).
 */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

export { DISRUPTION_ALLOWED_CONDITION, INSUFFICIENT_PODS_REASON, setStatusCondition, SUFFICIENT_PODS_REASON, updateDisruptionAllowedCondition };
export const SYNC_FAILED_REASON = 'SyncFailed';

export interface DisruptedPodMap {
  /** The entries still awaited: pods that exist, are not yet being deleted, and whose timeout has not passed. */
  disruptedPods: Record<string, string>;
  /** When the earliest kept entry expires (ms), for a recheck then; undefined if none is kept. */
  recheckAtMs: number | undefined;
  /** Pods whose entry expired without their deletion being seen. */
  expired: Pod[];
}

/**
 * The budget's disruptedPods without the entries that are done with: the pod is gone or is being
 * deleted (its deletion was seen), or DELETION_TIMEOUT_MS has passed since the eviction was allowed
 * (it was not deleted after all). An entry whose time cannot be read counts as expired.
 */
export function buildDisruptedPodMap(pods: readonly Pod[], pdb: PodDisruptionBudget, nowMs: number): DisruptedPodMap {
  const previous = pdb.status?.disruptedPods ?? {};
  const result: DisruptedPodMap = { disruptedPods: {}, recheckAtMs: undefined, expired: [] };
  if (Object.keys(previous).length === 0) return result;
  for (const p of pods) {
    const name = p.metadata?.name ?? '';
    if (p.metadata?.deletionTimestamp || !Object.hasOwn(previous, name)) continue;
    const since = previous[name];
    const sinceMs = parseTimeMs(since);
    const expiresAtMs = sinceMs === undefined ? undefined : sinceMs + DELETION_TIMEOUT_MS;
    // At the deadline itself the entry is expired (Kubernetes keeps it one more instant, which a
    // recheck due at once would spin on under a clock that does not move).
    if (expiresAtMs === undefined || expiresAtMs <= nowMs) {
      result.expired.push(p);
      continue;
    }
    result.disruptedPods[name] = since;
    if (result.recheckAtMs === undefined || expiresAtMs < result.recheckAtMs) result.recheckAtMs = expiresAtMs;
  }
  return result;
}

/** Pods that count towards the budget: not being deleted, not about to be (in disruptedPods), and Ready. */
export function countHealthyPods(pods: readonly Pod[], disruptedPods: Readonly<Record<string, string>>, nowMs: number): number {
  let healthy = 0;
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue;
    const name = p.metadata?.name ?? '';
    if (Object.hasOwn(disruptedPods, name)) {
      const sinceMs = parseTimeMs(disruptedPods[name]);
      if (sinceMs !== undefined && sinceMs + DELETION_TIMEOUT_MS > nowMs) continue;
    }
    if (isPodReady(p)) healthy++;
  }
  return healthy;
}

export interface BudgetCounts {
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  disruptedPods: Record<string, string>;
}

/**
 * Disruptions the budget allows: the healthy pods beyond the desired ones, never negative, and 0
 * while no pods are expected (so a budget whose first pods appear before its first sync is safe).
 */
export function disruptionsAllowed(c: Pick<BudgetCounts, 'currentHealthy' | 'desiredHealthy' | 'expectedPods'>): number {
  const allowed = c.currentHealthy - c.desiredHealthy;
  return c.expectedPods <= 0 || allowed <= 0 ? 0 : allowed;
}

/**
 * The status to write for these counts, or undefined when the budget's status already says all of
 * it (the counts, disruptedPods, observedGeneration and an up-to-date DisruptionAllowed condition).
 */
export function nextStatus(pdb: PodDisruptionBudget, c: BudgetCounts, nowMs: number): PodDisruptionBudgetStatus | undefined {
  const allowed = disruptionsAllowed(c);
  const st = pdb.status;
  const generation = pdb.metadata?.generation ?? 0;
  if (
    (st?.currentHealthy ?? 0) === c.currentHealthy &&
    (st?.desiredHealthy ?? 0) === c.desiredHealthy &&
    (st?.expectedPods ?? 0) === c.expectedPods &&
    (st?.disruptionsAllowed ?? 0) === allowed &&
    deepEqual(st?.disruptedPods ?? {}, c.disruptedPods) &&
    conditionsAreUpToDate(pdb)
  ) {
    return undefined;
  }
  const status: PodDisruptionBudgetStatus = {
    observedGeneration: generation,
    disruptedPods: c.disruptedPods,
    disruptionsAllowed: allowed,
    currentHealthy: c.currentHealthy,
    desiredHealthy: c.desiredHealthy,
    expectedPods: c.expectedPods,
    conditions: (st?.conditions ?? []).map((x) => ({ ...x })),
  };
  updateDisruptionAllowedCondition(status, nowMs);
  return status;
}

/**
 * The status a budget whose sync failed is left with (Kubernetes' failSafe): no disruptions allowed
 * and DisruptionAllowed=False with reason SyncFailed and the error, the rest as it was; undefined
 * when it says that already.
 */
export function failSafeStatus(pdb: PodDisruptionBudget, message: string, nowMs: number): PodDisruptionBudgetStatus | undefined {
  const st = pdb.status;
  const status: PodDisruptionBudgetStatus = {
    observedGeneration: st?.observedGeneration,
    disruptedPods: { ...(st?.disruptedPods ?? {}) },
    disruptionsAllowed: 0,
    currentHealthy: st?.currentHealthy,
    desiredHealthy: st?.desiredHealthy,
    expectedPods: st?.expectedPods,
    conditions: (st?.conditions ?? []).map((x) => ({ ...x })),
  };
  const changed = setStatusCondition(
    status.conditions,
    { type: DISRUPTION_ALLOWED_CONDITION, status: 'False', reason: SYNC_FAILED_REASON, message, observedGeneration: st?.observedGeneration ?? 0 },
    nowMs,
  );
  return changed || (st?.disruptionsAllowed ?? 0) !== 0 ? status : undefined;
}

/** DisruptionAllowed says what disruptionsAllowed says, for the current generation (component-helpers' ConditionsAreUpToDate). */
export function conditionsAreUpToDate(pdb: PodDisruptionBudget): boolean {
  const c = pdb.status?.conditions?.find((x) => x.type === DISRUPTION_ALLOWED_CONDITION);
  if (c === undefined) return false;
  if ((pdb.status?.observedGeneration ?? 0) !== (pdb.metadata?.generation ?? 0)) return false;
  if ((pdb.status?.disruptionsAllowed ?? 0) > 0) return c.status === 'True' && c.reason === SUFFICIENT_PODS_REASON;
  return c.status === 'False' && c.reason === INSUFFICIENT_PODS_REASON;
}
