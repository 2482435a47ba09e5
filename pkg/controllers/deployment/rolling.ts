// RollingUpdate (Kubernetes' deployment/rolling.go): grow the new ReplicaSet while the total stays
// within replicas + maxSurge, shrink the old ones while availability stays at or above
// replicas - maxUnavailable, unhealthy old pods first.

import type { ReplicaSet } from '../../api/registry.js';
import { syncRolloutStatus } from './progress.js';
import { cleanupDeployment, getAllReplicaSetsAndSyncRevision, scaleReplicaSetAndRecordEvent, type SyncContext, type SyncTarget } from './sync.js';
import { activeReplicaSets, byCreation, deploymentComplete, maxUnavailable, newRSNewReplicas, replicasOf, specReplicaCount } from './util.js';

export async function rolloutRolling(c: SyncContext, t: SyncTarget): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(c, t, true);
  const allRSs = [...oldRSs, newRS];
  if (newRS && (await reconcileNewReplicaSet(c, t, allRSs, newRS))) return syncRolloutStatus(c, t, allRSs, newRS);
  if (newRS && (await reconcileOldReplicaSets(c, t, allRSs, activeReplicaSets(oldRSs), newRS))) return syncRolloutStatus(c, t, allRSs, newRS);
  if (t.d.status && deploymentComplete(t.d, t.d.status)) await cleanupDeployment(c, oldRSs, t.d);
  return syncRolloutStatus(c, t, allRSs, newRS);
}

async function reconcileNewReplicaSet(c: SyncContext, t: SyncTarget, allRSs: ReadonlyArray<ReplicaSet | undefined>, newRS: ReplicaSet): Promise<boolean> {
  const want = replicasOf(t.d);
  if (replicasOf(newRS) === want) return false;
  if (replicasOf(newRS) > want) return (await scaleReplicaSetAndRecordEvent(c, newRS, want, t.d)).scaled;
  return (await scaleReplicaSetAndRecordEvent(c, newRS, newRSNewReplicas(t.d, allRSs, newRS), t.d)).scaled;
}

async function reconcileOldReplicaSets(c: SyncContext, t: SyncTarget, allRSs: ReadonlyArray<ReplicaSet | undefined>, oldRSs: ReplicaSet[], newRS: ReplicaSet): Promise<boolean> {
  if (specReplicaCount(oldRSs) === 0) return false;
  const minAvailable = replicasOf(t.d) - maxUnavailable(t.d);
  const newRSUnavailable = replicasOf(newRS) - availableWithin(newRS);
  // Pods we may remove without dropping below minAvailable, counting the new RS's unavailable pods as lost.
  const maxScaledDown = specReplicaCount(allRSs) - minAvailable - newRSUnavailable;
  if (maxScaledDown <= 0) return false;
  const cleaned = await cleanupUnhealthyReplicas(c, t, oldRSs, maxScaledDown);
  const scaledDown = await scaleDownOldReplicaSetsForRollingUpdate(c, t, [...cleaned.oldRSs, newRS], cleaned.oldRSs);
  return cleaned.count + scaledDown > 0;
}

/** Removes old pods that are not available (they serve nobody), oldest RS first, at most maxCleanup. */
async function cleanupUnhealthyReplicas(c: SyncContext, t: SyncTarget, oldRSs: ReplicaSet[], maxCleanup: number): Promise<{ oldRSs: ReplicaSet[]; count: number }> {
  const sorted = [...oldRSs].sort(byCreation);
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (total >= maxCleanup) break;
    const rs = sorted[i];
    const unhealthy = replicasOf(rs) - availableWithin(rs);
    if (replicasOf(rs) === 0 || unhealthy <= 0) continue;
    const down = Math.min(maxCleanup - total, unhealthy);
    sorted[i] = (await scaleReplicaSetAndRecordEvent(c, rs, replicasOf(rs) - down, t.d)).rs;
    total += down;
  }
  return { oldRSs: sorted, count: total };
}

/** Scales old RSs down by as many pods as are available beyond minAvailable, oldest first. */
async function scaleDownOldReplicaSetsForRollingUpdate(c: SyncContext, t: SyncTarget, allRSs: ReplicaSet[], oldRSs: ReplicaSet[]): Promise<number> {
  const minAvailable = replicasOf(t.d) - maxUnavailable(t.d);
  const available = allRSs.reduce((n, rs) => n + availableWithin(rs), 0);
  if (available <= minAvailable) return 0;
  const target = available - minAvailable;
  let total = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (total >= target) break;
    if (replicasOf(rs) === 0) continue;
    const down = Math.min(replicasOf(rs), target - total);
    await scaleReplicaSetAndRecordEvent(c, rs, replicasOf(rs) - down, t.d);
    total += down;
  }
  return total;
}

/**
 * A ReplicaSet's available pods as its status says, but never more than it is scaled to: the pods
 * beyond that are being deleted. A status the previous controller manager wrote before it died may
 * still count them (it scaled the ReplicaSet down, then died before the status caught up), and a new
 * term that believed it would scale the old ReplicaSets down below maxUnavailable.
 */
function availableWithin(rs: ReplicaSet): number {
  return Math.min(rs.status?.availableReplicas ?? 0, replicasOf(rs));
}
