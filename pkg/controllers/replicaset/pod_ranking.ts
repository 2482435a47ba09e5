// Which surplus pods a ReplicaSet deletes first, as Kubernetes' ActivePodsWithRanks (with its
// PodDeletionCost and LogarithmicScaleDown features, on by default): the ones whose loss hurts
// least. Unscheduled before scheduled; Pending before Unknown before Running; not ready before
// ready; lower controller.kubernetes.io/pod-deletion-cost before higher; pods doubled up on a node
// before lone ones; ready for less time before longer; more restarts (then more sidecar restarts)
// before fewer; newer before older. Times compare by their power-of-two bucket of age, so pods of
// about the same age go in uid order (effectively at random) rather than always the newest first;
// a pod with no time goes first.

import type { Pod } from '../../api/registry.js';
import { parseDeletionCost, POD_DELETION_COST_ANNOTATION } from '../../api/pod_deletion_cost.js';
import { isPodReady, parseTimeMs, podReadyCondition } from '../controller_utils.js';

export { POD_DELETION_COST_ANNOTATION };

const PHASE_RANK: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

/** The annotation as an int32; absent or malformed counts as 0 (as Kubernetes, which logs and ignores it). */
export function podDeletionCost(p: Pod): number {
  const v = p.metadata?.annotations?.[POD_DELETION_COST_ANNOTATION];
  return v === undefined ? 0 : (parseDeletionCost(v) ?? 0);
}

/** The highest restart count of the regular containers, then of the sidecars (init containers with restartPolicy Always). */
function restarts(p: Pod): [regular: number, sidecar: number] {
  let regular = 0;
  for (const c of p.status?.containerStatuses ?? []) regular = Math.max(regular, c.restartCount ?? 0);
  let sidecar = 0;
  const sidecars = new Set((p.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  if (sidecars.size > 0) for (const c of p.status?.initContainerStatuses ?? []) if (sidecars.has(c.name)) sidecar = Math.max(sidecar, c.restartCount ?? 0);
  return [regular, sidecar];
}

/** floor(log2(age in ns)), -1 for an age of zero or less: Kubernetes' logarithmicRankDiff buckets. */
function ageBucket(atMs: number, nowMs: number): number {
  const ageNs = (nowMs - atMs) * 1e6;
  return ageNs > 0 ? Math.floor(Math.log2(ageNs)) : -1;
}

/** Negative when the pod with time `a` goes first: no time first, else the younger bucket, else the lower uid. */
function compareTimes(a: number | undefined, b: number | undefined, nowMs: number, aUid: string, bUid: string): number {
  if (a === b) return 0;
  if (a === undefined || b === undefined) return a === undefined ? -1 : 1;
  const diff = ageBucket(a, nowMs) - ageBucket(b, nowMs);
  if (diff !== 0) return diff;
  return aUid < bUid ? -1 : aUid > bUid ? 1 : 0;
}

/**
 * The first `count` pods to delete. `related` are the pods of the ReplicaSets that share its
 * controller (a Deployment's, its own included; none for a ReplicaSet with no controller): a pod
 * sharing its node with more of them goes first.
 */
export function podsToDelete(pods: readonly Pod[], related: readonly Pod[], count: number, nowMs: number): Pod[] {
  if (count <= 0) return [];
  const perNode = new Map<string, number>();
  for (const p of related) {
    const node = p.spec?.nodeName;
    if (node) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const ranked = pods.map((p) => ({ p, doubledUp: p.spec?.nodeName ? (perNode.get(p.spec.nodeName) ?? 0) : 0 }));
  ranked.sort((a, b) => compareForDeletion(a.p, a.doubledUp, b.p, b.doubledUp, nowMs));
  return ranked.slice(0, count).map((r) => r.p);
}

/** Negative when `a` should be deleted before `b`. */
export function compareForDeletion(a: Pod, aDoubledUp: number, b: Pod, bDoubledUp: number, nowMs: number): number {
  const aNode = a.spec?.nodeName ?? '';
  const bNode = b.spec?.nodeName ?? '';
  if (!aNode !== !bNode) return !aNode ? -1 : 1;
  const pa = PHASE_RANK[a.status?.phase ?? 'Pending'] ?? 0;
  const pb = PHASE_RANK[b.status?.phase ?? 'Pending'] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a);
  const rb = isPodReady(b);
  if (ra !== rb) return ra ? 1 : -1;
  const costA = podDeletionCost(a);
  const costB = podDeletionCost(b);
  if (costA !== costB) return costA - costB;
  if (aDoubledUp !== bDoubledUp) return bDoubledUp - aDoubledUp;
  const aUid = a.metadata?.uid ?? '';
  const bUid = b.metadata?.uid ?? '';
  if (ra && rb) {
    const t = compareTimes(parseTimeMs(podReadyCondition(a)?.lastTransitionTime), parseTimeMs(podReadyCondition(b)?.lastTransitionTime), nowMs, aUid, bUid);
    if (t !== 0) return t;
  }
  const [regA, sideA] = restarts(a);
  const [regB, sideB] = restarts(b);
  if (regA !== regB) return regB - regA;
  if (sideA !== sideB) return sideB - sideA;
  return compareTimes(parseTimeMs(a.metadata?.creationTimestamp), parseTimeMs(b.metadata?.creationTimestamp), nowMs, aUid, bUid);
}
