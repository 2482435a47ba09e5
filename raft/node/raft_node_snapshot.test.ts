// A snapshot's data is written by storage while the member goes on applying
// entries: what it stores must still be the state at the snapshot's index.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SeededRandom } from '../core/random.js';
import { encodeCommand, KvStateMachine } from '../kv/kv_state_machine.js';
import type { RaftStorage } from '../storage/raft_storage.js';
import { RocksDbStorage } from '../storage/rocksdb_storage.js';
import { GrpcTransport } from '../transport/grpc_transport.js';
import { realClock } from './ports.js';
import { RaftNode, type RaftNodeOptions } from './raft_node.js';
import { decodeSnapshotEnvelope, encodeSnapshotEnvelope } from './snapshot_envelope.js';
import { freePort } from '../transport/free_port.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function until(what: string, cond: () => boolean, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

/** The real RocksDB storage, with its snapshot data writes held until the test lets them go. */
function heldPrepare(real: RocksDbStorage): { storage: RaftStorage; preparedAt(): number; release(): void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let preparedAt = 0;
  const storage: RaftStorage = {
    initialState: () => real.initialState(),
    entries: (lo, hi, max) => real.entries(lo, hi, max),
    term: (i) => real.term(i),
    firstIndex: () => real.firstIndex(),
    lastIndex: () => real.lastIndex(),
    snapshot: () => real.snapshot(),
    loadSnapshot: () => real.loadSnapshot(),
    save: (b) => real.save(b),
    createSnapshot: (i, cs, d) => real.createSnapshot(i, cs, d),
    compact: (i) => real.compact(i),
    close: () => real.close(),
    prepareSnapshot: async (i, d) => {
      preparedAt = i;
      await gate;
      await real.prepareSnapshot(i, d);
    },
  };
  return { storage, preparedAt: () => preparedAt, release };
}

/** A one-member cluster that snapshots every 20 entries and keeps 5 behind the snapshot. */
function startOne(address: string, storage: RaftStorage, machine: KvStateMachine, options: Partial<RaftNodeOptions> = {}): Promise<RaftNode> {
  return RaftNode.start({
    id: 1,
    peers: [{ id: 1, address }],
    bootstrap: true,
    storage,
    transport: new GrpcTransport({ id: 1, listenAddress: address, clusterId: 9, clock: realClock, logger: quiet }),
    stateMachine: machine,
    clock: realClock,
    random: new SeededRandom(1),
    tickMs: 20,
    snapshotEntries: 20,
    snapshotCatchUpEntries: 5,
    ...options,
  });
}

/** Proposes commands one by one until `count` snapshots were taken; returns their indexes. */
async function snapshotIndexes(node: RaftNode, storage: RaftStorage, command: (seq: number) => Uint8Array, count: number, maxWrites: number): Promise<number[]> {
  const indexes: number[] = [];
  for (let seq = 1; indexes.length < count; seq++) {
    await node.propose(command(seq));
    const at = storage.snapshot().metadata.index;
    if (at > (indexes.at(-1) ?? 0)) indexes.push(at);
    assert.ok(seq < maxWrites, `snapshots at ${indexes} after ${seq} writes`);
  }
  return indexes;
}

