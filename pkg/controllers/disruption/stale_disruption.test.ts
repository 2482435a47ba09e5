import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { PodCondition } from '../../../gen/navarch/api/v1/core.js';
import type { KubeObject, Pod } from '../../api/registry.js';
import { ApiError, isApiError } from '../../apiserver/api_error.js';
import { obj, pod } from '../../apiserver/test_util.js';
import { eventually } from '../../client/testing/settle.js';
import { SHUTDOWN } from '../../client/workqueue/queue.js';
import { formatTimeMs } from '../controller_utils.js';
import { fixture, type Fixture } from '../testing/fixture.js';
import { RecordingClient } from '../testing/recording_client.js';
import type { UpdateOptions } from '../../client/client.js';
import { DisruptionController } from './controller.js';
import { STALE_POD_DISRUPTION_TIMEOUT_MS, staleDisruptionWaitMs, withDisruptionTargetFalse } from './stale_disruption.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

function podOf(o: { deleting?: boolean; phase?: string; target?: Partial<PodCondition> } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', resourceVersion: '7', ...(o.deleting ? { deletionTimestamp: formatTimeMs(T0) } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [
        ...(o.target ? [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastTransitionTime: formatTimeMs(T0), ...o.target }] : []),
        { type: 'Ready', status: 'True', lastTransitionTime: formatTimeMs(T0 - 3_600_000) },
      ],
    },
  } as unknown as Pod;
}

test('staleDisruptionWaitMs() counts 2 minutes from the condition\'s transition, for a DisruptionTarget=True pod not being deleted', () => {
  assert.equal(staleDisruptionWaitMs(podOf({ target: {} }), T0), STALE_POD_DISRUPTION_TIMEOUT_MS);
  assert.equal(staleDisruptionWaitMs(podOf({ target: {} }), T0 + 60_000), 60_000);
  assert.equal(staleDisruptionWaitMs(podOf({ target: {} }), T0 + STALE_POD_DISRUPTION_TIMEOUT_MS), 0, 'stale at the deadline itself');
  assert.equal(staleDisruptionWaitMs(podOf({ target: {} }), T0 + 3_600_000), 0);
  assert.equal(staleDisruptionWaitMs(podOf({ target: { reason: 'PreemptionByScheduler' } }), T0 + 60_000), 60_000);
  assert.equal(staleDisruptionWaitMs(podOf({ target: { lastTransitionTime: undefined } }), T0), 0, 'no readable time: stale (the zero time)');
  assert.equal(staleDisruptionWaitMs(podOf({ target: { lastTransitionTime: 'yesterday' } }), T0), 0);
  // Nothing to reset.
  assert.equal(staleDisruptionWaitMs(podOf(), T0), undefined, 'no condition');
  assert.equal(staleDisruptionWaitMs(podOf({ target: { status: 'False' } }), T0 + 3_600_000), undefined, 'False');
  assert.equal(staleDisruptionWaitMs(podOf({ target: { status: 'Unknown' } }), T0 + 3_600_000), undefined, 'Unknown');
  assert.equal(staleDisruptionWaitMs(podOf({ target: {}, deleting: true }), T0 + 3_600_000), undefined, 'being deleted');
  assert.equal(staleDisruptionWaitMs(podOf({ target: { reason: 'TerminationByKubelet' } }), T0 + 3_600_000), undefined, 'set by the kubelet');
  assert.equal(staleDisruptionWaitMs(podOf({ target: {}, phase: 'Failed' }), T0 + 3_600_000), undefined, 'Failed');
  assert.equal(staleDisruptionWaitMs(podOf({ target: {}, phase: 'Succeeded' }), T0 + 3_600_000), undefined, 'Succeeded');
});

test('withDisruptionTargetFalse() replaces the condition in place by {False, now}, as UpdatePodCondition, on a copy', () => {
  const p = podOf({ target: { lastProbeTime: formatTimeMs(T0) } });
  const before = structuredClone(p);
  const next = withDisruptionTargetFalse(p, T0 + 150_000);
  assert.ok(next);
  assert.deepEqual(p, before, 'the informer\'s copy is not touched');
  assert.equal(next.metadata?.resourceVersion, '7', 'written conditionally on the version read');
  assert.deepEqual(next.status?.conditions, [
    { type: 'DisruptionTarget', status: 'False', lastTransitionTime: formatTimeMs(T0 + 150_000) },
    { type: 'Ready', status: 'True', lastTransitionTime: formatTimeMs(T0 - 3_600_000) },
  ]);
  // Already {False} and nothing else: no change. False with a reason: the reason goes, the time stays.
  assert.equal(withDisruptionTargetFalse(next, T0 + 200_000), undefined);
  const withReason = withDisruptionTargetFalse(podOf({ target: { status: 'False' } }), T0 + 200_000);
  assert.deepEqual(withReason?.status?.conditions[0], { type: 'DisruptionTarget', status: 'False', lastTransitionTime: formatTimeMs(T0) });
});

