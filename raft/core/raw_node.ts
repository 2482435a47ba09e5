import { type ConfChange, encodeConfChange } from './conf_change.js';
import { ProposalDroppedError } from './errors.js';
import { Raft, type RaftConfig } from './raft.js';
import {
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  NONE,
  type NodeId,
  type Ready,
  type Role,
  type SoftState,
  hardStateEqual,
  message,
} from './types.js';

export interface Status {
  id: NodeId;
  term: number;
  vote: NodeId;
  lead: NodeId;
  role: Role;
  commit: number;
  applied: number;
  lastIndex: number;
  firstIndex: number;
  confState: ConfState;
  leadTransferee: NodeId;
  /** Leader only: each member's acknowledged index and replication state, and whether it was heard from within the last election timeout (with checkQuorum). */
  progress?: Record<number, { match: number; next: number; state: string; recentActive: boolean }>;
}

/**
 * The core's public face. The driver loops: step/tick/propose as events
 * arrive; when hasReady(), take ready(), persist, send, apply, advance(ready).
 * Events may be stepped between ready() and advance().
 */
export class RawNode {
  readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoft = this.softState();
    this.prevHard = this.raft.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (tests, or an operator's "campaign"). */
  campaign(): void {
    this.raft.step(message({ type: 'MsgHup', from: this.raft.id }));
  }

  /**
   * Appends data to the log if this member leads; returns where it went.
   * Throws ProposalDroppedError otherwise: a proposal is never silently lost.
   */
  propose(data: Uint8Array): { index: number; term: number } {
    return this.proposeEntry({ term: 0, index: 0, type: 'normal', data });
  }

  proposeConfChange(cc: ConfChange): { index: number; term: number } {
    return this.proposeEntry({ term: 0, index: 0, type: 'confChange', data: encodeConfChange(cc) });
  }

  private proposeEntry(e: Entry): { index: number; term: number } {
    const r = this.raft;
    if (r.role !== 'leader') {
      throw new ProposalDroppedError(
        r.lead === NONE ? `member ${r.id} knows no leader` : `member ${r.id} is not the leader (the leader is ${r.lead})`,
      );
    }
    r.step(message({ type: 'MsgProp', from: r.id, entries: [e] }));
    return { index: r.log.lastIndex(), term: r.term };
  }

  /** Feeds a message from a peer or the driver. Bad or stale messages are dropped, never thrown. */
  step(m: Message): void {
    if (m.to !== NONE && m.to !== this.raft.id) return;
    try {
      this.raft.step(m);
    } catch (e) {
      // A forwarded proposal may be refused; the proposer learns through its own timeout.
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
  }

  /** Asks for a linearizable read point; the answer arrives as a ReadState with this context. */
  readIndex(ctx: Uint8Array): void {
    this.raft.step(message({ type: 'MsgReadIndex', from: NONE, context: ctx }));
  }

  transferLeadership(transferee: NodeId): void {
    this.raft.step(message({ type: 'MsgTransferLeader', from: transferee }));
  }

  reportUnreachable(id: NodeId): void {
    this.step(message({ type: 'MsgUnreachable', from: id }));
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.step(message({ type: 'MsgSnapStatus', from: id, reject: !ok }));
  }

  /** Pass the entry's index: a change older than a snapshot received meanwhile is then ignored. */
  applyConfChange(cc: ConfChange, index?: number): ConfState {
    return this.raft.applyConfChange(cc, index);
  }

  private softState(): SoftState {
    return { lead: this.raft.lead, role: this.raft.role };
  }

  hasReady(): boolean {
    const r = this.raft;
    const soft = this.softState();
    if (soft.lead !== this.prevSoft.lead || soft.role !== this.prevSoft.role) return true;
    if (!hardStateEqual(r.hardState(), this.prevHard)) return true;
    if (r.log.unstable.snapshot) return true;
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    if (r.log.unstable.entries.length > 0) return true;
    return r.log.hasNextCommittedEntries();
  }

  ready(): Ready {
    const r = this.raft;
    const rd: Ready = {
      readStates: r.readStates,
      entries: r.log.unstableEntries(),
      committedEntries: r.log.nextCommittedEntries(),
      messages: r.msgs,
      mustSync: false,
    };
    const soft = this.softState();
    if (soft.lead !== this.prevSoft.lead || soft.role !== this.prevSoft.role) {
      rd.softState = soft;
      this.prevSoft = soft;
    }
    const hard = r.hardState();
    if (!hardStateEqual(hard, this.prevHard)) {
      rd.hardState = hard;
      // A changed term or vote, or new entries, must be on disk before anyone hears of them.
      rd.mustSync = hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote;
      this.prevHard = hard;
    }
    if (rd.entries.length > 0) rd.mustSync = true;
    if (r.log.unstable.snapshot) {
      rd.snapshot = r.log.unstable.snapshot;
      rd.mustSync = true;
    }
    r.msgs = [];
    r.readStates = [];
    return rd;
  }

  /** The driver has persisted, sent and applied everything in rd. */
  advance(rd: Ready): void {
    const r = this.raft;
    if (rd.snapshot) r.log.stableSnapTo(rd.snapshot.metadata.index);
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      r.log.stableTo(last.index, last.term);
      r.selfStable(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) {
      r.log.appliedTo(rd.committedEntries[rd.committedEntries.length - 1].index);
      r.reduceUncommittedSize(rd.committedEntries);
    } else if (rd.snapshot && rd.snapshot.metadata.index > r.log.applied) {
      r.log.appliedTo(rd.snapshot.metadata.index);
    }
  }

  status(): Status {
    const r = this.raft;
    const s: Status = {
      id: r.id,
      term: r.term,
      vote: r.vote,
      lead: r.lead,
      role: r.role,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      firstIndex: r.log.firstIndex(),
      confState: r.confState(),
      leadTransferee: r.leadTransferee,
    };
    if (r.role === 'leader') {
      s.progress = {};
      for (const [id, pr] of r.progress) s.progress[id] = { match: pr.match, next: pr.next, state: pr.state, recentActive: pr.recentActive };
    }
    return s;
  }
}
