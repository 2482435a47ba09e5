import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { KubeObject, Namespace } from '../../api/registry.js';
import { isApiError } from '../../apiserver/api_error.js';
import { deployment, obj, pod } from '../../apiserver/test_util.js';
import { eventually } from '../../client/testing/settle.js';
import { fixture, type Fixture } from '../testing/fixture.js';
import { NamespaceController } from './namespace.js';

let f: Fixture;
let controller: NamespaceController | undefined;

afterEach(async () => {
  await controller?.stop();
  controller = undefined;
  f?.close();
});

async function setup(): Promise<void> {
  f = await fixture({ namespaces: ['default', 'shop'] });
  controller = new NamespaceController({ client: f.client, informers: f.factory, events: f.events, clock: f.clock, logger: { warn: () => {} } });
}

function inShop(o: KubeObject): KubeObject {
  o.metadata!.namespace = 'shop';
  return o;
}

async function getNs(name: string): Promise<Namespace | undefined> {
  try {
    return (await f.server.get({ resource: 'namespaces', name })) as Namespace;
  } catch (err) {
    if (isApiError(err, 'NotFound')) return undefined;
    throw err;
  }
}

async function fillShop(): Promise<void> {
  const d = deployment('web');
  await f.server.create({ object: inShop(d) });
  await f.server.create({ object: pod('a', { namespace: 'shop' }) });
  await f.server.create({ object: obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'shop' }, data: { k: 'v' } }) });
  await f.server.create({ object: obj({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ port: 80 }] } }) });
  // Same names in another namespace: untouched.
  await f.server.create({ object: pod('a') });
  await f.server.create({ object: obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' } }) });
}

test('deleting a namespace marks it Terminating with the kubernetes finalizer, and it stays until that is removed', async () => {
  await setup();
  const r = await f.server.delete({ resource: 'namespaces', name: 'shop' });
  assert.equal(r.deleted, false);
  const ns = await getNs('shop');
  assert.ok(ns?.metadata?.deletionTimestamp);
  assert.equal(ns?.status?.phase, 'Terminating');
  assert.deepEqual(ns?.spec?.finalizers, ['kubernetes']);
  // Deleting again, or writing its status, does not make it go early.
  assert.equal((await f.server.delete({ resource: 'namespaces', name: 'shop' })).deleted, false);
  await f.server.updateStatus({ object: { ...ns!, status: { phase: 'Terminating', conditions: [] } } });
  assert.ok(await getNs('shop'));
  await assert.rejects(f.server.create({ object: pod('late', { namespace: 'shop' }) }), (e) => isApiError(e, 'Forbidden'));
});

test('the controller deletes every object in the terminating namespace, then lets the namespace go', async () => {
  await setup();
  await fillShop();
  await f.server.delete({ resource: 'namespaces', name: 'shop' });
  await f.synced();
  await controller!.syncKey('shop');
  assert.deepEqual(f.client.takeSummary(), [
    'delete pods shop/a',
    'delete services shop/web',
    'delete configmaps shop/cfg',
    'delete deployments shop/web',
    'update namespaces shop status',
    'patch namespaces shop finalize',
  ]);
  assert.equal(await getNs('shop'), undefined);
  const left = await f.server.list({ resource: 'pods' });
  assert.deepEqual(left.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`), ['default/a']);
  assert.equal((await f.server.list({ resource: 'configmaps', namespace: 'default' })).items.length, 1);
});

test('a namespace not being deleted is left alone', async () => {
  await setup();
  await fillShop();
  await f.synced();
  await controller!.syncKey('shop');
  await controller!.syncKey('gone');
  assert.deepEqual(f.client.takeSummary(), []);
});

test('objects still terminating keep the namespace, and the controller looks again after their grace period', async () => {
  await setup();
  await f.server.create({ object: pod('bound', { namespace: 'shop', nodeName: 'n1' }) });
  await f.server.delete({ resource: 'namespaces', name: 'shop' });
  await f.synced();
  while (controller!.queue.length > 0) controller!.queue.done((await controller!.queue.get()) as string);
  await controller!.syncKey('shop');
  assert.deepEqual(f.client.takeSummary(), ['delete pods shop/bound', 'update namespaces shop status'], 'the bound pod is marked for its 30 s grace period');
  const ns = await getNs('shop');
  assert.deepEqual(
    ns?.status?.conditions.map((c) => `${c.type}=${c.status}: ${c.message}`),
    [
      'NamespaceDeletionDiscoveryFailure=False: All resources successfully discovered',
      'NamespaceDeletionGroupVersionParsingFailure=False: All legacy kube types successfully parsed',
      'NamespaceDeletionContentFailure=False: All content successfully deleted, may be waiting on finalization',
      'NamespaceContentRemaining=True: Some resources are remaining: pods. has 1 resource instances',
      'NamespaceFinalizersRemaining=False: All content-preserving finalizers finished',
    ],
  );
  await f.synced();
  while (controller!.queue.length > 0) controller!.queue.done((await controller!.queue.get()) as string);
  await f.advance(14_999);
  assert.equal(controller!.queue.length, 0);
  await f.advance(1);
  assert.equal(controller!.queue.length, 1, 'looked at again after maxRecheckMs (15 s)');
  await controller!.syncKey('shop');
  assert.deepEqual(f.client.takeSummary(), [], 'a pod already terminating is not deleted again');
  // The agent finishes the pod.
  await f.server.delete({ resource: 'pods', namespace: 'shop', name: 'bound', gracePeriodSeconds: 0 });
  await controller!.syncKey('shop');
  assert.deepEqual(f.client.takeSummary(), ['update namespaces shop status', 'patch namespaces shop finalize']);
  assert.equal(await getNs('shop'), undefined);
});

test('a namespace with its own metadata finalizer waits for it after its contents are gone', async () => {
  f = await fixture({ namespaces: ['default'] });
  controller = new NamespaceController({ client: f.client, informers: f.factory, events: f.events, clock: f.clock, logger: { warn: () => {} } });
  await f.server.create({ object: obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'held', finalizers: ['example.com/audit'] } }) });
  await f.server.delete({ resource: 'namespaces', name: 'held' });
  await f.synced();
  await controller.syncKey('held');
  assert.deepEqual(f.client.takeSummary(), ['update namespaces held status', 'patch namespaces held finalize']);
  const ns = await getNs('held');
  assert.deepEqual(ns?.spec?.finalizers, []);
  await f.server.patch({ resource: 'namespaces', name: 'held', type: 'merge', patch: { metadata: { finalizers: [] } } });
  assert.equal(await getNs('held'), undefined);
});

test('running, the controller empties and removes a deleted namespace', async () => {
  await setup();
  await fillShop();
  f.factory.start();
  controller!.start();
  await f.synced();
  await f.server.delete({ resource: 'namespaces', name: 'shop' });
  await eventually('namespace finalized', () => f.client.actions.some((a) => a.verb === 'patch' && a.resource === 'namespaces'), 5000);
  assert.equal(await getNs('shop'), undefined);
  assert.equal((await f.server.list({ resource: 'pods' })).items.length, 1);
});

test('content held by a finalizer is reported in the namespace conditions, and the namespace waits for it', async () => {
  await setup();
  await f.server.create({ object: pod('held', { namespace: 'shop', finalizers: ['example.com/backup'] }) });
  await f.server.delete({ resource: 'namespaces', name: 'shop' });
  await f.synced();
  await controller!.syncKey('shop');
  assert.deepEqual(f.client.takeSummary(), ['delete pods shop/held', 'update namespaces shop status']);
  const conditions = (await getNs('shop'))?.status?.conditions ?? [];
  assert.equal(conditions.find((c) => c.type === 'NamespaceFinalizersRemaining')?.message, 'Some content in the namespace has finalizers remaining: example.com/backup in 1 resource instances');
  await f.synced();
  await controller!.syncKey('shop');
  assert.deepEqual(f.client.takeSummary(), [], 'unchanged conditions are not written again');
  await f.server.patch({ resource: 'pods', namespace: 'shop', name: 'held', type: 'merge', patch: { metadata: { finalizers: [] } } });
  await f.synced();
  await controller!.syncKey('shop');
  assert.deepEqual(f.client.takeSummary(), ['update namespaces shop status', 'patch namespaces shop finalize']);
  assert.equal(await getNs('shop'), undefined);
});
