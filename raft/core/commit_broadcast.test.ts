import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TestCluster } from './testing/cluster.js';

function followers(c: TestCluster, leader: number): number[] {
  return [...c.members.keys()].filter((id) => id !== leader);
}

function appendsSince(c: TestCluster, before: number): number {
  return (c.sent.byType.get('MsgApp') ?? 0) - before;
}

test('eager (etcd): a moved commit index goes out at once in an empty append to each follower', () => {
  const c = new TestCluster([1, 2, 3]);
  const l = c.waitLeader();
  const before = c.sent.byType.get('MsgApp') ?? 0;
  c.propose(l, 'x=1');
  c.stabilize();
  assert.equal(appendsSince(c, before), 4, 'one append with the entry and one with the commit, to each of 2 followers');
  for (const id of [1, 2, 3]) assert.deepEqual(c.appliedData(id), ['x=1']);
});

test('lazy: one append per follower per write; followers apply at the next heartbeat', () => {
  const c = new TestCluster([1, 2, 3], { lazyCommitBroadcast: true });
  const l = c.waitLeader();
  const before = c.sent.byType.get('MsgApp') ?? 0;
  c.propose(l, 'x=1');
  c.stabilize();
  assert.equal(appendsSince(c, before), 2);
  assert.deepEqual(c.appliedData(l), ['x=1'], 'the leader applies (and answers the client) without waiting');
  for (const f of followers(c, l)) {
    assert.equal(c.member(f).rn.raft.log.lastIndex(), c.member(l).rn.raft.log.lastIndex(), `member ${f} holds the entry`);
    assert.deepEqual(c.appliedData(f), [], `member ${f} has not heard of the commit yet`);
  }
  c.tick(1);
  for (const id of [1, 2, 3]) assert.deepEqual(c.appliedData(id), ['x=1']);
});

test('lazy: the next write\'s append carries the commit of the one before', () => {
  const c = new TestCluster([1, 2, 3], { lazyCommitBroadcast: true });
  const l = c.waitLeader();
  c.propose(l, 'x=1');
  c.stabilize();
  c.propose(l, 'x=2');
  // Deliver only the appends with the new entry: the followers learn x=1 is committed from them.
  c.process(l);
  c.deliver();
  for (const f of followers(c, l)) c.process(f);
  for (const f of followers(c, l)) assert.deepEqual(c.appliedData(f), ['x=1'], `member ${f}`);
  c.stabilize();
  c.tick(1);
  for (const id of [1, 2, 3]) assert.deepEqual(c.appliedData(id), ['x=1', 'x=2']);
});

test('lazy: a follower that was cut off catches up and applies once it can be reached', () => {
  const c = new TestCluster([1, 2, 3], { lazyCommitBroadcast: true });
  const l = c.waitLeader();
  const [a, b] = followers(c, l);
  c.isolate(b);
  for (let i = 0; i < 5; i++) c.propose(l, `k=${i}`);
  c.stabilize();
  assert.deepEqual(c.appliedData(a).length, 0);
  c.tick(1);
  assert.equal(c.appliedData(a).length, 5);
  c.rejoin(b);
  c.tick(2);
  assert.deepEqual(c.appliedData(b), ['k=0', 'k=1', 'k=2', 'k=3', 'k=4']);
  c.checkSafety();
});
