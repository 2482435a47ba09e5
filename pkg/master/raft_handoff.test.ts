import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../client/testing/fake_clock.js';
import { holdsEveryLease, RaftHandOff } from './raft_handoff.js';

function setup(o: { afterMs?: number; fail?: boolean } = {}) {
  const clock = new FakeClock(0);
  const state = { leadsRaft: true, holdsEveryLease: true };
  const handOffs: number[] = [];
  const logs: string[] = [];
  const h = new RaftHandOff({
    clock,
    leadsRaft: () => state.leadsRaft,
    holdsEveryLease: () => state.holdsEveryLease,
    handOff: async () => {
      handOffs.push(clock.nowMs());
      if (o.fail) throw new Error('leadership did not move to 2 within 2000 ms');
      state.leadsRaft = false;
      return 'member 2';
    },
    afterMs: o.afterMs ?? 10_000,
    logger: { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`) },
  });
  h.start();
  return { clock, state, handOffs, logs, h };
}

test('RaftHandOff: a master leading Raft and every lease hands Raft leadership off after afterMs of both, once', async () => {
  const { clock, handOffs, logs, h } = setup();
  await clock.advance(9_000);
  assert.deepEqual(handOffs, [], 'not before afterMs');
  await clock.advance(2_000);
  assert.deepEqual(handOffs, [11_000], 'first seen at the 1 s check, handed off 10 s later');
  assert.match(logs.join('\n'), /handed Raft leadership to member 2/);
  await clock.advance(60_000);
  assert.equal(handOffs.length, 1, 'no longer leading Raft: nothing more');
  h.stop();
});

test('RaftHandOff: either condition lapsing starts the wait again; a lease held elsewhere means never', async () => {
  const { clock, state, handOffs, h } = setup();
  await clock.advance(8_000);
  state.holdsEveryLease = false; // the other component's lease went to another master
  await clock.advance(1_000);
  state.holdsEveryLease = true;
  await clock.advance(10_000);
  assert.deepEqual(handOffs, [], 'the wait started again at the check at 10 s');
  await clock.advance(1_000);
  assert.deepEqual(handOffs, [20_000]);
  h.stop();

  const split = setup();
  split.state.holdsEveryLease = false;
  await split.clock.advance(120_000);
  assert.deepEqual(split.handOffs, [], 'with a lease on another master, that master could be the one Raft leadership goes to');
  split.h.stop();
});

test('RaftHandOff: a failed hand-off is logged and tried again only after another afterMs', async () => {
  const { clock, handOffs, logs, h } = setup({ afterMs: 5_000, fail: true });
  await clock.advance(6_000);
  assert.deepEqual(handOffs, [6_000]);
  assert.match(logs.join('\n'), /warn could not hand Raft leadership off \(tried again in 5000 ms if still needed\): leadership did not move/);
  await clock.advance(5_000);
  assert.deepEqual(handOffs, [6_000], 'not at every check');
  await clock.advance(1_000);
  assert.deepEqual(handOffs, [6_000, 12_000]);
  h.stop();
  await clock.advance(60_000);
  assert.equal(handOffs.length, 2, 'stopped: no more checks');
});

test('RaftHandOff: a hand-off still in flight is not started again', async () => {
  const clock = new FakeClock(0);
  let calls = 0;
  let finish!: () => void;
  const h = new RaftHandOff({
    clock,
    leadsRaft: () => true,
    holdsEveryLease: () => true,
    handOff: () => {
      calls++;
      return new Promise((resolve) => (finish = () => resolve('member 3')));
    },
    afterMs: 1_000,
    logger: { info() {}, warn() {} },
  });
  h.start();
  await clock.advance(10_000);
  assert.equal(calls, 1);
  finish();
  await clock.advance(3_000);
  assert.equal(calls, 2, 'once it settled, a master still leading both goes again');
  h.stop();
});

test('RaftHandOff: a member with nothing to hand over to (alone) logs nothing', async () => {
  const clock = new FakeClock(0);
  const logs: string[] = [];
  const h = new RaftHandOff({ clock, leadsRaft: () => true, holdsEveryLease: () => true, handOff: async () => undefined, afterMs: 1_000, logger: { info: (m) => logs.push(m), warn: (m) => logs.push(m) } });
  h.start();
  await clock.advance(30_000);
  assert.deepEqual(logs, []);
  h.stop();
});

test('holdsEveryLease: only with both components here and both leading', () => {
  const both = ['kube-scheduler', 'kube-controller-manager'];
  const r = (name: string, isLeading: boolean) => ({ name, isLeading });
  assert.equal(holdsEveryLease([r('kube-scheduler', true), r('kube-controller-manager', true)], both), true);
  assert.equal(holdsEveryLease([r('kube-scheduler', true), r('kube-controller-manager', false)], both), false, 'the other lease is elsewhere, or not read yet');
  assert.equal(holdsEveryLease([r('kube-scheduler', true)], both), false, 'a master without the controller manager cannot tell where its lease is');
  assert.equal(holdsEveryLease([r('kube-scheduler', true)], []), false);
});
