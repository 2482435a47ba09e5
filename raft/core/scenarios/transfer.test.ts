import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProposalDroppedError } from '../errors.js';
import { assertSafe, cluster, one, others } from './helpers.js';

test('leadership transfer to an up-to-date follower makes it leader at once', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  one(c, 'a=1');
  const t = others(c, l)[0];
  const term = c.member(l).rn.raft.term;
  c.member(l).rn.transferLeadership(t);
  c.stabilize();
  assert.deepEqual(c.leaders(), [t]);
  assert.equal(c.member(t).rn.raft.term, term + 1);
  one(c, 'a=2');
  assertSafe(c);
});

test('leadership transfer to a lagging follower first catches it up, then hands over', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  const t = others(c, l)[0];
  c.isolate(t);
  for (let i = 0; i < 10; i++) one(c, `a=${i}`, others(c, t));
  assert.ok(c.member(t).rn.raft.log.lastIndex() < c.member(l).rn.raft.log.lastIndex());
  c.heal();
  c.member(l).rn.transferLeadership(t);
  assert.equal(c.member(l).rn.raft.leadTransferee, t);
  c.stabilize();
  assert.deepEqual(c.leaders(), [t]);
  // The new leader had every committed entry before it campaigned.
  assert.equal(c.appliedData(t).length, 10);
  one(c, 'b=1');
  assertSafe(c);
});

test('leadership transfer to a dead member is abandoned after an election timeout, and proposals are refused meanwhile', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  const t = others(c, l)[0];
  c.crash(t);
  c.member(l).rn.transferLeadership(t);
  c.stabilize();
  assert.equal(c.member(l).rn.raft.leadTransferee, t);
  assert.throws(() => c.propose(l, 'x=1'), (e: unknown) => e instanceof ProposalDroppedError && /leadership is being transferred/.test(e.message));
  c.tick(c.member(l).rn.raft.electionTimeout);
  assert.equal(c.member(l).rn.raft.leadTransferee, 0);
  assert.deepEqual(c.leaders(), [l]);
  one(c, 'x=2', others(c, t));
  assertSafe(c);
});
