import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { KubeObject } from '../../api/registry.js';
import { deployment, obj } from '../../apiserver/test_util.js';
import { eventually } from '../../client/testing/settle.js';
import { newControllerRef } from '../controller_utils.js';
import { fixture, type Fixture } from '../testing/fixture.js';
import { GarbageCollector } from './garbage_collector.js';

let f: Fixture;
let gc: GarbageCollector | undefined;

afterEach(async () => {
  await gc?.stop();
  gc = undefined;
  f?.close();
});

const RS = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };
const DEPLOY = { apiVersion: 'apps/v1', kind: 'Deployment' };

function replicaSet(name: string, owner?: KubeObject): KubeObject {
  const rs = obj({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default' },
    spec: { replicas: 0, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'a', image: 'nginx' }] } } },
  });
  if (owner) rs.metadata!.ownerReferences = [newControllerRef(owner, DEPLOY)];
  return rs;
}

function podOwnedBy(name: string, ...owners: Array<{ owner: KubeObject; block?: boolean }>): KubeObject {
  const p = obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'a', image: 'nginx' }] } });
  p.metadata!.ownerReferences = owners.map(({ owner, block }, i) => ({ ...newControllerRef(owner, RS), controller: i === 0, blockOwnerDeletion: block ?? true }));
  return p;
}

async function setup(resources?: string[]): Promise<void> {
  f = await fixture();
  gc = new GarbageCollector({ client: f.client, informers: f.factory, events: f.events, clock: f.clock, resources, logger: { warn: () => {} } });
}

async function exists(resource: string, name: string): Promise<KubeObject | undefined> {
  try {
    return await f.server.get({ resource, namespace: 'default', name });
  } catch {
    return undefined;
  }
}

async function drain(): Promise<string[]> {
  const keys: string[] = [];
  while (gc!.queue.length > 0) {
    const k = (await gc!.queue.get()) as string;
    keys.push(k);
    gc!.queue.done(k);
  }
  return keys.sort();
}

test('background: once the owner is gone, its dependents are queued and deleted', async () => {
  await setup();
  const rs = await f.server.create({ object: replicaSet('web') });
  await f.server.create({ object: podOwnedBy('a', { owner: rs }) });
  await f.server.create({ object: podOwnedBy('b', { owner: rs }) });
  await f.synced();
  assert.deepEqual(await drain(), ['pods|default/a', 'pods|default/b']);
  await gc!.syncKey('pods|default/a');
  assert.deepEqual(f.client.takeSummary(), [], 'an existing owner keeps its dependents');
  await f.server.delete({ resource: 'replicasets', namespace: 'default', name: 'web' });
  await f.synced();
  assert.deepEqual(await drain(), ['pods|default/a', 'pods|default/b'], 'the owner\'s delete queues its dependents');
  await gc!.syncKey('pods|default/a');
  await gc!.syncKey('pods|default/b');
  assert.deepEqual(f.client.takeSummary(), ['delete pods default/a', 'delete pods default/b']);
  assert.equal(await exists('pods', 'a'), undefined);
});

test('an owner missing from the cache is confirmed with the API before anything is deleted', async () => {
  // ReplicaSets are not watched: every owner lookup misses the cache.
  await setup(['pods']);
  const rs = await f.server.create({ object: replicaSet('web') });
  await f.server.create({ object: podOwnedBy('a', { owner: rs }) });
  await f.synced();
  await gc!.syncKey('pods|default/a');
  assert.deepEqual(f.client.takeSummary(), []);
  assert.ok(await exists('pods', 'a'));
});

test('an owner recreated under the same name is not the owner: the dependent is deleted', async () => {
  await setup();
  const rs = await f.server.create({ object: replicaSet('web') });
  await f.server.create({ object: podOwnedBy('a', { owner: rs }) });
  await f.server.delete({ resource: 'replicasets', namespace: 'default', name: 'web' });
  await f.server.create({ object: replicaSet('web') });
  await f.synced();
  await gc!.syncKey('pods|default/a');
  assert.deepEqual(f.client.takeSummary(), ['delete pods default/a']);
});

