// proposalBatchMs: proposals that trickle in shortly after an append wait for the rest of the
// interval and then share one append (one fsync), while a proposal after a quiet spell goes at once.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../core/random.js';
import type { Entry } from '../core/types.js';
import { SimClock } from '../sim/sim_clock.js';
import { MemoryRaftStorage } from '../storage/memory_raft_storage.js';
import type { Clock, StateMachine } from './ports.js';
import { RaftNode } from './raft_node.js';
import { LoopbackTransport } from './testing/loopback_transport.js';

const enc = new TextEncoder();

/** Lets promise chains and setImmediate callbacks run, with the clock standing still. */
async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

/** Moves the clock on by ms, firing due timers in order, settling after each. */
async function jump(clock: SimClock, ms: number): Promise<void> {
  const target = clock.nowMs() + ms;
  for (let due = clock.nextDueMs(); due !== undefined && due <= target; due = clock.nextDueMs()) {
    clock.runNext();
    await settle();
  }
  clock.advanceTo(target);
  await settle();
}

/** A single member with proposalBatchMs 10 on `clock`, leading; `applied` lists what it applied. */
async function startLeader(clock: Clock, sim: SimClock): Promise<{ node: RaftNode; applied: string[] }> {
  const applied: string[] = [];
  const machine: StateMachine = {
    async open() {
      return 0;
    },
    apply(e: Entry) {
      applied.push(new TextDecoder().decode(e.data));
      return undefined;
    },
    async snapshot() {
      return new Uint8Array();
    },
    async restore() {},
  };
  const node = await RaftNode.start({
    id: 1,
    peers: [{ id: 1, address: 'a1' }],
    bootstrap: true,
    storage: new MemoryRaftStorage(),
    transport: new LoopbackTransport(),
    stateMachine: machine,
    clock,
    random: new SeededRandom(1),
    tickMs: 10,
    proposalBatchMs: 10,
  });
  for (let i = 0; i < 100 && !node.isLeader(); i++) await jump(sim, 10);
  assert.ok(node.isLeader(), 'a single member elects itself');
  await jump(sim, 50);
  return { node, applied };
}

test('proposals within proposalBatchMs of the last append wait and are appended together; one after a quiet spell goes at once', async () => {
  const clock = new SimClock();
  const { node, applied } = await startLeader(clock, clock);
  try {
    const first = node.propose(enc.encode('a'));
    await settle();
    assert.deepEqual(applied, ['a'], 'the first proposal in a while is appended at once');
    await first;

    const syncs = node.status().stats.syncs;
    const entries = node.status().stats.entriesSynced;
    const later = [node.propose(enc.encode('b')), node.propose(enc.encode('c'))];
    await settle();
    assert.deepEqual(applied, ['a'], 'proposals right after an append wait for the interval');
    await jump(clock, 9);
    assert.deepEqual(applied, ['a'], 'still within the interval');
    await jump(clock, 1);
    await Promise.all(later);
    assert.deepEqual(applied, ['a', 'b', 'c']);
    assert.equal(node.status().stats.syncs - syncs, 1, 'both went out in one synced append');
    assert.equal(node.status().stats.entriesSynced - entries, 2);

    await jump(clock, 10);
    const quiet = node.propose(enc.encode('d'));
    await settle();
    assert.deepEqual(applied, ['a', 'b', 'c', 'd'], 'after a quiet interval a proposal goes at once');
    await quiet;
  } finally {
    await node.stop({ transferLeadership: false });
  }
});

test('a wall clock stepped back holds proposals for one interval at most', async () => {
  const sim = new SimClock();
  // The driver's clock reads the wall (here: the sim's time plus an offset the test moves back); its timers run on the sim's.
  let offsetMs = 0;
  const clock = { nowMs: () => sim.nowMs() + offsetMs, setTimeout: sim.setTimeout.bind(sim), clearTimeout: sim.clearTimeout.bind(sim) };
  const { node, applied } = await startLeader(clock, sim);
  try {
    const first = node.propose(enc.encode('a'));
    await settle();
    await first;
    offsetMs = -30_000;
    const held = [node.propose(enc.encode('b')), node.propose(enc.encode('c'))];
    await settle();
    assert.deepEqual(applied, ['a'], 'held: the clock says the last append is 30 s ahead');
    await jump(sim, 10);
    await Promise.all(held);
    assert.deepEqual(applied, ['a', 'b', 'c'], 'released after one interval, not 30 s');
  } finally {
    await node.stop({ transferLeadership: false });
  }
});