test('writes go on while a snapshot is written, and it restores to exactly the state at its index', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-node-snap-'));
  const address = `127.0.0.1:${await freePort()}`;
  const start = (storage: RaftStorage, machine: KvStateMachine): Promise<RaftNode> => startOne(address, storage, machine);
  let seq = 0;
  const put = (node: RaftNode, i: number) => node.propose(encodeCommand({ op: 'put', clientId: 'test', seq: ++seq, key: `k${i}`, value: enc.encode(`v${i}`) }));
  try {
    const real = await RocksDbStorage.open(join(dir, 'm1'), { snapshotChunkSizeBytes: 4096 });
    const held = heldPrepare(real);
    const node = await start(held.storage, new KvStateMachine());
    await until('a leader', () => node.isLeader());
    let written = 0;
    while (held.preparedAt() === 0) await put(node, written++);
    const at = held.preparedAt();
    // The puts applied up to the snapshot's index, counted from the log (not compacted yet).
    const putsAtSnapshot = real.entries(real.firstIndex(), at + 1, Infinity).filter((e) => e.type === 'normal' && e.data.byteLength > 0).length;
    // With the snapshot's data not yet written, writes are still applied and acknowledged.
    for (let i = 0; i < 60; i++) await put(node, written++);
    assert.equal(real.snapshot().metadata.index, 0);
    assert.equal(node.status().stats.snapshotsTaken, 0);
    held.release();
    await until('the snapshot named in storage', () => node.status().stats.snapshotsTaken === 1);
    assert.equal(real.snapshot().metadata.index, at);
    const atSnapshot = new KvStateMachine();
    await atSnapshot.restore(decodeSnapshotEnvelope((await real.loadSnapshot()).data).app);
    for (let i = 0; i < written; i++) {
      const v = atSnapshot.read(`k${i}`);
      assert.equal(v && dec.decode(v), i < putsAtSnapshot ? `v${i}` : undefined, `k${i} in the snapshot at index ${at}`);
    }
    for (let i = 0; i < 10; i++) await put(node, written++);
    await node.stop({ transferLeadership: false });

    // Restarted: the snapshot plus the log after it give back every write.
    const machine = new KvStateMachine();
    const again = await start(await RocksDbStorage.open(join(dir, 'm1'), { snapshotChunkSizeBytes: 4096 }), machine);
    await until('a leader after restart', () => again.isLeader());
    await until('the log replayed', () => machine.read(`k${written - 1}`) !== undefined);
    for (let i = 0; i < written; i++) assert.equal(dec.decode(machine.read(`k${i}`)!), `v${i}`);
    await again.stop({ transferLeadership: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A state machine whose snapshot copies the state at the call but hands it over only when let go (a slow encode). */
class HeldEncodeMachine extends KvStateMachine {
  calls = 0;
  private gate: Promise<void> | undefined;
  release: () => void = () => {};
  hold(): void {
    this.gate = new Promise<void>((r) => (this.release = r));
  }
  override snapshot(): Promise<Uint8Array> {
    const copy = super.snapshot();
    this.calls++;
    const gate = this.gate;
    return gate ? gate.then(() => copy) : copy;
  }
}

test('writes are applied and acknowledged while a snapshot is still being encoded, and it is the state at its index', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-node-snap-'));
  const address = `127.0.0.1:${await freePort()}`;
  const machine = new HeldEncodeMachine();
  machine.hold();
  let seq = 0;
  try {
    const storage = await RocksDbStorage.open(join(dir, 'm1'), { snapshotChunkSizeBytes: 4096 });
    const node = await startOne(address, storage, machine);
    const put = (i: number) => node.propose(encodeCommand({ op: 'put', clientId: 'test', seq: ++seq, key: `k${i}`, value: enc.encode(`v${i}`) }));
    await until('a leader', () => node.isLeader());
    let written = 0;
    while (machine.calls === 0) await put(written++);
    const putsAtSnapshot = written;
    for (let i = 0; i < 60; i++) await put(written++);
    assert.equal(node.status().stats.snapshotsTaken, 0, 'the encode is still held');
    machine.release();
    await until('the snapshot named in storage', () => node.status().stats.snapshotsTaken === 1);
    const atSnapshot = new KvStateMachine();
    await atSnapshot.restore(decodeSnapshotEnvelope((await storage.loadSnapshot()).data).app);
    // The snapshot began while the last put before the loop saw it was being applied or just after.
    const inSnapshot = Array.from({ length: written }, (_, i) => atSnapshot.read(`k${i}`) !== undefined);
    const count = inSnapshot.filter(Boolean).length;
    assert.ok(count === putsAtSnapshot || count === putsAtSnapshot - 1, `${count} puts in the snapshot, ${putsAtSnapshot} made before it was seen`);
    for (let i = 0; i < written; i++) assert.equal(inSnapshot[i], i < count, `k${i} in the snapshot: a prefix of the puts, none made after it`);
    await node.stop({ transferLeadership: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A state machine that streams its snapshot (snapshotTo) in pieces of 1,000 bytes, holding back all after the first until let go. */
class StreamingMachine extends KvStateMachine {
  calls = 0;
  pieces = 0;
  release!: () => void;
  private readonly gate = new Promise<void>((r) => (this.release = r));
  async snapshotTo(prefix: Uint8Array, write: (piece: Uint8Array) => Promise<void>): Promise<number> {
    const copy = super.snapshot();
    this.calls++;
    const data = await copy;
    await write(prefix);
    for (let at = 0; at < data.byteLength; at += 1000) {
      if (at > 0) await this.gate;
      await write(data.subarray(at, at + 1000));
      this.pieces++;
    }
    return prefix.byteLength + data.byteLength;
  }
}

test('a state machine that streams its snapshot has each piece written as it comes, and the snapshot is the state at its index', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-node-snap-'));
  const address = `127.0.0.1:${await freePort()}`;
  const machine = new StreamingMachine();
  let seq = 0;
  try {
    const real = await RocksDbStorage.open(join(dir, 'm1'), { snapshotChunkSizeBytes: 4096 });
    // The storage counts what reached it; the node must not fall back to handing over one buffer.
    let written = 0;
    const storage = Object.assign(Object.create(real) as RocksDbStorage, {
      prepareSnapshot: undefined,
      writeSnapshot(index: number) {
        const w = real.writeSnapshot(index);
        return { write: (piece: Uint8Array) => w.write(piece).then(() => void (written += piece.byteLength)), finish: () => w.finish() };
      },
    });
    const node = await startOne(address, storage, machine);
    const put = (i: number) => node.propose(encodeCommand({ op: 'put', clientId: 'test', seq: ++seq, key: `key-with-some-length-${i}`, value: enc.encode(`value-${i}`.repeat(20)) }));
    await until('a leader', () => node.isLeader());
    let puts = 0;
    while (machine.calls === 0) {
      assert.ok(puts < 500, 'the node streams its snapshots through snapshotTo');
      await put(puts++);
    }
    await until('the first piece on disk', () => machine.pieces === 1);
    const firstBytes = written;
    for (let i = 0; i < 60; i++) await put(puts++);
    assert.equal(node.status().stats.snapshotsTaken, 0, 'the rest of the snapshot is still held');
    assert.equal(written, firstBytes, 'nothing is written ahead of the pieces');
    machine.release();
    await until('the snapshot named in storage', () => node.status().stats.snapshotsTaken === 1);
    assert.ok(machine.pieces > 2, `${machine.pieces} pieces`);
    const stored = await real.loadSnapshot();
    assert.equal(stored.data.byteLength, written);
    const atSnapshot = new KvStateMachine();
    await atSnapshot.restore(decodeSnapshotEnvelope(stored.data).app);
    const inSnapshot = Array.from({ length: puts }, (_, i) => atSnapshot.read(`key-with-some-length-${i}`) !== undefined);
    const count = inSnapshot.filter(Boolean).length;
    assert.ok(count > 0 && count < puts, `${count} of ${puts} puts in the snapshot`);
    for (let i = 0; i < puts; i++) assert.equal(inSnapshot[i], i < count, `key ${i} in the snapshot: a prefix of the puts`);
    await node.stop({ transferLeadership: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('snapshotStaggerFraction outside 0 to 1 is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-node-snap-'));
  try {
    const storage = await RocksDbStorage.open(join(dir, 'm1'));
    await assert.rejects(
      RaftNode.start({
        id: 1,
        peers: [{ id: 1, address: '127.0.0.1:1' }],
        bootstrap: true,
        storage,
        transport: new GrpcTransport({ id: 1, listenAddress: '127.0.0.1:0', clusterId: 9, clock: realClock, logger: quiet }),
        stateMachine: new KvStateMachine(),
        clock: realClock,
        random: new SeededRandom(1),
        snapshotStaggerFraction: 1.5,
      }),
      /Invalid snapshotStaggerFraction 1.5: expected a number from 0 to 1/,
    );
    await storage.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('snapshotStaggerFraction delays only the first snapshot, so members keep different phases', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-node-snap-'));
  try {
    const storage = await RocksDbStorage.open(join(dir, 'm1'));
    const node = await startOne(`127.0.0.1:${await freePort()}`, storage, new KvStateMachine(), { snapshotStaggerFraction: 0.5 });
    await until('a leader', () => node.isLeader());
    const indexes = await snapshotIndexes(node, storage, (seq) => encodeCommand({ op: 'put', clientId: 'test', seq, key: 'k', value: enc.encode(String(seq)) }), 3, 200);
    // The first after 30 entries (20 and half again), the next ones every 20 (a write or two later while the data is written).
    assert.ok(indexes[0] >= 30 && indexes[0] <= 33, `first snapshot at ${indexes[0]}`);
    for (let i = 1; i < 3; i++) assert.ok(indexes[i] - indexes[i - 1] >= 20 && indexes[i] - indexes[i - 1] <= 23, `snapshots at ${indexes}`);
    await node.stop({ transferLeadership: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('snapshotStaggerFraction raises the byte threshold of every snapshot, so members that once snapshotted together drift apart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-node-snap-'));
  try {
    const storage = await RocksDbStorage.open(join(dir, 'm1'));
    const node = await startOne(`127.0.0.1:${await freePort()}`, storage, new KvStateMachine(), { snapshotEntries: 1_000_000, snapshotBytes: 2000, snapshotStaggerFraction: 0.5 });
    await until('a leader', () => node.isLeader());
    const command = (seq: number) => encodeCommand({ op: 'put', clientId: 'test', seq, key: 'k', value: new Uint8Array(100).fill(seq % 256) });
    const perEntry = command(1).byteLength;
    const indexes = await snapshotIndexes(node, storage, command, 3, 500);
    // Every 3000 bytes of entries (2000 and half again), not only before the first snapshot.
    const every = Math.ceil(3000 / perEntry);
    for (let i = 1; i < 3; i++) assert.ok(indexes[i] - indexes[i - 1] >= every && indexes[i] - indexes[i - 1] <= every + 3, `snapshots at ${indexes}, ${perEntry} bytes an entry`);
    await node.stop({ transferLeadership: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a storage that gives a snapshot without its data and cannot read it is refused at start, not started past it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-node-snap-'));
  try {
    const real = await RocksDbStorage.open(join(dir, 'm1'));
    const empty = new Uint8Array(0);
    await real.save({ entries: [1, 2].map((index) => ({ term: 1, index, type: 'normal' as const, data: empty })), hardState: { term: 1, vote: 1, commit: 2 } });
    await real.createSnapshot(2, { voters: [1], learners: [] }, encodeSnapshotEnvelope(new Map([[1, '127.0.0.1:1']]), await new KvStateMachine().snapshot()));
    const { loadSnapshot: _, ...withoutLoad } = heldPrepare(real).storage;
    await assert.rejects(
      RaftNode.start({
        id: 1,
        peers: [{ id: 1, address: '127.0.0.1:1' }],
        bootstrap: true,
        storage: withoutLoad,
        transport: new GrpcTransport({ id: 1, listenAddress: '127.0.0.1:0', clusterId: 9, clock: realClock, logger: quiet }),
        stateMachine: new KvStateMachine(),
        clock: realClock,
        random: new SeededRandom(1),
      }),
      /storage gave the snapshot at index 2 without its data/,
    );
    await real.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
