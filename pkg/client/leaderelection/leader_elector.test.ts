import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { KubeObject, Lease } from '../../api/registry.js';
import { ApiError, isApiError } from '../../apiserver/api_error.js';
import { obj, testServer } from '../../apiserver/test_util.js';
import { RecordingClient } from '../../controllers/testing/recording_client.js';
import type { NavarchClient } from '../client.js';
import { FakeClock } from '../testing/fake_clock.js';
import { eventually, peek } from '../testing/settle.js';
import { LeaderElector, type LeaseClient, type LeadingContext } from './mod.js';

// Both clients the elector is meant to run on satisfy its interface.
null as unknown as NavarchClient satisfies LeaseClient;
null as unknown as RecordingClient satisfies LeaseClient;

const LEASE = { leaseNamespace: 'kube-system', leaseName: 'kube-scheduler' };

/** A candidate with its own clock (so a test can pause it), registry and a log of callbacks. */
function candidate(client: LeaseClient, identity: string, clock = new FakeClock(0), extra: { takeoverDelayMs?: () => number } = {}) {
  const events: string[] = [];
  const renewals = { count: 0 };
  const leading: LeadingContext[] = [];
  const registry = new Registry();
  const elector = new LeaderElector({
    client,
    clock,
    ...LEASE,
    identity,
    registry,
    ...extra,
    callbacks: {
      onStartedLeading: (ctx) => {
        leading.push(ctx);
        events.push(`started ${ctx.token.leaseTransitions}`);
      },
      onStoppedLeading: () => void events.push('stopped'),
      onNewLeader: (id) => void events.push(`leader ${id}`),
      onRenewed: () => void renewals.count++,
    },
  });
  const gauge = async () => (await registry.getSingleMetric('leader_election_master_status')!.get()).values.find((v) => v.labels.name === 'kube-scheduler')?.value;
  return { elector, clock, events, leading, gauge, renewals };
}

async function cluster() {
  const t = await testServer({ namespaces: ['default', 'kube-system'] });
  const client = new RecordingClient(t.server);
  const lease = () => t.server.get({ resource: 'leases', namespace: 'kube-system', name: 'kube-scheduler' }) as Promise<Lease>;
  return { ...t, client, lease };
}

const configMap = (name: string): KubeObject => obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } });

