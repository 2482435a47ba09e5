import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { OwnerReference } from '../../../gen/navarch/api/v1/meta.js';
import type { Deployment, KubeObject, Pod, PodDisruptionBudget } from '../../api/registry.js';
import { isApiError } from '../../apiserver/api_error.js';
import { deployment, obj, pod } from '../../apiserver/test_util.js';
import { eventually, settle } from '../../client/testing/settle.js';
import { SHUTDOWN } from '../../client/workqueue/queue.js';
import { formatTimeMs } from '../controller_utils.js';
import { fixture, type Fixture } from '../testing/fixture.js';
import { RecordingClient } from '../testing/recording_client.js';
import type { UpdateOptions } from '../../client/client.js';
import { DisruptionController, PDB_RESYNC_MS } from './controller.js';
import { DELETION_TIMEOUT_MS } from './status.js';

let f: Fixture;
let c: DisruptionController | undefined;

afterEach(async () => {
  await c?.stop();
  c = undefined;
  f?.close();
});

async function setup(o: { client?: (f: Fixture) => RecordingClient; namespaces?: string[] } = {}): Promise<DisruptionController> {
  f = await fixture({ namespaces: o.namespaces });
  c = new DisruptionController({ client: o.client?.(f) ?? f.client, informers: f.factory, recorder: f.events, clock: f.clock, logger: { warn: () => {} } });
  return c;
}

async function createPdb(name: string, spec: Record<string, unknown>, namespace = 'default'): Promise<PodDisruptionBudget> {
  return (await f.server.create({ object: obj({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace }, spec }) })) as PodDisruptionBudget;
}

function controllerRef(owner: KubeObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata!.name!, uid: owner.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

interface PodOptions {
  labels?: Record<string, string>;
  owner?: KubeObject | OwnerReference;
  ready?: boolean;
  terminating?: boolean;
  namespace?: string;
}

async function createPod(name: string, o: PodOptions = {}): Promise<Pod> {
  const p = pod(name, { namespace: o.namespace, labels: o.labels ?? { app: 'web' }, finalizers: o.terminating ? ['example.com/hold'] : [] }) as Pod;
  if (o.owner) p.metadata!.ownerReferences = ['metadata' in o.owner ? controllerRef(o.owner as KubeObject) : (o.owner as OwnerReference)];
  let created = (await f.server.create({ object: p })) as Pod;
  if (o.ready !== false) {
    created = (await f.server.updateStatus({ object: { ...created, status: obj<Pod>({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }).status } })) as Pod;
  }
  if (o.terminating) await f.server.delete({ resource: 'pods', namespace: created.metadata?.namespace, name });
  return created;
}

function replicaSet(name: string, replicas: number, owner?: KubeObject): KubeObject {
  const rs = obj({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default' },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] } } },
  });
  if (owner) rs.metadata!.ownerReferences = [controllerRef(owner)];
  return rs;
}

function statefulSet(name: string, replicas: number): KubeObject {
  return obj({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: 'default' },
    spec: { replicas, serviceName: name, selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres:16' }] } } },
  });
}

async function status(name: string, namespace = 'default'): Promise<NonNullable<PodDisruptionBudget['status']>> {
  return ((await f.server.get({ resource: 'poddisruptionbudgets', namespace, name })) as PodDisruptionBudget).status!;
}

/** The counts of a status, for short assertions. */
function counts(s: NonNullable<PodDisruptionBudget['status']>): { expected: number; desired: number; healthy: number; allowed: number } {
  return { expected: s.expectedPods ?? 0, desired: s.desiredHealthy ?? 0, healthy: s.currentHealthy ?? 0, allowed: s.disruptionsAllowed ?? 0 };
}

function condition(s: NonNullable<PodDisruptionBudget['status']>): { status?: string; reason?: string; message: string; lastTransitionTime?: string; observedGeneration: number } {
  const x = s.conditions.find((k) => k.type === 'DisruptionAllowed');
  assert.ok(x, 'a DisruptionAllowed condition');
  return { status: x.status, reason: x.reason, message: x.message ?? '', lastTransitionTime: x.lastTransitionTime, observedGeneration: x.observedGeneration ?? 0 };
}

/** Takes every key the handlers have queued so far (the controller is not running). */
async function drainQueue(controller: DisruptionController): Promise<string[]> {
  const keys: string[] = [];
  while (controller.queue.length > 0) {
    const k = await controller.queue.get();
    if (k === SHUTDOWN) break;
    controller.queue.done(k);
    keys.push(k);
  }
  return keys.sort();
}

test('an integer minAvailable expects the matching pods and keeps that many healthy', async () => {
  const c = await setup();
  await createPdb('web', { minAvailable: 2, selector: { matchLabels: { app: 'web' } } });
  for (const n of ['web-0', 'web-1', 'web-2']) await createPod(n);
  await createPod('other', { labels: { app: 'other' } });
  await f.synced();
  await c.syncKey('default/web');
  assert.deepEqual(f.client.takeSummary(), ['update poddisruptionbudgets default/web status']);
  const s = await status('web');
  assert.deepEqual(counts(s), { expected: 3, desired: 2, healthy: 3, allowed: 1 });
  assert.equal(s.observedGeneration, 1);
  assert.deepEqual(s.disruptedPods, {});
  assert.deepEqual(condition(s), { status: 'True', reason: 'SufficientPods', message: '', lastTransitionTime: formatTimeMs(f.clock.nowMs()), observedGeneration: 1 });
  assert.deepEqual(f.events.take(), []);
});

test('maxUnavailable counts the replicas of the Deployment that controls the pods\' ReplicaSets, once', async () => {
  const c = await setup();
  const d = await f.server.create({ object: deployment('web', { replicas: 4 }) });
  // Mid-rollout: the new ReplicaSet is at 3 of the Deployment's 4, the old one keeps 1.
  const rsNew = await f.server.create({ object: replicaSet('web-new', 3, d) });
  const rsOld = await f.server.create({ object: replicaSet('web-old', 1, d) });
  for (const n of ['web-new-0', 'web-new-1', 'web-new-2']) await createPod(n, { owner: rsNew });
  await createPod('web-old-0', { owner: rsOld, ready: false });
  await createPdb('web', { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } });
  await f.synced();
  await c.syncKey('default/web');
  // Expected 4 (the Deployment, not 3 + 1 + ... per ReplicaSet), desired 4 - 1; 3 ready.
  assert.deepEqual(counts(await status('web')), { expected: 4, desired: 3, healthy: 3, allowed: 0 });
  assert.deepEqual(condition(await status('web')).reason, 'InsufficientPods');
});

