import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { Pod } from '../../api/registry.js';
import { isApiError } from '../../apiserver/api_error.js';
import { makeNode, makePod } from '../../scheduler/testing/wrappers.js';
import { fixture, type Fixture } from '../testing/fixture.js';
import { RecordingClient } from '../testing/recording_client.js';
import { PodGcController } from './controller.js';

let f: Fixture | undefined;
let gc: PodGcController | undefined;
/** The controller's client, reads recorded too (its confirming get of a node). */
let client: RecordingClient;

afterEach(async () => {
  await gc?.stop();
  f?.close();
  gc = f = undefined;
});

async function setup(o: { terminatedPodThreshold?: number } = {}): Promise<{ f: Fixture; gc: PodGcController }> {
  f = await fixture();
  client = new RecordingClient(f.server, { recordReads: true });
  gc = new PodGcController({ client, factory: f.factory, clock: f.clock, logger: { warn: () => {} }, terminatedPodThreshold: o.terminatedPodThreshold });
  return { f, gc };
}

async function addPod(f: Fixture, name: string, o: { nodeName?: string; phase?: string } = {}): Promise<void> {
  const p = makePod({ name, nodeName: o.nodeName });
  p.metadata!.uid = undefined;
  const created = (await f.server.create({ object: p })) as Pod;
  if (o.phase) await f.server.updateStatus({ object: { ...created, status: { ...created.status!, phase: o.phase } } });
}

async function exists(f: Fixture, name: string): Promise<boolean> {
  try {
    await f.server.get({ resource: 'pods', namespace: 'default', name });
    return true;
  } catch (err) {
    if (isApiError(err, 'NotFound')) return false;
    throw err;
  }
}

test("a deleted node's pods, running or terminating, are force-deleted once the node has been gone for the quarantine", async () => {
  const { f, gc } = await setup();
  for (const n of ['n0', 'n1']) await f.server.create({ object: makeNode({ name: n }) });
  await addPod(f, 'kept', { nodeName: 'n0' });
  await addPod(f, 'running', { nodeName: 'n1' });
  await addPod(f, 'evicted', { nodeName: 'n1' });
  // Evicted while its node was unreachable: marked, waiting for an agent that will not come back.
  assert.equal((await f.server.delete({ resource: 'pods', namespace: 'default', name: 'evicted' })).deleted, false);
  await f.server.delete({ resource: 'nodes', name: 'n1' });
  await f.synced();
  await gc.sweep();
  await f.advance(39_000);
  await gc.sweep();
  assert.deepEqual(client.takeSummary(), [], 'not before the quarantine has passed');
  await f.advance(2000);
  await gc.sweep();
  assert.deepEqual(client.takeSummary().sort(), ['delete pods default/evicted', 'delete pods default/running', 'get nodes n1']);
  assert.equal(await exists(f, 'running'), false);
  assert.equal(await exists(f, 'evicted'), false);
  assert.equal(await exists(f, 'kept'), true);
});

test('a node that comes back during the quarantine keeps its pods', async () => {
  const { f, gc } = await setup();
  await f.server.create({ object: makeNode({ name: 'n1' }) });
  await addPod(f, 'p', { nodeName: 'n1' });
  await f.server.delete({ resource: 'nodes', name: 'n1' });
  await f.synced();
  await gc.sweep();
  await f.server.create({ object: makeNode({ name: 'n1' }) });
  await f.synced();
  await f.advance(60_000);
  await gc.sweep();
  assert.deepEqual(client.takeSummary(), [], 'its cache has the node: no need to ask');
  assert.equal(await exists(f, 'p'), true);
});

test('a node missing from the cache but present in the API is not taken for gone', async () => {
  const { f, gc } = await setup();
  await addPod(f, 'p', { nodeName: 'late' });
  await f.synced();
  await gc.sweep();
  await f.advance(41_000);
  // Registered just now; this controller's cache has not heard of it yet.
  await f.server.create({ object: makeNode({ name: 'late' }) });
  assert.equal(f.factory.informer('nodes').store.get(undefined, 'late'), undefined);
  await gc.sweep();
  assert.deepEqual(client.takeSummary(), ['get nodes late']);
  assert.equal(await exists(f, 'p'), true);
});

test('the oldest finished pods beyond the threshold are deleted; running ones are not counted', async () => {
  const { f, gc } = await setup({ terminatedPodThreshold: 3 });
  await f.server.create({ object: makeNode({ name: 'n0' }) });
  for (let i = 0; i < 5; i++) {
    await addPod(f, `done-${i}`, { nodeName: 'n0', phase: i % 2 ? 'Failed' : 'Succeeded' });
    f.apiClock.nowMs += 1000;
  }
  await addPod(f, 'running-0', { nodeName: 'n0', phase: 'Running' });
  await addPod(f, 'running-1', { nodeName: 'n0', phase: 'Running' });
  await f.synced();
  await gc.sweep();
  assert.deepEqual(client.takeSummary(), ['delete pods default/done-0', 'delete pods default/done-1']);
  await f.synced();
  await gc.sweep();
  assert.deepEqual(client.takeSummary(), [], 'at the threshold: nothing more');
});

test('started, it sweeps every gcCheckPeriodMs once its informers have synced', async () => {
  const { f, gc } = await setup({ terminatedPodThreshold: 1 });
  await f.server.create({ object: makeNode({ name: 'n0' }) });
  await addPod(f, 'old', { nodeName: 'n0', phase: 'Succeeded' });
  f.apiClock.nowMs += 1000;
  await addPod(f, 'new', { nodeName: 'n0', phase: 'Succeeded' });
  await f.synced();
  gc.start();
  await f.advance(19_000);
  assert.deepEqual(client.takeSummary(), []);
  await f.advance(1000);
  assert.deepEqual(client.takeSummary(), ['delete pods default/old']);
});

test('on a gone node: a pod with a finalizer is force-deleted once and then left to its finalizer; a finished pod goes too', async () => {
  const { f, gc } = await setup();
  await f.server.create({ object: makeNode({ name: 'n1' }) });
  const held = makePod({ name: 'held', nodeName: 'n1' });
  held.metadata!.uid = undefined;
  held.metadata!.finalizers = ['example.com/hold'];
  await f.server.create({ object: held });
  await addPod(f, 'done', { nodeName: 'n1', phase: 'Succeeded' });
  await f.server.delete({ resource: 'nodes', name: 'n1' });
  await f.synced();
  await gc.sweep();
  await f.advance(41_000);
  await gc.sweep();
  assert.deepEqual(client.takeSummary().sort(), ['delete pods default/done', 'delete pods default/held', 'get nodes n1']);
  assert.equal(await exists(f, 'done'), false);
  const marked = (await f.server.get({ resource: 'pods', namespace: 'default', name: 'held' })) as Pod;
  assert.equal(marked.metadata?.deletionGracePeriodSeconds, 0, 'force-deleted: it goes with its finalizer');
  await f.synced();
  await f.advance(20_000);
  await gc.sweep();
  assert.deepEqual(client.takeSummary(), ['get nodes n1'], 'not deleted again while its finalizer holds it');
});
