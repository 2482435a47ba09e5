// Commands this member proposed from a follower (they reach the leader
// inside Raft) and wait for here: each carries an origin (see command.ts),
// and the state machine settles the waiter when that command applies. Local
// state, never replicated.
//
// A waiter whose command cannot apply any more is rejected with
// ProposalDroppedError (certainly not applied: safe to propose again): once
// an entry of a newer term than the origin's is applied, no entry of the
// origin's term can follow it, and one appended in another term is refused.
// Within one term, this member's forwarded commands reach that term's one
// leader in the order of their sequence numbers (one ordered, lossy stream;
// the leader appends what it gets in order and retransmits nothing), so when
// one applies, every earlier one of the same term still waiting was dropped
// on the way (full transport queue, broken stream, leader refusing it) and
// never will be: its proposer learns so now instead of at its timeout. (A
// proposer with nothing else to send forwards an empty command to find out:
// see the etcd facade's probe.)

import { randomInt } from 'node:crypto';
import { ProposalDroppedError } from '../../raft/core/errors.js';
import { RaftTimeoutError } from '../../raft/node/errors.js';
import type { CommandOrigin } from './command.js';
import type { StoreResult } from './state_machine.js';

interface Waiter {
  term: number;
  resolve(r: StoreResult): void;
  reject(e: Error): void;
}

export class ProposalWaiters {
  private member = 0;
  private readonly epoch = randomInt(0x7fffffff);
  private seq = 0;
  private readonly waiters = new Map<number, Waiter>();
  /** Lowest origin term among waiters (Infinity: none), so applying an entry checks nothing in the common case. */
  private minTerm = Infinity;

  /** @param maxWaiters Commands that may wait at once; more are refused. */
  constructor(private readonly maxWaiters = 65536) {}

  get size(): number {
    return this.waiters.size;
  }

  /** The sequence number of the longest-waiting command (undefined: none), to tell one stuck from many moving. */
  get oldestSeq(): number | undefined {
    for (const seq of this.waiters.keys()) return seq;
    return undefined;
  }

  /**
   * A fresh origin for a command proposed now in `term` by member `member`,
   * and the promise of its result: resolves when it applies here, rejects with
   * ProposalDroppedError when it certainly never will, or with what the
   * caller passes to abandon() (a timeout: the outcome is unknown).
   */
  wait(member: number, term: number): { origin: CommandOrigin; result: Promise<StoreResult> } {
    if (this.waiters.size >= this.maxWaiters) throw new ProposalDroppedError(`member ${member} has too many forwarded writes in flight`);
    this.member = member;
    const seq = ++this.seq;
    const origin = { member, epoch: this.epoch, seq, term };
    const result = new Promise<StoreResult>((resolve, reject) => {
      this.waiters.set(seq, { term, resolve, reject });
      if (term < this.minTerm) this.minTerm = term;
    });
    return { origin, result };
  }

  /** Whether the origin is one of ours (this process). */
  private ours(o: CommandOrigin): boolean {
    return o.member === this.member && o.epoch === this.epoch;
  }

  /** Stops waiting for the command with this origin; its promise rejects with `error`. */
  abandon(o: CommandOrigin, error: Error): void {
    const w = this.waiters.get(o.seq);
    if (!w || !this.ours(o)) return;
    this.waiters.delete(o.seq);
    w.reject(error);
  }

  /** The state machine applied (or refused) the command with this origin. */
  settle(o: CommandOrigin, result: StoreResult | ProposalDroppedError): void {
    if (!this.ours(o)) return;
    this.droppedBefore(o.seq, o.term);
    const w = this.waiters.get(o.seq);
    if (!w) return;
    this.waiters.delete(o.seq);
    if (result instanceof ProposalDroppedError) w.reject(result);
    else w.resolve(result);
  }

  /**
   * Rejects the waiters of `term` proposed before `seq` (see the header). The map iterates in
   * sequence order and appliedTerm() already removed older terms, so this looks only at the
   * waiters it rejects and at one more.
   */
  private droppedBefore(seq: number, term: number): void {
    for (const [s, w] of this.waiters) {
      if (s >= seq) break;
      if (w.term !== term) continue;
      this.waiters.delete(s);
      w.reject(new ProposalDroppedError(`the write forwarded in term ${term} was dropped on its way to the leader (a later one from this member was applied first)`));
    }
  }

  /** An entry of `term` was applied: waiters from older terms are certainly not applied. */
  appliedTerm(term: number): void {
    if (term <= this.minTerm) return;
    let min = Infinity;
    for (const [seq, w] of this.waiters) {
      if (w.term < term) {
        this.waiters.delete(seq);
        w.reject(new ProposalDroppedError(`the write proposed in term ${w.term} was lost in a leader change (term ${term} is applied)`));
      } else if (w.term < min) min = w.term;
    }
    this.minTerm = min;
  }

  /** The state was replaced by a snapshot: whether our commands were in it is unknown. */
  restored(): void {
    for (const w of this.waiters.values()) {
      w.reject(new RaftTimeoutError('a snapshot replaced the state while a write waited; it may have been applied'));
    }
    this.waiters.clear();
    this.minTerm = Infinity;
  }
}