// ---- the controller, against an in-process API server ----

let f: Fixture;
let c: DisruptionController | undefined;

afterEach(async () => {
  await c?.stop();
  c = undefined;
  f?.close();
});

async function setup(o: { client?: (f: Fixture) => RecordingClient } = {}): Promise<DisruptionController> {
  f = await fixture();
  c = new DisruptionController({ client: o.client?.(f) ?? f.client, informers: f.factory, recorder: f.events, clock: f.clock, logger: { warn: () => {} } });
  return c;
}

interface PodOptions {
  /** The DisruptionTarget condition, set this long ago (ms). */
  markedAgoMs?: number;
  status?: 'True' | 'False';
  reason?: string;
  phase?: string;
  /** Deleted after it is marked (a finalizer holds it). */
  terminating?: boolean;
}

/** A running, ready pod, marked DisruptionTarget as asked, as the eviction API marks it. */
async function createPod(name: string, o: PodOptions = {}): Promise<Pod> {
  const created = (await f.server.create({ object: pod(name, { labels: { app: 'web' }, finalizers: o.terminating ? ['example.com/hold'] : [] }) })) as Pod;
  const conditions: PodCondition[] = [{ type: 'Ready', status: 'True', lastTransitionTime: formatTimeMs(f.clock.nowMs() - 3_600_000) }];
  if (o.markedAgoMs !== undefined) {
    conditions.push({ type: 'DisruptionTarget', status: o.status ?? 'True', reason: o.reason ?? 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastTransitionTime: formatTimeMs(f.clock.nowMs() - o.markedAgoMs) });
  }
  const status = obj<Pod>({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, status: { phase: o.phase ?? 'Running', conditions } }).status;
  const written = (await f.server.updateStatus({ object: { ...created, status } })) as Pod;
  if (o.terminating) await f.server.delete({ resource: 'pods', namespace: 'default', name });
  return written;
}

async function serverPod(name: string): Promise<Pod> {
  return (await f.server.get({ resource: 'pods', namespace: 'default', name })) as Pod;
}

/** The condition's fields that are set (the server's objects spell the unset ones out as undefined). */
function fields(c: PodCondition | undefined): Partial<PodCondition> | undefined {
  return c && Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
}

function disruptionTarget(p: Pod): Partial<PodCondition> | undefined {
  return fields(p.status?.conditions?.find((x) => x.type === 'DisruptionTarget'));
}

/** Takes every pod key the stale-disruption queue holds now (the controller is not running). */
async function drainStale(controller: DisruptionController): Promise<string[]> {
  const q = controller.stalePodDisruptions.queue;
  const keys: string[] = [];
  while (q.length > 0) {
    const k = await q.get();
    if (k === SHUTDOWN) break;
    q.done(k);
    keys.push(k);
  }
  return keys.sort();
}

test('a pod marked DisruptionTarget a minute ago is left alone, and reset to False once 2 minutes have passed', async () => {
  const c = await setup();
  const marked = await createPod('web-0', { markedAgoMs: 60_000 });
  await f.synced();
  const stale = c.stalePodDisruptions;
  assert.deepEqual([stale.queue.length, stale.queue.waitingCount], [0, 1], 'queued for when it goes stale');
  // A sync before then (a resync, a restart) writes nothing and waits out the rest.
  await stale.syncKey('default/web-0');
  assert.deepEqual(f.client.takeSummary(), []);
  assert.deepEqual(disruptionTarget(await serverPod('web-0')), disruptionTarget(marked));

  await f.advance(59_000);
  assert.deepEqual([stale.queue.length, stale.queue.waitingCount], [0, 1], 'not before it is stale');
  await f.advance(1000);
  assert.deepEqual([await drainStale(c), stale.queue.waitingCount], [['default/web-0'], 0], 'queued when it is stale');
  await stale.syncKey('default/web-0');
  assert.deepEqual(f.client.takeSummary(), ['update pods default/web-0 status']);
  const p = await serverPod('web-0');
  // Only Type and Status, as Kubernetes: reason and message go; the transition is now.
  assert.deepEqual(p.status?.conditions?.map(fields), [
    { type: 'Ready', status: 'True', lastTransitionTime: formatTimeMs(f.clock.nowMs() - 60_000 - 3_600_000) },
    { type: 'DisruptionTarget', status: 'False', lastTransitionTime: formatTimeMs(f.clock.nowMs()) },
  ]);
  assert.equal(p.status?.phase, 'Running');

  // Its own write comes back as an update: nothing more to do.
  await f.synced();
  assert.deepEqual([await drainStale(c), stale.queue.waitingCount], [[], 0]);
  await stale.syncKey('default/web-0');
  assert.deepEqual(f.client.takeSummary(), []);
  assert.deepEqual(f.events.take(), []);
});

