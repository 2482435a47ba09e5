import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProposalDroppedError } from '../errors.js';
import type { TestCluster } from '../testing/cluster.js';
import type { NodeId } from '../types.js';
import { assertSafe, cluster, nApplied, one, others } from './helpers.js';

function voters(c: TestCluster, id: NodeId): NodeId[] {
  return c.member(id).rn.raft.voters;
}

/** Proposes a change on the leader and runs until the `among` members (default: all live ones) applied it. */
function change(c: TestCluster, type: 'addVoter' | 'addLearner' | 'removeNode', nodeId: NodeId, among?: NodeId[]): void {
  const l = c.leader()!;
  const { index } = c.proposeConfChange(l, { type, nodeId });
  const waitFor = among ?? others(c);
  for (let i = 0; i < 100; i++) {
    c.tick(1);
    if (waitFor.every((id) => c.member(id).rn.raft.log.applied >= index)) return;
  }
  assert.fail(`${type} ${nodeId} at index ${index} was not applied everywhere`);
}

test('a learner catches up without voting or counting for commit, then is promoted to voter', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  for (let i = 0; i < 20; i++) one(c, `k${i}=1`);
  c.addMember(4, []);
  change(c, 'addLearner', 4);
  one(c, 'k20=1');
  assert.deepEqual(voters(c, l), [1, 2, 3]);
  assert.deepEqual(c.member(4).rn.raft.learners, [4]);
  assert.deepEqual(c.member(4).rn.raft.voters, [1, 2, 3]);
  assert.equal(c.appliedData(4).length, 21);

  // The learner does not count for commit: the leader plus the learner are not a quorum.
  const [f1, f2] = others(c, l, 4);
  c.isolate(f1);
  c.isolate(f2);
  c.propose(l, 'nope=1');
  c.tick(5);
  assert.equal(nApplied(c, 'nope=1'), 0);
  // Nor does it campaign or vote the leader's term up when the voters are gone.
  c.heal();
  c.crash(l);
  c.crash(f1);
  const term = c.member(4).rn.raft.term;
  c.tick(100);
  assert.equal(c.member(4).rn.raft.role, 'follower');
  assert.equal(c.member(4).rn.raft.term, term);
  c.restart(l);
  c.restart(f1);
  c.waitLeader(300, [1, 2, 3]);

  change(c, 'addVoter', 4);
  for (const id of [1, 2, 3, 4]) assert.deepEqual(voters(c, id), [1, 2, 3, 4]);
  one(c, 'k21=1');
  // Now four voters: commit needs three of them.
  const l2 = c.leader()!;
  const [a, b] = others(c, l2);
  c.isolate(a);
  c.isolate(b);
  c.propose(l2, 'two-of-four=1');
  c.tick(5);
  assert.equal(nApplied(c, 'two-of-four=1'), 0);
  c.heal();
  one(c, 'k22=1');
  assertSafe(c);
});

test('membership changes while a minority is cut off: the new configuration’s majority commits', () => {
  const c = cluster(5, { seed: 4 });
  const l = c.waitLeader();
  one(c, 'a=1');
  const [x, y] = others(c, l);
  c.isolate(x);
  c.isolate(y);
  // Remove one of the cut-off pair: {others} of four, majority three, all reachable.
  change(c, 'removeNode', x, others(c, x, y));
  for (const id of others(c, x, y)) assert.ok(!voters(c, id).includes(x));
  one(c, 'a=2', others(c, x, y));
  // Add a new member while y is still cut off: five voters, three reachable plus the newcomer.
  c.addMember(6, []);
  change(c, 'addVoter', 6, others(c, x, y));
  one(c, 'a=3', others(c, x, y));
  assert.equal(c.member(6).kv.get('a'), '3');
  c.heal();
  c.tick(50);
  one(c, 'a=4', others(c, x));
  assert.deepEqual(voters(c, y), voters(c, c.leader()!));
  assertSafe(c);
});

