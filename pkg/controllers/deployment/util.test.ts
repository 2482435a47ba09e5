import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Deployment, ReplicaSet } from '../../api/registry.js';
import { obj } from '../../apiserver/test_util.js';
import { findActiveOrLatest, findOldReplicaSets, maxSurge, maxUnavailable, newRSNewReplicas, proportion, setNewReplicaSetAnnotations, REVISION_ANNOTATION } from './util.js';

function dep(replicas: number, strategy?: Record<string, unknown>, annotations: Record<string, string> = {}): Deployment {
  return obj<Deployment>({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', annotations },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'x' }] } }, ...(strategy ? { strategy } : {}) },
  });
}

function rs(name: string, replicas: number, annotations: Record<string, string> = {}, created = '2026-01-01T00:00:00Z'): ReplicaSet {
  return obj<ReplicaSet>({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default', annotations, creationTimestamp: created },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'x' }] } } },
  });
}

const rolling = (maxSurge: number | string, maxUnavailable: number | string) => ({ type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } });

describe('fenceposts', () => {
  it('rounds maxSurge up and maxUnavailable down, never past replicas, and lets one pod go when both are 0', () => {
    const cases: Array<[number, number | string, number | string, number, number]> = [
      [10, '25%', '25%', 3, 2],
      [3, '25%', '25%', 1, 0],
      [7, '30%', '10%', 3, 0],
      [4, 0, 0, 0, 1],
      [2, 1, 5, 1, 2],
      [0, '25%', '25%', 0, 0],
      [1, '100%', '100%', 1, 1],
    ];
    for (const [replicas, s, u, wantSurge, wantUnavailable] of cases) {
      const d = dep(replicas, rolling(s, u));
      assert.deepEqual([maxSurge(d), maxUnavailable(d)], [wantSurge, wantUnavailable], `replicas ${replicas}, maxSurge ${s}, maxUnavailable ${u}`);
    }
    assert.deepEqual([maxSurge(dep(5, { type: 'Recreate' })), maxUnavailable(dep(5, { type: 'Recreate' }))], [0, 0]);
  });
});

describe('newRSNewReplicas', () => {
  it('grows the new ReplicaSet up to replicas + maxSurge in total', () => {
    const d = dep(10, rolling(3, 2));
    const old = rs('old', 10);
    const fresh = rs('new', 0);
    assert.equal(newRSNewReplicas(d, [old, fresh], fresh), 3);
    const old8 = rs('old', 8);
    const fresh3 = rs('new', 3);
    assert.equal(newRSNewReplicas(d, [old8, fresh3], fresh3), 5);
    assert.equal(newRSNewReplicas(d, [rs('old', 0), rs('new', 9)], rs('new', 9)), 10, 'never past replicas');
    assert.equal(newRSNewReplicas(dep(4, { type: 'Recreate' }), [rs('new', 0)], rs('new', 0)), 4);
  });
});

describe('proportion', () => {
  it('splits a scale-up by each ReplicaSet\'s share of max-replicas (the Kubernetes docs example)', () => {
    const d = dep(15, rolling(3, 2));
    const old = rs('old', 8, { 'deployment.kubernetes.io/max-replicas': '13' });
    const fresh = rs('new', 5, { 'deployment.kubernetes.io/max-replicas': '13' });
    const toOld = proportion(old, d, 5, 0);
    const toNew = proportion(fresh, d, 5, toOld);
    assert.deepEqual([toOld, toNew], [3, 2]);
    assert.equal(proportion(rs('empty', 0), d, 5, 0), 0);
  });
});

describe('findActiveOrLatest', () => {
  it('is the only active ReplicaSet, or the newest when none is active, or none when several are', () => {
    const a = rs('a', 0, {}, '2026-01-01T00:00:00Z');
    const b = rs('b', 0, {}, '2026-01-01T00:01:00Z');
    assert.equal(findActiveOrLatest(undefined, [a, b])?.metadata?.name, 'b');
    assert.equal(findActiveOrLatest(undefined, [a, rs('c', 2)])?.metadata?.name, 'c');
    assert.equal(findActiveOrLatest(rs('n', 1), [rs('c', 2)]), undefined);
    assert.equal(findActiveOrLatest(undefined, []), undefined);
  });
});

describe('setNewReplicaSetAnnotations', () => {
  it('copies the Deployment\'s own annotations but not kubectl\'s or the revision bookkeeping, and only raises the revision', () => {
    const d = dep(3, rolling('25%', '25%'), { team: 'a', 'kubectl.kubernetes.io/last-applied-configuration': '{}', [REVISION_ANNOTATION]: '7' });
    const r = rs('r', 0, { [REVISION_ANNOTATION]: '2' });
    assert.ok(setNewReplicaSetAnnotations(d, r, 5, true));
    assert.deepEqual(r.metadata!.annotations, { [REVISION_ANNOTATION]: '5', 'deployment.kubernetes.io/revision-history': '2', team: 'a' });
    assert.ok(!setNewReplicaSetAnnotations(d, r, 4, true), 'a lower revision changes nothing');
    const created = rs('n', 0);
    setNewReplicaSetAnnotations(d, created, 1, false);
    assert.equal(created.metadata!.annotations['deployment.kubernetes.io/desired-replicas'], '3');
    assert.equal(created.metadata!.annotations['deployment.kubernetes.io/max-replicas'], '4');
    assert.ok(!setNewReplicaSetAnnotations(d, rs('bad', 0, { [REVISION_ANNOTATION]: 'seven' }), 5, true), 'an unreadable revision: nothing to write');
  });
});

describe('findOldReplicaSets', () => {
  it('lists the old ReplicaSets oldest first, whatever order the informer gave', () => {
    const young = rs('web-c', 1, {}, '2026-01-03T00:00:00Z');
    const old = rs('web-a', 1, {}, '2026-01-01T00:00:00Z');
    const middle = rs('web-b', 1, {}, '2026-01-02T00:00:00Z');
    for (const r of [young, old, middle]) r.spec!.template!.spec!.containers[0].image = 'old';
    assert.deepEqual(findOldReplicaSets(dep(3), [young, old, middle]).map((r) => r.metadata?.name), ['web-a', 'web-b', 'web-c']);
  });
});
