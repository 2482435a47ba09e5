import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { Registry } from 'prom-client';
import type { KubeObject, Pod, ReplicaSet } from '../../api/registry.js';
import { ApiError } from '../../apiserver/api_error.js';
import { obj } from '../../apiserver/test_util.js';
import { SHUTDOWN } from '../../client/workqueue/queue.js';
import { eventually, settle } from '../../client/testing/settle.js';
import type { ObjectClient } from '../client.js';
import { getControllerOf, newControllerRef } from '../controller_utils.js';
import { fixture, type Fixture } from '../testing/fixture.js';
import { RecordingClient } from '../testing/recording_client.js';
import { REPLICASET_GVK, ReplicaSetController, slowStartBatch, UNCERTAIN_CREATE_WAIT_MS } from './replica_set.js';

let f: Fixture;
let controller: ReplicaSetController | undefined;

afterEach(async () => {
  await controller?.stop();
  controller = undefined;
  f?.close();
});

function replicaSet(name: string, replicas: number, o: { minReadySeconds?: number; templateLabels?: Record<string, string> } = {}): KubeObject {
  return obj({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      minReadySeconds: o.minReadySeconds ?? 0,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: o.templateLabels ?? { app: name, tier: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] } },
    },
  });
}

function podOf(name: string, labels: Record<string, string>, owner?: KubeObject, nodeName?: string): KubeObject {
  const p = obj<Pod>({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }], ...(nodeName ? { nodeName } : {}) } });
  if (owner) p.metadata!.ownerReferences = [newControllerRef(owner, REPLICASET_GVK)];
  return p;
}

async function setPodStatus(name: string, phase: string, readySince?: string): Promise<void> {
  const p = (await f.server.get({ resource: 'pods', namespace: 'default', name })) as Pod;
  const status = obj<Pod>({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, status: { phase, conditions: readySince ? [{ type: 'Ready', status: 'True', lastTransitionTime: readySince }] : [] } }).status;
  await f.server.updateStatus({ object: { ...p, status } });
}

async function setup(o: { client?: ObjectClient; minReadySeconds?: number } = {}): Promise<void> {
  f = await fixture();
  controller = new ReplicaSetController({ client: o.client ?? f.client, informers: f.factory, events: f.events, clock: f.clock, logger: { warn: () => {} } });
}

async function rsStatus(name: string): Promise<NonNullable<ReplicaSet['status']>> {
  return ((await f.server.get({ resource: 'replicasets', namespace: 'default', name })) as ReplicaSet).status!;
}

async function podsOwnedBy(rs: KubeObject): Promise<Pod[]> {
  const r = await f.server.list({ resource: 'pods', namespace: 'default' });
  return (r.items as Pod[]).filter((p) => getControllerOf(p)?.uid === rs.metadata?.uid);
}

