// The ReplicaSet controller, as Kubernetes' replica_set.go: keep spec.replicas active pods that
// match the selector and are controlled by the ReplicaSet. It adopts matching orphans and releases
// pods that stopped matching; creates missing pods from the template in slow-start batches
// (1, 2, 4, …; a batch that fails stops the rest); deletes the surplus the cheapest first; and
// writes status. Expectations keep it from acting on a cache that does not yet show its own
// creates and deletes, so a pod is never created twice for the same gap.

import type { Pod, ReplicaSet } from '../../api/registry.js';
import { selectorFromLabelSelector, type Selector } from '../../api/labels.js';
import { isApiError, isNamespaceTerminating } from '../../apiserver/api_error.js';
import type { EventRecorder } from '../../client/events/recorder.js';
import { NAMESPACE_INDEX } from '../../client/informer/indexer.js';
import type { InformerFactory } from '../../client/informer/informer_factory.js';
import { namespacedKey, objectKey, splitKey } from '../../client/informer/keys.js';
import type { SharedInformer } from '../../client/informer/shared_informer.js';
import type { ObjectClient } from '../client.js';
import {
  CONTROLLER_UID_INDEX,
  ControllerExpectations,
  QueueController,
  claimObjects,
  getControllerOf,
  indexByControllerUid,
  isPodActive,
  isPodReady,
  message,
  newControllerRef,
  podAvailableAtMs,
  resolveControllerRef,
  type QueueControllerOptions,
} from '../controller_utils.js';
import { podsToDelete } from './pod_ranking.js';
import { calculateStatus, sameStatus, type ManageFailure } from './status.js';
import { deepCopy } from '../../api/deep_copy.js';

export const REPLICASET_GVK = { apiVersion: 'apps/v1', kind: 'ReplicaSet' } as const;

/**
 * How long a pod create that got no answer stays expected. Applied, its pod reaches the informer in
 * well under this (a failover included); lost, the ReplicaSet creates it again after this. Kubernetes
 * gives up on such a create at once, and deletes the extra pod if it shows up after all.
 */
export const UNCERTAIN_CREATE_WAIT_MS = 30_000;

/** Pods with no controller, by namespace: the ones a ReplicaSet may adopt. */
const ORPHANS_INDEX = 'orphansByNamespace';
const orphansByNamespace = (p: Pod): string[] => (getControllerOf(p) === undefined ? [p.metadata?.namespace ?? ''] : []);
/** The indexes this controller adds to the pods informer. */
export const REPLICASET_POD_INDEXERS = { [CONTROLLER_UID_INDEX]: indexByControllerUid, [ORPHANS_INDEX]: orphansByNamespace };

export interface ReplicaSetControllerOptions extends QueueControllerOptions {
  client: ObjectClient;
  informers: InformerFactory;
  events: EventRecorder;
  /** Most pods created or deleted in one sync (Kubernetes' burstReplicas). @default 500 */
  burstReplicas?: number;
  /** @default 300000 */
  expectationsTtlMs?: number;
}

export class ReplicaSetController extends QueueController {
  readonly expectations: ControllerExpectations;
  private readonly client: ObjectClient;
  private readonly events: EventRecorder;
  private readonly burstReplicas: number;
  private readonly rsInformer: SharedInformer<ReplicaSet>;
  private readonly podInformer: SharedInformer<Pod>;
  /** Parsed selectors by ReplicaSet uid (apps/v1 selectors are immutable). */
  private readonly selectors = new Map<string, Selector>();

  constructor(o: ReplicaSetControllerOptions) {
    super('replicaset', o);
    this.client = o.client;
    this.events = o.events;
    this.burstReplicas = o.burstReplicas ?? 500;
    if (!Number.isInteger(this.burstReplicas) || this.burstReplicas < 1) throw new RangeError(`Cannot create the ReplicaSet controller: burstReplicas must be an integer >= 1, got ${o.burstReplicas}`);
    this.expectations = new ControllerExpectations({ clock: this.clock, ttlMs: o.expectationsTtlMs });
    this.rsInformer = o.informers.informer<ReplicaSet>('replicasets', { indexers: { [CONTROLLER_UID_INDEX]: indexByControllerUid } });
    this.podInformer = o.informers.informer<Pod>('pods', { indexers: REPLICASET_POD_INDEXERS });
    this.rsInformer.addEventHandler({
      onAdd: (rs) => this.enqueueObject(rs),
      onUpdate: (old, rs) => {
        if (old.metadata?.uid !== rs.metadata?.uid) this.forgetReplicaSet(old);
        this.enqueueObject(rs);
      },
      onDelete: (rs) => {
        this.forgetReplicaSet(rs);
        this.enqueueObject(rs);
      },
    });
    this.podInformer.addEventHandler({
      onAdd: (p) => this.podAdded(p),
      onUpdate: (old, p) => this.podUpdated(old, p),
      onDelete: (p) => this.podDeleted(p),
    });
    this.waitFor(this.rsInformer, this.podInformer);
  }

