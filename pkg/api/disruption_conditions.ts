// The conditions of voluntary disruption, each written one way by all its writers: a
// PodDisruptionBudget's DisruptionAllowed (the disruption controller computes the budget, the
// eviction API takes a disruption from it; Kubernetes' component-helpers), and a pod's
// DisruptionTarget (the eviction API, the scheduler's preemption, the taint manager).

import type { PodCondition } from '../../gen/navarch/api/v1/core.js';
import type { Condition } from '../../gen/navarch/api/v1/meta.js';
import type { PodDisruptionBudgetStatus } from '../../gen/navarch/api/v1/policy.js';
import { formatTime } from './time.js';

export const DISRUPTION_ALLOWED_CONDITION = 'DisruptionAllowed';
export const SUFFICIENT_PODS_REASON = 'SufficientPods';
export const INSUFFICIENT_PODS_REASON = 'InsufficientPods';

/**
 * Adds or updates the condition of that type in place (apimachinery's SetStatusCondition):
 * lastTransitionTime moves to now only when the status changes (or the condition is new); reason,
 * message and observedGeneration are overwritten. True when anything changed.
 */
export function setStatusCondition(conditions: Condition[], c: Required<Omit<Condition, 'lastTransitionTime'>>, nowMs: number): boolean {
  const existing = conditions.find((x) => x.type === c.type);
  if (existing === undefined) {
    conditions.push({ ...c, lastTransitionTime: formatTime(nowMs) });
    return true;
  }
  let changed = false;
  if (existing.status !== c.status) {
    existing.status = c.status;
    existing.lastTransitionTime = formatTime(nowMs);
    changed = true;
  }
  if ((existing.reason ?? '') !== c.reason) {
    existing.reason = c.reason;
    changed = true;
  }
  if ((existing.message ?? '') !== c.message) {
    existing.message = c.message;
    changed = true;
  }
  if ((existing.observedGeneration ?? 0) !== c.observedGeneration) {
    existing.observedGeneration = c.observedGeneration;
    changed = true;
  }
  return changed;
}

/** Sets DisruptionAllowed from status.disruptionsAllowed (component-helpers' UpdateDisruptionAllowedCondition). */
export function updateDisruptionAllowedCondition(status: PodDisruptionBudgetStatus, nowMs: number): void {
  const allowed = (status.disruptionsAllowed ?? 0) > 0;
  setStatusCondition(
    status.conditions,
    {
      type: DISRUPTION_ALLOWED_CONDITION,
      status: allowed ? 'True' : 'False',
      reason: allowed ? SUFFICIENT_PODS_REASON : INSUFFICIENT_PODS_REASON,
      message: '',
      observedGeneration: status.observedGeneration ?? 0,
    },
    nowMs,
  );
}

export const DISRUPTION_TARGET_CONDITION = 'DisruptionTarget';

/** DisruptionTarget=True with this reason; it keeps its transition time if it was True already. */
export function disruptionTargetCondition(old: PodCondition | undefined, reason: string, message: string, nowMs: number): PodCondition {
  return { type: DISRUPTION_TARGET_CONDITION, status: 'True', reason, message, lastTransitionTime: old?.status === 'True' ? old.lastTransitionTime : formatTime(nowMs) };
}
