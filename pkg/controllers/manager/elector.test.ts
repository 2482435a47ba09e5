import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Lease } from '../../api/registry.js';
import { testServer } from '../../apiserver/test_util.js';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { eventually } from '../../client/testing/settle.js';
import { RecordingClient } from '../testing/recording_client.js';
import { DEFER_AS_RAFT_LEADER, DEFER_COLD, leaseElector, NO_DEFERRAL, type TakeoverDeferral } from './elector.js';

const TIMINGS = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 1000 };

function candidate(client: RecordingClient, identity: string, deferral?: () => TakeoverDeferral) {
  const clock = new FakeClock(0);
  /** Each takeover's wait past the expiry (-1: not a takeover). */
  const leading: number[] = [];
  const seen: string[] = [];
  const elector = leaseElector({ name: 'kube-scheduler', identity, client, clock, timings: TIMINGS, deferTakeover: deferral })({
    onStartedLeading: ({ takeover }) => void leading.push(takeover?.afterExpiryMs ?? -1),
    onStoppedLeading: () => {},
    onNewLeader: (id) => void seen.push(id),
  });
  elector.start();
  return { clock, leading, seen, elector };
}

/** m1 leads, then dies (its clock never moves again); m2, deferring as told, saw its last renewal at 0 ms. */
async function deadHolder(deferral: () => TakeoverDeferral) {
  const t = await testServer({ namespaces: ['kube-system'] });
  const client = new RecordingClient(t.server);
  const m1 = candidate(client, 'm1');
  await eventually('m1 leads', () => m1.leading.length === 1);
  const m2 = candidate(client, 'm2', deferral);
  await eventually('m2 saw m1', () => m2.seen.includes('m1'));
  const holder = async () => ((await t.server.get({ resource: 'leases', namespace: 'kube-system', name: 'kube-scheduler' })) as Lease).spec?.holderIdentity;
  return { m1, m2, holder };
}

describe('leaseElector deferral', () => {
  const cases: Array<[string, TakeoverDeferral, number]> = [
    ['not deferring: at expiry', NO_DEFERRAL, 0],
    ['the Raft leader: a retry period after expiry', DEFER_AS_RAFT_LEADER, 1000],
    ['cold caches: a lease duration and a retry period after expiry', DEFER_COLD, 4000],
  ];
  for (const [name, deferral, delayMs] of cases) {
    it(`takes a dead holder's lease ${name}`, async () => {
      const { m1, m2, holder } = await deadHolder(() => deferral);
      await m2.clock.advance(3000 + delayMs - 1);
      assert.equal(m2.leading.length, 0, 'not before the expiry and its delay have passed');
      await m2.clock.advance(1);
      await eventually('m2 leads', () => m2.leading.length === 1);
      assert.equal(await holder(), 'm2');
      assert.deepEqual(m2.leading, [delayMs], 'reported from the expiry, its delay included');
      await m2.elector.stop();
      await m1.elector.stop();
    });
  }

  it('reads the deferral at each attempt: once its caches are filled, the Raft leader goes a retry period after expiry', async () => {
    let deferral: TakeoverDeferral = DEFER_COLD;
    const { m1, m2, holder } = await deadHolder(() => deferral);
    await m2.clock.advance(3000 + 1500);
    assert.equal(m2.leading.length, 0, 'cold: still leaving the lease to the others');
    deferral = DEFER_AS_RAFT_LEADER;
    await m2.clock.advance(1000);
    await eventually('m2 leads', () => m2.leading.length === 1);
    assert.equal(await holder(), 'm2');
    await m2.elector.stop();
    await m1.elector.stop();
  });
});
