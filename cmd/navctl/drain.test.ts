import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../../pkg/api/registry.js';
import { obj } from '../../pkg/apiserver/test_util.js';
import { planDrain } from './drain.js';

function pod(name: string, o: { owner?: string; phase?: string; emptyDir?: boolean; mirror?: boolean } = {}): Pod {
  return obj<Pod>({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      annotations: o.mirror ? { 'kubernetes.io/config.mirror': 'x' } : undefined,
      ownerReferences: o.owner ? [{ apiVersion: 'apps/v1', kind: o.owner, name: 'owner', uid: 'u', controller: true }] : undefined,
    },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }], volumes: o.emptyDir ? [{ name: 'scratch', emptyDir: {} }] : undefined },
    status: { phase: o.phase ?? 'Running' },
  });
}

const names = (ps: readonly Pod[]) => ps.map((p) => p.metadata?.name);

test("drain refuses, as kubectl, pods nothing would recreate, DaemonSet pods and emptyDir data, each with the flag that overrides it", () => {
  const pods = [pod('web', { owner: 'ReplicaSet' }), pod('debug'), pod('agent', { owner: 'DaemonSet' }), pod('cache', { owner: 'ReplicaSet', emptyDir: true }), pod('static', { mirror: true }), pod('tmp', { emptyDir: true })];
  const refused = planDrain(pods, {});
  // kubectl 1.30's words; a pod is named under the first filter that stops it only.
  assert.deepEqual(refused.errors, [
    'cannot delete Pods declare no controller (use --force to override): default/debug',
    'cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/agent',
    'cannot delete Pods with local storage (use --delete-emptydir-data to override): default/cache, default/tmp',
  ]);
  const forced = planDrain(pods, { force: true, ignoreDaemonsets: true, deleteEmptydirData: true });
  assert.deepEqual(forced.errors, []);
  assert.deepEqual(names(forced.delete), ['web', 'debug', 'cache', 'tmp'], "the DaemonSet pod stays, the mirror pod is not the API's to delete");
  // One line; the later filter's warning replaces the earlier one for a pod, as in kubectl.
  assert.equal(forced.warning, 'deleting Pods that declare no controller: default/debug, default/tmp; ignoring DaemonSet-managed Pods: default/agent; deleting Pods with local storage: default/cache');
});

test("a DaemonSet pod whose DaemonSet is gone is an orphan: refused even with --ignore-daemonsets, deleted with --force", () => {
  const orphan = [pod('agent', { owner: 'DaemonSet' })];
  const gone = (): string => 'daemonsets.apps "owner" not found';
  assert.deepEqual(planDrain(orphan, { ignoreDaemonsets: true }, gone).errors, ['cannot delete daemonsets.apps "owner" not found: default/agent']);
  const forced = planDrain(orphan, { force: true }, gone);
  assert.deepEqual(names(forced.delete), ['agent']);
  assert.equal(forced.warning, 'daemonsets.apps "owner" not found: default/agent');
});

test('finished pods are deleted whatever owns them and whatever they stored; pods deleted long ago can be skipped', () => {
  const plan = planDrain([pod('done', { phase: 'Succeeded', emptyDir: true }), pod('crashed', { phase: 'Failed', owner: 'DaemonSet' })], {});
  assert.deepEqual(plan.errors, []);
  assert.deepEqual(names(plan.delete), ['done', 'crashed']);
  const stuck = pod('stuck', { owner: 'ReplicaSet' });
  stuck.metadata!.deletionTimestamp = '2026-12-05T10:00:00Z';
  const nowMs = Date.parse('2026-12-05T10:10:00Z');
  assert.deepEqual(names(planDrain([stuck], { skipWaitForDeleteTimeoutSeconds: 300, nowMs }).delete), []);
  assert.deepEqual(names(planDrain([stuck], { skipWaitForDeleteTimeoutSeconds: 900, nowMs }).delete), ['stuck']);
});