test('a new ReplicaSet gets its pods from the template, each with a controller reference, then status', async () => {
  await setup();
  const rs = await f.server.create({ object: replicaSet('web', 3) });
  await f.synced();
  await controller!.syncKey('default/web');
  assert.deepEqual(f.client.takeSummary(), ['create pods default/web-', 'create pods default/web-', 'create pods default/web-', 'update replicasets default/web status']);
  const pods = await podsOwnedBy(rs);
  assert.equal(pods.length, 3);
  for (const p of pods) {
    assert.match(p.metadata!.name!, /^web-p\d{4}$/);
    assert.deepEqual(p.metadata!.labels, { app: 'web', tier: 'web' });
    assert.deepEqual(p.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
  }
  assert.deepEqual(f.events.take(), pods.map((p) => `Normal SuccessfulCreate Created pod: ${p.metadata!.name}`).sort());
  assert.equal((await rsStatus('web')).observedGeneration, 1);
});

test('a ReplicaSet never creates again while its own creates are not yet in the informer', async () => {
  await setup();
  await f.server.create({ object: replicaSet('web', 2) });
  await f.synced();
  f.factory.informer('pods').stop();
  await controller!.syncKey('default/web');
  assert.equal(f.client.takeSummary().filter((a) => a.startsWith('create')).length, 2);
  // The pod informer has not seen them: a resync must wait rather than create two more.
  await controller!.syncKey('default/web');
  await controller!.syncKey('default/web');
  assert.deepEqual(f.client.takeSummary(), []);
  assert.deepEqual(controller!.expectations.pending('default/web'), { adds: 2, deletes: [] });
});

test('once its creates are observed the ReplicaSet is satisfied and reports replicas', async () => {
  await setup();
  await f.server.create({ object: replicaSet('web', 2) });
  await f.synced();
  await controller!.syncKey('default/web');
  f.client.takeSummary();
  await f.synced();
  assert.equal(controller!.expectations.satisfied('default/web'), true);
  await controller!.syncKey('default/web');
  assert.deepEqual(f.client.takeSummary(), ['update replicasets default/web status']);
  const s = await rsStatus('web');
  assert.equal(s.replicas, 2);
  assert.equal(s.fullyLabeledReplicas, 2);
  assert.equal(s.readyReplicas, 0);
  await controller!.syncKey('default/web');
  assert.deepEqual(f.client.takeSummary(), [], 'an unchanged status is not written again');
});

test('creates go in slow-start batches and stop after a failing batch, setting ReplicaFailure', async () => {
  f = await fixture();
  let creates = 0;
  const recording = f.client;
  // The API refuses every create after the third, as a quota would.
  const quota: ObjectClient = Object.assign(Object.create(recording) as RecordingClient, {
    async create<T extends KubeObject>(o: T): Promise<T> {
      if (++creates > 3) throw new ApiError('Forbidden', 'exceeded quota: pods, limited: 3');
      return recording.create(o);
    },
  });
  controller = new ReplicaSetController({ client: quota, informers: f.factory, events: f.events, clock: f.clock, logger: { warn: () => {} } });
  await f.server.create({ object: replicaSet('web', 10) });
  await f.synced();
  // Freeze the pod informer so that the creates stay unobserved.
  f.factory.informer('pods').stop();
  await assert.rejects(controller.syncKey('default/web'), /exceeded quota/);
  assert.equal(creates, 7, 'batches of 1, 2 and 4; the 4th batch failed, so 3 creates were never tried');
  assert.deepEqual(controller.expectations.pending('default/web'), { adds: 3, deletes: [] }, 'only the 3 successful creates are still expected');
  const s = await rsStatus('web');
  const failure = s.conditions.find((c) => c.type === 'ReplicaFailure');
  assert.equal(failure?.status, 'True');
  assert.equal(failure?.reason, 'FailedCreate');
  assert.match(failure?.message ?? '', /exceeded quota/);
  assert.equal(f.events.take().filter((e) => e.startsWith('Warning FailedCreate Error creating: exceeded quota')).length, 4);
});

test('slowStartBatch runs batches of 1, 2, 4, … up to the count', async () => {
  const batches: number[][] = [];
  let inBatch: number[] = [];
  const r = await slowStartBatch(10, async (i) => {
    inBatch.push(i);
    await Promise.resolve();
    if (inBatch.length > 0) {
      batches.push(inBatch);
      inBatch = [];
    }
  });
  assert.deepEqual(r, { attempted: 10, succeeded: 10, error: undefined });
  assert.deepEqual(batches.map((b) => b.length), [1, 2, 4, 3]);
});

test('surplus pods are deleted unscheduled first, then pending, then not ready, then ready, newer first', async () => {
  await setup();
  const rs = await f.server.create({ object: replicaSet('web', 2) });
  const labels = { app: 'web' };
  await f.server.create({ object: podOf('ready-old', labels, rs, 'n1') });
  await f.server.create({ object: podOf('unscheduled', labels, rs) });
  await f.server.create({ object: podOf('pending', labels, rs, 'n2') });
  f.apiClock.nowMs += 5000;
  await f.server.create({ object: podOf('ready-new', labels, rs, 'n3') });
  await f.server.create({ object: podOf('running-not-ready', labels, rs, 'n4') });
  await setPodStatus('ready-old', 'Running', '2026-01-02T03:04:05Z');
  await setPodStatus('ready-new', 'Running', '2026-01-02T03:04:10Z');
  await setPodStatus('pending', 'Pending');
  await setPodStatus('running-not-ready', 'Running');
  await f.synced();
  await controller!.syncKey('default/web');
  assert.deepEqual(f.client.takeSummary(), ['delete pods default/unscheduled', 'delete pods default/pending', 'delete pods default/running-not-ready', 'update replicasets default/web status']);
  assert.deepEqual(f.events.take(), ['Normal SuccessfulDelete Deleted pod: unscheduled', 'Normal SuccessfulDelete Deleted pod: pending', 'Normal SuccessfulDelete Deleted pod: running-not-ready']);
  // Bound pods are deleted gracefully: still there, marked, and no longer counted.
  await f.synced();
  assert.equal(controller!.expectations.satisfied('default/web'), true, 'the deletions (and graceful marks) were observed');
  await controller!.syncKey('default/web');
  assert.deepEqual(f.client.takeSummary(), ['update replicasets default/web status']);
  const s = await rsStatus('web');
  assert.equal(s.replicas, 2);
  assert.equal(s.readyReplicas, 2);
});

test('among ready pods on the same footing, the one ready for less time goes first', async () => {
  await setup();
  const rs = await f.server.create({ object: replicaSet('web', 1) });
  await f.server.create({ object: podOf('a', { app: 'web' }, rs, 'n1') });
  await f.server.create({ object: podOf('b', { app: 'web' }, rs, 'n2') });
  await setPodStatus('a', 'Running', '2026-01-02T03:04:05Z');
  await setPodStatus('b', 'Running', '2026-01-02T03:00:00Z');
  await f.synced();
  await controller!.syncKey('default/web');
  assert.deepEqual(f.client.takeSummary().slice(0, 1), ['delete pods default/a']);
});

test('a matching orphan is adopted and counted; an owned pod that stopped matching is released and replaced', async () => {
  await setup();
  const rs = await f.server.create({ object: replicaSet('web', 2) });
  await f.server.create({ object: podOf('orphan', { app: 'web' }) });
  await f.server.create({ object: podOf('relabelled', { app: 'debug' }, rs) });
  await f.server.create({ object: podOf('other-app', { app: 'db' }) });
  await f.synced();
  await controller!.syncKey('default/web');
  assert.deepEqual(f.client.takeSummary(), ['patch pods default/relabelled', 'patch pods default/orphan', 'create pods default/web-', 'update replicasets default/web status']);
  const owned = (await podsOwnedBy(rs)).map((p) => p.metadata!.name).sort();
  assert.equal(owned.length, 2);
  assert.ok(owned.includes('orphan'));
  assert.deepEqual(((await f.server.get({ resource: 'pods', namespace: 'default', name: 'relabelled' })) as Pod).metadata!.ownerReferences, []);
});

test('a ReplicaSet being deleted adopts nothing and creates nothing', async () => {
  await setup();
  const rs = replicaSet('web', 2);
  rs.metadata!.finalizers = ['example.com/hold'];
  await f.server.create({ object: rs });
  await f.server.create({ object: podOf('orphan', { app: 'web' }) });
  await f.server.delete({ resource: 'replicasets', namespace: 'default', name: 'web' });
  await f.synced();
  await controller!.syncKey('default/web');
  assert.deepEqual(f.client.takeSummary(), ['update replicasets default/web status']);
});

test('status counts ready and available pods by minReadySeconds, and the sync looks again when one becomes available', async () => {
  await setup();
  const rs = await f.server.create({ object: replicaSet('web', 2, { minReadySeconds: 30 }) });
  await f.server.create({ object: podOf('a', { app: 'web', tier: 'web' }, rs, 'n1') });
  await f.server.create({ object: podOf('b', { app: 'web' }, rs, 'n2') });
  await setPodStatus('a', 'Running', '2026-01-02T03:03:00Z');
  await setPodStatus('b', 'Running', '2026-01-02T03:04:05Z');
  await f.synced();
  await controller!.syncKey('default/web');
  let s = await rsStatus('web');
  assert.deepEqual([s.replicas, s.fullyLabeledReplicas, s.readyReplicas, s.availableReplicas], [2, 1, 2, 1]);
  await f.synced();
  while (controller!.queue.length > 0) controller!.queue.done((await controller!.queue.get()) as string);
  await f.advance(29_999);
  assert.equal(controller!.queue.length, 0);
  await f.advance(1);
  assert.equal(controller!.queue.length, 1, 'requeued when pod b becomes available');
  const key = await controller!.queue.get();
  assert.notEqual(key, SHUTDOWN);
  controller!.queue.done(key as string);
  await controller!.syncKey('default/web');
  s = await rsStatus('web');
  assert.equal(s.availableReplicas, 2);
});

test('a pod marked for deletion is not counted, so it is replaced at once', async () => {
  await setup();
  const rs = await f.server.create({ object: replicaSet('web', 1) });
  await f.server.create({ object: podOf('a', { app: 'web' }, rs, 'n1') });
  await f.synced();
  await controller!.syncKey('default/web');
  assert.deepEqual(f.client.takeSummary(), ['update replicasets default/web status']);
  await f.server.delete({ resource: 'pods', namespace: 'default', name: 'a' });
  await f.synced();
  await controller!.syncKey('default/web');
  assert.deepEqual(f.client.takeSummary(), ['create pods default/web-', 'update replicasets default/web status']);
});

test('a deleted ReplicaSet is a no-op', async () => {
  await setup();
  await f.synced();
  await controller!.syncKey('default/gone');
  assert.deepEqual(f.client.takeSummary(), []);
});

test('running, the controller scales up and down through its informers and creates each pod once', async () => {
  f = await fixture();
  const registry = new Registry();
  controller = new ReplicaSetController({ client: f.client, informers: f.factory, events: f.events, clock: f.clock, registry, workers: 3, logger: { warn: () => {} } });
  const rs = await f.server.create({ object: replicaSet('web', 5) });
  f.factory.start();
  controller.start();
  await eventually('5 pods and status', () => f.client.actions.some((a) => a.subresource === 'status' && (a.body as ReplicaSet).status?.replicas === 5));
  assert.equal(f.client.actions.filter((a) => a.verb === 'create').length, 5);
  assert.equal((await podsOwnedBy(rs)).length, 5);
  await f.server.patch({ resource: 'replicasets', namespace: 'default', name: 'web', type: 'merge', patch: { spec: { replicas: 2 } } });
  await eventually('scaled to 2', () => f.client.actions.some((a) => a.subresource === 'status' && (a.body as ReplicaSet).status?.replicas === 2 && (a.body as ReplicaSet).status?.observedGeneration === 2));
  assert.equal((await podsOwnedBy(rs)).length, 2);
  assert.equal(f.client.actions.filter((a) => a.verb === 'create').length, 5, 'no pod created twice');
  assert.match(await registry.metrics(), /navarch_controller_sync_duration_seconds_count\{controller="replicaset",result="success"\} \d+/);
});

/** f.client, except that its first create fails with `err`, after reaching the store if `applied`. */
function failingFirstCreate(err: ApiError, applied: boolean): { client: ObjectClient; tried: () => boolean } {
  const recording = f.client;
  let first = true;
  const client: ObjectClient = Object.assign(Object.create(recording) as RecordingClient, {
    async create<T extends KubeObject>(o: T): Promise<T> {
      if (!first) return recording.create(o);
      first = false;
      if (applied) await recording.create(o);
      throw err;
    },
  });
  return { client, tried: () => !first };
}

test('a create whose outcome is unknown (Unavailable) stays expected, so the next sync does not create again', async () => {
  f = await fixture();
  // The first create reaches the store but its answer is lost, as when a master dies mid-request.
  const lossy = failingFirstCreate(new ApiError('Unavailable', 'no master answered'), true);
  controller = new ReplicaSetController({ client: lossy.client, informers: f.factory, events: f.events, clock: f.clock, logger: { warn: () => {} } });
  await f.server.create({ object: replicaSet('web', 1) });
  await f.synced();
  f.factory.informer('pods').stop();
  await assert.rejects(controller.syncKey('default/web'), /no master answered/);
  assert.deepEqual(controller.expectations.pending('default/web'), { adds: 1, deletes: [] });
  await controller.syncKey('default/web');
  assert.equal(f.client.takeSummary().filter((a) => a.startsWith('create')).length, 1, 'one create in all');
});

test('a create refused before it reached the log (Unavailable, notApplied) is not expected: the retry creates the pod', async () => {
  f = await fixture();
  const refusing = failingFirstCreate(new ApiError('Unavailable', 'No master leads the cluster right now (no Raft leader): try again', { notApplied: true }), false);
  controller = new ReplicaSetController({ client: refusing.client, informers: f.factory, events: f.events, clock: f.clock, logger: { warn: () => {} } });
  await f.server.create({ object: replicaSet('web', 1) });
  await f.synced();
  await assert.rejects(controller.syncKey('default/web'), /no Raft leader/);
  assert.deepEqual(controller.expectations.pending('default/web'), { adds: 0, deletes: [] });
  assert.ok(f.events.take().some((e) => e.startsWith('Warning FailedCreate Error creating: No master leads')));
  await controller.syncKey('default/web');
  assert.equal(f.client.takeSummary().filter((a) => a.startsWith('create')).length, 1, 'created on the retry');
});

test('a create refused because the namespace is being deleted (NamespaceTerminating) records no FailedCreate event', async () => {
  f = await fixture();
  const terminating = new ApiError('Forbidden', 'pods "web-x" is forbidden: unable to create new content in namespace default because it is being terminated', {
    causes: [{ field: 'metadata.namespace', type: 'NamespaceTerminating', detail: 'namespace default is being terminated' }],
  });
  const refusing = failingFirstCreate(terminating, false);
  controller = new ReplicaSetController({ client: refusing.client, informers: f.factory, events: f.events, clock: f.clock, logger: { warn: () => {} } });
  await f.server.create({ object: replicaSet('web', 1) });
  await f.synced();
  await controller.syncKey('default/web');
  assert.ok(refusing.tried());
  assert.deepEqual(f.events.take().filter((e) => e.includes('FailedCreate')), []);
  assert.deepEqual(controller.expectations.pending('default/web'), { adds: 0, deletes: [] });
});

test('a create whose outcome is unknown and that never shows up is made again after 30 s, with no event needed', async () => {
  f = await fixture();
  // The first create times out and was not applied after all: no pod event will ever come for it.
  const lost = failingFirstCreate(new ApiError('Unavailable', 'Master 127.0.0.1:1 did not answer in time'), false);
  controller = new ReplicaSetController({ client: lost.client, informers: f.factory, events: f.events, clock: f.clock, logger: { warn: () => {} } });
  const rs = await f.server.create({ object: replicaSet('web', 1) });
  f.factory.start();
  controller.start();
  await eventually('the first create tried', lost.tried);
  await eventually('waiting on the expectation', () => controller!.expectations.pending('default/web')?.adds === 1 && controller!.queue.length === 0);
  const creates = () => f.client.actions.filter((a) => a.verb === 'create').length;
  assert.equal(creates(), 0);
  await f.clock.advance(UNCERTAIN_CREATE_WAIT_MS - 1);
  await settle();
  assert.equal(creates(), 0, 'not while the first create may still show up');
  await f.clock.advance(1);
  await eventually('the pod created once the uncertain create had its time, long before the 5-minute TTL', () => creates() === 1);
  assert.equal((await podsOwnedBy(rs)).length, 1);
});

test('scaling down prefers the pod sharing its node with pods of sibling ReplicaSets of the same Deployment', async () => {
  await setup();
  const d = await f.server.create({ object: obj({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a', image: 'nginx' }] } } } }) });
  const owned = (rs: KubeObject) => {
    rs.metadata!.ownerReferences = [{ ...newControllerRef(d, { apiVersion: 'apps/v1', kind: 'Deployment' }) }];
    return rs;
  };
  const current = await f.server.create({ object: owned(replicaSet('web-new', 1, { templateLabels: { app: 'web-new' } })) });
  const old = await f.server.create({ object: owned(replicaSet('web-old', 1, { templateLabels: { app: 'web-old' } })) });
  await f.server.create({ object: podOf('a', { app: 'web-new' }, current, 'n2') });
  await f.server.create({ object: podOf('b', { app: 'web-new' }, current, 'n1') });
  await f.server.create({ object: podOf('old-1', { app: 'web-old' }, old, 'n2') });
  for (const name of ['a', 'b', 'old-1']) await setPodStatus(name, 'Running', '2026-01-02T03:04:05Z');
  await f.synced();
  await controller!.syncKey('default/web-new');
  assert.deepEqual(f.client.takeSummary().slice(0, 1), ['delete pods default/a'], 'a shares node n2 with the old ReplicaSet\'s pod');
});
