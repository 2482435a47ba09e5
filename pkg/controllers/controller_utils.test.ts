import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { Pod } from '../api/registry.js';
import { selectorFromSet } from '../api/labels.js';
import { obj, pod, testServer } from '../apiserver/test_util.js';
import { FakeClock } from '../client/testing/fake_clock.js';
import { eventually, settle } from '../client/testing/settle.js';
import {
  ControllerExpectations,
  QueueController,
  claimObjects,
  getControllerOf,
  isPodAvailable,
  isPodActive,
  newControllerRef,
  resolveControllerRef,
} from './controller_utils.js';
import { RecordingClient } from './testing/recording_client.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

function readyPod(name: string, readySince: string | undefined): Pod {
  const p = pod(name) as Pod;
  p.status = { phase: 'Running', conditions: readySince ? [{ type: 'Ready', status: 'True', lastTransitionTime: readySince }] : [], hostIPs: [], podIPs: [], initContainerStatuses: [], containerStatuses: [], ephemeralContainerStatuses: [] } as unknown as Pod['status'];
  return p;
}

test('isPodAvailable waits minReadySeconds from the Ready transition', () => {
  const p = readyPod('a', '2026-01-02T03:04:05Z');
  assert.equal(isPodAvailable(p, 0, T0), true);
  assert.equal(isPodAvailable(p, 10, T0 + 9_999), false);
  assert.equal(isPodAvailable(p, 10, T0 + 10_000), true);
  assert.equal(isPodAvailable(readyPod('b', undefined), 0, T0), false);
});

test('isPodActive excludes finished and terminating pods', () => {
  const p = readyPod('a', '2026-01-02T03:04:05Z');
  assert.equal(isPodActive(p), true);
  assert.equal(isPodActive({ ...p, status: { ...p.status!, phase: 'Succeeded' } }), false);
  assert.equal(isPodActive({ ...p, metadata: { ...p.metadata!, deletionTimestamp: '2026-01-02T03:04:05Z' } }), false);
});

test('ControllerExpectations holds until creates and deletes are observed, or the TTL passes', async () => {
  const clock = new FakeClock(T0);
  const e = new ControllerExpectations({ clock, ttlMs: 60_000 });
  assert.equal(e.satisfied('default/rs'), true);
  e.expectCreations('default/rs', 2);
  e.creationObserved('default/rs');
  assert.equal(e.satisfied('default/rs'), false);
  e.creationObserved('default/rs');
  assert.equal(e.satisfied('default/rs'), true);
  e.expectDeletions('default/rs', ['default/p1', 'default/p2']);
  e.deletionObserved('default/rs', 'default/p1');
  e.deletionObserved('default/rs', 'default/p1');
  assert.deepEqual(e.pending('default/rs'), { adds: 0, deletes: ['default/p2'] });
  assert.equal(e.satisfied('default/rs'), false);
  await clock.advance(60_000);
  assert.equal(e.satisfied('default/rs'), true, 'an expectation unmet for ttlMs is dropped');
});