describe('LeaderElector', () => {
  it('acquires a missing lease: creates it with itself as holder, transition 0, and starts leading', async () => {
    const { client, lease } = await cluster();
    const a = candidate(client, 'm1', new FakeClock(Date.UTC(2026, 0, 2, 3, 4, 5, 250)));
    a.elector.start();
    await eventually('m1 leads', () => a.elector.isLeader());
    const l = await lease();
    assert.deepEqual(
      { ...l.spec },
      { holderIdentity: 'm1', leaseDurationSeconds: 3, acquireTime: '2026-01-02T03:04:05.250000Z', renewTime: '2026-01-02T03:04:05.250000Z', leaseTransitions: 0, strategy: undefined, preferredHolder: undefined },
    );
    assert.deepEqual(a.events, ['leader m1', 'started 0']);
    assert.deepEqual(a.leading[0].token, { ...LEASE, holderIdentity: 'm1', leaseTransitions: 0 });
    assert.deepEqual(a.elector.token, a.leading[0].token);
    assert.equal(await a.gauge(), 1);
    await a.elector.stop();
  });

  it('renews every retry period, keeping acquireTime and the transition count', async () => {
    const { client, lease } = await cluster();
    const a = candidate(client, 'm1');
    a.elector.start();
    await eventually('m1 leads', () => a.elector.isLeader());
    const first = await lease();
    await a.clock.advance(1000);
    const second = await lease();
    assert.notEqual(second.metadata?.resourceVersion, first.metadata?.resourceVersion);
    assert.equal(second.spec?.renewTime, '1970-01-01T00:00:01.000000Z');
    assert.equal(second.spec?.acquireTime, first.spec?.acquireTime);
    await a.clock.advance(10_000);
    const later = await lease();
    assert.equal(later.spec?.renewTime, '1970-01-01T00:00:11.000000Z');
    assert.equal(later.spec?.leaseTransitions, 0);
    assert.ok(a.elector.isLeader());
    assert.deepEqual(a.events, ['leader m1', 'started 0']);
    assert.equal(a.renewals.count, 12, 'onRenewed for the acquisition and each of the 11 renewals (the health check counts from them)');
    await a.elector.stop();
  });

  it('starts each renewal a retry period after the last one started, however long that one took to answer', async () => {
    const { client } = await cluster();
    const clock = new FakeClock(0);
    const renewTimes: string[] = [];
    // Each write answers 600 ms after it is sent, as under load.
    const slow: LeaseClient = {
      get: (r, ns, n) => client.get(r, ns, n),
      create: (o) => client.create(o),
      update: async (o) => {
        renewTimes.push((o as Lease).spec?.renewTime ?? '');
        await new Promise<void>((r) => clock.setTimeout(r, 600));
        return client.update(o);
      },
    };
    const a = candidate(slow, 'm1', clock);
    a.elector.start();
    await eventually('m1 leads', () => a.elector.isLeader());
    for (let i = 0; i < 8; i++) await a.clock.advance(500);
    assert.deepEqual(renewTimes, ['1970-01-01T00:00:01.000000Z', '1970-01-01T00:00:02.000000Z', '1970-01-01T00:00:03.000000Z', '1970-01-01T00:00:04.000000Z']);
    assert.ok(a.elector.isLeader());
    // Stopping releases the lease: another slow write.
    const stopping = a.elector.stop();
    for (let i = 0; i < 4; i++) await a.clock.advance(500);
    await stopping;
  });

  it('takes over only after the lease expired by its own clock; the paused old leader loses and its fenced writes are refused', async () => {
    const { client, lease, server } = await cluster();
    const a = candidate(client, 'm1');
    a.elector.start();
    await eventually('m1 leads', () => a.elector.isLeader());
    const oldToken = a.elector.token!;
    await server.create({ object: configMap('by-m1'), fencing: oldToken });

    // m1 pauses (its clock stands still); m2 starts with a clock far ahead: expiry is measured from when m2 saw the record.
    const b = candidate(client, 'm2', new FakeClock(1_000_000));
    b.elector.start();
    await eventually('m2 saw m1', () => b.events.includes('leader m1'));
    await b.clock.advance(2999);
    assert.equal(b.elector.isLeader(), false, 'not before a whole lease duration');
    assert.equal((await lease()).spec?.holderIdentity, 'm1');
    await b.clock.advance(1);
    await eventually('m2 leads', () => b.elector.isLeader());
    const taken = await lease();
    assert.equal(taken.spec?.holderIdentity, 'm2');
    assert.equal(taken.spec?.leaseTransitions, 1);
    assert.deepEqual(b.leading[0].token, { ...LEASE, holderIdentity: 'm2', leaseTransitions: 1 });

    // m1 wakes up still believing it leads: its write is refused before it even notices.
    assert.equal(a.elector.isLeader(), true);
    await assert.rejects(server.create({ object: configMap('late'), fencing: oldToken }), (e: unknown) => {
      assert.ok(isApiError(e, 'Forbidden'));
      assert.match(e.message, /the lease kube-system\/kube-scheduler is held by "m2" \(transition 1\); this writer's token \(holder "m1", transition 0\) is stale/);
      return true;
    });
    await server.create({ object: configMap('by-m2'), fencing: b.elector.token });

    // Its next renewal (a write over the lease it last wrote) conflicts; the read that follows finds
    // m2 holding the lease: it steps down and its work's signal aborts.
    await a.clock.advance(1000);
    assert.equal(a.elector.isLeader(), true, 'a conflict alone does not end the term');
    await a.clock.advance(250);
    assert.equal(a.elector.isLeader(), false);
    assert.equal(a.leading[0].signal.aborted, true);
    assert.deepEqual(a.events, ['leader m1', 'started 0', 'leader m2', 'stopped']);
    assert.equal(await a.gauge(), 0);
    assert.equal(await b.gauge(), 1);
    // It keeps campaigning but never takes a lease m2 keeps renewing.
    for (let i = 0; i < 5; i++) {
      await b.clock.advance(1000);
      await a.clock.advance(1000);
    }
    assert.equal(a.elector.isLeader(), false);
    assert.equal((await lease()).spec?.holderIdentity, 'm2');
    await a.elector.stop();
    await b.elector.stop();
  });

  it('a leader whose lease is released or deleted by hand takes it back as a new term, under a token the API server accepts', async () => {
    const { client, lease, server } = await cluster();
    const a = candidate(client, 'm1');
    a.elector.start();
    await eventually('m1 leads', () => a.elector.isLeader());
    // An operator forces a failover by clearing the holder (as a release does); nobody else campaigns.
    const l = await lease();
    await server.update({ object: { ...l, spec: { ...l.spec, holderIdentity: '' } } as Lease });
    await a.clock.advance(1000);
    await a.clock.advance(250);
    await eventually('m1 leads a new term', () => a.leading.length === 2);
    assert.equal((await lease()).spec?.leaseTransitions, 1);
    assert.deepEqual(a.events, ['leader m1', 'started 0', 'stopped', 'started 1']);
    assert.equal(a.leading[0].signal.aborted, true, "the old term's work stops");
    assert.deepEqual(a.elector.token, { ...LEASE, holderIdentity: 'm1', leaseTransitions: 1 });
    await server.create({ object: configMap('after-release'), fencing: a.elector.token });
    // Deleted: recreated one transition past the last it saw, never at 0 again, so the first
    // term's token (transition 0) cannot become valid again while its work may still be writing.
    const firstTerm = a.leading[0].token;
    await server.delete({ resource: 'leases', namespace: 'kube-system', name: 'kube-scheduler' });
    for (let i = 0; i < 4 && a.elector.token?.leaseTransitions !== 2; i++) await a.clock.advance(1000);
    await eventually('m1 leads under the recreated lease', () => a.elector.token?.leaseTransitions === 2);
    assert.equal((await lease()).spec?.leaseTransitions, 2);
    await server.create({ object: configMap('after-delete'), fencing: a.elector.token });
    await assert.rejects(server.create({ object: configMap('first-term'), fencing: firstTerm }), (e: unknown) => isApiError(e, 'Forbidden'));
    await a.elector.stop();
  });

  it("takes a dead holder's lease a lease duration after it saw the last renewal, not at its next retry tick", async () => {
    const { client, lease } = await cluster();
    const a = candidate(client, 'm1');
    a.elector.start();
    await eventually('m1 leads', () => a.elector.isLeader());
    const b = candidate(client, 'm2');
    b.elector.start();
    await eventually('m2 saw m1', () => b.events.includes('leader m1'));
    await b.clock.advance(600);
    // m1 renews once more (its clock moves on) and then dies (its clock never moves again).
    await a.clock.advance(1000);
    const last = await lease();
    assert.equal(last.spec?.renewTime, '1970-01-01T00:00:01.000000Z');
    // m2 reads the lease every 250 ms: it sees that renewal at 750 ms by its clock, so it expires at 3750 ms.
    await b.clock.advance(3749 - 600);
    assert.equal(b.elector.isLeader(), false, 'not before a whole lease duration after the renewal was seen');
    await b.clock.advance(1);
    assert.equal(b.elector.isLeader(), true, 'at the moment it expired, not at the retry tick at 4000 ms');
    assert.equal((await lease()).spec?.holderIdentity, 'm2');
    assert.equal(b.leading[0].takeover.previousHolder, 'm1');
    assert.equal(b.leading[0].takeover.afterExpiryMs, 0);
    await b.elector.stop();
    await a.elector.stop();
  });

  it('a candidate asked to defer takes over a dead holder\'s lease only its delay after expiry: a candidate without one goes first', async () => {
    const { client, lease } = await cluster();
    const a = candidate(client, 'm1');
    a.elector.start();
    await eventually('m1 leads', () => a.elector.isLeader());
    const b = candidate(client, 'm2', new FakeClock(0), { takeoverDelayMs: () => 1000 });
    b.elector.start();
    await eventually('m2 saw m1', () => b.events.includes('leader m1'));
    // m1 dies now (its clock never moves again); m2 saw its last record at 0 ms: it expires at 3000 ms.
    await b.clock.advance(3000);
    assert.equal(b.elector.isLeader(), false, 'deferring: not at expiry');
    await b.clock.advance(999);
    assert.equal(b.elector.isLeader(), false, 'deferring: not before the delay has passed');
    // A candidate that does not defer, started now, waits out a lease duration of its own and wins first.
    const c = candidate(client, 'm3', new FakeClock(0));
    c.elector.start();
    await eventually('m3 saw m1', () => c.events.includes('leader m1'));
    await c.clock.advance(3000);
    await eventually('m3 leads', () => c.elector.isLeader());
    await b.clock.advance(2000);
    assert.equal(b.elector.isLeader(), false);
    assert.equal((await lease()).spec?.holderIdentity, 'm3');
    await c.elector.stop();
    await b.elector.stop();
    await a.elector.stop();
  });

  it('a deferring candidate still takes over when nobody else does, its delay after expiry', async () => {
    const { client, lease } = await cluster();
    const a = candidate(client, 'm1');
    a.elector.start();
    await eventually('m1 leads', () => a.elector.isLeader());
    const b = candidate(client, 'm2', new FakeClock(0), { takeoverDelayMs: () => 500 });
    b.elector.start();
    await eventually('m2 saw m1', () => b.events.includes('leader m1'));
    await b.clock.advance(3499);
    assert.equal(b.elector.isLeader(), false);
    await b.clock.advance(1);
    await eventually('m2 leads', () => b.elector.isLeader());
    assert.equal((await lease()).spec?.holderIdentity, 'm2');
    assert.equal(b.leading[0].takeover.afterExpiryMs, 500, 'reported from the expiry, delay included');
    await b.elector.stop();
    await a.elector.stop();
  });

  it('a deferring candidate creates a missing lease only its delay after it found it missing, so another creates it first', async () => {
    const { client, lease } = await cluster();
    const b = candidate(client, 'm2', new FakeClock(0), { takeoverDelayMs: () => 500 });
    b.elector.start();
    await b.clock.advance(250);
    await assert.rejects(lease(), (e: unknown) => isApiError(e, 'NotFound'), 'not created before the delay');
    const a = candidate(client, 'm1');
    a.elector.start();
    await eventually('m1 leads', () => a.elector.isLeader());
    await b.clock.advance(500);
    await eventually('m2 saw m1', () => b.events.includes('leader m1'));
    assert.equal(b.elector.isLeader(), false);
    assert.equal((await lease()).spec?.holderIdentity, 'm1');
    await b.elector.stop();
    await a.elector.stop();
  });

  it('a candidate that loses the race for an expired lease (its read was stale) reads it again after the observe period', async () => {
    const { client, lease } = await cluster();
    const a = candidate(client, 'm1');
    a.elector.start();
    await eventually('m1 leads', () => a.elector.isLeader());
    let conflicts = 1;
    const stale: LeaseClient = {
      get: (r, ns, n) => client.get(r, ns, n),
      create: (o) => client.create(o),
      update: (o) => (conflicts-- > 0 ? Promise.reject(new ApiError('Conflict', 'the object has been modified')) : client.update(o)),
    };
    const b = candidate(stale, 'm2');
    b.elector.start();
    await eventually('m2 saw m1', () => b.events.includes('leader m1'));
    // m1 is dead from here: m2 tries at 3000 ms, loses the race, reads again at 3250 ms and takes it.
    await b.clock.advance(3000);
    assert.equal(b.elector.isLeader(), false);
    await b.clock.advance(250);
    assert.equal(b.elector.isLeader(), true, 'not a whole retry period later');
    assert.equal((await lease()).spec?.holderIdentity, 'm2');
    await b.elector.stop();
    await a.elector.stop();
  });

  it('a candidate that cannot reach the API retries at the retry period, not at the observe period', async () => {
    const { client } = await cluster();
    let calls = 0;
    const down: LeaseClient = {
      get: () => (calls++, Promise.reject(new ApiError('Unavailable', 'Cannot reach master'))),
      create: (o) => client.create(o),
      update: (o) => client.update(o),
    };
    const a = candidate(down, 'm1');
    a.elector.start();
    await a.clock.advance(0);
    assert.equal(calls, 1);
    await a.clock.advance(999);
    assert.equal(calls, 1);
    await a.clock.advance(1);
    assert.equal(calls, 2);
    await a.elector.stop();
  });

  it('a candidate whose takeover of an expired lease fails (the API is coming back) tries again at the observe period', async () => {
    const { client, lease } = await cluster();
    const a = candidate(client, 'm1');
    a.elector.start();
    await eventually('m1 leads', () => a.elector.isLeader());
    let down = false;
    let calls = 0;
    const flaky: LeaseClient = {
      get: (r, ns, n) => (calls++, down ? Promise.reject(new ApiError('Unavailable', 'No Raft leader')) : client.get(r, ns, n)),
      create: (o) => client.create(o),
      update: (o) => (down ? Promise.reject(new ApiError('Unavailable', 'No Raft leader')) : client.update(o)),
    };
    const b = candidate(flaky, 'm2');
    b.elector.start();
    await eventually('m2 saw m1', () => b.events.includes('leader m1'));
    // m1 dies (its clock stops) and the API goes away with it for a while.
    down = true;
    await b.clock.advance(3000);
    const before = calls;
    await b.clock.advance(500);
    assert.ok(calls - before >= 2, `retried every 250 ms while the takeover is due (${calls - before} calls in 500 ms)`);
    down = false;
    await b.clock.advance(250);
    await eventually('m2 leads', () => b.elector.isLeader());
    assert.equal((await lease()).spec?.holderIdentity, 'm2');
    await b.elector.stop();
    await a.elector.stop();
  });

  it('releases the lease on stop, so the next candidate takes over at its next retry instead of after expiry', async () => {
    const { client, lease } = await cluster();
    const clock = new FakeClock(0);
    const a = candidate(client, 'm1', clock);
    const b = candidate(client, 'm2', clock);
    a.elector.start();
    await eventually('m1 leads', () => a.elector.isLeader());
    b.elector.start();
    await clock.advance(1000);
    assert.equal(b.elector.isLeader(), false);
    await a.elector.stop();
    assert.deepEqual(a.events, ['leader m1', 'started 0', 'stopped']);
    assert.equal(a.leading[0].signal.aborted, true);
    const released = await lease();
    assert.equal(released.spec?.holderIdentity, '');
    assert.equal(released.spec?.leaseDurationSeconds, 1);
    await clock.advance(1000);
    assert.equal(b.elector.isLeader(), true, 'taken one retry period after the release, not 3 s after the last renewal');
    assert.equal((await lease()).spec?.leaseTransitions, 1);
    await b.elector.stop();
  });

  it('releases the lease even when stopped during a renewal that lands afterwards', async () => {
    const { client, lease } = await cluster();
    let gate: Promise<void> | undefined;
    let open!: () => void;
    const slow: LeaseClient = {
      get: (r, ns, n) => client.get(r, ns, n),
      create: (o) => client.create(o),
      update: async (o) => {
        if (gate) await gate;
        return client.update(o);
      },
    };
    const a = candidate(slow, 'm1');
    a.elector.start();
    await eventually('m1 leads', () => a.elector.isLeader());
    gate = new Promise((r) => (open = r));
    await a.clock.advance(1000); // the renewal's update is on its way
    const stopped = a.elector.stop();
    await a.clock.advance(0);
    gate = undefined;
    open(); // ... and lands after stop() stopped waiting for it
    await a.clock.advance(0);
    await stopped;
    assert.equal((await lease()).spec?.holderIdentity, '', 'released over the renewed lease, not refused with Conflict');
  });

  it('gives up leadership when it cannot renew within the renew deadline, then campaigns again', async () => {
    const { client, lease } = await cluster();
    let down = false;
    const flaky: LeaseClient = {
      get: (r, ns, n) => (down ? Promise.reject(new ApiError('Unavailable', 'Cannot reach master')) : client.get(r, ns, n)),
      create: (o) => (down ? Promise.reject(new ApiError('Unavailable', 'Cannot reach master')) : client.create(o)),
      update: (o) => (down ? Promise.reject(new ApiError('Unavailable', 'Cannot reach master')) : client.update(o)),
    };
    const a = candidate(flaky, 'm1');
    a.elector.start();
    await eventually('m1 leads', () => a.elector.isLeader());
    down = true;
    await a.clock.advance(4999);
    assert.equal(a.elector.isLeader(), true, 'still within the renew deadline (5 s: past the 3 s lease, its writes being fenced)');
    await a.clock.advance(1);
    assert.equal(a.elector.isLeader(), false, 'gave up 5 s after its last renewal');
    assert.equal(a.leading[0].signal.aborted, true);
    down = false;
    await a.clock.advance(1000);
    assert.equal(a.elector.isLeader(), true, 'back once the API answers');
    assert.equal((await lease()).spec?.leaseTransitions, 1, 'a new leadership, so a new token');
    assert.deepEqual(a.leading.map((l) => l.token.leaseTransitions), [0, 1]);
    await a.elector.stop();
  });

  it('a leader whose renewals fail past the lease expiry keeps its term when nobody took the lease meanwhile', async () => {
    const { client, lease } = await cluster();
    let down = false;
    let calls = 0;
    const flaky: LeaseClient = {
      get: (r, ns, n) => (calls++, down ? Promise.reject(new ApiError('Unavailable', 'Cannot reach master')) : client.get(r, ns, n)),
      create: (o) => (calls++, down ? Promise.reject(new ApiError('Unavailable', 'Cannot reach master')) : client.create(o)),
      update: (o) => (calls++, down ? Promise.reject(new ApiError('Unavailable', 'Cannot reach master')) : client.update(o)),
    };
    const a = candidate(flaky, 'm1');
    a.elector.start();
    await eventually('m1 leads', () => a.elector.isLeader());
    const before = calls;
    await a.clock.advance(3000);
    assert.equal(calls - before, 3, 'a renewal is one write over the lease it last wrote, no read first');
    // Renewed last at 3 s: the lease expires for others at 6 s; the API answers again at 6.5 s.
    assert.equal(await a.gauge(), 1);
    down = true;
    await a.clock.advance(2999);
    assert.equal(await a.gauge(), 1, 'within a lease duration of the last renewal');
    await a.clock.advance(1);
    assert.equal(await a.gauge(), 0, 'a lease duration unrenewed: another may hold the lease, so the gauge says so');
    assert.equal(a.elector.isLeader(), true, 'the term goes on, fenced');
    await a.clock.advance(500);
    down = false;
    await a.clock.advance(1500);
    assert.equal(await a.gauge(), 1, 'renewed again');
    const l = await lease();
    assert.equal(a.elector.isLeader(), true);
    assert.deepEqual(a.events, ['leader m1', 'started 0'], 'one term, never stopped');
    assert.equal(a.leading[0].signal.aborted, false);
    assert.equal(l.spec?.leaseTransitions, 0, 'the same token');
    assert.equal(l.spec?.holderIdentity, 'm1');
    await a.elector.stop();
  });

  it("counts its lease from when the acquiring write began, not from its slow answer: the gauge drops before another could hold it", async () => {
    const { client } = await cluster();
    const clock = new FakeClock(0);
    let down = false;
    const slowCreate: LeaseClient = {
      get: (r, ns, n) => (down ? Promise.reject(new ApiError('Unavailable', 'Cannot reach master')) : client.get(r, ns, n)),
      // The lease is written at once; its answer takes 800 ms to come back.
      create: async (o) => {
        const created = await client.create(o);
        await new Promise<void>((r) => clock.setTimeout(r, 800));
        return created;
      },
      update: (o) => (down ? Promise.reject(new ApiError('Unavailable', 'Cannot reach master')) : client.update(o)),
    };
    const a = candidate(slowCreate, 'm1', clock);
    a.elector.start();
    down = true;
    await clock.advance(800);
    await eventually('m1 leads', () => a.elector.isLeader());
    assert.equal(await a.gauge(), 1);
    // Written at 0 s: another candidate may take the lease from 3 s (the default lease).
    await clock.advance(2199);
    assert.equal(await a.gauge(), 1);
    await clock.advance(1);
    assert.equal(await a.gauge(), 0, 'a lease duration after the write began, not after its answer');
    await a.elector.stop();
  });

  it('stops promptly even while calls to the API hang', async () => {
    const { client } = await cluster();
    let hang = false;
    const hanging: LeaseClient = {
      get: (r, ns, n) => (hang ? new Promise(() => {}) : client.get(r, ns, n)),
      create: (o) => client.create(o),
      update: (o) => (hang ? new Promise(() => {}) : client.update(o)),
    };
    const a = candidate(hanging, 'm1');
    a.elector.start();
    await eventually('m1 leads', () => a.elector.isLeader());
    hang = true;
    await a.clock.advance(1000);
    const stopped = a.elector.stop();
    await a.clock.advance(0);
    assert.equal(a.elector.isLeader(), false, 'stepped down at once');
    assert.deepEqual(a.events, ['leader m1', 'started 0', 'stopped']);
    await a.clock.advance(2999);
    assert.notEqual(await peek(stopped), undefined, 'waits for the release');
    await a.clock.advance(1);
    assert.equal(await peek(stopped), undefined, 'gives up on the release after leaseDurationMs (by then the lease has expired anyway)');

    const b = candidate(hanging, 'm2');
    b.elector.start();
    assert.equal(await peek(b.elector.stop()), undefined, 'a candidate too');
  });

  it('refuses timings that cannot work', () => {
    const base = { client: {} as LeaseClient, clock: new FakeClock(0), ...LEASE, identity: 'm1', callbacks: { onStartedLeading() {} } };
    assert.throws(() => new LeaderElector({ ...base, leaseDurationMs: 1000, renewDeadlineMs: 5000 }), /leaseDurationMs \(1000\) must be greater than retryPeriodMs \(1000\)/);
    assert.throws(() => new LeaderElector({ ...base, renewDeadlineMs: 1000 }), /renewDeadlineMs \(1000\) must be greater than retryPeriodMs \(1000\)/);
    assert.throws(() => new LeaderElector({ ...base, retryPeriodMs: -1 }), /retryPeriodMs -1: expected a number of ms > 0/);
    assert.throws(() => new LeaderElector({ ...base, identity: '' }), /identity: expected a non-empty string/);
    assert.throws(() => new LeaderElector({ ...base, observePeriodMs: 1500 }), /observePeriodMs \(1500\) must not be greater than retryPeriodMs \(1000\)/);
    assert.throws(() => new LeaderElector({ ...base, observePeriodMs: 0 }), /observePeriodMs 0: expected a number of ms > 0/);
    // Timings passed through as undefined take their defaults (3000/5000/1000).
    assert.doesNotThrow(() => new LeaderElector({ ...base, leaseDurationMs: undefined, renewDeadlineMs: undefined, retryPeriodMs: undefined, observePeriodMs: undefined }));
  });
});
