// The driver with its real parts in one process: RocksDB data dirs and gRPC
// between members on 127.0.0.1.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SeededRandom } from '../core/random.js';
import { encodeCommand, KvStateMachine } from '../kv/kv_state_machine.js';
import { RocksDbStorage } from '../storage/rocksdb_storage.js';
import { GrpcTransport } from '../transport/grpc_transport.js';
import { ProposalDroppedError } from '../core/errors.js';
import { NotLeaderError } from './errors.js';
import { realClock } from './ports.js';
import { type Member, RaftNode } from './raft_node.js';
import { freePort } from '../transport/free_port.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

interface Running {
  node: RaftNode;
  machine: KvStateMachine;
}

class Cluster {
  readonly running = new Map<number, Running>();
  readonly members: Member[] = [];
  private seq = 0;

  constructor(readonly dir: string) {}

  async addAddress(id: number): Promise<Member> {
    // Bind a transport on port 0 once to learn a free port, then reuse that address.
    const m = { id, address: `127.0.0.1:${await freePort()}` };
    this.members.push(m);
    return m;
  }

  async start(id: number, options: { bootstrap: boolean; snapshotEntries?: number; snapshotLogRatio?: number }): Promise<Running> {
    const storage = await RocksDbStorage.open(join(this.dir, `m${id}`));
    const self = this.members.find((m) => m.id === id)!;
    const transport = new GrpcTransport({ id, listenAddress: self.address, clusterId: 9, clock: realClock, logger: quiet });
    const machine = new KvStateMachine();
    const node = await RaftNode.start({
      id,
      peers: this.members,
      bootstrap: options.bootstrap,
      storage,
      transport,
      stateMachine: machine,
      clock: realClock,
      random: new SeededRandom(id),
      tickMs: 20,
      snapshotEntries: options.snapshotEntries ?? 10000,
      snapshotCatchUpEntries: 10,
      snapshotLogRatio: options.snapshotLogRatio,
    });
    const r = { node, machine };
    this.running.set(id, r);
    return r;
  }

  async stop(id: number): Promise<void> {
    const r = this.running.get(id);
    if (!r) return;
    this.running.delete(id);
    await r.node.stop({ transferLeadership: false });
  }

  async leader(timeoutMs = 10000): Promise<Running> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const r of this.running.values()) if (r.node.isLeader()) return r;
      await new Promise((res) => setTimeout(res, 10));
    }
    throw new Error(`No leader within ${timeoutMs} ms`);
  }

  put(r: Running, key: string, value: string): Promise<unknown> {
    return r.node.propose(encodeCommand({ op: 'put', clientId: 'test', seq: ++this.seq, key, value: enc.encode(value) }));
  }

  async closeAll(): Promise<void> {
    for (const id of [...this.running.keys()]) await this.stop(id);
  }
}