test('a percentage maxUnavailable rounds up, over a StatefulSet\'s replicas', async () => {
  const c = await setup();
  const ss = await f.server.create({ object: statefulSet('db', 3) });
  for (const n of ['db-0', 'db-1', 'db-2']) await createPod(n, { owner: ss, labels: { app: 'db' } });
  await createPdb('db', { maxUnavailable: '50%', selector: { matchLabels: { app: 'db' } } });
  await f.synced();
  await c.syncKey('default/db');
  // 50% of 3 is 1.5, rounded up to 2 unavailable: 1 must stay.
  assert.deepEqual(counts(await status('db')), { expected: 3, desired: 1, healthy: 3, allowed: 2 });
});

test('a percentage minAvailable rounds up over the controllers\' replicas', async () => {
  const c = await setup();
  const rs = await f.server.create({ object: replicaSet('web', 3) });
  for (const n of ['web-0', 'web-1', 'web-2']) await createPod(n, { owner: rs });
  await createPdb('web', { minAvailable: '50%', selector: { matchLabels: { app: 'web' } } });
  await f.synced();
  await c.syncKey('default/web');
  // 50% of 3 is 1.5: 2 must stay.
  assert.deepEqual(counts(await status('web')), { expected: 3, desired: 2, healthy: 3, allowed: 1 });
});

test('the replicas count even before the pods exist: a ReplicaSet scaled up leaves no disruption', async () => {
  const c = await setup();
  const rs = await f.server.create({ object: replicaSet('web', 5) });
  for (const n of ['web-0', 'web-1', 'web-2']) await createPod(n, { owner: rs });
  await createPdb('web', { minAvailable: '60%', selector: { matchLabels: { app: 'web' } } });
  await f.synced();
  await c.syncKey('default/web');
  assert.deepEqual(counts(await status('web')), { expected: 5, desired: 3, healthy: 3, allowed: 0 });
});