for (const opts of [{}, { preVote: false, checkQuorum: false }]) {
  const how = 'preVote' in opts ? 'even without PreVote and CheckQuorum' : 'with the defaults';
  test(`a removed member that never learned of its removal cannot disrupt the cluster (${how})`, () => {
    const c = cluster(3, opts);
    const l = c.waitLeader();
    one(c, 'a=1');
    const gone = others(c, l)[0];
    c.isolate(gone);
    change(c, 'removeNode', gone, others(c, gone));
    one(c, 'a=2', others(c, gone));
    const term = c.member(l).rn.raft.term;
    c.tick(100, [gone]);
    c.heal();
    c.tick(100);
    assert.deepEqual(c.leaders(), [l]);
    assert.equal(c.member(l).rn.raft.term, term);
    one(c, 'a=3', others(c, gone));
    assert.ok(!c.appliedData(gone).includes('a=3'));
    assertSafe(c);
  });
}

test('one configuration change at a time: a second is refused while the first is pending', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  c.addMember(4, []);
  c.addMember(5, []);
  c.proposeConfChange(l, { type: 'addLearner', nodeId: 4 });
  assert.throws(
    () => c.proposeConfChange(l, { type: 'addLearner', nodeId: 5 }),
    (e: unknown) => e instanceof ProposalDroppedError && /a configuration change is pending/.test(e.message),
  );
  c.stabilize();
  change(c, 'addLearner', 5);
  assert.deepEqual(c.member(l).rn.raft.learners, [4, 5]);
  assertSafe(c);
});

test('one configuration change at a time: a new leader refuses changes until its first entry is applied', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  one(c, 'a=1');
  const next = others(c, l)[0];
  c.member(l).rn.transferLeadership(next);
  // Step the cluster by hand and catch the new leader before its empty entry commits.
  let caught = false;
  for (let i = 0; i < 100 && !caught; i++) {
    for (const id of c.members.keys()) {
      c.process(id);
      if (c.member(next).rn.raft.role === 'leader' && c.member(next).rn.raft.log.applied < c.member(next).rn.raft.log.lastIndex()) {
        caught = true;
        break;
      }
    }
    if (!caught) c.deliver();
  }
  assert.ok(caught, 'the new leader was not observed before its first entry applied');
  assert.throws(() => c.proposeConfChange(next, { type: 'removeNode', nodeId: l }), /configuration change is pending/);
  c.stabilize();
  change(c, 'removeNode', l);
  assert.deepEqual(voters(c, next), others(c, l).sort());
  assertSafe(c);
});

test('a new voter that has heard from no leader yet answers (pre-)votes, so the others can elect a leader while the old one is down', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  one(c, 'a=1');
  c.addMember(4, []);
  // The leader cannot reach the newcomer, so it stays at term 0 with an empty log.
  c.partition([l], [4]);
  change(c, 'addVoter', 4, [1, 2, 3]);
  assert.equal(c.member(4).rn.raft.term, 0);
  c.crash(l);
  const rest = others(c, l, 4);
  c.forgetLeader(rest);
  // Member 4 is needed for a quorum of four; it must answer the (pre-)votes rather than throw or refuse.
  c.campaign(rest[0]);
  const l2 = c.waitLeader(300, rest);
  c.restart(l);
  c.heal();
  one(c, 'a=2', [1, 2, 3, 4]);
  assert.ok(c.member(l2).rn.raft.voters.includes(4));
  assertSafe(c);
});

test('a member added after the leader’s last snapshot catches up from that snapshot, which predates it', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  for (let i = 0; i < 10; i++) one(c, `s${i}=1`);
  for (const id of [1, 2, 3]) c.snapshotAndCompact(id);
  const snap = c.member(l).storage.snapshot().metadata;
  assert.ok(!snap.confState.learners.includes(4));
  c.addMember(4, []);
  change(c, 'addLearner', 4, [1, 2, 3]);
  one(c, 's10=1');
  assert.equal(c.member(4).storage.snapshot().metadata.index, snap.index);
  assert.deepEqual(c.member(4).rn.raft.learners, [4]);
  assert.equal(c.appliedData(4).length, 11);
  change(c, 'addVoter', 4);
  one(c, 's11=1');
  assertSafe(c);
});
