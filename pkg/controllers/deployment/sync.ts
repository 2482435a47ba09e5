// The parts of a Deployment sync every strategy shares (Kubernetes' deployment/sync.go): finding
// or creating the new ReplicaSet and syncing revisions, proportional scaling, history cleanup and
// the status computed from the ReplicaSets.

import { deepCopy } from '../../api/deep_copy.js';
import type { DeploymentStatus } from '../../../gen/navarch/api/v1/apps.js';
import type { Clock } from '../../../raft/node/ports.js';
import type { Deployment, ReplicaSet } from '../../api/registry.js';
import type { EventRecorder } from '../../client/events/recorder.js';
import type { ReadonlyIndexer } from '../../client/informer/indexer.js';
import { isNamespaceTerminating } from '../../apiserver/api_error.js';
import type { ObjectClient } from '../client.js';
import { getControllerOf, newControllerRef } from '../controller_utils.js';
import { computeHash, equalIgnoreHash, POD_TEMPLATE_HASH_LABEL } from './hash.js';
import {
  activeReplicaSets,
  actualReplicaCount,
  availableReplicaCount,
  AVAILABLE,
  byRevision,
  desiredReplicasAnnotation,
  bySizeNewer,
  bySizeOlder,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  getCondition,
  hasProgressDeadline,
  isRollingUpdate,
  isSaturated,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  PROGRESSING,
  proportion,
  readyReplicaCount,
  REASON,
  replicasAnnotationsNeedUpdate,
  replicasOf,
  REVISION_ANNOTATION,
  ROLLBACK_TO_ANNOTATION,
  setCondition,
  setDeploymentRevision,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  specReplicaCount,
} from './util.js';

/** What the sync functions read and write through. */
export interface SyncContext {
  client: ObjectClient;
  recorder: EventRecorder;
  clock: Clock;
  replicaSets: ReadonlyIndexer<ReplicaSet>;
  /** Sync this Deployment again after delayMs. */
  enqueueAfter(d: Deployment, delayMs: number): void;
}

export function isApiCode(err: unknown, code: string): boolean {
  return (err as { code?: unknown } | null)?.code === code;
}

/**
 * Writes the Deployment's status and its annotations (the revision), in one status write as
 * Kubernetes' controller does: a Deployment's status subresource takes annotations, and does not
 * bump the generation for them. Keeps `d` current: resourceVersion and status.
 */
export async function updateDeploymentStatus(c: SyncContext, d: Deployment, stored: Deployment): Promise<void> {
  const r = await c.client.updateStatus(d);
  d.metadata!.resourceVersion = r.metadata?.resourceVersion;
  d.metadata!.annotations = { ...(r.metadata?.annotations ?? {}) };
  stored.metadata = deepCopy(r.metadata);
}

/** The sync's working copy of the Deployment and the stored object it came from. */
export interface SyncTarget {
  d: Deployment;
  stored: Deployment;
  /** The RSs it controls; kept current with this sync's own RS updates. */
  rsList: ReplicaSet[];
}

/** Kubernetes' getAllReplicaSetsAndSyncRevision: the new RS (created if asked) and all old ones. */
export async function getAllReplicaSetsAndSyncRevision(c: SyncContext, t: SyncTarget, createIfNotExisted: boolean): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
  const oldRSs = findOldReplicaSets(t.d, t.rsList);
  const newRS = await getNewReplicaSet(c, t, oldRSs, createIfNotExisted);
  return { newRS, oldRSs };
}

