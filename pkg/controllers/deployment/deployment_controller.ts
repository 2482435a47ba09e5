// The Deployment controller (Kubernetes' deployment_controller.go): Deployments, their ReplicaSets
// and (for Recreate) their pods feed one queue of Deployment keys; sync(key) claims the ReplicaSets,
// then pauses, scales or rolls out by the strategy, and writes the status `kubectl rollout status`
// reads. It never touches pods itself: the ReplicaSet controller does.

import { rollback, rollbackTo } from './rollback.js';
import { selectorFromLabelSelector } from '../../api/labels.js';
import type { Deployment, Pod, ReplicaSet } from '../../api/registry.js';
import type { EventRecorder } from '../../client/events/recorder.js';
import { NAMESPACE_INDEX } from '../../client/informer/indexer.js';
import { objectKey, splitKey } from '../../client/informer/keys.js';
import type { SharedInformer } from '../../client/informer/shared_informer.js';
import type { ObjectClient } from '../client.js';
import { claimObjects, CONTROLLER_UID_INDEX, getControllerOf, indexByControllerUid, QueueController, resolveControllerRef, type QueueControllerOptions } from '../controller_utils.js';
import { rolloutRecreate, type PodMap } from './recreate.js';
import { rolloutRolling } from './rolling.js';
import { DEPLOYMENT_GVK, getAllReplicaSetsAndSyncRevision, isScalingEvent, syncDeploymentStatus, syncScaleOnly, updateDeploymentStatus, type SyncContext, type SyncTarget } from './sync.js';
import { getCondition, hasProgressDeadline, newCondition, PROGRESSING, REASON, setCondition } from './util.js';
import { deepCopy } from '../../api/deep_copy.js';

export interface DeploymentControllerOptions extends QueueControllerOptions {
  client: ObjectClient;
  recorder: EventRecorder;
  deployments: SharedInformer<Deployment>;
  replicaSets: SharedInformer<ReplicaSet>;
  pods: SharedInformer<Pod>;
}

export class DeploymentController extends QueueController {
  private readonly c: SyncContext;
  private readonly deployments: SharedInformer<Deployment>;
  private readonly replicaSets: SharedInformer<ReplicaSet>;
  private readonly pods: SharedInformer<Pod>;

  constructor(o: DeploymentControllerOptions) {
    // As Kubernetes' deployment controller: a Deployment that failed 15 syncs waits for its next change.
    super('deployment', { ...o, maxRetries: o.maxRetries ?? 15 });
    this.deployments = o.deployments;
    this.replicaSets = o.replicaSets;
    this.pods = o.pods;
    // The informers are shared: another controller may have added the same index already.
    if (!this.pods.store.indexNames.includes(CONTROLLER_UID_INDEX)) this.pods.addIndexers({ [CONTROLLER_UID_INDEX]: indexByControllerUid });
    this.c = {
      client: o.client,
      recorder: o.recorder,
      clock: this.clock,
      replicaSets: this.replicaSets.store,
      enqueueAfter: (d, ms) => this.enqueueAfter(objectKey(d), ms),
    };
    this.deployments.addEventHandler({
      onAdd: (d) => this.enqueueObject(d),
      onUpdate: (_, d) => this.enqueueObject(d),
      onDelete: (d) => this.enqueueObject(d),
    });
    this.replicaSets.addEventHandler({
      onAdd: (rs) => this.onReplicaSetAdd(rs),
      onUpdate: (old, rs) => this.onReplicaSetUpdate(old, rs),
      onDelete: (rs) => this.enqueueOwner(rs),
    });
    this.pods.addEventHandler({ onDelete: (p) => this.onPodDelete(p) });
    this.waitFor(this.deployments, this.replicaSets, this.pods);
  }

  private ownerOf(rs: ReplicaSet): Deployment | undefined {
    return resolveControllerRef(rs.metadata?.namespace, getControllerOf(rs), 'Deployment', this.deployments.store);
  }

  private enqueueOwner(rs: ReplicaSet): void {
    const d = this.ownerOf(rs);
    if (d) this.enqueueObject(d);
  }

  /** Deployments in the RS's namespace whose selector matches it (who might adopt an orphan). */
  private enqueueMatching(rs: ReplicaSet): void {
    for (const d of this.deployments.store.byIndex(NAMESPACE_INDEX, rs.metadata?.namespace ?? '')) {
      if (selectorFromLabelSelector(d.spec?.selector).matches(rs.metadata?.labels)) this.enqueueObject(d);
    }
  }

  private onReplicaSetAdd(rs: ReplicaSet): void {
    if (getControllerOf(rs)) this.enqueueOwner(rs);
    else this.enqueueMatching(rs);
  }

