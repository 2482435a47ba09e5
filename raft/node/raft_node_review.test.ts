// Regression tests from the adversarial review of the driver: each one
// failed before its fix. One member runs against a scripted leader: the test
// feeds it messages through a loopback transport, and time moves only when
// the test says so.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeConfChange } from '../core/conf_change.js';
import { SeededRandom } from '../core/random.js';
import { type ConfState, type Entry, type Message, type Snapshot, message } from '../core/types.js';
import { MemoryRaftStorage } from '../storage/memory_raft_storage.js';
import type { Clock, StateMachine, TimerHandle } from './ports.js';
import { RaftNode } from './raft_node.js';
import { encodeSnapshotEnvelope } from './snapshot_envelope.js';
import { LoopbackTransport } from './testing/loopback_transport.js';

const enc = new TextEncoder();

class FakeClock implements Clock {
  private now = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  nowMs(): number {
    return this.now;
  }
  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.now + delayMs, fn });
    return { id };
  }
  clearTimeout(h: TimerHandle): void {
    this.timers.delete((h as { id: number }).id);
  }
  /** Moves time on by ms and fires the timers due by then, in order (late ones see the later time, as after a stall). */
  jump(ms: number): void {
    this.now += ms;
    for (;;) {
      const due = [...this.timers].filter(([, t]) => t.at <= this.now).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) return;
      this.timers.delete(due[0]);
      due[1].fn();
    }
  }
}

/** A state machine whose apply/snapshot can be held at a gate, to interleave messages with them. */
class GatedMachine implements StateMachine {
  applied: string[] = [];
  holdApplyOf: string | undefined;
  holdSnapshot = false;
  held: (() => void) | undefined;
  async open(): Promise<number> {
    return 0;
  }
  async apply(e: Entry): Promise<unknown> {
    const s = new TextDecoder().decode(e.data);
    if (s === this.holdApplyOf) await new Promise<void>((r) => (this.held = r));
    this.applied.push(s);
    return undefined;
  }
  async snapshot(): Promise<Uint8Array> {
    if (this.holdSnapshot) await new Promise<void>((r) => (this.held = r));
    return enc.encode(JSON.stringify(this.applied));
  }
  async restore(data: Uint8Array): Promise<void> {
    this.applied = data.byteLength > 0 ? (JSON.parse(new TextDecoder().decode(data)) as string[]) : [];
  }
}

/** Records the configuration each locally taken snapshot was stored with. */
class RecordingStorage extends MemoryRaftStorage {
  readonly created: Array<{ index: number; confState: ConfState }> = [];
  override async createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot> {
    this.created.push({ index, confState: { voters: [...confState.voters], learners: [...confState.learners] } });
    return super.createSnapshot(index, confState, data);
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`Timed out waiting for ${what}`);
}

const members = [
  { id: 1, address: 'a1' },
  { id: 2, address: 'a2' },
  { id: 3, address: 'a3' },
];

async function startFollower(machine: GatedMachine, snapshotEntries = 100000) {
  const transport = new LoopbackTransport();
  const storage = new RecordingStorage();
  const node = await RaftNode.start({
    id: 1,
    peers: members,
    bootstrap: true,
    storage,
    transport,
    stateMachine: machine,
    clock: new FakeClock(),
    random: new SeededRandom(1),
    snapshotEntries,
  });
  return { node, transport, storage, deliver: (m: Message) => transport.handler!.onMessage(m) };
}

function addLearner4(index: number): Entry {
  const cc = { type: 'addLearner' as const, nodeId: 4, context: '', confState: { voters: [1, 2, 3], learners: [4] } };
  return { term: 1, index, type: 'confChange', data: encodeConfChange(cc) };
}

/** The leader's snapshot at index 10, taken after 4 was removed again. */
function leaderSnapshot(): Snapshot {
  const ms = new Map(members.map((m) => [m.id, m.address]));
  return {
    metadata: { index: 10, term: 1, confState: { voters: [1, 2, 3], learners: [] } },
    data: encodeSnapshotEnvelope(ms, enc.encode(JSON.stringify(['x', 'y']))),
  };
}

