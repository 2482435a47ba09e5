// Which surplus pods a ReplicaSet deletes first, as Kubernetes' ActivePodsWithRanks: the ones whose
// loss hurts least. Unscheduled before scheduled, Pending before Unknown before Running, not ready
// before ready, pods doubled up on a node before lone ones, ready for less time before longer,
// more restarts before fewer, newer before older.

import type { Pod } from '../../api/registry.js';
import { isPodReady, parseTimeMs, podReadyCondition } from '../controller_utils.js';

const PHASE_RANK: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

function restarts(p: Pod): number {
  let n = 0;
  for (const c of p.status?.containerStatuses ?? []) n = Math.max(n, c.restartCount ?? 0);
  return n;
}

/**
 * The first `count` pods to delete. `related` are the pods of the same owner family (the
 * ReplicaSet's own, or a Deployment's across ReplicaSets): a pod sharing its node with more of
 * them goes first.
 */
export function podsToDelete(pods: readonly Pod[], related: readonly Pod[], count: number): Pod[] {
  if (count <= 0) return [];
  const perNode = new Map<string, number>();
  for (const p of related) {
    const node = p.spec?.nodeName;
    if (node) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const ranked = pods.map((p) => ({ p, doubledUp: p.spec?.nodeName ? (perNode.get(p.spec.nodeName) ?? 0) : 0 }));
  ranked.sort((a, b) => compareForDeletion(a.p, a.doubledUp, b.p, b.doubledUp));
  return ranked.slice(0, count).map((r) => r.p);
}

/** Negative when `a` should be deleted before `b`. */
export function compareForDeletion(a: Pod, aDoubledUp: number, b: Pod, bDoubledUp: number): number {
  const aNode = a.spec?.nodeName ?? '';
  const bNode = b.spec?.nodeName ?? '';
  if (!aNode !== !bNode) return !aNode ? -1 : 1;
  const pa = PHASE_RANK[a.status?.phase ?? 'Pending'] ?? 0;
  const pb = PHASE_RANK[b.status?.phase ?? 'Pending'] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a);
  const rb = isPodReady(b);
  if (ra !== rb) return ra ? 1 : -1;
  if (aDoubledUp !== bDoubledUp) return bDoubledUp - aDoubledUp;
  if (ra && rb) {
    // Ready more recently: less to lose.
    const ta = parseTimeMs(podReadyCondition(a)?.lastTransitionTime) ?? 0;
    const tb = parseTimeMs(podReadyCondition(b)?.lastTransitionTime) ?? 0;
    if (ta !== tb) return tb - ta;
  }
  const ca = restarts(a);
  const cb = restarts(b);
  if (ca !== cb) return cb - ca;
  const na = parseTimeMs(a.metadata?.creationTimestamp) ?? 0;
  const nb = parseTimeMs(b.metadata?.creationTimestamp) ?? 0;
  if (na !== nb) return nb - na;
  // A stable order for equal pods (created in the same second): the later name first.
  const an = a.metadata?.name ?? '';
  const bn = b.metadata?.name ?? '';
  return an < bn ? 1 : an > bn ? -1 : 0;
}