test('a dependent with another owner left only loses its reference to the gone one', async () => {
  await setup();
  const gone = await f.server.create({ object: replicaSet('old') });
  const kept = await f.server.create({ object: replicaSet('new') });
  await f.server.create({ object: podOwnedBy('a', { owner: gone }, { owner: kept }) });
  await f.server.delete({ resource: 'replicasets', namespace: 'default', name: 'old' });
  await f.synced();
  await gc!.syncKey('pods|default/a');
  assert.deepEqual(f.client.takeSummary(), ['patch pods default/a']);
  const p = await exists('pods', 'a');
  assert.deepEqual(p?.metadata?.ownerReferences.map((r) => r.name), ['new']);
});

test('foreground: the owner waits, marked, until its blocking dependents are gone; then the collector removes its finalizer', async () => {
  await setup();
  const rs = await f.server.create({ object: replicaSet('web') });
  await f.server.create({ object: podOwnedBy('a', { owner: rs }) });
  await f.server.create({ object: podOwnedBy('b', { owner: rs, block: false }) });
  const r = await f.server.delete({ resource: 'replicasets', namespace: 'default', name: 'web', propagationPolicy: 'Foreground' });
  assert.equal(r.deleted, false);
  assert.deepEqual(r.object.metadata?.finalizers, ['foregroundDeletion']);
  await f.synced();
  await gc!.syncKey('replicasets|default/web');
  assert.deepEqual(f.client.takeSummary(), ['delete pods default/a', 'delete pods default/b']);
  assert.ok(await exists('replicasets', 'web'), 'still there while a blocking dependent was in the cache');
  await f.synced();
  assert.ok((await drain()).includes('replicasets|default/web'), 'the dependents\' deletes queue the waiting owner');
  await gc!.syncKey('replicasets|default/web');
  assert.deepEqual(f.client.takeSummary(), ['patch replicasets default/web']);
  assert.equal(await exists('replicasets', 'web'), undefined, 'removing the last finalizer deleted it');
});

test('foreground waits for a dependent that is still terminating', async () => {
  await setup();
  const rs = await f.server.create({ object: replicaSet('web') });
  const p = podOwnedBy('a', { owner: rs });
  p.metadata!.finalizers = ['example.com/slow'];
  await f.server.create({ object: p });
  await f.server.delete({ resource: 'replicasets', namespace: 'default', name: 'web', propagationPolicy: 'Foreground' });
  await f.synced();
  await gc!.syncKey('replicasets|default/web');
  await f.synced();
  await gc!.syncKey('replicasets|default/web');
  assert.deepEqual(f.client.takeSummary(), ['delete pods default/a'], 'the pod is marked, not gone: the owner keeps waiting');
  assert.ok(await exists('replicasets', 'web'));
});

test('orphan: the dependents lose their reference and stay; then the owner goes', async () => {
  await setup();
  const rs = await f.server.create({ object: replicaSet('web') });
  await f.server.create({ object: podOwnedBy('a', { owner: rs }) });
  await f.server.create({ object: podOwnedBy('b', { owner: rs }) });
  await f.server.delete({ resource: 'replicasets', namespace: 'default', name: 'web', propagationPolicy: 'Orphan' });
  await f.synced();
  await gc!.syncKey('replicasets|default/web');
  assert.deepEqual(f.client.takeSummary(), ['patch pods default/a', 'patch pods default/b', 'patch replicasets default/web']);
  assert.equal(await exists('replicasets', 'web'), undefined);
  assert.deepEqual((await exists('pods', 'a'))?.metadata?.ownerReferences, []);
  assert.deepEqual((await exists('pods', 'b'))?.metadata?.ownerReferences, []);
});

test('running, a foreground delete of a Deployment takes its ReplicaSet and pods first, then the Deployment', async () => {
  f = await fixture();
  gc = new GarbageCollector({ client: f.client, informers: f.factory, events: f.events, clock: f.clock, workers: 2, logger: { warn: () => {} } });
  const d = await f.server.create({ object: deployment('web') });
  const rs = await f.server.create({ object: replicaSet('web-abc', d) });
  await f.server.create({ object: podOwnedBy('web-abc-1', { owner: rs }) });
  await f.server.create({ object: podOwnedBy('web-abc-2', { owner: rs }) });
  f.factory.start();
  gc.start();
  await f.synced();
  await f.server.delete({ resource: 'deployments', namespace: 'default', name: 'web', propagationPolicy: 'Foreground' });
  await eventually('the deployment is gone', () => f.client.actions.filter((a) => a.verb === 'patch' && a.resource === 'deployments').length === 1, 5000);
  assert.equal(await exists('deployments', 'web'), undefined);
  assert.equal(await exists('replicasets', 'web-abc'), undefined);
  assert.equal(await exists('pods', 'web-abc-1'), undefined);
  const summary = f.client.takeSummary();
  assert.deepEqual(summary.slice(0, 1), ['delete replicasets default/web-abc']);
  assert.deepEqual(summary.slice(-1), ['patch deployments default/web']);
  assert.equal(summary.filter((s) => s.startsWith('delete pods')).length, 2);
});