test('unready and terminating pods are not healthy, but are expected', async () => {
  const c = await setup();
  await createPdb('web', { minAvailable: 1, selector: { matchLabels: { app: 'web' } } });
  await createPod('ready');
  await createPod('unready', { ready: false });
  await createPod('terminating', { terminating: true });
  await f.synced();
  assert.ok(f.factory.informer<Pod>('pods').store.get('default', 'terminating')?.metadata?.deletionTimestamp, 'the pod is being deleted');
  await c.syncKey('default/web');
  const s = await status('web');
  assert.deepEqual(counts(s), { expected: 3, desired: 1, healthy: 1, allowed: 0 });
  assert.deepEqual([condition(s).status, condition(s).reason], ['False', 'InsufficientPods']);
});

test('disruptedPods entries keep their pods out of the healthy count until they expire after 2 minutes', async () => {
  const c = await setup();
  await createPdb('web', { minAvailable: 1, selector: { matchLabels: { app: 'web' } } });
  for (const n of ['web-0', 'web-1', 'web-2']) await createPod(n);
  await createPod('web-3', { terminating: true });
  // As the eviction API records them: web-0 evicted just now; web-3 already seen terminating; "gone" no longer exists.
  const now = formatTimeMs(f.clock.nowMs());
  const pdb = (await f.server.get({ resource: 'poddisruptionbudgets', namespace: 'default', name: 'web' })) as PodDisruptionBudget;
  await f.server.updateStatus({ object: { ...pdb, status: { disruptedPods: { 'web-0': now, 'web-3': now, gone: now }, conditions: [], disruptionsAllowed: 1 } } });
  await f.synced();
  await drainQueue(c);
  await c.syncKey('default/web');
  assert.deepEqual(f.client.takeSummary(), ['update poddisruptionbudgets default/web status']);
  let s = await status('web');
  assert.deepEqual(s.disruptedPods, { 'web-0': now }, 'entries of pods gone or being deleted are dropped');
  assert.deepEqual(counts(s), { expected: 4, desired: 1, healthy: 2, allowed: 1 });
  await f.synced();
  assert.deepEqual(await drainQueue(c), ['default/web'], 'its own status write comes back as an update');
  assert.equal(c.queue.waitingCount, 1, 'a recheck for when the entry expires');

  await f.advance(119_000);
  assert.deepEqual([c.queue.waitingCount, c.queue.length], [1, 0], 'not before it expires');
  await f.advance(1000);
  assert.deepEqual([c.queue.waitingCount, await drainQueue(c)], [0, ['default/web']], 'queued again when it expires');
  await f.synced();
  await c.syncKey('default/web');
  s = await status('web');
  assert.deepEqual(s.disruptedPods, {}, 'web-0 was not deleted after all');
  assert.deepEqual(counts(s), { expected: 4, desired: 1, healthy: 3, allowed: 2 });
  assert.deepEqual(f.events.take(), ["Warning NotDeleted Pod was expected by PDB default/web to be deleted but it wasn't"]);
  assert.equal(c.queue.waitingCount, 0);
});

test('a pod without a controller is left out of a maxUnavailable budget with an UnmanagedPods warning (Kubernetes 1.30)', async () => {
  const c = await setup();
  const rs = await f.server.create({ object: replicaSet('web', 2) });
  for (const n of ['web-0', 'web-1']) await createPod(n, { owner: rs });
  await createPod('bare');
  await createPdb('web', { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } });
  await f.synced();
  await c.syncKey('default/web');
  assert.deepEqual(counts(await status('web')), { expected: 2, desired: 1, healthy: 3, allowed: 2 });
  const events = f.events.take();
  assert.equal(events.length, 1);
  assert.match(events[0], /^Warning UnmanagedPods Pods selected by this PodDisruptionBudget \(selector: app=web\) were found to be unmanaged/);
});