  private onReplicaSetUpdate(old: ReplicaSet, rs: ReplicaSet): void {
    if (old.metadata?.resourceVersion === rs.metadata?.resourceVersion) return;
    const oldRef = getControllerOf(old);
    const ref = getControllerOf(rs);
    const refChanged = oldRef?.uid !== ref?.uid;
    if (refChanged && oldRef) this.enqueueOwner(old);
    if (ref) {
      this.enqueueOwner(rs);
      return;
    }
    if (refChanged || JSON.stringify(old.metadata?.labels) !== JSON.stringify(rs.metadata?.labels)) this.enqueueMatching(rs);
  }

  /** Recreate waits for old pods to be gone: their deletion may let it proceed. */
  private onPodDelete(p: Pod): void {
    const rs = resolveControllerRef(p.metadata?.namespace, getControllerOf(p), 'ReplicaSet', this.replicaSets.store);
    const d = rs && this.ownerOf(rs);
    if (d && d.spec?.strategy?.type === 'Recreate') this.enqueueObject(d);
  }

  protected async sync(key: string): Promise<void> {
    const [ns, name] = splitKey(key);
    const cached = this.deployments.store.get(ns, name);
    if (!cached) return;
    const t: SyncTarget = { d: deepCopy(cached), stored: deepCopy(cached), rsList: [] };
    const d = t.d;
    d.metadata!.annotations ??= {};
    const sel = d.spec?.selector;
    if (!sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)) {
      this.c.recorder.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        d.status = { ...(d.status ?? { conditions: [] }), observedGeneration: d.metadata?.generation };
        await this.c.client.updateStatus(d);
      }
      return;
    }
    t.rsList = await this.getReplicaSetsForDeployment(d);
    if (d.metadata?.deletionTimestamp) {
      const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(this.c, t, false);
      return syncDeploymentStatus(this.c, t, [...oldRSs, newRS], newRS);
    }
    await this.checkPausedConditions(t);
    if (d.spec?.paused) return syncScaleOnly(this.c, t);
    // Not re-entrant: nothing else happens until the update that clears the annotation is seen.
    if (rollbackTo(d) !== undefined) return rollback(this.c, t);
    if (await isScalingEvent(this.c, t)) return syncScaleOnly(this.c, t);
    if (d.spec?.strategy?.type === 'Recreate') return rolloutRecreate(this.c, t, this.podMap(t.rsList));
    return rolloutRolling(this.c, t);
  }

  private async getReplicaSetsForDeployment(d: Deployment): Promise<ReplicaSet[]> {
    const candidates = this.replicaSets.store.byIndex(NAMESPACE_INDEX, d.metadata?.namespace ?? '');
    return claimObjects(candidates, {
      owner: d,
      ownerGvk: DEPLOYMENT_GVK,
      selector: selectorFromLabelSelector(d.spec?.selector),
      client: this.c.client,
      resource: 'replicasets',
      canAdopt: async () => {
        const fresh = await this.c.client.get<Deployment>('deployments', d.metadata?.namespace, d.metadata?.name ?? '');
        if (fresh.metadata?.uid !== d.metadata?.uid) throw new Error(`Cannot adopt for deployment ${objectKey(d)}: the original was deleted (uid ${d.metadata?.uid}, now ${fresh.metadata?.uid})`);
        if (fresh.metadata?.deletionTimestamp) throw new Error(`Cannot adopt for deployment ${objectKey(d)}: it is being deleted`);
      },
    });
  }

  private podMap(rsList: readonly ReplicaSet[]): PodMap {
    const m = new Map<string, Pod[]>();
    for (const rs of rsList) {
      const uid = rs.metadata?.uid;
      if (uid) m.set(uid, this.pods.store.byIndex(CONTROLLER_UID_INDEX, uid));
    }
    return m;
  }

  /** Progressing=Unknown DeploymentPaused on pause, DeploymentResumed on resume (never over a timeout). */
  private async checkPausedConditions(t: SyncTarget): Promise<void> {
    const d = t.d;
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, PROGRESSING);
    if (cond?.reason === REASON.timedOut) return;
    const pausedCond = cond?.reason === REASON.paused;
    const status = (d.status ??= { conditions: [] });
    if (d.spec?.paused && !pausedCond) setCondition(status, newCondition(PROGRESSING, 'Unknown', REASON.paused, 'Deployment is paused', this.clock.nowMs()));
    else if (!d.spec?.paused && pausedCond) setCondition(status, newCondition(PROGRESSING, 'Unknown', REASON.resumed, 'Deployment is resumed', this.clock.nowMs()));
    else return;
    await updateDeploymentStatus(this.c, d, t.stored);
  }
}