test('running, a foreground delete through an ownership cycle (each owns the other, blocking) ends with both gone', async () => {
  f = await fixture();
  gc = new GarbageCollector({ client: f.client, informers: f.factory, events: f.events, clock: f.clock, workers: 2, logger: { warn: () => {} } });
  const cm = (name: string) => obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: {} });
  const ref = (o: KubeObject) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata!.name!, uid: o.metadata!.uid!, blockOwnerDeletion: true });
  const a = await f.server.create({ object: cm('a') });
  const b0 = cm('b');
  b0.metadata!.ownerReferences = [ref(a)];
  const b = await f.server.create({ object: b0 });
  await f.server.patch({ resource: 'configmaps', namespace: 'default', name: 'a', type: 'merge', patch: { metadata: { ownerReferences: [ref(b)] } } });
  f.factory.start();
  gc.start();
  await f.synced();
  await f.server.delete({ resource: 'configmaps', namespace: 'default', name: 'a', propagationPolicy: 'Foreground' });
  await eventually('both gone', () => !f.factory.informer('configmaps').store.get('default', 'a') && !f.factory.informer('configmaps').store.get('default', 'b'), 5000);
  assert.equal(await exists('configmaps', 'a'), undefined);
  assert.equal(await exists('configmaps', 'b'), undefined);
  assert.ok(f.client.takeSummary().includes('patch configmaps default/b'), "b's reference stopped blocking first");
});

test('running, a background delete of a Deployment cascades to its ReplicaSet and pods', async () => {
  f = await fixture();
  gc = new GarbageCollector({ client: f.client, informers: f.factory, events: f.events, clock: f.clock, logger: { warn: () => {} } });
  const d = await f.server.create({ object: deployment('web') });
  const rs = await f.server.create({ object: replicaSet('web-abc', d) });
  await f.server.create({ object: podOwnedBy('web-abc-1', { owner: rs }) });
  f.factory.start();
  gc.start();
  await f.synced();
  await f.server.delete({ resource: 'deployments', namespace: 'default', name: 'web' });
  await eventually('pods collected', () => f.client.actions.some((a) => a.verb === 'delete' && a.resource === 'pods'), 5000);
  assert.deepEqual(f.client.takeSummary(), ['delete replicasets default/web-abc', 'delete pods default/web-abc-1']);
  assert.equal(await exists('pods', 'web-abc-1'), undefined);
});

test('an object with an owner of a kind this cluster does not serve is left alone, whatever its other owners', async () => {
  await setup();
  const widget = { apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: 'uid-widget', controller: true, blockOwnerDeletion: false };
  const p = podOwnedBy('a');
  p.metadata!.ownerReferences = [widget];
  await f.server.create({ object: p });
  // A custom resource whose kind is also a served kind's name, in a group of its own.
  const knative = podOwnedBy('k');
  knative.metadata!.ownerReferences = [{ apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'web', uid: 'uid-ksvc', controller: true, blockOwnerDeletion: false }];
  await f.server.create({ object: knative });
  // Beside a gone owner too: Kubernetes decides nothing while one owner cannot be looked up.
  const q = podOwnedBy('b');
  q.metadata!.ownerReferences = [widget, { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone', uid: 'uid-gone', controller: false, blockOwnerDeletion: false }];
  await f.server.create({ object: q });
  await f.synced();
  await gc!.syncKey('pods|default/a');
  await gc!.syncKey('pods|default/b');
  await gc!.syncKey('pods|default/k');
  assert.deepEqual(f.client.takeSummary(), []);
  assert.ok(await exists('pods', 'a'));
  assert.ok(await exists('pods', 'k'));
  assert.equal((await exists('pods', 'b'))?.metadata?.ownerReferences?.length, 2);
});

test('a cluster-scoped object naming a namespaced owner is reported and kept', async () => {
  await setup();
  const rs = await f.server.create({ object: replicaSet('web') });
  const pv = obj({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv1' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/pv1' } } });
  pv.metadata!.ownerReferences = [{ ...newControllerRef(rs, RS), controller: false }];
  await f.server.create({ object: pv });
  await f.synced();
  await gc!.syncKey('persistentvolumes|pv1');
  assert.deepEqual(f.client.takeSummary(), []);
  assert.deepEqual(f.events.take(), [`Warning OwnerRefInvalidNamespace ownerRef [apps/v1/ReplicaSet, namespace: , name: web, uid: ${rs.metadata!.uid}] does not exist in namespace ""`], "Kubernetes' words");
  assert.equal((await f.server.get({ resource: 'persistentvolumes', name: 'pv1' })).metadata?.name, 'pv1');
  // Its blocking reference never resolves to the ReplicaSet, so it does not hold up a foreground delete.
  await f.server.delete({ resource: 'replicasets', namespace: 'default', name: 'web', propagationPolicy: 'Foreground' });
  await f.synced();
  await gc!.syncKey('replicasets|default/web');
  assert.deepEqual(f.client.takeSummary(), ['patch replicasets default/web']);
  assert.equal(await exists('replicasets', 'web'), undefined);
  assert.equal((await f.server.get({ resource: 'persistentvolumes', name: 'pv1' })).metadata?.name, 'pv1');
});