  private forgetReplicaSet(rs: ReplicaSet): void {
    this.expectations.delete(objectKey(rs));
    if (rs.metadata?.uid) this.selectors.delete(rs.metadata.uid);
  }

  private selectorOf(rs: ReplicaSet): Selector {
    const uid = rs.metadata?.uid ?? '';
    let s = this.selectors.get(uid);
    if (s === undefined) {
      try {
        s = selectorFromLabelSelector(rs.spec?.selector);
      } catch {
        s = selectorFromLabelSelector(undefined);
      }
      // An empty selector would claim every pod in the namespace: match nothing instead.
      if (s.isEverything()) s = selectorFromLabelSelector(undefined);
      if (uid) this.selectors.set(uid, s);
    }
    return s;
  }

  private ownerOf(p: Pod): ReplicaSet | undefined {
    return resolveControllerRef(p.metadata?.namespace, getControllerOf(p), 'ReplicaSet', this.rsInformer.store);
  }

  /** ReplicaSets in the pod's namespace whose selector matches it (for orphans to be adopted). */
  private matchingReplicaSets(p: Pod): ReplicaSet[] {
    return this.rsInformer.store.byIndex(NAMESPACE_INDEX, p.metadata?.namespace ?? '').filter((rs) => this.selectorOf(rs).matches(p.metadata?.labels));
  }

  private podAdded(p: Pod): void {
    if (p.metadata?.deletionTimestamp) {
      // Restarted controller meeting a pod already being deleted: count it as a deletion seen.
      this.podDeleted(p);
      return;
    }
    const rs = this.ownerOf(p);
    if (rs !== undefined) {
      this.expectations.creationObserved(objectKey(rs));
      this.enqueueObject(rs);
      return;
    }
    if (getControllerOf(p) === undefined) for (const rs of this.matchingReplicaSets(p)) this.enqueueObject(rs);
  }

  private podUpdated(old: Pod, p: Pod): void {
    if (old.metadata?.resourceVersion === p.metadata?.resourceVersion) return;
    if (p.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) {
      // Marked for graceful deletion: the ReplicaSet can replace it now rather than when it is gone.
      this.podDeleted(p);
      const oldOwner = this.ownerOf(old);
      if (oldOwner !== undefined && oldOwner.metadata?.uid !== this.ownerOf(p)?.metadata?.uid) this.enqueueObject(oldOwner);
      return;
    }
    const oldRef = getControllerOf(old);
    const ref = getControllerOf(p);
    if (oldRef?.uid !== ref?.uid) {
      const oldOwner = this.ownerOf(old);
      if (oldOwner !== undefined) this.enqueueObject(oldOwner);
    }
    const rs = this.ownerOf(p);
    if (rs !== undefined) {
      this.enqueueObject(rs);
      // Ready now: it becomes available after minReadySeconds, which no event will announce.
      const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
      if (minReadySeconds > 0 && !isPodReady(old) && isPodReady(p)) this.enqueueAfter(objectKey(rs), minReadySeconds * 1000);
      return;
    }
    if (ref === undefined) for (const r of this.matchingReplicaSets(p)) this.enqueueObject(r);
  }

  private podDeleted(p: Pod): void {
    const rs = this.ownerOf(p);
    if (rs === undefined) return;
    const key = objectKey(rs);
    this.expectations.deletionObserved(key, objectKey(p));
    this.enqueue(key);
  }

