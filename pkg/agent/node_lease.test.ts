import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Lease } from '../../gen/navarch/api/v1/coordination.js';
import type { KubeObject } from '../api/registry.js';
import { obj, testServer } from '../apiserver/test_util.js';
import { FakeClock } from '../client/testing/fake_clock.js';
import { RecordingClient } from '../controllers/testing/recording_client.js';
import type { UpdateOptions } from '../client/client.js';
import { DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS } from '../controllers/nodelifecycle/mod.js';
import { AGENT_NODE_LEASE_DURATION_SECONDS, NODE_LEASE_NAMESPACE, NodeLease, nodeLeaseRenewIntervalMs } from './node_lease.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

async function setup(namespaces = ['default', NODE_LEASE_NAMESPACE]) {
  const t = await testServer({ namespaces });
  const client = new RecordingClient(t.server);
  const clock = new FakeClock(T0);
  const readLease = async () => (await t.server.get({ resource: 'leases', namespace: NODE_LEASE_NAMESPACE, name: 'n1' })) as Lease;
  return { t, client, clock, readLease };
}

describe('NodeLease', () => {
  it('creates the lease in kube-node-lease at once, then renews it every interval on the phase it is given', async () => {
    const { client, clock, readLease } = await setup();
    const lease = new NodeLease({ client, clock, nodeName: 'n1', initialDelayMs: 2500, nodeUid: () => 'node-uid-1' });
    lease.start();
    await clock.advance(0);
    assert.deepEqual(client.takeSummary(), ['create leases kube-node-lease/n1']);
    const l = await readLease();
    assert.equal(l.spec?.holderIdentity, 'n1');
    assert.equal(l.spec?.leaseDurationSeconds, 40);
    assert.equal(l.spec?.renewTime, '2026-01-02T03:04:05.000000Z');
    assert.deepEqual(l.metadata?.ownerReferences.map((r) => `${r.kind}/${r.name}/${r.uid}`), ['Node/n1/node-uid-1']);
    await clock.advance(2499);
    assert.deepEqual(client.takeSummary(), []);
    await clock.advance(1);
    assert.deepEqual(client.takeSummary(), ['update leases kube-node-lease/n1']);
    assert.equal((await readLease()).spec?.renewTime, '2026-01-02T03:04:07.500000Z');
    await clock.advance(10_000);
    await clock.advance(10_000);
    assert.deepEqual(client.takeSummary(), ['update leases kube-node-lease/n1', 'update leases kube-node-lease/n1']);
    assert.equal((await readLease()).spec?.renewTime, '2026-01-02T03:04:27.500000Z');
    assert.deepEqual(lease.stats, { renewals: 3, creates: 1, failures: 0 });
    lease.stop();
    await clock.advance(60_000);
    assert.deepEqual(client.takeSummary(), []);
  });

  it('retries a failed renewal with doubling backoff, then returns to its schedule', async () => {
    const { t, client, clock, readLease } = await setup(['default']);
    const errors: string[] = [];
    const lease = new NodeLease({ client, clock, nodeName: 'n1', onError: (e) => errors.push((e as Error).message) });
    lease.start();
    await clock.advance(0);
    // No kube-node-lease namespace yet: creates fail at 0, 200, 600, 1400 ms.
    await clock.advance(1400);
    assert.equal(lease.stats.failures, 4);
    assert.match(errors[0], /kube-node-lease/);
    await t.server.create({ object: obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NODE_LEASE_NAMESPACE } }) });
    await clock.advance(1599);
    assert.equal(lease.stats.creates, 0);
    await clock.advance(1);
    assert.equal(lease.stats.creates, 1);
    assert.equal((await readLease()).spec?.renewTime, '2026-01-02T03:04:08.000000Z');
    // Back on the schedule of the first attempt: 10 s, 20 s, ...
    await clock.advance(10_000 - 3000);
    assert.equal(lease.stats.renewals, 1);
    assert.equal((await readLease()).spec?.renewTime, '2026-01-02T03:04:15.000000Z');
    lease.stop();
  });

  it('rereads the lease after another writer changed it, and keeps renewing', async () => {
    const { t, client, clock, readLease } = await setup();
    const lease = new NodeLease({ client, clock, nodeName: 'n1' });
    lease.start();
    await clock.advance(0);
    const l = await readLease();
    await t.server.update({ object: { ...l, metadata: { ...l.metadata!, labels: { touched: 'yes' } } } });
    await clock.advance(10_000);
    assert.equal(lease.stats.failures, 1, 'the renewal on the stale copy conflicts');
    await clock.advance(200);
    const after = await readLease();
    assert.equal(after.spec?.renewTime, '2026-01-02T03:04:15.200000Z');
    assert.equal(after.metadata?.labels.touched, 'yes');
    lease.stop();
  });

  it('runs each attempt through the gate it is given (shared bounds on writes in flight)', async () => {
    const { client, clock } = await setup();
    let gated = 0;
    const lease = new NodeLease({ client, clock, nodeName: 'n1', gate: (attempt) => (gated++, attempt()) });
    lease.start();
    await clock.advance(20_000);
    assert.equal(gated, 3);
    assert.deepEqual(lease.stats, { renewals: 2, creates: 1, failures: 0 });
    lease.stop();
  });
});

describe("the agent's node lease", () => {
  it("stays renewed within the masters' default grace period when a renewal is 3 s late", async () => {
    const { t, clock } = await setup();
    let updates = 0;
    // The API is slow for one renewal (the second): it lands 3 s after it was sent.
    class SlowOnce extends RecordingClient {
      override async update<T extends KubeObject, R = T>(object: T, o?: UpdateOptions<R> & { subresource?: 'status' }): Promise<R> {
        if (++updates === 2) await new Promise<void>((r) => clock.setTimeout(r, 3000));
        return super.update<T, R>(object, o);
      }
    }
    const client = new SlowOnce(t.server);
    const lease = new NodeLease({ client, clock, nodeName: 'n1', leaseDurationSeconds: AGENT_NODE_LEASE_DURATION_SECONDS, renewIntervalMs: nodeLeaseRenewIntervalMs(AGENT_NODE_LEASE_DURATION_SECONDS) });
    lease.start();
    // What the node lifecycle controller sees: when the stored renewTime last moved.
    let lastMovedMs = clock.nowMs();
    let lastRenew = '';
    let worstGapMs = 0;
    for (let ms = 0; ms < 40_000; ms += 100) {
      await clock.advance(100);
      const renew = (await t.server.get({ resource: 'leases', namespace: NODE_LEASE_NAMESPACE, name: 'n1' }).catch(() => undefined)) as Lease | undefined;
      const now = clock.nowMs();
      if (renew?.spec?.renewTime !== undefined && renew.spec.renewTime !== lastRenew) {
        lastRenew = renew.spec.renewTime;
        lastMovedMs = now;
      }
      worstGapMs = Math.max(worstGapMs, now - lastMovedMs);
    }
    lease.stop();
    assert.ok(updates >= 12, `renewed ${updates} times in 40 s`);
    assert.ok(worstGapMs < DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS, `the lease stood still for ${worstGapMs} ms`);
  });
});
