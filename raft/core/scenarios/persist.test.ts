import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../random.js';
import type { TestCluster } from '../testing/cluster.js';
import type { NodeId } from '../types.js';
import { assertSafe, cluster, nApplied, one, others } from './helpers.js';

function restartAll(c: TestCluster): void {
  for (const id of c.members.keys()) {
    c.crash(id);
    c.restart(id);
  }
}

test('persist 1: state survives crashing and restarting every member, the leader, and a follower', () => {
  const c = cluster(3);
  c.waitLeader();
  one(c, 'a=11');
  restartAll(c);
  one(c, 'a=12');
  const l1 = c.leader()!;
  c.crash(l1);
  c.restart(l1);
  one(c, 'a=13');
  const l2 = c.leader()!;
  c.crash(l2);
  one(c, 'a=14', others(c, l2));
  c.restart(l2);
  one(c, 'a=15');
  const f = others(c, c.leader()!)[0];
  c.crash(f);
  one(c, 'a=16', others(c, f));
  c.restart(f);
  one(c, 'a=17');
  for (const id of [1, 2, 3]) {
    assert.deepEqual(c.appliedData(id), ['a=11', 'a=12', 'a=13', 'a=14', 'a=15', 'a=16', 'a=17']);
    assert.equal(c.member(id).kv.get('a'), '17');
  }
  assertSafe(c);
});

test('persist 2: five members keep committing while pairs of them crash and restart in turn', () => {
  const c = cluster(5, { seed: 11 });
  c.waitLeader();
  let k = 0;
  for (let iter = 0; iter < 5; iter++) {
    one(c, `k=${++k}`);
    const l = c.leader()!;
    const down1 = ((l + 1 - 1) % 5) + 1;
    const down2 = ((l + 2 - 1) % 5) + 1;
    c.crash(down1);
    c.crash(down2);
    one(c, `k=${++k}`, others(c));
    const l2 = c.leader()!;
    const down3 = others(c, l2)[0];
    c.crash(down3);
    c.restart(down1);
    c.restart(down2);
    one(c, `k=${++k}`, others(c));
    c.restart(down3);
  }
  one(c, `k=${++k}`);
  for (const id of c.members.keys()) assert.equal(c.appliedData(id).length, k);
  assertSafe(c);
});

test('persist 3: a leader that crashes with the only copy of nothing loses nothing that was committed', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  one(c, 'a=101');
  const [f1, f2] = others(c, l);
  c.isolate(f2);
  one(c, 'a=102', [l, f1]);
  c.crash(l);
  c.crash(f1);
  c.heal();
  c.restart(l);
  // l and f2: l has a=102, so only l can win, and it carries a=102 forward.
  one(c, 'a=103', [l, f2]);
  c.restart(f1);
  one(c, 'a=104');
  for (const id of [1, 2, 3]) assert.deepEqual(c.appliedData(id), ['a=101', 'a=102', 'a=103', 'a=104']);
  assertSafe(c);
});

/** Runs elections until `id` leads; PreVote may need one round to learn the current term. */
function elect(c: TestCluster, id: NodeId, voters: NodeId[]): void {
  for (let i = 0; i < 3 && c.member(id).rn.raft.role !== 'leader'; i++) {
    c.forgetLeader(voters);
    c.campaign(id);
  }
  assert.equal(c.member(id).rn.raft.role, 'leader', `member ${id} did not win`);
}

test('Figure 8: a leader does not commit an older term’s entry by counting replicas, so it can be safely overwritten', () => {
  const c = cluster(5);
  // (a) S1 leads term 1 and gets x=1 (index 2) only to S2.
  elect(c, 1, [2, 3, 4, 5]);
  assert.equal(c.member(1).rn.raft.log.committed, 1);
  c.partition([1], [3, 4, 5]);
  c.propose(1, 'x=1');
  c.stabilize();
  assert.equal(c.member(2).rn.raft.log.lastIndex(), 2);

  // (b) S1 crashes; S5 wins with S3, S4 and appends y=1 in its term, replicating nothing.
  c.crash(1);
  c.heal();
  c.filter = (m) => !(m.from === 5 && m.type === 'MsgApp');
  elect(c, 5, [2, 3, 4]);
  const t5 = c.member(5).rn.raft.term;
  c.propose(5, 'y=1');
  c.stabilize();
  assert.equal(c.member(5).rn.raft.log.lastIndex(), 3);

  // (c) S5 crashes; S1 restarts and wins a later term, then copies x=1 to S3, so index 2 is on S1, S2, S3.
  c.crash(5);
  c.restart(1);
  c.filter = (m) => {
    if (m.from !== 1 || m.type !== 'MsgApp') return true;
    if (m.to === 4) return false;
    // S1 has appended its own term's empty entry; hold it back so only the old entry spreads.
    m.entries = m.entries.filter((e) => e.index <= 2);
    return true;
  };
  elect(c, 1, [2, 3, 4]);
  c.tick(3, [1, 2, 3, 4]);
  const s1 = c.member(1).rn.raft;
  assert.ok(s1.term > t5);
  assert.equal(s1.progress.get(2)!.match, 2);
  assert.equal(s1.progress.get(3)!.match, 2);
  // A majority stores index 2, but its term is 1: it must not count as committed.
  assert.equal(s1.log.committed, 1);
  assert.equal(nApplied(c, 'x=1'), 0);

  // (d) S1 crashes again; S5 can win with S2, S3, S4 (its last term is higher) and overwrites index 2.
  c.crash(1);
  c.restart(5);
  c.filter = undefined;
  elect(c, 5, [2, 3, 4]);
  c.stabilize();
  for (const id of [2, 3, 4, 5]) assert.deepEqual(c.appliedData(id), ['y=1']);

  c.restart(1);
  one(c, 'z=1');
  for (const id of [1, 2, 3, 4, 5]) assert.deepEqual(c.appliedData(id), ['y=1', 'z=1']);
  assertSafe(c);
});

