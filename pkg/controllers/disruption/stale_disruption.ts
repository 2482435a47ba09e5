// The disruption controller's stale-disruption path, as Kubernetes' (syncStalePodDisruption in
// pkg/controller/disruption): a pod marked DisruptionTarget=True (by the eviction API, the
// scheduler's preemption, the taint manager) is about to be deleted; if no deletion follows within
// STALE_POD_DISRUPTION_TIMEOUT_MS of the condition's lastTransitionTime (the one who marked it
// failed, or changed its mind), the condition is reset to False so nothing (a Job's
// podFailurePolicy) takes the pod for disrupted.
//
// Its own queue, keyed by pod ("namespace/name"): the disruption controller's pod handlers queue a
// pod that has such a condition for when it goes stale. A sync rereads the pod from the informer,
// queues it again if it is not stale yet, and otherwise writes its status (update of the status
// subresource, conditional on the pod's resourceVersion: a Conflict is retried with backoff).
// As in Kubernetes, a condition set by the kubelet (reason TerminationByKubelet, which may take any
// time to lead to a deletion) and a pod in a terminal phase are left alone.

import { DISRUPTION_TARGET_CONDITION } from '../../api/disruption_conditions.js';
import { PodStatus, type PodCondition } from '../../../gen/navarch/api/v1/core.js';
import { deepCopy } from '../../api/deep_copy.js';
import type { Pod } from '../../api/registry.js';
import { isApiError } from '../../apiserver/api_error.js';
import { objectKey } from '../../client/informer/keys.js';
import type { SharedInformer } from '../../client/informer/shared_informer.js';
import type { ObjectClient } from '../client.js';
import { formatTimeMs, parseTimeMs, QueueController, type QueueControllerOptions } from '../controller_utils.js';

/** How long a DisruptionTarget=True condition may stay on a pod not being deleted (Kubernetes' stalePodDisruptionTimeout). */
export const STALE_POD_DISRUPTION_TIMEOUT_MS = 2 * 60 * 1000;

export { DISRUPTION_TARGET_CONDITION };
/** The reason the kubelet gives its DisruptionTarget conditions (never stale). */
export const TERMINATION_BY_KUBELET_REASON = 'TerminationByKubelet';

/**
 * How long until the pod's DisruptionTarget condition is stale (0: it is), or undefined when there
 * is nothing to reset: the pod is being deleted, has no DisruptionTarget=True condition, the
 * kubelet set it, or the pod is Succeeded or Failed (Kubernetes'
 * nonTerminatingPodHasStaleDisruptionCondition). A condition without a readable
 * lastTransitionTime counts as stale (Kubernetes reads it as the zero time).
 */
export function staleDisruptionWaitMs(p: Pod, nowMs: number, timeoutMs = STALE_POD_DISRUPTION_TIMEOUT_MS): number | undefined {
  if (p.metadata?.deletionTimestamp) return undefined;
  const c = p.status?.conditions?.find((x) => x.type === DISRUPTION_TARGET_CONDITION);
  const phase = p.status?.phase;
  if (c?.status !== 'True' || c.reason === TERMINATION_BY_KUBELET_REASON || phase === 'Succeeded' || phase === 'Failed') return undefined;
  const sinceMs = parseTimeMs(c.lastTransitionTime);
  if (sinceMs === undefined) return 0;
  return Math.max(0, timeoutMs - (nowMs - sinceMs));
}

/**
 * A copy of the pod whose DisruptionTarget condition is {status: False} and nothing else, as
 * Kubernetes' UpdatePodCondition leaves it (the whole condition is replaced: reason, message and
 * lastProbeTime go; lastTransitionTime is now when the status changes, else kept; the condition
 * keeps its place). Undefined when that changes nothing.
 */
export function withDisruptionTargetFalse(p: Pod, nowMs: number): Pod | undefined {
  const next = deepCopy(p);
  const status = (next.status ??= PodStatus.create());
  const conditions = (status.conditions ??= []);
  const i = conditions.findIndex((x) => x.type === DISRUPTION_TARGET_CONDITION);
  const condition: PodCondition = { type: DISRUPTION_TARGET_CONDITION, status: 'False', lastTransitionTime: formatTimeMs(nowMs) };
  if (i < 0) {
    conditions.push(condition);
    return next;
  }
  const old = conditions[i];
  if (old.status === condition.status) condition.lastTransitionTime = old.lastTransitionTime;
  const same = old.status === condition.status && !old.reason && !old.message && !old.lastProbeTime && old.lastTransitionTime === condition.lastTransitionTime;
  conditions[i] = condition;
  return same ? undefined : next;
}

export interface StalePodDisruptionOptions extends QueueControllerOptions {
  client: ObjectClient;
  /** The disruption controller's pods informer (shared); its handlers call podChanged(). */
  pods: SharedInformer<Pod>;
}

/** The queue of pods whose DisruptionTarget condition is to be reset once stale (Kubernetes' stalePodDisruptionQueue). */
export class StalePodDisruptionController extends QueueController {
  private readonly client: ObjectClient;
  private readonly pods: SharedInformer<Pod>;

  constructor(o: StalePodDisruptionOptions) {
    super('stale_pod_disruption', o);
    this.client = o.client;
    this.pods = o.pods;
    this.waitFor(this.pods);
  }

  /** Queues the pod for when its DisruptionTarget condition goes stale, if it has one to reset. */
  podChanged(p: Pod): void {
    const waitMs = staleDisruptionWaitMs(p, this.clock.nowMs());
    if (waitMs !== undefined) this.enqueueAfter(objectKey(p), waitMs);
  }

  protected async sync(key: string): Promise<void> {
    const pod = this.pods.store.getByKey(key);
    if (pod === undefined) return;
    const nowMs = this.clock.nowMs();
    const waitMs = staleDisruptionWaitMs(pod, nowMs);
    if (waitMs === undefined) return;
    if (waitMs > 0) {
      this.enqueueAfter(key, waitMs);
      return;
    }
    const next = withDisruptionTargetFalse(pod, nowMs);
    if (next === undefined) return;
    try {
      // The informer's copy carries its resourceVersion: a newer pod fails with Conflict, retried.
      await this.client.updateStatus(next);
    } catch (err) {
      if (isApiError(err, 'NotFound')) return;
      throw err;
    }
  }
}
