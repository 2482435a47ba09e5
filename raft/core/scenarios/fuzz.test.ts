import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProposalDroppedError } from '../errors.js';
import { SeededRandom } from '../random.js';
import { TestCluster } from '../testing/cluster.js';
import type { NodeId } from '../types.js';
import { assertSafe, one, waitApplied } from './helpers.js';

/**
 * Everything at once on the in-process cluster: proposals, crashes, restarts,
 * partitions, a lossy reordering network, snapshots, leadership transfers and
 * membership changes. Afterwards the network heals and every entry any
 * member applied must be applied by every member of the final configuration.
 */
function fuzz(seed: number, iterations: number, lazyCommitBroadcast = false): void {
  const rnd = new SeededRandom(seed);
  const c = new TestCluster([1, 2, 3], { seed, snapshotEveryEntries: 5 + rnd.intn(20), compactKeepEntries: rnd.intn(5), lazyCommitBroadcast });
  let nextId = 4;
  const seen = new Set<string>();
  const trace: string[] = [];
  // The configuration of whoever has applied the most.
  const members = (): NodeId[] => {
    let best = c.member(1).rn.raft;
    for (const m of c.members.values()) if (m.rn.raft.log.applied > best.log.applied) best = m.rn.raft;
    return [...best.voters, ...best.learners];
  };
  try {
    c.waitLeader();
    for (let it = 0; it < iterations; it++) {
      c.dropRate = rnd.intn(3) === 0 ? 0.1 : 0;
      c.delayRate = rnd.intn(3) === 0 ? 0.2 : 0;
      const all = [...c.members.keys()];
      const l = c.leader();
      const a = rnd.intn(40);
      const act = (): void => {
        if (a < 20) {
          if (l !== undefined) c.propose(l, `v${it}=${seed}`);
        } else if (a < 22 && all.some((id) => c.member(id).up)) {
          const up = all.filter((id) => c.member(id).up);
          const victim = up[rnd.intn(up.length)];
          trace.push(`crash ${victim}`);
          c.crash(victim);
        } else if (a < 26) {
          const down = all.filter((id) => !c.member(id).up);
          if (down.length > 0) {
            const id = down[rnd.intn(down.length)];
            trace.push(`restart ${id}`);
            c.restart(id);
          }
        } else if (a < 28) {
          const id = all[rnd.intn(all.length)];
          trace.push(`isolate ${id}`);
          c.isolate(id);
        } else if (a < 32) {
          trace.push('heal');
          c.heal();
        } else if (a < 34) {
          if (l === undefined) return;
          const vs = c.member(l).rn.raft.voters.filter((v) => v !== l);
          if (vs.length > 0) {
            const t = vs[rnd.intn(vs.length)];
            trace.push(`transfer ${l}->${t}`);
            c.member(l).rn.transferLeadership(t);
          }
        } else if (a < 38) {
          if (l === undefined) return;
          const r = c.member(l).rn.raft;
          const kind = rnd.intn(3);
          if (kind === 0 && r.voters.length + r.learners.length < 6) {
            const id = nextId++;
            c.addMember(id, []);
            trace.push(`addLearner ${id}`);
            c.proposeConfChange(l, { type: 'addLearner', nodeId: id });
          } else if (kind === 1 && r.learners.length > 0) {
            const id = r.learners[rnd.intn(r.learners.length)];
            trace.push(`addVoter ${id}`);
            c.proposeConfChange(l, { type: 'addVoter', nodeId: id });
          } else if (kind === 2 && r.voters.length > 3) {
            const id = r.voters[rnd.intn(r.voters.length)];
            trace.push(`remove ${id}`);
            c.proposeConfChange(l, { type: 'removeNode', nodeId: id });
          }
        }
      };
      try {
        act();
      } catch (e) {
        if (!(e instanceof ProposalDroppedError)) throw e;
      }
      c.tick(1 + rnd.intn(5));
      for (const id of members()) if (c.member(id).up) for (const d of c.appliedData(id)) seen.add(d);
      c.checkSafety();
    }
    trace.push('final heal');
    c.heal();
    for (const id of c.members.keys()) if (!c.member(id).up) c.restart(id);
    const leader = c.waitLeader(1000);
    // Once the leader applies an entry of its own, every change before it is in its configuration:
    // a member removed by then is not expected to apply "final".
    one(c, `settle=${seed}`, [leader], 2000);
    const final = members();
    one(c, `final=${seed}`, final, 2000);
    // Changes still pending before "final" are now committed; wait for the configuration they produce.
    waitApplied(c, members(), `final=${seed}`, 2000);
    for (const id of members()) {
      const data = new Set(c.appliedData(id));
      for (const d of seen) assert.ok(data.has(d), `member ${id} lacks committed "${d}"`);
    }
    assertSafe(c);
    if (process.env.CORE_FUZZ_VERBOSE) console.log(`seed ${seed}: ${seen.size} committed, final members ${final.join(',')}, ${trace.length} faults`);
  } catch (e) {
    if (process.env.CORE_FUZZ_VERBOSE) {
      for (const m of c.members.values()) {
        const r = m.rn.raft;
        console.log(`${m.id} up=${m.up} ${r.role} term=${r.term} lead=${r.lead} vote=${r.vote} voters=${r.voters} learners=${r.learners} commit=${r.log.committed} applied=${r.log.applied} last=${r.log.lastIndex()}/${r.log.lastTerm()} first=${r.log.firstIndex()}`);
      }
    }
    (e as Error).message += `\nseed ${seed}; last actions: ${trace.slice(-25).join(', ')}`;
    throw e;
  }
}

test('fuzz: 100 seeds of crashes, partitions, lossy links, snapshots, transfers and membership changes stay safe and live', () => {
  const seeds = Number(process.env.CORE_FUZZ_SEEDS ?? 100);
  const first = Number(process.env.CORE_FUZZ_FIRST_SEED ?? 1);
  for (let s = first; s < first + seeds; s++) fuzz(s, 300);
});

test('fuzz with lazy commit broadcast (followers learn commits from the next append or heartbeat): 100 seeds stay safe and live', () => {
  const seeds = Number(process.env.CORE_FUZZ_SEEDS ?? 100);
  const first = Number(process.env.CORE_FUZZ_FIRST_SEED ?? 1);
  for (let s = first; s < first + seeds; s++) fuzz(s, 300, true);
});