test('a pod marked long ago is reset at once; a pod marked just now waits the full 2 minutes', async () => {
  const c = await setup();
  await createPod('old', { markedAgoMs: 10 * 60_000, reason: 'PreemptionByScheduler' });
  await createPod('new', { markedAgoMs: 0 });
  await f.synced();
  const stale = c.stalePodDisruptions;
  assert.deepEqual([await drainStale(c), stale.queue.waitingCount], [['default/old'], 1]);
  await stale.syncKey('default/old');
  assert.deepEqual(f.client.takeSummary(), ['update pods default/old status']);
  assert.deepEqual(disruptionTarget(await serverPod('old')), { type: 'DisruptionTarget', status: 'False', lastTransitionTime: formatTimeMs(f.clock.nowMs()) });
  await f.advance(STALE_POD_DISRUPTION_TIMEOUT_MS - 1000);
  assert.deepEqual(await drainStale(c), []);
  await f.advance(1000);
  assert.deepEqual(await drainStale(c), ['default/new']);
});

test('a pod being deleted keeps its DisruptionTarget condition', async () => {
  const c = await setup();
  await createPod('evicted', { markedAgoMs: 10 * 60_000, terminating: true });
  await f.synced();
  assert.ok((await serverPod('evicted')).metadata?.deletionTimestamp, 'the pod is being deleted');
  const stale = c.stalePodDisruptions;
  assert.deepEqual([await drainStale(c), stale.queue.waitingCount], [[], 0], 'never queued');
  await stale.syncKey('default/evicted');
  assert.deepEqual(f.client.takeSummary(), []);
  assert.equal(disruptionTarget(await serverPod('evicted'))?.status, 'True');
});

test('a pod whose DisruptionTarget is False or absent is left alone', async () => {
  const c = await setup();
  await createPod('reset', { markedAgoMs: 10 * 60_000, status: 'False' });
  await createPod('plain');
  await f.synced();
  const stale = c.stalePodDisruptions;
  assert.deepEqual([await drainStale(c), stale.queue.waitingCount], [[], 0]);
  await stale.syncKey('default/reset');
  await stale.syncKey('default/plain');
  await stale.syncKey('default/gone');
  assert.deepEqual(f.client.takeSummary(), []);
  assert.deepEqual(disruptionTarget(await serverPod('reset')), { type: 'DisruptionTarget', status: 'False', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastTransitionTime: formatTimeMs(f.clock.nowMs() - 10 * 60_000) });
  assert.equal(disruptionTarget(await serverPod('plain')), undefined);
});

test('as in Kubernetes, a condition set by the kubelet and a finished pod\'s condition are never stale', async () => {
  const c = await setup();
  await createPod('kubelet', { markedAgoMs: 10 * 60_000, reason: 'TerminationByKubelet' });
  await createPod('failed', { markedAgoMs: 10 * 60_000, phase: 'Failed' });
  await createPod('succeeded', { markedAgoMs: 10 * 60_000, phase: 'Succeeded' });
  await f.synced();
  const stale = c.stalePodDisruptions;
  assert.deepEqual([await drainStale(c), stale.queue.waitingCount], [[], 0]);
  for (const n of ['kubelet', 'failed', 'succeeded']) await stale.syncKey(`default/${n}`);
  assert.deepEqual(f.client.takeSummary(), []);
});

test('a pod deleted before its condition goes stale is nothing to do', async () => {
  const c = await setup();
  await createPod('web-0', { markedAgoMs: 60_000 });
  await f.synced();
  await f.server.delete({ resource: 'pods', namespace: 'default', name: 'web-0', gracePeriodSeconds: 0 });
  await f.synced();
  await f.advance(60_000);
  assert.deepEqual(await drainStale(c), ['default/web-0']);
  await c.stalePodDisruptions.syncKey('default/web-0');
  assert.deepEqual(f.client.takeSummary(), []);
});