test("a dependent in another namespace naming an owner's uid is collected there, and does not make the owner gone for its own dependents", async () => {
  await setup();
  await f.server.create({ object: obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } }) });
  const rs = await f.server.create({ object: replicaSet('web') });
  await f.server.create({ object: podOwnedBy('a', { owner: rs }) });
  const stray = podOwnedBy('x', { owner: rs });
  stray.metadata!.namespace = 'other';
  await f.server.create({ object: stray });
  await f.synced();
  await gc!.syncKey('pods|other/x');
  assert.deepEqual(f.client.takeSummary(), ['delete pods other/x'], 'no ReplicaSet "web" in its namespace: gone, as Kubernetes has it');
  assert.deepEqual(f.events.take(), [`Warning OwnerRefInvalidNamespace ownerRef [apps/v1/ReplicaSet, namespace: other, name: web, uid: ${rs.metadata!.uid}] does not exist in namespace "other"`]);
  await gc!.syncKey('pods|default/a');
  assert.deepEqual(f.client.takeSummary(), [], 'the ReplicaSet is there for its own pod');
  assert.ok(await exists('pods', 'a'));
  assert.deepEqual(f.events.take(), []);
});

test('an owner that is simply gone is no invalid namespace: no Warning', async () => {
  await setup();
  const pv = obj({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv1', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone', uid: 'no-such-uid' }] }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/pv1' } } });
  await f.server.create({ object: pv });
  const goneOwner = replicaSet('gone');
  goneOwner.metadata!.uid = 'no-such-uid';
  await f.server.create({ object: podOwnedBy('y', { owner: goneOwner }) });
  await f.synced();
  await gc!.syncKey('persistentvolumes|pv1');
  await gc!.syncKey('pods|default/y');
  assert.deepEqual(f.client.takeSummary(), ['delete pods default/y']);
  assert.deepEqual(f.events.take(), []);
});

test('Events are left alone unless asked for, as Kubernetes\' default gcIgnoredResources', async () => {
  for (const resources of [undefined, ['replicasets', 'pods', 'events']]) {
    await setup(resources);
    const rs = await f.server.create({ object: replicaSet('web') });
    const event = obj({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'web.1', namespace: 'default', ownerReferences: [newControllerRef(rs, RS)] },
      involvedObject: { kind: 'ReplicaSet', namespace: 'default', name: 'web' },
      reason: 'SuccessfulCreate',
      message: 'Created pod: web-a',
      type: 'Normal',
      count: 1,
    });
    await f.server.create({ object: event });
    await f.server.create({ object: podOwnedBy('a', { owner: rs }) });
    await f.synced();
    await drain();
    await f.server.delete({ resource: 'replicasets', namespace: 'default', name: 'web' });
    await f.synced();
    const keys = await drain();
    if (resources === undefined) assert.deepEqual(keys, ['pods|default/a'], 'by default the Event is not watched, so not queued');
    else assert.deepEqual(keys, ['events|default/web.1', 'pods|default/a'], 'asked for, Events are collected');
    await gc!.stop();
    gc = undefined;
    f.close();
  }
});
