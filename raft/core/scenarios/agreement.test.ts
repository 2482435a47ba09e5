import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProposalDroppedError } from '../errors.js';
import { assertSafe, cluster, nApplied, one, others } from './helpers.js';

test('basic agreement: each proposal gets the next index and commits on every member', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  let prev = c.member(l).rn.raft.log.lastIndex();
  for (let i = 1; i <= 3; i++) {
    assert.equal(nApplied(c, `k=${i}`), 0);
    const { index } = c.propose(l, `k=${i}`);
    assert.equal(index, prev + 1);
    prev = index;
    c.stabilize();
    assert.equal(nApplied(c, `k=${i}`), 3);
  }
  for (const id of [1, 2, 3]) assert.equal(c.member(id).kv.get('k'), '3');
  assertSafe(c);
});

test('RPC byte count: each entry is sent to each follower about once', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  const before = c.sent.bytes;
  const valueBytes = 5000;
  const n = 10;
  for (let i = 0; i < n; i++) {
    c.propose(l, `k${i}=${'x'.repeat(valueBytes)}`);
    c.stabilize();
  }
  const sent = c.sent.bytes - before;
  const expected = n * (valueBytes + 3) * 2;
  assert.ok(sent >= expected, `sent ${sent} bytes, expected at least ${expected}`);
  assert.ok(sent <= expected * 1.05, `sent ${sent} bytes, more than 5% over the ${expected} needed`);
  assertSafe(c);
});

test('follower failure: two of three commit without the third, and one alone commits nothing', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  one(c, 'a=1');
  const [f1, f2] = others(c, l);
  c.crash(f1);
  one(c, 'a=2', others(c));
  c.crash(f2);
  const l2 = c.leader()!;
  const commit = c.member(l2).rn.raft.log.committed;
  c.propose(l2, 'a=3');
  c.tick(50);
  assert.equal(nApplied(c, 'a=3'), 0);
  for (const m of c.members.values()) if (m.up) assert.equal(m.rn.raft.log.committed, commit);
  assertSafe(c);
});

test('leader failure: the survivors elect a new leader and commit, and a lone survivor commits nothing', () => {
  const c = cluster(3);
  const l1 = c.waitLeader();
  one(c, 'a=1');
  c.crash(l1);
  const l2 = c.waitLeader(200, others(c, l1));
  one(c, 'a=2', others(c, l1));
  c.crash(l2);
  c.tick(100);
  const survivor = others(c, l1, l2)[0];
  assert.deepEqual(c.leaders(), []);
  assert.throws(() => c.propose(survivor, 'a=3'), ProposalDroppedError);
  assert.equal(nApplied(c, 'a=3'), 0);
  assertSafe(c);
});

test('fail-agree: a cut-off follower misses commits and catches up when it comes back', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  one(c, 'a=101');
  const f = others(c, l)[0];
  c.isolate(f);
  for (let i = 102; i <= 106; i++) one(c, `a=${i}`, others(c, f));
  c.heal();
  one(c, 'a=107');
  assert.deepEqual(c.appliedData(f), ['a=101', 'a=102', 'a=103', 'a=104', 'a=105', 'a=106', 'a=107']);
  assertSafe(c);
});

test('fail-no-agree: a leader that lost three of five followers commits nothing until they return', () => {
  const c = cluster(5);
  const l = c.waitLeader();
  one(c, 'a=10');
  const fs = others(c, l);
  for (const f of fs.slice(0, 3)) c.isolate(f);
  const { index } = c.propose(l, 'a=20');
  assert.equal(index, c.member(l).rn.raft.log.lastIndex());
  c.tick(5);
  assert.equal(nApplied(c, 'a=20'), 0);
  c.heal();
  one(c, 'a=30');
  assertSafe(c);
});

test('concurrent starts: proposals made back to back all commit, at distinct indexes', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  const indexes = new Set<number>();
  for (let i = 0; i < 5; i++) indexes.add(c.propose(l, `c${i}=1`).index);
  assert.equal(indexes.size, 5);
  c.stabilize();
  for (const id of [1, 2, 3]) assert.deepEqual(c.appliedData(id), ['c0=1', 'c1=1', 'c2=1', 'c3=1', 'c4=1']);
  assertSafe(c);
});