test('a configuration change still being applied when a newer snapshot arrives does not roll back the configuration', async () => {
  const machine = new GatedMachine();
  const { node, deliver } = await startFollower(machine);
  machine.holdApplyOf = 'x';
  const ents: Entry[] = [{ term: 1, index: 1, type: 'normal', data: enc.encode('x') }, addLearner4(2)];
  deliver(message({ type: 'MsgApp', from: 2, to: 1, term: 1, index: 0, logTerm: 0, entries: ents, commit: 2 }));
  await until(() => machine.held !== undefined, 'the apply of "x" to start');
  deliver(message({ type: 'MsgSnap', from: 2, to: 1, term: 1, snapshot: leaderSnapshot() }));
  machine.held!();
  await until(() => node.status().applied === 10, 'the snapshot to be restored');
  assert.deepEqual(node.status().confState, { voters: [1, 2, 3], learners: [] });
  await node.stop({ transferLeadership: false });
});

test('a local snapshot taken while a newer one arrives records the configuration at its own index', async () => {
  const machine = new GatedMachine();
  const { node, storage, deliver } = await startFollower(machine, 1);
  machine.holdSnapshot = true;
  deliver(message({ type: 'MsgApp', from: 2, to: 1, term: 1, index: 0, logTerm: 0, entries: [addLearner4(1)], commit: 1 }));
  await until(() => machine.held !== undefined, 'the local snapshot to start');
  deliver(message({ type: 'MsgSnap', from: 2, to: 1, term: 1, snapshot: leaderSnapshot() }));
  machine.holdSnapshot = false;
  machine.held!();
  await until(() => node.status().applied === 10, 'the snapshot to be restored');
  for (const s of storage.created) {
    if (s.index === 1) assert.deepEqual(s.confState, { voters: [1, 2, 3], learners: [4] }, 'snapshot at index 1 has another index’s configuration');
  }
  await node.stop({ transferLeadership: false });
});

test('a tick that comes late after a stall is not an idle moment for a snapshot that can wait for one', async () => {
  const clock = new FakeClock();
  const node = await RaftNode.start({
    id: 1,
    peers: [members[0]],
    bootstrap: true,
    storage: new MemoryRaftStorage(),
    transport: new LoopbackTransport(),
    stateMachine: new GatedMachine(),
    clock,
    random: new SeededRandom(1),
    snapshotEntries: 20,
    snapshotLogRatio: 1,
  });
  for (let i = 0; i < 100 && node.status().role !== 'leader'; i++) {
    clock.jump(50);
    await until(() => true, 'a turn');
  }
  assert.equal(node.status().role, 'leader');
  // Past snapshotEntries and below 4 times it: the snapshot waits for an idle tick.
  for (let i = 0; i < 30; i++) await node.propose(enc.encode(`e${i}`));
  clock.jump(50); // the tick after the writes: something was applied since the last one
  const settle = async () => {
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  };
  await settle();
  clock.jump(2000); // nothing applied, but because the process stood still for 2 s
  await settle();
  assert.equal(node.status().stats.snapshotsTaken, 0);
  clock.jump(50);
  await until(() => node.status().stats.snapshotsTaken === 1, 'a snapshot in the next tick on time');
  await node.stop({ transferLeadership: false });
});

test('applying a large committed batch gives the event loop a turn every applyTurnMs, not once at the end', async () => {
  const clock = new FakeClock();
  const seenAtYields: number[] = [];
  // Each entry takes 20 ms of the clock to apply, as a slow state machine on a loaded machine would.
  const machine: StateMachine & { applied: number } = {
    applied: 0,
    async open() {
      return 0;
    },
    apply() {
      clock.jump(20);
      this.applied++;
      return undefined;
    },
    async snapshot() {
      return new Uint8Array();
    },
    async restore() {},
  };
  const transport = new LoopbackTransport();
  const node = await RaftNode.start({
    id: 1,
    peers: members,
    bootstrap: true,
    storage: new MemoryRaftStorage(),
    transport,
    stateMachine: machine,
    clock,
    random: new SeededRandom(1),
    applyTurnMs: 50,
    yieldTurn: async () => {
      seenAtYields.push(machine.applied);
      await new Promise((r) => setImmediate(r));
    },
  });
  const ents: Entry[] = Array.from({ length: 10 }, (_, i) => ({ term: 1, index: i + 1, type: 'normal' as const, data: enc.encode(`e${i}`) }));
  transport.handler!.onMessage(message({ type: 'MsgApp', from: 2, to: 1, term: 1, index: 0, logTerm: 0, entries: ents, commit: 10 }));
  await until(() => node.status().applied === 10, 'the batch to be applied');
  // 60 ms of applying passes the 50 ms turn: a turn after the 3rd, 6th and 9th entries.
  assert.deepEqual(seenAtYields, [3, 6, 9]);
  assert.equal(node.status().stats.applyYields, 3);
  await node.stop({ transferLeadership: false });
});