  protected async sync(key: string): Promise<void> {
    const rs = this.rsInformer.store.getByKey(key);
    if (rs === undefined) {
      this.expectations.delete(key);
      return;
    }
    const needsSync = this.expectations.satisfied(key);
    // Waiting for our own writes to show up: if they never do (a create that timed out unapplied, a
    // lost event), look again when the wait expires, as nothing else may bring this key back.
    if (!needsSync) this.enqueueAfter(key, this.expectations.expiresInMs(key));
    const [namespace] = splitKey(key);
    // Its own pods and the namespace's orphans: the only pods it could claim (not every pod in the namespace).
    const store = this.podInformer.store;
    const active = [...store.byIndex(CONTROLLER_UID_INDEX, rs.metadata?.uid ?? ''), ...store.byIndex(ORPHANS_INDEX, namespace)].filter(isPodActive);
    const pods = await claimObjects(active, {
      owner: rs,
      ownerGvk: REPLICASET_GVK,
      selector: this.selectorOf(rs),
      client: this.client,
      resource: 'pods',
      canAdopt: () => this.recheckNotDeleting(rs),
    });
    let failure: ManageFailure | undefined;
    let manageErr: unknown;
    if (needsSync && !rs.metadata?.deletionTimestamp) {
      try {
        await this.manageReplicas(key, rs, pods);
      } catch (err) {
        manageErr = err;
        failure = { reason: err instanceof ManageReplicasError ? err.reason : 'FailedCreate', message: message(err) };
      }
    }
    const nowMs = this.clock.nowMs();
    const status = calculateStatus(rs, pods, failure, nowMs);
    await this.writeStatus(rs, status);
    if (manageErr !== undefined) throw manageErr;
    // Ready but not yet available pods become available with no event: look again then.
    const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
    if (minReadySeconds > 0 && (status.availableReplicas ?? 0) < (status.readyReplicas ?? 0)) {
      let nextMs = Infinity;
      for (const p of pods) {
        const at = podAvailableAtMs(p, minReadySeconds);
        if (at !== undefined && at > nowMs) nextMs = Math.min(nextMs, at);
      }
      if (Number.isFinite(nextMs)) this.enqueueAfter(key, nextMs - nowMs);
    }
  }

  /** Adoption needs the owner as it is now, not as cached: a ReplicaSet being deleted adopts nothing. */
  private async recheckNotDeleting(rs: ReplicaSet): Promise<void> {
    const fresh = await this.client.get<ReplicaSet>('replicasets', rs.metadata?.namespace, rs.metadata?.name ?? '');
    if (fresh.metadata?.uid !== rs.metadata?.uid) throw new Error(`Cannot adopt pods for ReplicaSet ${objectKey(rs)}: its uid changed from ${rs.metadata?.uid} to ${fresh.metadata?.uid}`);
    if (fresh.metadata?.deletionTimestamp) throw new Error(`Cannot adopt pods for ReplicaSet ${objectKey(rs)}: it is being deleted`);
  }