test('a pod whose controller is unknown leaves the budget allowing no disruptions (failSafe), with a warning', async () => {
  const c = await setup();
  const rs = await f.server.create({ object: replicaSet('web', 3) });
  for (const n of ['web-0', 'web-1', 'web-2']) await createPod(n, { owner: rs });
  await createPdb('web', { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } });
  await f.synced();
  await c.syncKey('default/web');
  assert.deepEqual(counts(await status('web')), { expected: 3, desired: 2, healthy: 3, allowed: 1 });
  f.client.takeSummary();

  // A Job's pod that the selector also matches: Jobs have no scale.
  await createPod('job-0', { owner: { apiVersion: 'batch/v1', kind: 'Job', name: 'migrate', uid: 'job-uid', controller: true } });
  await f.synced();
  await c.syncKey('default/web');
  assert.deepEqual(f.client.takeSummary(), ['update poddisruptionbudgets default/web status']);
  let s = await status('web');
  assert.deepEqual(counts(s), { expected: 3, desired: 2, healthy: 3, allowed: 0 }, 'only disruptionsAllowed changes');
  assert.deepEqual([condition(s).status, condition(s).reason, condition(s).message], ['False', 'SyncFailed', 'jobs.batch does not implement the scale subresource']);
  assert.deepEqual(f.events.take(), ['Warning CalculateExpectedPodCountFailed Failed to calculate the number of expected pods: jobs.batch does not implement the scale subresource']);

  await f.synced();
  await c.syncKey('default/web');
  assert.deepEqual(f.client.takeSummary(), [], 'the same failure is not written again');

  // A ReplicaSet that no longer exists is no controller either.
  await f.server.delete({ resource: 'pods', namespace: 'default', name: 'job-0', gracePeriodSeconds: 0 });
  await f.server.delete({ resource: 'replicasets', namespace: 'default', name: 'web' });
  await f.synced();
  f.events.take();
  await c.syncKey('default/web');
  s = await status('web');
  assert.deepEqual([counts(s).allowed, condition(s).reason, condition(s).message], [0, 'SyncFailed', 'found no controllers for pod "web-0"']);
  assert.deepEqual(f.events.take(), ['Warning CalculateExpectedPodCountFailed Failed to calculate the number of expected pods: found no controllers for pod "web-0"']);
});

test('an empty selector matches every pod of its namespace; no selector matches none', async () => {
  const c = await setup({ namespaces: ['default', 'other'] });
  await createPdb('all', { minAvailable: 1, selector: {} });
  await createPdb('none', { minAvailable: 1 });
  await createPod('a', { labels: { app: 'a' } });
  await createPod('b', { labels: {} });
  await createPod('elsewhere', { namespace: 'other' });
  await f.synced();
  await c.syncKey('default/all');
  await c.syncKey('default/none');
  assert.deepEqual(counts(await status('all')), { expected: 2, desired: 1, healthy: 2, allowed: 1 });
  assert.deepEqual(counts(await status('none')), { expected: 0, desired: 1, healthy: 0, allowed: 0 });
  assert.deepEqual(f.events.take(), ['Normal NoPods No matching pods found']);
});

test('a pod change queues every budget of its namespace that matches it, before or after the change', async () => {
  const c = await setup({ namespaces: ['default', 'other'] });
  await createPdb('a', { minAvailable: 1, selector: { matchLabels: { app: 'a' } } });
  await createPdb('b', { minAvailable: 1, selector: { matchLabels: { app: 'b' } } });
  await createPdb('all', { minAvailable: 1, selector: {} });
  await createPdb('none', { minAvailable: 1 });
  await createPdb('scaled', { maxUnavailable: 1, selector: { matchLabels: { app: 'z' } } });
  await createPdb('a', { minAvailable: 1, selector: { matchLabels: { app: 'a' } } }, 'other');
  const p = await createPod('p', { labels: { app: 'a' } });
  await f.synced();
  await drainQueue(c);
  f.events.take();

  await f.server.update({ object: { ...p, metadata: { ...p.metadata!, labels: { app: 'b' } } } });
  await f.synced();
  assert.deepEqual(await drainQueue(c), ['default/a', 'default/all', 'default/b']);
  assert.deepEqual(f.events.take(), ['Warning MultiplePodDisruptionBudgets Pod "default"/"p" matches multiple PodDisruptionBudgets.  Chose "all" arbitrarily.']);

  await f.server.delete({ resource: 'pods', namespace: 'default', name: 'p', gracePeriodSeconds: 0 });
  await f.synced();
  assert.deepEqual(await drainQueue(c), ['default/all', 'default/b']);

  // A change of replicas queues the budgets that count replicas, not the others.
  const d = (await f.server.create({ object: deployment('web', { replicas: 2 }) })) as Deployment;
  await f.synced();
  assert.deepEqual(await drainQueue(c), ['default/scaled']);
  await f.server.update({ object: { ...d, spec: { ...d.spec!, replicas: 3 } } });
  await f.synced();
  assert.deepEqual(await drainQueue(c), ['default/scaled']);
});

