// The disruption controller: keeps every PodDisruptionBudget's status (disruptionsAllowed, the
// healthy, desired and expected pod counts, disruptedPods, the DisruptionAllowed condition) current,
// and resets a pod's DisruptionTarget condition that has not led to its deletion within 2 minutes.
//
//   const c = new DisruptionController({ client, informers, recorder, clock, registry });
//   informers.start();
//   c.start();
//   ...
//   await c.stop();

export { DisruptionController, DISRUPTION_EVENT_COMPONENT, type DisruptionControllerOptions } from './controller.js';
export { dependsOnScale, expectedPodCount, expectedScale, ExpectedPodCountError, type ControllerSources, type ExpectedPodCount } from './expected_pods.js';
export {
  DISRUPTION_TARGET_CONDITION,
  STALE_POD_DISRUPTION_TIMEOUT_MS,
  StalePodDisruptionController,
  staleDisruptionWaitMs,
  TERMINATION_BY_KUBELET_REASON,
  withDisruptionTargetFalse,
  type StalePodDisruptionOptions,
} from './stale_disruption.js';
export {
  buildDisruptedPodMap,
  conditionsAreUpToDate,
  countHealthyPods,
  DELETION_TIMEOUT_MS,
  DISRUPTION_ALLOWED_CONDITION,
  disruptionsAllowed,
  failSafeStatus,
  INSUFFICIENT_PODS_REASON,
  nextStatus,
  setStatusCondition,
  SUFFICIENT_PODS_REASON,
  SYNC_FAILED_REASON,
  type BudgetCounts,
  type DisruptedPodMap,
} from './status.js';
