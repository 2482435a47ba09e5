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
  const pods = [pod('web', { owner: 'ReplicaSet' }), pod('debug'), pod('agent', { owner: 'DaemonSet' }), pod('cache', { owner: 'ReplicaSet', emptyDir: true }), pod('static', { mirror: true })];
  const refused = planDrain(pods, {});
  assert.deepEqual(refused.errors, [
    'cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/agent',
    'cannot delete Pods that declare no controller (use --force to override): default/debug',
    'cannot delete Pods with local storage (use --delete-emptydir-data to override): default/cache',
  ]);
  const forced = planDrain(pods, { force: true, ignoreDaemonsets: true, deleteEmptydirData: true });
  assert.deepEqual(forced.errors, []);
  assert.deepEqual(names(forced.delete), ['web', 'debug', 'cache'], 'the DaemonSet pod stays, the mirror pod is not the API\'s to delete');
  assert.deepEqual(forced.warnings, [
    'Warning: ignoring DaemonSet-managed Pods: default/agent',
    'Warning: deleting Pods that declare no controller: default/debug',
    'Warning: deleting Pods with local storage: default/cache',
  ]);
});

test('finished pods are deleted whatever owns them and whatever they stored', () => {
  const plan = planDrain([pod('done', { phase: 'Succeeded', emptyDir: true }), pod('crashed', { phase: 'Failed', owner: 'DaemonSet' })], {});
  assert.deepEqual(plan.errors, []);
  assert.deepEqual(names(plan.delete), ['done', 'crashed']);
});
