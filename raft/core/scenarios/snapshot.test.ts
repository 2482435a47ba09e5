import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../random.js';
import type { TestCluster } from '../testing/cluster.js';
import type { NodeId } from '../types.js';
import { assertSafe, cluster, one, others } from './helpers.js';

function countSnaps(c: TestCluster, to: NodeId): () => number {
  let n = 0;
  c.filter = (m) => {
    if (m.type === 'MsgSnap' && m.to === to) n++;
    return true;
  };
  return () => n;
}

test('snapshot basic: members compact their logs as they apply and lose nothing', () => {
  const c = cluster(3, { snapshotEveryEntries: 10 });
  c.waitLeader();
  for (let i = 0; i < 35; i++) one(c, `k${i}=${i}`);
  for (const m of c.members.values()) {
    assert.ok(m.storage.firstIndex() > 20, `member ${m.id} kept its log from ${m.storage.firstIndex()}`);
    assert.equal(c.appliedData(m.id).length, 35);
    assert.equal(m.kv.get('k34'), '34');
  }
  assertSafe(c);
});

/** Cuts a follower off (by `cutOff`), commits past the leader's compaction point, brings it back. */
function installAfter(cutOff: (c: TestCluster, f: NodeId) => void, bringBack: (c: TestCluster, f: NodeId) => void): TestCluster {
  const c = cluster(3, { snapshotEveryEntries: 10 });
  const l = c.waitLeader();
  one(c, 'a=0');
  const f = others(c, l)[0];
  cutOff(c, f);
  for (let i = 1; i <= 30; i++) one(c, `a=${i}`, others(c, f));
  assert.ok(c.member(l).storage.firstIndex() > c.member(f).rn.raft.log.lastIndex() + 1, 'the leader should have compacted past the follower');
  const snaps = countSnaps(c, f);
  bringBack(c, f);
  one(c, 'a=31');
  c.filter = undefined;
  assert.ok(snaps() >= 1, 'the follower should have been sent a snapshot');
  assert.equal(c.member(f).kv.get('a'), '31');
  assert.deepEqual(c.appliedData(f), c.appliedData(l));
  assertSafe(c);
  return c;
}

test('snapshot install (disconnect): a follower cut off while the leader compacts catches up from a snapshot', () => {
  installAfter(
    (c, f) => c.isolate(f),
    (c) => c.heal(),
  );
});

test('snapshot install (crash): a follower that was down while the leader compacted restarts and installs a snapshot', () => {
  installAfter(
    (c, f) => c.crash(f),
    (c, f) => c.restart(f),
  );
});

test('snapshot install (unreliable): snapshots and appends get through a lossy network eventually', () => {
  const c = cluster(5, { seed: 9, snapshotEveryEntries: 7 });
  const rnd = new SeededRandom(9);
  c.waitLeader();
  for (let i = 0; i < 60; i++) {
    c.dropRate = 0.1;
    c.delayRate = 0.1;
    if (rnd.intn(8) === 0) c.isolate(1 + rnd.intn(5));
    if (rnd.intn(8) === 0) c.heal();
    const l = c.leader();
    if (l !== undefined) {
      try {
        c.propose(l, `u${i}=1`);
      } catch {
        // Between leaders.
      }
    }
    c.tick(1 + rnd.intn(4));
  }
  c.heal();
  one(c, 'final=1', [...c.members.keys()], 1000);
  const ref = c.appliedData(c.leader()!);
  for (const id of c.members.keys()) assert.deepEqual(c.appliedData(id), ref);
  assertSafe(c);
});

test('snapshot with crash and restart of all members: state comes back from snapshots and logs', () => {
  const c = cluster(3, { snapshotEveryEntries: 5 });
  c.waitLeader();
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 7; i++) one(c, `r${round}=${i}`);
    for (const id of c.members.keys()) c.crash(id);
    for (const id of c.members.keys()) c.restart(id);
    // Snapshot plus the committed log tail rebuild the state before any leader exists.
    c.stabilize();
    assert.deepEqual(c.leaders(), []);
    for (const id of c.members.keys()) {
      assert.ok(c.member(id).storage.snapshot().metadata.index > 0);
      assert.equal(c.member(id).kv.get(`r${round}`), '6');
    }
    c.waitLeader();
    one(c, `after${round}=1`);
    for (const id of c.members.keys()) assert.equal(c.member(id).kv.get(`r${round}`), '6');
  }
  assertSafe(c);
});

test('snapshot install to a partitioned follower: it receives MsgSnap, restores, and then follows by appends', () => {
  const c = cluster(3, { snapshotEveryEntries: 1000 });
  const l = c.waitLeader();
  for (let i = 0; i < 5; i++) one(c, `p${i}=1`);
  const f = others(c, l)[0];
  c.isolate(f);
  for (let i = 5; i < 20; i++) one(c, `p${i}=1`, others(c, f));
  c.snapshotAndCompact(l);
  const snapIndex = c.member(l).storage.snapshot().metadata.index;
  assert.equal(c.member(l).storage.firstIndex(), snapIndex + 1);
  const seen: string[] = [];
  c.filter = (m) => {
    if (m.to === f && (m.type === 'MsgSnap' || m.type === 'MsgApp')) seen.push(m.type);
    return true;
  };
  c.heal();
  c.tick(3);
  assert.ok(seen.includes('MsgSnap'), `the follower was sent ${seen.join(', ')} but no snapshot`);
  const fm = c.member(f);
  assert.equal(fm.storage.snapshot().metadata.index, snapIndex);
  assert.equal(fm.rn.raft.log.committed, c.member(l).rn.raft.log.committed);
  assert.equal(c.member(l).rn.status().progress![f].state, 'replicate');
  // After the snapshot, new entries go by plain appends.
  seen.length = 0;
  one(c, 'p20=1');
  assert.ok(!seen.includes('MsgSnap') && seen.includes('MsgApp'));
  c.filter = undefined;
  assert.deepEqual(c.appliedData(f), c.appliedData(l));
  assertSafe(c);
});
