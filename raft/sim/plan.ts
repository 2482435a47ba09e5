// What one seed's run looks like: the workload and how hard the faults hit.
// Drawn once per seed, so runs differ in kind (one hot key or five, mostly
// reads or mostly writes, a slow disk or none), not only in timing.

import type { Random } from '../core/random.js';

export interface RunPlan {
  faultPhaseMs: number;
  clients: number;
  /** Fewer keys, more contention: the linearizability checker sees more conflicts. */
  keys: string[];
  /** Percent of operations that are puts, cas and reads through the log; the rest are ReadIndex reads. */
  putPct: number;
  casPct: number;
  logReadPct: number;
  /** Percent of operations a client sends to some other live member instead of the one it last used. */
  hopPct: number;
  /** Percent of writes proposed twice at once, as a client that retransmits: the session table must apply them once. */
  hedgePct: number;
  /** Per member, how many times slower than the base its fsyncs are (a slow leader disk widens every commit window). */
  fsyncSkew: number[];
  /** Percent of acknowledged writes after which the member that answered crashes at once. */
  crashAfterAckPct: number;
  /**
   * Percent of writes after which their leader is cut off (crashed, or isolated for a while) within
   * about a round trip: followers hold the entry, or some do, and none has heard it is committed.
   */
  cutInFlightPct: number;
  /** Percent of new leaders crashed within a few milliseconds of being elected. */
  crashNewLeaderPct: number;
  /**
   * Percent of new leaders whose disk stalls as they send their first appends, and of later
   * appends that stall the leader's disk: followers then acknowledge before the leader syncs.
   */
  stallNewLeaderPct: number;
  stallLeaderPct: number;
  /** Longest pause between two scheduled faults within a storm of one to six. */
  maxFaultGapMs: number;
  /** Between storms the network heals for a calm spell of this many milliseconds, [min, max]. */
  calmMs: [number, number];
}

export function drawPlan(r: Random, members: number): RunPlan {
  const keys = ['a', 'b', 'c', 'd', 'e'].slice(0, [1, 2, 3, 5][r.intn(4)]);
  const putPct = 20 + r.intn(40);
  const casPct = 5 + r.intn(20);
  const slow = r.intn(members + 1);
  return {
    faultPhaseMs: 4000 + 500 * r.intn(5),
    clients: 3 + r.intn(4),
    keys,
    putPct,
    casPct,
    logReadPct: r.intn(15),
    hopPct: r.intn(40),
    hedgePct: r.intn(3) === 0 ? 0 : 5 + r.intn(25),
    // At most one slow member (index `members` means none).
    fsyncSkew: Array.from({ length: members }, (_, i) => (i === slow ? 2 + r.intn(4) : 1)),
    crashAfterAckPct: r.intn(3) === 0 ? 0 : 1 + r.intn(5),
    cutInFlightPct: r.intn(4) === 0 ? 0 : 2 + r.intn(7),
    crashNewLeaderPct: r.intn(3) === 0 ? 0 : 10 + r.intn(30),
    stallNewLeaderPct: r.intn(5) === 0 ? 0 : 70 + r.intn(31),
    stallLeaderPct: r.intn(3) === 0 ? 0 : 1 + r.intn(5),
    maxFaultGapMs: [150, 350, 350, 800][r.intn(4)],
    calmMs: [[0, 200], [200, 800], [500, 1500]][r.intn(3)] as [number, number],
  };
}

export function describePlan(p: RunPlan): string {
  const skew = p.fsyncSkew.findIndex((s) => s > 1);
  return (
    `${p.clients} clients on ${p.keys.length} key${p.keys.length > 1 ? 's' : ''} (put ${p.putPct}%, cas ${p.casPct}%, log reads ${p.logReadPct}%, hop ${p.hopPct}%, hedge ${p.hedgePct}%), ` +
    `fault phase ${p.faultPhaseMs} ms${skew >= 0 ? `, member ${skew + 1} fsync ×${p.fsyncSkew[skew]}` : ''}, ` +
    `faults every ≤${p.maxFaultGapMs} ms between calm spells of ${p.calmMs[0]}-${p.calmMs[1]} ms, crash after ack ${p.crashAfterAckPct}%, cut in flight ${p.cutInFlightPct}%, ` +
    `crash new leader ${p.crashNewLeaderPct}%, stall new leader ${p.stallNewLeaderPct}%, stall leader ${p.stallLeaderPct}%`
  );
}