test('rejoin: a partitioned leader’s uncommitted entries are overwritten when it comes back', () => {
  const c = cluster(3);
  const l1 = c.waitLeader();
  one(c, 'a=101');
  c.isolate(l1);
  // Accepted by the cut-off leader, never committed.
  c.propose(l1, 'a=102');
  c.propose(l1, 'a=103');
  c.propose(l1, 'a=104');
  const l2 = c.waitLeader(200, others(c, l1));
  one(c, 'a=105', others(c, l1));
  c.isolate(l2);
  c.reconnect([l1], others(c, l1, l2));
  // l1's log ends in an older term, so the third member must lead.
  one(c, 'a=106', others(c, l2));
  c.heal();
  one(c, 'a=107');
  for (const id of [1, 2, 3]) assert.deepEqual(c.appliedData(id), ['a=101', 'a=105', 'a=106', 'a=107']);
  assertSafe(c);
});

test('backup: a follower with 50 conflicting entries is fixed in a handful of append round trips', () => {
  const c = cluster(5, { seed: 3 });
  const l1 = c.waitLeader();
  one(c, 'base=1');
  const f1 = others(c, l1)[0];
  const majority = others(c, l1, f1);
  c.partition([l1, f1], majority);
  for (let i = 0; i < 50; i++) c.propose(l1, `lost${i}=1`);
  c.stabilize();
  assert.ok(c.member(f1).rn.raft.log.lastIndex() >= 50);
  const l2 = c.waitLeader(300, majority);
  for (let i = 0; i < 50; i++) one(c, `won${i}=1`, majority);
  // A fresh leader starts optimistic (next = its last index + 1) and must walk back over the conflict.
  c.crash(l2);
  c.restart(l2);
  c.waitLeader(300, majority);
  // Count rejected appends (one per round trip) while the old pair is fixed.
  let rejects = 0;
  c.filter = (m) => {
    if (m.type === 'MsgAppResp' && m.reject && (m.from === l1 || m.from === f1)) rejects++;
    return true;
  };
  c.heal();
  one(c, 'after=1');
  c.filter = undefined;
  assert.ok(rejects >= 2, 'the scenario should make both old members reject an append');
  assert.ok(rejects <= 6, `fixing two followers took ${rejects} rejected appends`);
  for (const id of c.members.keys()) assert.equal(c.appliedData(id).filter((d) => d.startsWith('lost')).length, 0);
  for (const id of c.members.keys()) assert.equal(c.appliedData(id).filter((d) => d.startsWith('won')).length, 50);
  assertSafe(c);
});

test('RPC count: agreement costs a few messages per entry per follower, and an idle cluster only heartbeats', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  c.tick(5);
  let before = c.sent.messages;
  const n = 10;
  for (let i = 0; i < n; i++) {
    c.propose(l, `k=${i}`);
    c.stabilize();
  }
  const perEntry = (c.sent.messages - before) / n / 2;
  assert.ok(perEntry <= 4, `agreement used ${perEntry} messages per entry per follower`);

  before = c.sent.messages;
  const apps = c.sent.byType.get('MsgApp') ?? 0;
  const ticks = 100;
  c.tick(ticks);
  const idle = c.sent.messages - before;
  // One heartbeat and one answer per follower per heartbeat interval.
  assert.ok(idle <= (ticks + 1) * 2 * 2, `an idle cluster sent ${idle} messages in ${ticks} ticks`);
  assert.equal(c.sent.byType.get('MsgApp') ?? 0, apps, 'an idle leader sent appends');
  assertSafe(c);
});

test('a proposal where there is no leader fails with a clear error instead of being lost', () => {
  const c = cluster(3);
  assert.throws(() => c.propose(1, 'x=1'), /Proposal dropped: member 1 knows no leader/);
  const l = c.waitLeader();
  const f = others(c, l)[0];
  assert.throws(() => c.propose(f, 'x=1'), /member \d is not the leader \(the leader is \d\)/);
  // A candidate has no leader either.
  c.isolate(f);
  c.tick(60);
  assert.notEqual(c.member(f).rn.raft.role, 'leader');
  assert.throws(() => c.propose(f, 'x=1'), ProposalDroppedError);
  assertSafe(c);
});