/** Random crashes, restarts, partitions and proposals; then heal and check every commit survived. */
function churn(c: TestCluster, seed: number, iterations: number, unreliable: boolean): void {
  const rnd = new SeededRandom(seed);
  const all = [...c.members.keys()];
  const seen = new Set<string>();
  for (let it = 0; it < iterations; it++) {
    if (unreliable) {
      c.dropRate = 0.1;
      c.delayRate = 0.1;
      c.duplicateRate = 0.05;
    }
    const action = rnd.intn(10);
    const up = all.filter((id) => c.member(id).up);
    const down = all.filter((id) => !c.member(id).up);
    if (action < 5) {
      const l = c.leader();
      if (l !== undefined) {
        try {
          c.propose(l, `v${it}=1`);
        } catch {
          // A leader stepping down or transferring refuses proposals; that is fine here.
        }
      }
    } else if (action < 7 && up.length > 0) {
      c.crash(up[rnd.intn(up.length)]);
    } else if (action < 9 && down.length > 0) {
      c.restart(down[rnd.intn(down.length)]);
    } else if (rnd.intn(2) === 0) {
      c.isolate(all[rnd.intn(all.length)]);
    } else {
      c.heal();
    }
    c.tick(1 + rnd.intn(8));
    for (const id of up) for (const d of c.appliedData(id)) seen.add(d);
  }
  c.heal();
  for (const id of all) if (!c.member(id).up) c.restart(id);
  c.waitLeader(500);
  one(c, 'final=1', all, 1000);
  for (const d of seen) {
    for (const id of all) assert.ok(c.appliedData(id).includes(d), `committed "${d}" is missing on member ${id}`);
  }
  assert.ok(seen.size > 10, `only ${seen.size} entries committed during the churn`);
  assertSafe(c);
}

test('Figure 8 unreliable: random drops, delays and leader crashes over a long run never break safety', () => {
  const c = cluster(5, { seed: 88 });
  const rnd = new SeededRandom(8);
  c.waitLeader();
  const seen = new Set<string>();
  for (let it = 0; it < 300; it++) {
    c.dropRate = 0.2;
    c.delayRate = 0.3;
    const l = c.leader();
    if (l !== undefined) {
      try {
        c.propose(l, `f${it}=1`);
      } catch {
        // Stepping down: try the next leader.
      }
      if (rnd.intn(10) < 3) c.crash(l);
    }
    const up = [...c.members.values()].filter((m) => m.up).map((m) => m.id);
    if (up.length < 3) {
      const down = [...c.members.values()].filter((m) => !m.up).map((m) => m.id);
      c.restart(down[rnd.intn(down.length)]);
    }
    c.tick(1 + rnd.intn(rnd.intn(10) < 2 ? 20 : 3));
    for (const id of up) for (const d of c.appliedData(id)) seen.add(d);
  }
  c.heal();
  for (const m of c.members.values()) if (!m.up) c.restart(m.id);
  one(c, 'final=1', [...c.members.keys()], 1000);
  for (const d of seen) for (const id of c.members.keys()) assert.ok(c.appliedData(id).includes(d));
  assertSafe(c);
});

test('unreliable agreement: with lost, delayed and duplicated messages every proposal still commits once', () => {
  const c = cluster(5, { seed: 5 });
  c.waitLeader();
  c.dropRate = 0.1;
  c.delayRate = 0.2;
  c.duplicateRate = 0.1;
  for (let i = 0; i < 30; i++) one(c, `u${i}=1`, [...c.members.keys()], 2000);
  c.heal();
  one(c, 'last=1');
  for (const id of c.members.keys()) {
    const data = c.appliedData(id);
    for (let i = 0; i < 30; i++) assert.ok(data.includes(`u${i}=1`));
  }
  assertSafe(c);
});

test('reliable churn: members crash, restart and get cut off at random while commits keep their place', () => {
  const c = cluster(5, { seed: 21 });
  c.waitLeader();
  churn(c, 21, 400, false);
});

test('unreliable churn: the same churn over a lossy, reordering, duplicating network', () => {
  const c = cluster(5, { seed: 22 });
  c.waitLeader();
  churn(c, 22, 400, true);
});
