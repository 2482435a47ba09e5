import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../../api/registry.js';
import { obj } from '../../apiserver/test_util.js';
import { POD_DELETION_COST_ANNOTATION, podDeletionCost, podsToDelete } from './pod_ranking.js';

const NOW_MS = Date.parse('2026-12-05T12:00:00Z');
const ago = (s: number) => new Date(NOW_MS - s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

function pod(name: string, o: { uid?: string; cost?: string; createdAgoS?: number; readyAgoS?: number; node?: string; restarts?: number; sidecarRestarts?: number } = {}): Pod {
  return obj<Pod>({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: o.uid ?? name,
      ...(o.createdAgoS === undefined ? {} : { creationTimestamp: ago(o.createdAgoS) }),
      annotations: o.cost === undefined ? {} : { [POD_DELETION_COST_ANNOTATION]: o.cost },
    },
    spec: { nodeName: o.node ?? `node-${name}`, containers: [{ name: 'app', image: 'nginx' }], initContainers: [{ name: 'proxy', image: 'envoy', restartPolicy: 'Always' }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: ago(o.readyAgoS ?? 3600) }],
      containerStatuses: [{ name: 'app', restartCount: o.restarts ?? 0 }],
      initContainerStatuses: [{ name: 'proxy', restartCount: o.sidecarRestarts ?? 0 }],
    },
  });
}

const names = (ps: Pod[]) => ps.map((p) => p.metadata!.name);

test('a lower pod-deletion-cost goes first, before the other tie-breaks; a malformed cost counts as 0', () => {
  const pods = [pod('high', { cost: '100' }), pod('low', { cost: '-5', readyAgoS: 7200 }), pod('none', { readyAgoS: 10 })];
  assert.deepEqual(names(podsToDelete(pods, [], 1, NOW_MS)), ['low']);
  assert.deepEqual(names(podsToDelete(pods, [], 3, NOW_MS)), ['low', 'none', 'high']);
  assert.equal(podDeletionCost(pod('x', { cost: 'abc' })), 0);
  assert.equal(podDeletionCost(pod('x', { cost: '99999999999' })), 0, 'outside int32');
  assert.equal(podDeletionCost(pod('x', { cost: '-2147483648' })), -(2 ** 31));
  assert.equal(podDeletionCost(pod('x', { cost: '+10' })), 0, 'a sign other than "-" is malformed');
  assert.equal(podDeletionCost(pod('x', { cost: '007' })), 0, 'a leading zero is malformed');
  assert.equal(podDeletionCost(pod('x', { cost: '0' })), 0);
  assert.equal(podDeletionCost(pod('x', { cost: '-7' })), -7);
  assert.equal(podDeletionCost(pod('x', { cost: '-007' })), -7, 'Kubernetes lets "-" lead zeros');
  assert.equal(podDeletionCost(pod('x', { cost: '-0' })), 0);
  // A cost outranks sharing a node with related pods.
  const crowded = pod('crowded', { node: 'n1', cost: '10' });
  const lone = pod('lone', { node: 'n2' });
  assert.deepEqual(names(podsToDelete([crowded, lone], [crowded, pod('sib', { node: 'n1' })], 1, NOW_MS)), ['lone']);
});

test('times compare by power-of-two age buckets: about the same age goes by uid, clearly newer goes first, no time goes first', () => {
  // 10 s and 11 s old: the same bucket (2^33 ns), so the lower uid goes first whichever is newer.
  const a = pod('a', { uid: 'b-uid', readyAgoS: 10 });
  const b = pod('b', { uid: 'a-uid', readyAgoS: 11 });
  assert.deepEqual(names(podsToDelete([a, b], [], 1, NOW_MS)), ['b']);
  // 10 s and 100 s old: different buckets, the newer first.
  const c = pod('c', { uid: 'z-uid', readyAgoS: 10 });
  const d = pod('d', { uid: 'a-uid', readyAgoS: 100 });
  assert.deepEqual(names(podsToDelete([d, c], [], 1, NOW_MS)), ['c']);
  // Creation times likewise (all ready at once); a pod with none goes first.
  const e = pod('e', { createdAgoS: 5000 });
  const g = pod('g', { createdAgoS: 50 });
  const h = pod('h');
  assert.deepEqual(names(podsToDelete([e, g, h], [], 3, NOW_MS)), ['h', 'g', 'e']);
});

test('more restarts go first, then more sidecar restarts', () => {
  const pods = [pod('calm'), pod('sidecar', { sidecarRestarts: 3 }), pod('crashy', { restarts: 2 })];
  assert.deepEqual(names(podsToDelete(pods, [], 3, NOW_MS)), ['crashy', 'sidecar', 'calm']);
});
