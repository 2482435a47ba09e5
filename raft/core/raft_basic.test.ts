import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TestCluster } from './testing/cluster.js';

test('three members elect exactly one leader', () => {
  const c = new TestCluster([1, 2, 3]);
  const l = c.waitLeader();
  assert.deepEqual(c.leaders(), [l]);
  for (const m of c.members.values()) assert.equal(m.rn.raft.lead, l);
});

test('a proposal commits on every member', () => {
  const c = new TestCluster([1, 2, 3]);
  const l = c.waitLeader();
  c.propose(l, 'x=1');
  c.stabilize();
  for (const id of [1, 2, 3]) assert.deepEqual(c.appliedData(id), ['x=1']);
});

test('a single member commits alone after its own sync', () => {
  const c = new TestCluster([1]);
  const l = c.waitLeader();
  assert.equal(l, 1);
  c.propose(1, 'a=1');
  c.stabilize();
  assert.deepEqual(c.appliedData(1), ['a=1']);
});

test('a follower rejects proposals with a clear error', () => {
  const c = new TestCluster([1, 2, 3]);
  const l = c.waitLeader();
  const f = [1, 2, 3].find((x) => x !== l)!;
  assert.throws(() => c.propose(f, 'x=1'), /is not the leader \(the leader is \d\)/);
});
