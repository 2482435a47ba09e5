// The Progressing condition and the progress deadline (Kubernetes' deployment/progress.go): a
// rollout that moved is ReplicaSetUpdated, a finished one NewReplicaSetAvailable, and one that has
// not moved for progressDeadlineSeconds ProgressDeadlineExceeded, which `kubectl rollout status`
// reports as a failure. A rollout still in progress is looked at again when its deadline falls due.

import type { DeploymentStatus } from '../../../gen/navarch/api/v1/apps.js';
import type { Deployment, ReplicaSet } from '../../api/registry.js';
import { calculateStatus, sameStatus, updateDeploymentStatus, type SyncContext, type SyncTarget } from './sync.js';
import {
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  getCondition,
  hasProgressDeadline,
  newCondition,
  PROGRESSING,
  REASON,
  removeCondition,
  REPLICA_FAILURE,
  setCondition,
} from './util.js';

export async function syncRolloutStatus(c: SyncContext, t: SyncTarget, allRSs: ReadonlyArray<ReplicaSet | undefined>, newRS: ReplicaSet | undefined): Promise<void> {
  const d = t.d;
  const now = c.clock.nowMs();
  const status = calculateStatus(allRSs, newRS, d, now);
  if (!hasProgressDeadline(d)) removeCondition(status, PROGRESSING);
  const current = getCondition(d.status, PROGRESSING);
  const complete = status.replicas === status.updatedReplicas && current?.reason === REASON.newRSAvailable;
  if (hasProgressDeadline(d) && !complete) {
    if (deploymentComplete(d, status)) {
      const msg = newRS ? `ReplicaSet "${newRS.metadata?.name}" has successfully progressed.` : `Deployment "${d.metadata?.name}" has successfully progressed.`;
      setCondition(status, newCondition(PROGRESSING, 'True', REASON.newRSAvailable, msg, now));
    } else if (deploymentProgressing(d, status)) {
      const msg = newRS ? `ReplicaSet "${newRS.metadata?.name}" is progressing.` : `Deployment "${d.metadata?.name}" is progressing.`;
      const cond = newCondition(PROGRESSING, 'True', REASON.rsUpdated, msg, now);
      // A fresh lastUpdateTime restarts the deadline; the transition time stays while still True.
      if (current) {
        if (current.status === 'True') cond.lastTransitionTime = current.lastTransitionTime;
        removeCondition(status, PROGRESSING);
      }
      setCondition(status, cond);
    } else if (deploymentTimedOut(d, status, now)) {
      const msg = newRS ? `ReplicaSet "${newRS.metadata?.name}" has timed out progressing.` : `Deployment "${d.metadata?.name}" has timed out progressing.`;
      setCondition(status, newCondition(PROGRESSING, 'False', REASON.timedOut, msg, now));
    }
  }
  const failure = replicaFailure(allRSs, newRS);
  if (failure) setCondition(status, failure);
  else removeCondition(status, REPLICA_FAILURE);

  if (sameStatus(d.status, status)) {
    requeueStuckDeployment(c, d, status, now);
    return;
  }
  t.d.status = status;
  await updateDeploymentStatus(c, t.d, t.stored);
}

/** A ReplicaFailure condition of the new RS (or else of any RS), surfaced on the Deployment. */
function replicaFailure(allRSs: ReadonlyArray<ReplicaSet | undefined>, newRS: ReplicaSet | undefined) {
  const from = (rs: ReplicaSet | undefined) => rs?.status?.conditions?.find((x) => x.type === REPLICA_FAILURE);
  const rsCond = from(newRS) ?? allRSs.map(from).find((x) => x !== undefined);
  if (!rsCond) return undefined;
  return { type: REPLICA_FAILURE, status: rsCond.status, reason: rsCond.reason, message: rsCond.message, lastUpdateTime: rsCond.lastTransitionTime, lastTransitionTime: rsCond.lastTransitionTime };
}

/** Nothing changed but the rollout is not done: sync again when the deadline would pass. */
function requeueStuckDeployment(c: SyncContext, d: Deployment, status: DeploymentStatus, nowMs: number): void {
  const cond = getCondition(d.status, PROGRESSING);
  if (!hasProgressDeadline(d) || !cond) return;
  if (deploymentComplete(d, status) || cond.reason === REASON.timedOut) return;
  const from = cond.lastUpdateTime ? Date.parse(cond.lastUpdateTime) : NaN;
  if (Number.isNaN(from)) return;
  const afterMs = from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - nowMs;
  // Timestamps have whole seconds: one more second makes sure the deadline has passed.
  c.enqueueAfter(d, Math.max(afterMs, 0) + 1000);
}
