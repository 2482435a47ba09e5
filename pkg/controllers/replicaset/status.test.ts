import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReplicaSet } from '../../api/registry.js';
import { obj } from '../../apiserver/test_util.js';
import { calculateStatus } from './status.js';

const rs = (conditions: unknown[] = []) => obj<ReplicaSet>({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default', generation: 2 }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } } } }, status: { conditions } });

test('ReplicaFailure keeps its first failure until a sync succeeds, as Kubernetes, then goes', () => {
  const t0 = Date.parse('2026-12-05T12:00:00Z');
  const first = calculateStatus(rs(), [], { reason: 'FailedCreate', message: 'exceeded quota: pods' }, t0);
  const cond = first.conditions.find((c) => c.type === 'ReplicaFailure');
  assert.deepEqual([cond?.status, cond?.reason, cond?.message, cond?.lastTransitionTime], ['True', 'FailedCreate', 'exceeded quota: pods', '2026-12-05T12:00:00Z']);
  const second = calculateStatus(rs(first.conditions), [], { reason: 'FailedCreate', message: 'the server is shutting down' }, t0 + 5000);
  assert.deepEqual(second.conditions, first.conditions, 'a new message does not rewrite it');
  const ok = calculateStatus(rs(second.conditions), [], undefined, t0 + 9000);
  assert.deepEqual(ok.conditions, []);
});