test('an unchanged status is not written again', async () => {
  const c = await setup();
  await createPdb('web', { minAvailable: 1, selector: { matchLabels: { app: 'web' } } });
  await createPod('web-0');
  await f.synced();
  await c.syncKey('default/web');
  assert.deepEqual(f.client.takeSummary(), ['update poddisruptionbudgets default/web status']);
  await f.synced();
  await f.advance(60_000);
  await c.syncKey('default/web');
  assert.deepEqual(f.client.takeSummary(), []);
});

test('DisruptionAllowed moves with disruptionsAllowed; its lastTransitionTime only when its status changes', async () => {
  const c = await setup();
  const pdb = await createPdb('web', { minAvailable: 2, selector: { matchLabels: { app: 'web' } } });
  await createPod('web-0');
  await createPod('web-1');
  await f.synced();
  const t0 = formatTimeMs(f.clock.nowMs());
  await c.syncKey('default/web');
  assert.deepEqual(condition(await status('web')), { status: 'False', reason: 'InsufficientPods', message: '', lastTransitionTime: t0, observedGeneration: 1 });

  await f.advance(10_000);
  const t1 = formatTimeMs(f.clock.nowMs());
  await createPod('web-2');
  await f.synced();
  await c.syncKey('default/web');
  assert.deepEqual(condition(await status('web')), { status: 'True', reason: 'SufficientPods', message: '', lastTransitionTime: t1, observedGeneration: 1 });

  // A spec change: a new generation, still True, so the transition time stays.
  await f.advance(10_000);
  const current = (await f.server.get({ resource: 'poddisruptionbudgets', namespace: 'default', name: 'web' })) as PodDisruptionBudget;
  await f.server.update({ object: { ...current, spec: { ...pdb.spec, minAvailable: { intVal: 1, strVal: undefined } } } as KubeObject });
  await f.synced();
  await c.syncKey('default/web');
  let s = await status('web');
  assert.equal(s.observedGeneration, 2);
  assert.deepEqual(counts(s), { expected: 3, desired: 1, healthy: 3, allowed: 2 });
  assert.deepEqual(condition(s), { status: 'True', reason: 'SufficientPods', message: '', lastTransitionTime: t1, observedGeneration: 2 });

  // Two pods go: False again, from now.
  await f.advance(10_000);
  const t3 = formatTimeMs(f.clock.nowMs());
  for (const n of ['web-1', 'web-2']) await f.server.delete({ resource: 'pods', namespace: 'default', name: n, gracePeriodSeconds: 0 });
  await f.synced();
  await c.syncKey('default/web');
  s = await status('web');
  assert.deepEqual(counts(s), { expected: 1, desired: 1, healthy: 1, allowed: 0 });
  assert.deepEqual(condition(s), { status: 'False', reason: 'InsufficientPods', message: '', lastTransitionTime: t3, observedGeneration: 2 });
});