async function getNewReplicaSet(c: SyncContext, t: SyncTarget, oldRSs: readonly ReplicaSet[], create: boolean): Promise<ReplicaSet | undefined> {
  const d = t.d;
  const existing = findNewReplicaSet(d, t.rsList);
  const newRevision = maxRevision(oldRSs) + 1;
  if (existing) {
    const copy = deepCopy(existing);
    const annotationsUpdated = setNewReplicaSetAnnotations(d, copy, newRevision, true);
    const minReadyUpdated = (copy.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
    if (annotationsUpdated || minReadyUpdated) {
      copy.spec!.minReadySeconds = d.spec?.minReadySeconds ?? 0;
      // The RS's update event brings us back to sync the Deployment's revision.
      const updated = await c.client.update(copy);
      t.rsList[t.rsList.indexOf(existing)] = updated;
      return updated;
    }
    let needsUpdate = setDeploymentRevision(d, copy.metadata?.annotations?.[REVISION_ANNOTATION] ?? '');
    if (hasProgressDeadline(d) && !getCondition(d.status, PROGRESSING)) {
      setCondition((d.status ??= emptyStatus()), newCondition(PROGRESSING, 'True', REASON.foundNewRS, `Found new replica set "${copy.metadata?.name}"`, c.clock.nowMs()));
      needsUpdate = true;
    }
    if (needsUpdate) await updateDeploymentStatus(c, d, t.stored);
    return copy;
  }
  if (!create) return undefined;

  const collisionCount = d.status?.collisionCount;
  const hash = computeHash(d.spec?.template, collisionCount ?? undefined);
  const template = deepCopy(d.spec!.template!);
  template.metadata ??= { labels: {}, annotations: {}, ownerReferences: [], finalizers: [] };
  template.metadata.labels = { ...(template.metadata.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  const selector = deepCopy(d.spec!.selector!);
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  const name = `${d.metadata?.name}-${hash}`;
  const rs: ReplicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: d.metadata?.namespace, labels: { ...template.metadata.labels }, annotations: {}, ownerReferences: [newControllerRef(d, DEPLOYMENT_GVK)], finalizers: [] },
    spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
  };
  const replicas = newRSNewReplicas(d, [...oldRSs, rs], rs);
  rs.spec!.replicas = replicas;
  setNewReplicaSetAnnotations(d, rs, newRevision, false);

  let created: ReplicaSet;
  let alreadyExisted = false;
  try {
    created = await c.client.create(rs);
  } catch (err) {
    // As Kubernetes: a namespace going away is no failure to report.
    if (isNamespaceTerminating(err)) throw err;
    if (!isApiCode(err, 'AlreadyExists')) {
      const msg = `Failed to create new replica set "${name}": ${(err as Error).message}`;
      if (hasProgressDeadline(d) && !isApiCode(err, 'Conflict') && !isApiCode(err, 'Unavailable')) {
        setCondition((d.status ??= emptyStatus()), newCondition(PROGRESSING, 'False', REASON.failedRSCreate, msg, c.clock.nowMs()));
        await updateDeploymentStatus(c, d, t.stored).catch(() => {});
      }
      c.recorder.event(d, 'Warning', REASON.failedRSCreate, msg);
      throw err;
    }
    // Ours already (our cache was behind), or another template hashing to the same name.
    const found = c.replicaSets.get(d.metadata?.namespace, name) ?? (await c.client.get<ReplicaSet>('replicasets', d.metadata?.namespace, name));
    if (getControllerOf(found)?.uid === d.metadata?.uid && equalIgnoreHash(found.spec?.template, d.spec?.template)) {
      created = found;
      alreadyExisted = true;
    } else {
      const status = (d.status ??= emptyStatus());
      status.collisionCount = (status.collisionCount ?? 0) + 1;
      await updateDeploymentStatus(c, d, t.stored);
      throw err;
    }
  }
  if (!alreadyExisted && replicas > 0) c.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} to ${replicas}`);
  let needsUpdate = setDeploymentRevision(d, String(newRevision));
  if (!alreadyExisted && hasProgressDeadline(d)) {
    setCondition((d.status ??= emptyStatus()), newCondition(PROGRESSING, 'True', REASON.newRSCreated, `Created new replica set "${name}"`, c.clock.nowMs()));
    needsUpdate = true;
  }
  if (needsUpdate) await updateDeploymentStatus(c, d, t.stored);
  return created;
}

export const DEPLOYMENT_GVK = { apiVersion: 'apps/v1', kind: 'Deployment' };

export function emptyStatus(): DeploymentStatus {
  return { conditions: [] };
}

/** Sets an RS's size (and its desired/max annotations); records ScalingReplicaSet when the size changed. */
export async function scaleReplicaSet(c: SyncContext, rs: ReplicaSet, newScale: number, d: Deployment): Promise<{ scaled: boolean; rs: ReplicaSet }> {
  const sizeNeedsUpdate = replicasOf(rs) !== newScale;
  const desired = replicasOf(d);
  const max = desired + maxSurge(d);
  if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, desired, max)) return { scaled: false, rs };
  const oldScale = replicasOf(rs);
  const copy = deepCopy(rs);
  copy.spec!.replicas = newScale;
  setReplicasAnnotations(copy, desired, max);
  const updated = await c.client.update(copy);
  if (sizeNeedsUpdate) c.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${newScale > oldScale ? 'up' : 'down'} replica set ${rs.metadata?.name} to ${newScale} from ${oldScale}`);
  return { scaled: sizeNeedsUpdate, rs: updated };
}

/** scaleReplicaSet only when the size differs (Kubernetes' scaleReplicaSetAndRecordEvent). */
export async function scaleReplicaSetAndRecordEvent(c: SyncContext, rs: ReplicaSet, newScale: number, d: Deployment): Promise<{ scaled: boolean; rs: ReplicaSet }> {
  if (replicasOf(rs) === newScale) return { scaled: false, rs };
  return scaleReplicaSet(c, rs, newScale, d);
}

/** Some active RS was sized for a different spec.replicas: the user scaled. */
export async function isScalingEvent(c: SyncContext, t: SyncTarget): Promise<boolean> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(c, t, false);
  for (const rs of activeReplicaSets([...oldRSs, newRS])) {
    const desired = desiredReplicasAnnotation(rs);
    if (desired !== undefined && desired !== replicasOf(t.d)) return true;
  }
  return false;
}

/**
 * Kubernetes' scale: one active RS takes the whole size; a saturated new RS means the old ones go to
 * 0; otherwise a rolling update spreads the change over the active RSs in proportion to their size,
 * leftovers to the largest.
 */
