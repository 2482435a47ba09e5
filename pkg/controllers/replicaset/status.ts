// A ReplicaSet's status from the pods it controls, as Kubernetes' calculateStatus: replicas,
// fullyLabeledReplicas (pods carrying every template label), readyReplicas, availableReplicas
// (ready for minReadySeconds), observedGeneration, and the ReplicaFailure condition while creating
// or deleting pods fails.

import type { Pod, ReplicaSet } from '../../api/registry.js';
import { selectorFromSet } from '../../api/labels.js';
import { formatTimeMs, isPodAvailable, isPodReady } from '../controller_utils.js';

type ReplicaSetStatus = NonNullable<ReplicaSet['status']>;
type ReplicaSetCondition = ReplicaSetStatus['conditions'][number];

export const REPLICA_FAILURE = 'ReplicaFailure';

export interface ManageFailure {
  /** "FailedCreate" or "FailedDelete". */
  reason: string;
  message: string;
}

export function calculateStatus(rs: ReplicaSet, pods: readonly Pod[], failure: ManageFailure | undefined, nowMs: number): ReplicaSetStatus {
  const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
  const templateLabels = selectorFromSet(rs.spec?.template?.metadata?.labels ?? {});
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const p of pods) {
    if (templateLabels.matches(p.metadata?.labels)) fullyLabeled++;
    if (isPodReady(p)) {
      ready++;
      if (isPodAvailable(p, minReadySeconds, nowMs)) available++;
    }
  }
  const old = rs.status;
  let conditions = [...(old?.conditions ?? [])];
  const current = conditions.find((c) => c.type === REPLICA_FAILURE);
  if (failure !== undefined) {
    // As Kubernetes: the first failure stays until a sync succeeds (no status write per new message).
    if (current === undefined) {
      const c: ReplicaSetCondition = { type: REPLICA_FAILURE, status: 'True', reason: failure.reason, message: failure.message, lastTransitionTime: formatTimeMs(nowMs) };
      conditions = [...conditions, c];
    }
  } else if (current !== undefined) {
    conditions = conditions.filter((x) => x.type !== REPLICA_FAILURE);
  }
  return {
    replicas: pods.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
    terminatingReplicas: old?.terminatingReplicas,
    observedGeneration: rs.metadata?.generation ?? old?.observedGeneration,
    conditions,
  };
}

export function sameStatus(a: ReplicaSetStatus | undefined, b: ReplicaSetStatus): boolean {
  if (a === undefined) return false;
  return (
    (a.replicas ?? 0) === (b.replicas ?? 0) &&
    (a.fullyLabeledReplicas ?? 0) === (b.fullyLabeledReplicas ?? 0) &&
    (a.readyReplicas ?? 0) === (b.readyReplicas ?? 0) &&
    (a.availableReplicas ?? 0) === (b.availableReplicas ?? 0) &&
    (a.observedGeneration ?? 0) === (b.observedGeneration ?? 0) &&
    JSON.stringify(a.conditions ?? []) === JSON.stringify(b.conditions ?? [])
  );
}
