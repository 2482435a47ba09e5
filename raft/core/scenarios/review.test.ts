// Regression tests from the adversarial review of the core: each one failed
// before its fix.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeConfChange } from '../conf_change.js';
import type { TestCluster } from '../testing/cluster.js';
import { type Entry, type NodeId, type Ready, message } from '../types.js';
import { assertSafe, cluster, one } from './helpers.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Persists and applies a Ready by hand, as the driver does once its awaits finish. */
function finishReady(c: TestCluster, id: NodeId, rd: Ready): void {
  const m = c.member(id);
  if (rd.snapshot) m.storage.applySnapshot(rd.snapshot);
  if (rd.entries.length > 0) m.storage.append(rd.entries);
  if (rd.hardState) m.storage.setHardState(rd.hardState);
  for (const e of rd.committedEntries) {
    if (e.type === 'confChange') m.rn.applyConfChange(decodeConfChange(e.data), e.index);
  }
  m.rn.advance(rd);
}

test('a follower whose election timer fires while a received snapshot is still being saved campaigns instead of throwing', () => {
  const c = cluster(3);
  c.campaign(1);
  one(c, 'a=1');
  c.isolate(3);
  for (let i = 0; i < 5; i++) one(c, `b=${i}`, [1, 2]);
  c.snapshotAndCompact(1);
  c.rejoin(3);
  // Run until member 3 has stepped the leader's snapshot, but do not let it process that Ready.
  const m3 = c.member(3);
  const hasReady = m3.rn.hasReady.bind(m3.rn);
  m3.rn.hasReady = () => !m3.rn.raft.log.unstable.snapshot && hasReady();
  for (let i = 0; i < 100 && !m3.rn.raft.log.unstable.snapshot; i++) {
    c.tick(1, [1]);
  }
  assert.ok(m3.rn.raft.log.unstable.snapshot, 'member 3 should have received a snapshot');
  m3.rn.hasReady = hasReady;
  const rd = m3.rn.ready();
  // The leader dies while member 3 is still writing the snapshot; its election timer runs out.
  c.crash(1);
  assert.doesNotThrow(() => {
    for (let i = 0; i < 40; i++) m3.rn.tick();
  });
  assert.notEqual(m3.rn.raft.role, 'follower', 'member 3 should have started a (pre-)election');
  finishReady(c, 3, rd);
  c.restart(1);
  one(c, 'c=1');
  assertSafe(c);
});

test('a lone voter restarted with a lost commit-only write does not serve a read older than an acknowledged write', () => {
  const c = cluster(1);
  c.campaign(1);
  one(c, 'x=1');
  const m = c.member(1);
  const acked = m.applied.find((e) => dec.decode(e.data) === 'x=1')!.index;
  // The commit index reached disk in an unsynced write; a power loss takes it back.
  m.storage.setHardState({ ...m.storage.hardStateNow(), commit: acked - 1 });
  c.crash(1);
  c.restart(1);
  const r = c.member(1).rn;
  r.campaign();
  assert.equal(r.raft.role, 'leader');
  const reads: number[] = [];
  const orig = r.ready.bind(r);
  r.ready = () => {
    const rd = orig();
    for (const rs of rd.readStates) reads.push(rs.index);
    return rd;
  };
  r.readIndex(enc.encode('r'));
  c.stabilize();
  assert.equal(reads.length, 1, 'the read should be answered once the new term’s entry commits');
  assert.ok(reads[0] >= acked, `read at index ${reads[0]} misses the acknowledged write at ${acked}`);
  assertSafe(c);
});

test('a configuration change applied after a newer snapshot was received does not roll the configuration back', () => {
  const c = cluster(3);
  c.campaign(1);
  one(c, 'a=1');
  c.addMember(4, []);
  c.isolate(3);
  const l = c.member(1);
  // The leader adds 4 as a voter; member 3 receives that entry as committed but has not applied it yet.
  const { index: addAt } = c.proposeConfChange(1, { type: 'addVoter', nodeId: 4 });
  c.tick(3, [1, 2, 4]);
  const term = l.rn.raft.term;
  const addEntry: Entry = l.storage.entries(addAt, addAt + 1, Infinity)[0];
  const m3 = c.member(3);
  m3.rn.step(message({
    type: 'MsgApp', from: 1, to: 3, term, index: addAt - 1, logTerm: l.storage.term(addAt - 1), entries: [addEntry], commit: addAt,
  }));
  const rd = m3.rn.ready();
  assert.ok(rd.committedEntries.some((e) => e.index === addAt && e.type === 'confChange'));
  // Meanwhile the cluster removes 4 again and the leader compacts; member 3 gets the snapshot while still applying.
  for (let i = 0; i < 20 && l.rn.raft.log.applied < addAt; i++) c.tick(1, [1, 2, 4]);
  c.proposeConfChange(1, { type: 'removeNode', nodeId: 4 });
  c.tick(3, [1, 2]);
  one(c, 'b=1', [1, 2]);
  assert.deepEqual(l.rn.raft.voters, [1, 2, 3]);
  c.snapshotAndCompact(1);
  m3.rn.step(message({ type: 'MsgSnap', from: 1, to: 3, term, snapshot: l.storage.snapshot() }));
  // Now the old Ready's entries are applied, then the snapshot's Ready.
  finishReady(c, 3, rd);
  c.process(3);
  assert.deepEqual(m3.rn.raft.voters, [1, 2, 3], 'member 3 rolled its configuration back to one with member 4');
  c.rejoin(3);
  one(c, 'c=1', [1, 2, 3]);
  assertSafe(c);
});
