import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Condition } from '../../../gen/navarch/api/v1/meta.js';
import type { Pod, PodDisruptionBudget } from '../../api/registry.js';
import { formatTimeMs } from '../controller_utils.js';
import { buildDisruptedPodMap, countHealthyPods, DELETION_TIMEOUT_MS, disruptionsAllowed, failSafeStatus, nextStatus, setStatusCondition } from './status.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

function podOf(name: string, o: { ready?: boolean; deleting?: boolean } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...(o.deleting ? { deletionTimestamp: formatTimeMs(T0) } : {}) },
    status: { conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  } as unknown as Pod;
}

function budget(status?: Partial<NonNullable<PodDisruptionBudget['status']>>, generation = 1): PodDisruptionBudget {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'b', namespace: 'default', generation }, spec: {}, status: status && { disruptedPods: {}, conditions: [], ...status } } as PodDisruptionBudget;
}

test('buildDisruptedPodMap() keeps live entries, drops expired, deleting and missing ones, and says when to look again', () => {
  const at = (ms: number) => formatTimeMs(ms);
  const pdb = budget({ disruptedPods: { a: at(T0 - 60_000), b: at(T0 - DELETION_TIMEOUT_MS), c: at(T0), d: at(T0), gone: at(T0), bad: 'yesterday' } });
  const pods = [podOf('a'), podOf('b'), podOf('c', { deleting: true }), podOf('d'), podOf('bad')];
  const m = buildDisruptedPodMap(pods, pdb, T0);
  assert.deepEqual(m.disruptedPods, { a: at(T0 - 60_000), d: at(T0) });
  assert.equal(m.recheckAtMs, T0 + 60_000);
  assert.deepEqual(m.expired.map((p) => p.metadata?.name), ['b', 'bad']);
});

test('countHealthyPods() counts ready pods that are neither deleting nor disrupted', () => {
  const pods = [podOf('a'), podOf('b', { ready: false }), podOf('c', { deleting: true }), podOf('d'), podOf('e')];
  assert.equal(countHealthyPods(pods, { d: formatTimeMs(T0), e: formatTimeMs(T0 - DELETION_TIMEOUT_MS) }, T0), 2);
});

test('disruptionsAllowed() is never negative and 0 while no pods are expected', () => {
  assert.equal(disruptionsAllowed({ currentHealthy: 3, desiredHealthy: 1, expectedPods: 3 }), 2);
  assert.equal(disruptionsAllowed({ currentHealthy: 1, desiredHealthy: 3, expectedPods: 3 }), 0);
  assert.equal(disruptionsAllowed({ currentHealthy: 2, desiredHealthy: 0, expectedPods: 0 }), 0);
});

test('nextStatus() is undefined when the status says it all, and a stale generation is rewritten', () => {
  const c = { currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, disruptedPods: {} };
  const first = nextStatus(budget(), c, T0)!;
  assert.deepEqual(first.conditions, [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 1, lastTransitionTime: formatTimeMs(T0) }]);
  assert.equal(nextStatus(budget(first), c, T0 + 1000), undefined);
  const next = nextStatus(budget(first, 2), c, T0 + 1000)!;
  assert.deepEqual([next.observedGeneration, next.conditions[0].observedGeneration, next.conditions[0].lastTransitionTime], [2, 2, formatTimeMs(T0)]);
});

test('failSafeStatus() allows nothing, says why, and is undefined once it has', () => {
  const ok = nextStatus(budget(), { currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, disruptedPods: {} }, T0)!;
  const failed = failSafeStatus(budget(ok), 'boom', T0 + 5000)!;
  assert.equal(failed.disruptionsAllowed, 0);
  assert.equal(failed.currentHealthy, 2);
  assert.deepEqual(failed.conditions[0], { type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: 'boom', observedGeneration: 1, lastTransitionTime: formatTimeMs(T0 + 5000) });
  assert.equal(failSafeStatus(budget(failed), 'boom', T0 + 9000), undefined);
});

test('setStatusCondition() moves lastTransitionTime only on a status change', () => {
  const conditions: Condition[] = [];
  const cond = (status: string, reason: string) => ({ type: 'X', status, reason, message: '', observedGeneration: 1 });
  assert.equal(setStatusCondition(conditions, cond('False', 'A'), T0), true);
  assert.equal(setStatusCondition(conditions, cond('False', 'A'), T0 + 1000), false);
  assert.equal(setStatusCondition(conditions, cond('False', 'B'), T0 + 2000), true);
  assert.equal(conditions[0].lastTransitionTime, formatTimeMs(T0));
  assert.equal(setStatusCondition(conditions, cond('True', 'B'), T0 + 3000), true);
  assert.equal(conditions[0].lastTransitionTime, formatTimeMs(T0 + 3000));
});
