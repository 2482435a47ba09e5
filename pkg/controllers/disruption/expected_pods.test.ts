import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OwnerReference } from '../../../gen/navarch/api/v1/meta.js';
import type { Deployment, KubeObject, Pod, PodDisruptionBudget, ReplicaSet, StatefulSet } from '../../api/registry.js';
import { ExpectedPodCountError, expectedPodCount, type ControllerSources } from './expected_pods.js';

function ref(kind: string, name: string, uid: string, apiVersion = 'apps/v1'): OwnerReference {
  return { apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true };
}

function podOf(name: string, owner?: OwnerReference): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', ownerReferences: owner ? [owner] : [] } } as unknown as Pod;
}

function scalable<T extends KubeObject>(kind: string, name: string, uid: string, replicas: number, owner?: OwnerReference): T {
  return { apiVersion: 'apps/v1', kind, metadata: { name, namespace: 'default', uid, ownerReferences: owner ? [owner] : [] }, spec: { replicas } } as unknown as T;
}

function store<T extends KubeObject>(...objects: T[]): { get(ns: string | undefined, name: string): T | undefined } {
  return { get: (ns, name) => objects.find((o) => o.metadata?.namespace === ns && o.metadata?.name === name) };
}

function pdb(spec: NonNullable<PodDisruptionBudget['spec']>): PodDisruptionBudget {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'b', namespace: 'default' }, spec } as PodDisruptionBudget;
}

const empty: ControllerSources = { replicaSets: store<ReplicaSet>(), deployments: store<Deployment>(), statefulSets: store<StatefulSet>() };

test('expectedPodCount() reads a controller its cache lacks from the API, following its Deployment', async () => {
  const d = scalable<Deployment>('Deployment', 'web', 'd1', 6);
  const rs = scalable<ReplicaSet>('ReplicaSet', 'web-1', 'rs1', 2, ref('Deployment', 'web', 'd1'));
  const reads: string[] = [];
  const sources: ControllerSources = {
    ...empty,
    deployments: store(d),
    read: async (resource, ns, name) => {
      reads.push(`${resource} ${ns}/${name}`);
      return resource === 'replicasets' && name === 'web-1' ? rs : undefined;
    },
  };
  const pods = [podOf('a', ref('ReplicaSet', 'web-1', 'rs1')), podOf('b', ref('ReplicaSet', 'web-1', 'rs1'))];
  assert.deepEqual(await expectedPodCount(pdb({ maxUnavailable: { intVal: 1 } }), pods, sources), { expectedCount: 6, desiredHealthy: 5, unmanagedPods: [] });
  assert.deepEqual(reads, ['replicasets default/web-1'], 'once per controller');
});

test('expectedPodCount() counts a ReplicaSet whose Deployment is gone as itself', async () => {
  const rs = scalable<ReplicaSet>('ReplicaSet', 'web-1', 'rs1', 2, ref('Deployment', 'web', 'd1'));
  const sources: ControllerSources = { ...empty, replicaSets: store(rs) };
  const r = await expectedPodCount(pdb({ minAvailable: { strVal: '100%' } }), [podOf('a', ref('ReplicaSet', 'web-1', 'rs1'))], sources);
  assert.deepEqual(r, { expectedCount: 2, desiredHealthy: 2, unmanagedPods: [] });
});

test('expectedPodCount() finds no controller when the one cached by that name is another object (uid)', async () => {
  const rs = scalable<ReplicaSet>('ReplicaSet', 'web-1', 'rs2', 2);
  const sources: ControllerSources = { ...empty, replicaSets: store(rs) };
  await assert.rejects(expectedPodCount(pdb({ maxUnavailable: { intVal: 1 } }), [podOf('a', ref('ReplicaSet', 'web-1', 'rs1'))], sources), (err: unknown) => err instanceof ExpectedPodCountError && err.message === 'found no controllers for pod "a"');
});

test('expectedPodCount() refuses kinds it does not know or that cannot scale', async () => {
  const b = pdb({ maxUnavailable: { strVal: '10%' } });
  await assert.rejects(expectedPodCount(b, [podOf('a', ref('ReplicationController', 'rc', 'u1', 'v1'))], empty), { name: 'ExpectedPodCountError', message: 'no matches for kind "ReplicationController" in version "v1"' });
  await assert.rejects(expectedPodCount(b, [podOf('a', ref('DaemonSet', 'ds', 'u1'))], empty), { name: 'ExpectedPodCountError', message: 'daemonsets.apps does not implement the scale subresource' });
});

test('expectedPodCount() counts the matching pods for an integer minAvailable without looking at controllers', async () => {
  const pods = [podOf('a', ref('DaemonSet', 'ds', 'u1')), podOf('b')];
  assert.deepEqual(await expectedPodCount(pdb({ minAvailable: { intVal: 5 } }), pods, empty), { expectedCount: 2, desiredHealthy: 5, unmanagedPods: [] });
});

test('expectedPodCount() floors desiredHealthy at 0 and lists pods without a controller', async () => {
  const ss = scalable<StatefulSet>('StatefulSet', 'db', 's1', 2);
  const sources: ControllerSources = { ...empty, statefulSets: store(ss) };
  const pods = [podOf('db-0', ref('StatefulSet', 'db', 's1')), podOf('bare')];
  assert.deepEqual(await expectedPodCount(pdb({ maxUnavailable: { intVal: 5 } }), pods, sources), { expectedCount: 2, desiredHealthy: 0, unmanagedPods: ['bare'] });
});