/** Someone else writes the pod (a label) just before the controller's first status write. */
class RacingClient extends RecordingClient {
  races = 0;
  constructor(
    server: RecordingClient['server'],
    readonly timesToRace = 1,
  ) {
    super(server);
  }
  override async updateStatus<T extends KubeObject, R = T>(object: T, o?: Omit<UpdateOptions<R>, 'subresource'>): Promise<R> {
    if (object.kind === 'Pod' && this.races < this.timesToRace) {
      this.races++;
      const current = (await this.server.get({ resource: 'pods', namespace: 'default', name: object.metadata!.name! })) as Pod;
      await this.server.update({ object: { ...current, metadata: { ...current.metadata, labels: { ...current.metadata?.labels, raced: String(this.races) } } } as KubeObject });
    }
    return super.updateStatus<T, R>(object, o);
  }
}

test('a reset that meets a newer pod fails with Conflict, and the retry (from the newer pod) resets it', async () => {
  let client: RacingClient | undefined;
  const c = await setup({ client: (f) => (client = new RacingClient(f.server)) });
  await createPod('web-0', { markedAgoMs: 10 * 60_000 });
  await f.synced();
  assert.ok(client);
  await drainStale(c);
  await assert.rejects(c.stalePodDisruptions.syncKey('default/web-0'), (err: unknown) => isApiError(err, 'Conflict'));
  assert.deepEqual(client.takeSummary(), ['update pods default/web-0 status']);
  let p = await serverPod('web-0');
  assert.deepEqual([p.metadata?.labels?.raced, disruptionTarget(p)?.status], ['1', 'True'], 'the newer pod is not overwritten');

  await f.synced();
  assert.deepEqual(await drainStale(c), ['default/web-0'], 'the newer pod is queued again (still stale)');
  await c.stalePodDisruptions.syncKey('default/web-0');
  assert.deepEqual(client.takeSummary(), ['update pods default/web-0 status']);
  p = await serverPod('web-0');
  assert.deepEqual([p.metadata?.labels?.raced, disruptionTarget(p)?.status], ['1', 'False'], 'written over the newer pod, keeping its change');
});

/** Answers the first `times` pod status writes with Conflict, as if the pod had moved on, without writing. */
class ConflictingClient extends RecordingClient {
  conflicts = 0;
  constructor(
    server: RecordingClient['server'],
    readonly times: number,
  ) {
    super(server);
  }
  override async updateStatus<T extends KubeObject, R = T>(object: T, o?: Omit<UpdateOptions<R>, 'subresource'>): Promise<R> {
    if (object.kind === 'Pod' && this.conflicts < this.times) {
      this.conflicts++;
      this.actions.push({ verb: 'update', resource: 'pods', namespace: object.metadata?.namespace ?? '', name: object.metadata!.name!, subresource: 'status' });
      throw new ApiError('Conflict', `Operation cannot be fulfilled on pods "${object.metadata?.name}": the object has been modified`, { resource: 'pods', kind: 'Pod', name: object.metadata?.name });
    }
    return super.updateStatus<T, R>(object, o);
  }
}

test('started, the controller resets a stale condition from the events alone, retrying a conflict with backoff', async () => {
  let client: ConflictingClient | undefined;
  const c = await setup({ client: (f) => (client = new ConflictingClient(f.server, 2)) });
  await f.synced();
  c.start();
  await createPod('web-0', { markedAgoMs: 30_000 });
  await f.synced();
  assert.ok(client);
  await f.advance(STALE_POD_DISRUPTION_TIMEOUT_MS - 30_000 - 1000);
  assert.deepEqual(client.takeSummary(), [], 'not stale yet');
  await f.advance(1000);
  await eventually('the first try', () => client!.conflicts === 1);
  assert.deepEqual(client.takeSummary(), ['update pods default/web-0 status']);
  // Retried after the rate limiter's backoff (5 ms, then 10 ms), on the controller's clock.
  await f.advance(4);
  assert.deepEqual(client.takeSummary(), []);
  await f.advance(1);
  assert.deepEqual([client.conflicts, client.takeSummary()], [2, ['update pods default/web-0 status']]);
  await f.advance(10);
  await eventually('reset', () => client!.actions.length === 1);
  assert.deepEqual(client.takeSummary(), ['update pods default/web-0 status']);
  assert.deepEqual(disruptionTarget(await serverPod('web-0')), { type: 'DisruptionTarget', status: 'False', lastTransitionTime: formatTimeMs(f.clock.nowMs()) });
  await f.synced();
  await f.advance(STALE_POD_DISRUPTION_TIMEOUT_MS);
  assert.deepEqual(client.takeSummary(), [], 'nothing more to do');

  await c.stop();
  assert.deepEqual([c.queue.isShuttingDown, c.stalePodDisruptions.queue.isShuttingDown], [true, true], 'both queues stop with the controller');
});
