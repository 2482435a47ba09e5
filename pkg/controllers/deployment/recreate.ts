// Recreate (Kubernetes' deployment/recreate.go): scale every old ReplicaSet to 0, wait until their
// pods are gone (not just scaled down: terminating pods still run), then scale the new one up.

import type { Pod, ReplicaSet } from '../../api/registry.js';
import { syncRolloutStatus } from './progress.js';
import { cleanupDeployment, getAllReplicaSetsAndSyncRevision, scaleReplicaSetAndRecordEvent, type SyncContext, type SyncTarget } from './sync.js';
import { activeReplicaSets, actualReplicaCount, deploymentComplete, replicasOf } from './util.js';

/** Pods grouped by the uid of the ReplicaSet that controls them. */
export type PodMap = ReadonlyMap<string, readonly Pod[]>;

export async function rolloutRecreate(c: SyncContext, t: SyncTarget, podMap: PodMap): Promise<void> {
  let { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(c, t, false);
  let allRSs = [...oldRSs, newRS];
  let scaledDown = false;
  for (const rs of activeReplicaSets(oldRSs)) {
    if ((await scaleReplicaSetAndRecordEvent(c, rs, 0, t.d)).scaled) scaledDown = true;
  }
  if (scaledDown) return syncRolloutStatus(c, t, allRSs, newRS);
  if (oldPodsRunning(newRS, oldRSs, podMap)) return syncRolloutStatus(c, t, allRSs, newRS);
  if (!newRS) {
    ({ newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(c, t, true));
    allRSs = [...oldRSs, newRS];
  }
  if (newRS) await scaleReplicaSetAndRecordEvent(c, newRS, replicasOf(t.d), t.d);
  if (t.d.status && deploymentComplete(t.d, t.d.status)) await cleanupDeployment(c, oldRSs, t.d);
  return syncRolloutStatus(c, t, allRSs, newRS);
}

/** Old RSs still report pods, or a pod of theirs still exists and has not finished. */
export function oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[], podMap: PodMap): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS && newRS.metadata?.uid === uid) continue;
    for (const p of pods) {
      const phase = p.status?.phase;
      if (phase === 'Failed' || phase === 'Succeeded') continue;
      return true;
    }
  }
  return false;
}