  private async manageReplicas(key: string, rs: ReplicaSet, pods: Pod[]): Promise<void> {
    const want = rs.spec?.replicas ?? 1;
    const diff = pods.length - want;
    if (diff < 0) {
      const n = Math.min(-diff, this.burstReplicas);
      // Expect every create before making any, so a pod event arriving mid-batch cannot race it.
      this.expectations.expectCreations(key, n);
      // createPod accounts for the creates it attempted; the ones never attempted will never be observed.
      const { attempted, error } = await slowStartBatch(n, () => this.createPod(key, rs));
      for (let i = attempted; i < n; i++) this.expectations.creationObserved(key);
      if (error !== undefined) throw new ManageReplicasError('FailedCreate', error);
      return;
    }
    if (diff > 0) {
      const n = Math.min(diff, this.burstReplicas);
      const victims = podsToDelete(pods, this.relatedPods(rs, pods), n, this.clock.nowMs());
      this.expectations.expectDeletions(key, victims.map((p) => objectKey(p)));
      const results = await Promise.allSettled(victims.map((p) => this.deletePod(key, rs, p)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw new ManageReplicasError('FailedDelete', failed.reason);
    }
  }

  /** Its pods and those of the ReplicaSets sharing its controller (a Deployment's), for ranking deletions; none without a controller, as Kubernetes. */
  private relatedPods(rs: ReplicaSet, own: Pod[]): Pod[] {
    const ownerUid = getControllerOf(rs)?.uid;
    if (ownerUid === undefined) return [];
    const related = [...own];
    for (const sibling of this.rsInformer.store.byIndex(CONTROLLER_UID_INDEX, ownerUid)) {
      if (sibling.metadata?.uid === rs.metadata?.uid) continue;
      for (const p of this.podInformer.store.byIndex(CONTROLLER_UID_INDEX, sibling.metadata?.uid ?? '')) if (isPodActive(p)) related.push(p);
    }
    return related;
  }

  private async createPod(key: string, rs: ReplicaSet): Promise<void> {
    const t = rs.spec?.template;
    const name = rs.metadata?.name ?? '';
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${name}-`,
        namespace: rs.metadata?.namespace,
        labels: { ...(t?.metadata?.labels ?? {}) },
        annotations: { ...(t?.metadata?.annotations ?? {}) },
        ownerReferences: [newControllerRef(rs, REPLICASET_GVK)],
        finalizers: [...(t?.metadata?.finalizers ?? [])],
      },
      spec: deepCopy(t?.spec),
    };
    try {
      const created = await this.client.create(pod);
      this.events.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
    } catch (err) {
      // Unavailable: the create may have been applied; its pod shows up within seconds if it was.
      // Otherwise (lost with a dying leader) sync looks again after UNCERTAIN_CREATE_WAIT_MS, not
      // the 5-minute TTL. Unless the error says it was not applied.
      if (isApiError(err, 'Unavailable') && err.details.notApplied !== true) {
        this.expectations.creationUncertain(key, UNCERTAIN_CREATE_WAIT_MS);
        throw err;
      }
      this.expectations.creationObserved(key);
      // The namespace is going away: nothing to create, and nothing to report.
      if (isNamespaceTerminating(err)) return;
      this.events.event(rs, 'Warning', 'FailedCreate', `Error creating: ${message(err)}`);
      throw err;
    }
  }

  private async deletePod(key: string, rs: ReplicaSet, p: Pod): Promise<void> {
    const podKey = objectKey(p);
    try {
      await this.client.delete('pods', p.metadata?.namespace, p.metadata?.name ?? '', { preconditions: { uid: p.metadata?.uid } });
      this.events.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name}`);
    } catch (err) {
      // Already gone (or replaced by another pod of that name): no deletion event will come for it.
      this.expectations.deletionObserved(key, podKey);
      if (isApiError(err, 'NotFound') || isApiError(err, 'Conflict')) return;
      this.events.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${message(err)}`);
      throw err;
    }
  }

  private async writeStatus(rs: ReplicaSet, status: NonNullable<ReplicaSet['status']>): Promise<void> {
    if (sameStatus(rs.status, status)) return;
    let current = rs;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.updateStatus<ReplicaSet>({ ...current, status });
        return;
      } catch (err) {
        if (isApiError(err, 'NotFound')) return;
        if (!isApiError(err, 'Conflict') || attempt >= 1) throw err;
        current = await this.client.get<ReplicaSet>('replicasets', rs.metadata?.namespace, rs.metadata?.name ?? '');
        if (current.metadata?.uid !== rs.metadata?.uid) return;
        // Someone else moved it on (a new generation, say): recompute next sync rather than write stale numbers.
        if (current.metadata?.generation !== rs.metadata?.generation) {
          this.enqueue(namespacedKey(rs.metadata?.namespace, rs.metadata?.name ?? ''));
          return;
        }
      }
    }
  }
}

/**
 * Calls fn(i) for i in [0, count) in batches of 1, 2, 4, …, each batch concurrently; stops after a
 * batch with a failure, so a systematic error (quota, bad template) costs one call, not count.
 */
export async function slowStartBatch(count: number, fn: (i: number) => Promise<void>, initialBatch = 1): Promise<{ attempted: number; succeeded: number; error: unknown }> {
  let attempted = 0;
  let succeeded = 0;
  let batch = Math.min(count, initialBatch);
  while (batch > 0) {
    const start = attempted;
    const results = await Promise.allSettled(Array.from({ length: batch }, (_, j) => fn(start + j)));
    attempted += batch;
    succeeded += results.filter((r) => r.status === 'fulfilled').length;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) return { attempted, succeeded, error: failed.reason };
    batch = Math.min(2 * batch, count - attempted);
  }
  return { attempted, succeeded, error: undefined };
}

/** Creating or deleting pods failed; `reason` names which, for the ReplicaFailure condition. */
export class ManageReplicasError extends Error {
  override name = 'ManageReplicasError';
  constructor(
    readonly reason: 'FailedCreate' | 'FailedDelete',
    cause: unknown,
  ) {
    super(message(cause), { cause });
  }
}