test('claimObjects adopts matching orphans, releases owned pods that stopped matching, and leaves others\' pods', async () => {
  const { server } = await testServer();
  const client = new RecordingClient(server);
  const rs = await server.create({ object: obj({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a', image: 'nginx' }] } } } }) });
  const gvk = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };
  const orphan = await server.create({ object: pod('orphan', { labels: { app: 'web' } }) });
  const owned = pod('owned', { labels: { app: 'web' } });
  owned.metadata!.ownerReferences = [newControllerRef(rs, gvk)];
  const stale = pod('stale', { labels: { app: 'other' } });
  stale.metadata!.ownerReferences = [newControllerRef(rs, gvk)];
  const foreign = pod('foreign', { labels: { app: 'web' } });
  foreign.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'uid-other', controller: true, blockOwnerDeletion: true }];
  const candidates = [orphan, await server.create({ object: owned }), await server.create({ object: stale }), await server.create({ object: foreign })];
  client.takeActions();
  const claimed = await claimObjects(candidates, { owner: rs, ownerGvk: gvk, selector: selectorFromSet({ app: 'web' }), client, resource: 'pods' });
  assert.deepEqual(claimed.map((p) => p.metadata?.name), ['orphan', 'owned']);
  assert.deepEqual(client.takeSummary(), ['patch pods default/orphan', 'patch pods default/stale']);
  const adopted = await server.get({ resource: 'pods', namespace: 'default', name: 'orphan' });
  assert.equal(getControllerOf(adopted)?.uid, rs.metadata?.uid);
  const released = await server.get({ resource: 'pods', namespace: 'default', name: 'stale' });
  assert.deepEqual(released.metadata?.ownerReferences, []);
  assert.equal(resolveControllerRef('default', getControllerOf(adopted), 'ReplicaSet', { get: () => rs }), rs);
  assert.equal(resolveControllerRef('default', getControllerOf(foreign), 'ReplicaSet', { get: () => rs }), undefined);
});

test('claimObjects adopts nothing when canAdopt refuses (the owner is being deleted)', async () => {
  const { server } = await testServer();
  const client = new RecordingClient(server);
  const orphan = await server.create({ object: pod('orphan', { labels: { app: 'web' } }) });
  const owner = obj({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default', uid: 'u1' } });
  await assert.rejects(
    claimObjects([orphan], { owner, ownerGvk: { apiVersion: 'apps/v1', kind: 'ReplicaSet' }, selector: selectorFromSet({ app: 'web' }), client, resource: 'pods', canAdopt: async () => Promise.reject(new Error('owner is being deleted')) }),
    /owner is being deleted/,
  );
  assert.deepEqual(client.takeSummary(), []);
});

class CountingController extends QueueController {
  synced: string[] = [];
  failOnce = new Set<string>(['default/bad']);
  protected async sync(key: string): Promise<void> {
    if (this.failOnce.delete(key)) throw new Error('transient');
    this.synced.push(key);
  }
  ready(): void {
    this.release();
  }
  private release: () => void = () => {};
  constructor(o: ConstructorParameters<typeof QueueController>[1]) {
    super('counting', o);
    const gate = new Promise<void>((r) => (this.release = r));
    this.waitFor({ waitForSync: () => gate });
  }
}

test('QueueController waits for its informers, syncs each queued key once, retries a failure with backoff, and times syncs', async () => {
  const clock = new FakeClock(T0);
  const registry = new Registry();
  const warnings: string[] = [];
  const c = new CountingController({ clock, registry, workers: 2, logger: { warn: (m) => warnings.push(m) } });
  c.start();
  c.enqueue('default/a');
  c.enqueue('default/a');
  c.enqueue('default/bad');
  await clock.advance(0);
  assert.deepEqual(c.synced, [], 'no sync before the informers synced');
  c.ready();
  await eventually('both keys handled', () => c.synced.length === 1 && warnings.length === 1);
  assert.deepEqual(c.synced, ['default/a']);
  assert.match(warnings[0], /sync of default\/bad failed \(will retry\): transient/);
  await clock.advance(1000);
  assert.deepEqual(c.synced, ['default/a', 'default/bad']);
  await c.stop();
  const text = await registry.metrics();
  assert.match(text, /navarch_controller_sync_duration_seconds_count\{controller="counting",result="success"\} 2/);
  assert.match(text, /navarch_controller_sync_errors_total\{controller="counting"\} 1/);
});

class FailingController extends QueueController {
  attempts = 0;
  done = false;
  constructor(
    private readonly failures: number,
    o: ConstructorParameters<typeof QueueController>[1],
  ) {
    super('failing', o);
  }
  protected async sync(): Promise<void> {
    if (++this.attempts <= this.failures) throw new Error(`failure ${this.attempts}`);
    this.done = true;
  }
}

/** Advances the fake clock a backoff step (the per-key backoff stops growing at 1000 s) at a time until `done` or `steps` run out. */
async function advanceUntil(clock: FakeClock, done: () => boolean, steps: number): Promise<void> {
  for (let i = 0; i < steps && !done(); i++) {
    await clock.advance(1_000_000);
    await settle(5);
  }
}

test('QueueController retries a failing key for as long as it fails, as Kubernetes\' ReplicaSet, GC and namespace controllers do; with maxRetries it drops it', async () => {
  const clock = new FakeClock(T0);
  const warnings: string[] = [];
  const forever = new FailingController(20, { clock, logger: { warn: (m) => warnings.push(m) } });
  forever.start();
  forever.enqueue('default/x');
  await advanceUntil(clock, () => forever.done, 40);
  await forever.stop();
  assert.equal(forever.attempts, 21, 'retried past 15 failures until it succeeded');
  assert.ok(!warnings.some((w) => /dropped/.test(w)), warnings.join('\n'));

  const bounded = new FailingController(20, { clock, maxRetries: 15, logger: { warn: (m) => warnings.push(m) } });
  bounded.start();
  bounded.enqueue('default/x');
  await advanceUntil(clock, () => warnings.some((w) => /failed 15 times, dropped/.test(w)), 40);
  await advanceUntil(clock, () => false, 3);
  await bounded.stop();
  assert.equal(bounded.attempts, 16, 'dropped after its 15 retries');
  assert.equal(bounded.done, false);
});