export async function scale(c: SyncContext, d: Deployment, newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): Promise<void> {
  const one = findActiveOrLatest(newRS, oldRSs);
  if (one) {
    if (replicasOf(one) !== replicasOf(d)) await scaleReplicaSetAndRecordEvent(c, one, replicasOf(d), d);
    return;
  }
  if (isSaturated(d, newRS)) {
    for (const old of activeReplicaSets(oldRSs)) await scaleReplicaSetAndRecordEvent(c, old, 0, d);
    return;
  }
  if (!isRollingUpdate(d)) return;
  const all = activeReplicaSets([...oldRSs, newRS]);
  const allowed = replicasOf(d) > 0 ? replicasOf(d) + maxSurge(d) : 0;
  const toAdd = allowed - specReplicaCount(all);
  if (toAdd > 0) all.sort(bySizeNewer);
  else if (toAdd < 0) all.sort(bySizeOlder);
  let added = 0;
  const sizes = new Map<ReplicaSet, number>();
  for (const rs of all) {
    if (toAdd === 0) {
      sizes.set(rs, replicasOf(rs));
      continue;
    }
    const p = proportion(rs, d, toAdd, added);
    sizes.set(rs, replicasOf(rs) + p);
    added += p;
  }
  for (let i = 0; i < all.length; i++) {
    const rs = all[i];
    if (i === 0 && toAdd !== 0) sizes.set(rs, Math.max(0, sizes.get(rs)! + toAdd - added));
    await scaleReplicaSet(c, rs, sizes.get(rs)!, d);
  }
}

/** Deletes the oldest old RSs with no pods beyond revisionHistoryLimit. */
export async function cleanupDeployment(c: SyncContext, oldRSs: readonly ReplicaSet[], d: Deployment): Promise<void> {
  const limit = d.spec?.revisionHistoryLimit;
  if (limit === undefined || limit === null) return;
  const cleanable = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp).sort(byRevision);
  const diff = cleanable.length - limit;
  for (let i = 0; i < diff; i++) {
    const rs = cleanable[i];
    if ((rs.status?.replicas ?? 0) !== 0 || replicasOf(rs) !== 0 || (rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
    try {
      await c.client.delete('replicasets', rs.metadata?.namespace, rs.metadata?.name ?? '', { preconditions: { uid: rs.metadata?.uid } });
    } catch (err) {
      if (!isApiCode(err, 'NotFound')) throw err;
    }
  }
}

/** The status the ReplicaSets imply, with the Available condition (Kubernetes' calculateStatus). */
export function calculateStatus(allRSs: ReadonlyArray<ReplicaSet | undefined>, newRS: ReplicaSet | undefined, d: Deployment, nowMs: number): DeploymentStatus {
  const available = availableReplicaCount(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata?.generation ?? 0,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, specReplicaCount(allRSs) - available),
    terminatingReplicas: undefined,
    conditions: deepCopy(d.status?.conditions ?? []),
    collisionCount: d.status?.collisionCount,
  };
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(status, newCondition(AVAILABLE, 'True', REASON.minAvailable, 'Deployment has minimum availability.', nowMs));
  } else {
    setCondition(status, newCondition(AVAILABLE, 'False', REASON.minUnavailable, 'Deployment does not have minimum availability.', nowMs));
  }
  return status;
}

/** Whether two statuses say the same (absent counts are 0). */
export function sameStatus(a: DeploymentStatus | undefined, b: DeploymentStatus | undefined): boolean {
  const n = (v: number | undefined | null) => v ?? 0;
  const fields = ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'terminatingReplicas'] as const;
  for (const f of fields) if (n(a?.[f]) !== n(b?.[f])) return false;
  if ((a?.collisionCount ?? undefined) !== (b?.collisionCount ?? undefined)) return false;
  const conds = (s: DeploymentStatus | undefined) => JSON.stringify((s?.conditions ?? []).map((x) => [x.type, x.status, x.reason, x.message, x.lastUpdateTime, x.lastTransitionTime]));
  return conds(a) === conds(b);
}

/** Writes the status if it changed (Kubernetes' syncDeploymentStatus). */
export async function syncDeploymentStatus(c: SyncContext, t: SyncTarget, allRSs: ReadonlyArray<ReplicaSet | undefined>, newRS: ReplicaSet | undefined): Promise<void> {
  const status = calculateStatus(allRSs, newRS, t.d, c.clock.nowMs());
  if (sameStatus(t.d.status, status)) return;
  t.d.status = status;
  await updateDeploymentStatus(c, t.d, t.stored);
}

/** Paused and scaling syncs: size the RSs, clean history while paused, write status. */
export async function syncScaleOnly(c: SyncContext, t: SyncTarget): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(c, t, false);
  await scale(c, t.d, newRS, oldRSs);
  // As Kubernetes: no history cleanup while a rollback is asked for (its revision must stay).
  if (t.d.spec?.paused && t.d.metadata?.annotations?.[ROLLBACK_TO_ANNOTATION] === undefined) await cleanupDeployment(c, oldRSs, t.d);
  await syncDeploymentStatus(c, t, [...oldRSs, newRS], newRS);
}