test('a status write that meets a newer budget fails with Conflict and writes nothing else', async () => {
  /** Someone else writes the budget just before the controller's first status write. */
  class RacingClient extends RecordingClient {
    raced = false;
    override async updateStatus<T extends KubeObject, R = T>(object: T, o?: Omit<UpdateOptions<R>, 'subresource'>): Promise<R> {
      if (!this.raced) {
        this.raced = true;
        const current = (await this.server.get({ resource: 'poddisruptionbudgets', namespace: 'default', name: 'web' })) as PodDisruptionBudget;
        await this.server.update({ object: { ...current, metadata: { ...current.metadata, labels: { team: 'x' } } } as KubeObject });
      }
      return super.updateStatus<T, R>(object, o);
    }
  }
  let client: RacingClient | undefined;
  const c = await setup({ client: (f) => (client = new RacingClient(f.server)) });
  await createPdb('web', { minAvailable: 1, selector: { matchLabels: { app: 'web' } } });
  await createPod('web-0');
  await f.synced();
  assert.ok(client);
  await assert.rejects(c.syncKey('default/web'), (err: unknown) => isApiError(err, 'Conflict'));
  assert.deepEqual(client.takeSummary(), ['update poddisruptionbudgets default/web status'], 'no failSafe write');
  await f.synced();
  await c.syncKey('default/web');
  assert.deepEqual(client.takeSummary(), ['update poddisruptionbudgets default/web status']);
  assert.deepEqual(counts(await status('web')), { expected: 1, desired: 1, healthy: 1, allowed: 0 });
});

test('a deleted budget is nothing to do', async () => {
  const c = await setup();
  await f.synced();
  await c.syncKey('default/gone');
  assert.deepEqual(f.client.takeSummary(), []);
});

test('started, it keeps a budget current from the events alone, and counts an evicted pod again when its entry expires', async () => {
  const c = await setup();
  await createPdb('web', { minAvailable: 2, selector: { matchLabels: { app: 'web' } } });
  await f.synced();
  c.start();
  for (const n of ['web-0', 'web-1', 'web-2']) await createPod(n);
  await f.synced();
  await eventually('3 healthy pods seen', () => f.factory.informer<PodDisruptionBudget>('poddisruptionbudgets').store.get('default', 'web')?.status?.currentHealthy === 3);
  assert.equal((await status('web')).disruptionsAllowed, 1);

  // The eviction API allows web-0's eviction, but the pod is never deleted.
  const pdb = (await f.server.get({ resource: 'poddisruptionbudgets', namespace: 'default', name: 'web' })) as PodDisruptionBudget;
  await f.server.updateStatus({ object: { ...pdb, status: { ...pdb.status!, disruptedPods: { 'web-0': formatTimeMs(f.clock.nowMs()) }, disruptionsAllowed: 0 } } });
  await f.synced();
  await eventually('web-0 counted as disrupted', () => f.factory.informer<PodDisruptionBudget>('poddisruptionbudgets').store.get('default', 'web')?.status?.currentHealthy === 2);
  assert.equal((await status('web')).disruptionsAllowed, 0);

  await f.advance(DELETION_TIMEOUT_MS);
  await f.synced();
  await eventually('web-0 healthy again', () => f.factory.informer<PodDisruptionBudget>('poddisruptionbudgets').store.get('default', 'web')?.status?.currentHealthy === 3);
  const s = await status('web');
  assert.deepEqual([s.disruptionsAllowed, s.disruptedPods], [1, {}]);
});

test('every budget is synced again each 30 s with no event, so one a failed sync left behind recovers', async () => {
  /** Status writes fail until told otherwise; a failed key is dropped (maxRetries 0), as one Kubernetes gave up on. */
  class FailingClient extends RecordingClient {
    failing = true;
    failures = 0;
    override async updateStatus<T extends KubeObject, R = T>(object: T, o?: Omit<UpdateOptions<R>, 'subresource'>): Promise<R> {
      if (this.failing) {
        this.failures++;
        throw new Error('the write was lost');
      }
      return super.updateStatus(object);
    }
  }
  f = await fixture();
  const client = new FailingClient(f.server);
  c = new DisruptionController({ client, informers: f.factory, recorder: f.events, clock: f.clock, logger: { warn: () => {} }, maxRetries: 0 });
  await createPdb('web', { minAvailable: 1, selector: { matchLabels: { app: 'web' } } });
  for (const n of ['web-0', 'web-1']) await createPod(n);
  await f.synced();
  c.start();
  await eventually('a status write tried and failed', () => client.failures > 0);
  await settle();
  client.failing = false;
  await f.advance(PDB_RESYNC_MS - 1);
  await settle();
  assert.equal((await status('web'))?.observedGeneration, undefined, 'nothing written before the resync');
  await f.advance(1);
  await eventually('the budget written at the resync', () => f.factory.informer<PodDisruptionBudget>('poddisruptionbudgets').store.get('default', 'web')?.status?.disruptionsAllowed === 1);
});