async function until(what: string, cond: () => boolean, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

async function withCluster(fn: (c: Cluster) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-node-'));
  const c = new Cluster(dir);
  try {
    await fn(c);
  } finally {
    await c.closeAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('three members replicate writes, serve linearizable reads, and refuse proposals on followers', async () => {
  await withCluster(async (c) => {
    for (const id of [1, 2, 3]) await c.addAddress(id);
    for (const id of [1, 2, 3]) await c.start(id, { bootstrap: true });
    const l = await c.leader();
    for (let i = 0; i < 50; i++) await c.put(l, `k${i % 5}`, `v${i}`);
    const follower = [...c.running.values()].find((r) => r !== l)!;
    await assert.rejects(c.put(follower, 'x', 'y'), (e: Error) => e instanceof NotLeaderError && e.leaderId === l.node.id);
    // A follower's ReadIndex waits until it has applied everything acknowledged so far.
    await follower.node.readIndex();
    assert.equal(dec.decode(follower.machine.read('k4')!), 'v49');
  });
});

test('reads called together share one ReadIndex request, and each sees every write acknowledged before it was called', async () => {
  await withCluster(async (c) => {
    for (const id of [1, 2, 3]) await c.addAddress(id);
    for (const id of [1, 2, 3]) await c.start(id, { bootstrap: true });
    const l = await c.leader();
    const follower = [...c.running.values()].find((r) => r !== l)!;
    await c.put(l, 'k', '0');
    await follower.node.readIndex();
    const before = follower.node.stats.readIndexRequests;
    // 200 reads in one turn of the event loop: one request for all of them.
    await Promise.all(Array.from({ length: 200 }, () => follower.node.readIndex()));
    assert.equal(follower.node.stats.readIndexRequests - before, 1);
    // Writes acknowledged one after another, each followed by a read that is not awaited: a read
    // that joined a later batch must still see the write acknowledged before its call.
    const reads: Promise<void>[] = [];
    for (let i = 1; i <= 30; i++) {
      await c.put(l, 'k', String(i));
      reads.push(
        follower.node.readIndex().then(() => {
          assert.ok(Number(dec.decode(follower.machine.read('k')!)) >= i, `read ${i} saw ${dec.decode(follower.machine.read('k')!)}`);
        }),
      );
    }
    await Promise.all(reads);
  });
});

test('a restarted member applies each entry once and keeps its data', async () => {
  await withCluster(async (c) => {
    for (const id of [1, 2, 3]) await c.addAddress(id);
    for (const id of [1, 2, 3]) await c.start(id, { bootstrap: true, snapshotEntries: 40 });
    let l = await c.leader();
    for (let i = 0; i < 100; i++) await c.put(l, `k${i}`, `v${i}`);
    const victim = [...c.running.keys()].find((id) => id !== l.node.id)!;
    await c.stop(victim);
    for (let i = 100; i < 150; i++) await c.put(l, `k${i}`, `v${i}`);
    const back = await c.start(victim, { bootstrap: true, snapshotEntries: 40 });
    l = await c.leader();
    const target = l.node.status().commit;
    await until('the restarted member to catch up', () => back.node.status().applied >= target);
    assert.equal(back.machine.size, 150);
    assert.equal(dec.decode(back.machine.read('k149')!), 'v149');
    assert.ok(l.node.status().stats.snapshotsTaken > 0, 'the leader should have snapshotted');
  });
});

test('a far-behind member catches up from a snapshot after the log was compacted', async () => {
  await withCluster(async (c) => {
    for (const id of [1, 2, 3]) await c.addAddress(id);
    for (const id of [1, 2, 3]) await c.start(id, { bootstrap: true, snapshotEntries: 30 });
    let l = await c.leader();
    const victim = [...c.running.keys()].find((id) => id !== l.node.id)!;
    await c.stop(victim);
    for (let i = 0; i < 200; i++) await c.put(l, `k${i}`, `v${i}`);
    assert.ok(l.node.status().firstIndex > 50, 'the leader should have compacted its log');
    const back = await c.start(victim, { bootstrap: true, snapshotEntries: 30 });
    l = await c.leader();
    const target = l.node.status().commit;
    await until('the member to catch up from a snapshot', () => back.node.status().applied >= target);
    assert.ok(back.node.status().stats.snapshotsRestored >= 1);
    assert.equal(back.machine.size, 200);
  });
});

test('a restarted member keeps the ratio rule: the log it replays does not make it snapshot the whole state again', async () => {
  await withCluster(async (c) => {
    await c.addAddress(1);
    const options = { bootstrap: true, snapshotEntries: 20, snapshotLogRatio: 1 };
    let r = await c.start(1, options);
    await c.leader();
    const big = 'x'.repeat(2000);
    for (let i = 0; i < 40; i++) await c.put(r, `big${i}`, big); // about 80 KB of state
    await until('the first snapshot', () => r.node.status().stats.snapshotsTaken >= 1);
    // Ten times snapshotEntries, but a few KB against the 80 KB snapshot: no snapshot is due.
    for (let i = 0; i < 200; i++) await c.put(r, 'small', String(i));
    const before = r.node.status().stats.snapshotsTaken;
    await c.stop(1);
    r = await c.start(1, options);
    // Winning the election takes 20 or more idle ticks after the replay: time for any snapshot the
    // member wants, idle or not; the write then commits one already written.
    await c.leader();
    await c.put(r, 'after', 'restart');
    assert.equal(r.node.status().stats.snapshotsTaken, 0, 'snapshots taken after the restart');
    assert.equal(dec.decode(r.machine.read('small')!), '199');
    assert.equal(before, 1);
  });
});

test('leadership moves on request and a learner joins, is promoted, and a voter is removed', async () => {
  await withCluster(async (c) => {
    for (const id of [1, 2, 3]) await c.addAddress(id);
    for (const id of [1, 2, 3]) await c.start(id, { bootstrap: true });
    let l = await c.leader();
    await c.put(l, 'a', '1');
    const to = [1, 2, 3].find((id) => id !== l.node.id)!;
    await l.node.transferLeadership(to);
    l = await c.leader();
    assert.equal(l.node.id, to);

    const m4 = await c.addAddress(4);
    const learner = await c.start(4, { bootstrap: false });
    let cs = await l.node.changeMembership('addLearner', 4, m4.address);
    assert.deepEqual(cs.learners, [4]);
    await c.put(l, 'b', '2');
    await until('the learner to catch up', () => learner.machine.read('b') !== undefined);
    cs = await l.node.changeMembership('addVoter', 4, m4.address);
    assert.deepEqual(cs.voters, [1, 2, 3, 4]);
    const removed = [1, 2, 3].find((id) => id !== l.node.id)!;
    cs = await l.node.changeMembership('removeNode', removed);
    assert.deepEqual(cs.voters, [1, 2, 3, 4].filter((id) => id !== removed));
    await c.stop(removed);
    await c.put(l, 'c', '3');
    await learner.node.readIndex();
    assert.equal(dec.decode(learner.machine.read('c')!), '3');
  });
});

test('proposals made together are appended together and each gets its own result; a follower forwards through Raft', async () => {
  await withCluster(async (c) => {
    for (const id of [1, 2, 3]) await c.addAddress(id);
    for (const id of [1, 2, 3]) await c.start(id, { bootstrap: true });
    const l = await c.leader();
    await c.put(l, 'warm', 'up');
    const syncsBefore = l.node.status().stats.syncs;
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => c.put(l, `b${i}`, `v${i}`)));
    assert.equal(results.length, 200);
    assert.equal(l.machine.size, 201);
    // 200 proposals made in one turn need far fewer than 200 synced appends.
    assert.ok(l.node.status().stats.syncs - syncsBefore < 50, `${l.node.status().stats.syncs - syncsBefore} syncs for 200 proposals`);

    const follower = [...c.running.values()].find((r) => r !== l)!;
    await Promise.all(Array.from({ length: 20 }, (_, i) => follower.node.forward(encodeCommand({ op: 'put', clientId: 'fwd', seq: i + 1, key: `f${i}`, value: enc.encode(`w${i}`) }))));
    for (const r of c.running.values()) await until(`member ${r.node.id} to apply the forwarded writes`, () => r.machine.read('f19') !== undefined);
    assert.equal(dec.decode(l.machine.read('f7')!), 'w7');
  });
});

test('forwarding without a known leader is refused at once, so the caller may retry', async () => {
  await withCluster(async (c) => {
    await c.addAddress(1);
    await c.addAddress(2);
    // Member 2 never starts: member 1 cannot win an election and knows no leader.
    const alone = await c.start(1, { bootstrap: true });
    await assert.rejects(alone.node.forward(enc.encode('x')), (e: Error) => e instanceof ProposalDroppedError);
  });
});

test('with snapshotLogRatio, a large state is snapshotted only once the log since the last snapshot is as large, in an idle moment', async () => {
  for (const ratio of [0, 1]) {
    await withCluster(async (c) => {
      await c.addAddress(1);
      const r = await c.start(1, { bootstrap: true, snapshotEntries: 20, snapshotLogRatio: ratio });
      await c.leader();
      const big = 'x'.repeat(2000);
      for (let i = 0; i < 40; i++) await c.put(r, `big${i}`, big); // about 80 KB of state, snapshotted at least once
      // The first snapshot comes at once without a ratio, and in the next idle tick with one.
      await until('the first snapshot', () => r.node.status().stats.snapshotsTaken >= 1);
      const before = r.node.status().stats.snapshotsTaken;
      for (let i = 0; i < 200; i++) await c.put(r, 'small', String(i)); // a few KB of log
      const taken = r.node.status().stats.snapshotsTaken - before;
      if (ratio === 0) assert.ok(taken >= 9, `${taken} snapshots for 200 small writes at ratio 0`);
      else assert.equal(taken, 0);
      assert.equal(dec.decode(r.machine.read('small')!), '199');
      if (ratio === 1) {
        // Past the threshold (the log now outweighs the state) but below 4 times it: the snapshot
        // waits for a tick with nothing applied, which comes once the writes stop.
        for (let i = 0; i < 50; i++) await c.put(r, 'small', big);
        await until('a snapshot in an idle moment', () => r.node.status().stats.snapshotsTaken > before);
      }
    });
  }
});
