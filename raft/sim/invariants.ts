// The simulator's protocol checkers, run as events happen rather than at the
// end: a violation is reported at the step that made it, while the state
// that shows it still exists (a crash a moment later would hide most of them).
// Each method returns a failure message, or undefined when all is well.

import type { Entry, Message, NodeId } from '../core/types.js';
import type { RaftNode } from '../node/raft_node.js';
import type { SimDisk } from './sim_disk.js';

/** A running member, as the checkers see it at an event. */
export interface MemberProbe {
  id: NodeId;
  node: RaftNode;
}

interface Seen {
  node: RaftNode;
  term: number;
  role: string;
  commit: number;
  voters: NodeId[];
}

const MAX_VOTE_REQUESTS = 4096;

export class Invariants {
  /** (index, term) -> the term before it and the entry's bytes, from whichever member wrote it first. */
  private readonly written = new Map<string, { prevTerm: number | undefined; data: string; by: NodeId }>();
  /** index -> term of every entry some member knew committed. */
  private readonly committed = new Map<number, { term: number; by: NodeId }>();
  private readonly seen = new Map<NodeId, Seen>();
  private readonly leaders = new Map<number, NodeId>();
  /** Vote requests delivered, by incarnation: whether the candidate was at least as up to date as the voter then. */
  private readonly voteRequests = new WeakMap<object, Map<string, boolean>>();
  /** (clientId, seq) -> the index at which the command took effect. */
  private readonly effects = new Map<string, { index: number; by: NodeId }>();
  private maxCommit = 0;
  /** Told of each term's leader when first seen (fault schedules crash some). */
  onNewLeader: ((id: NodeId, term: number) => void) | undefined;

  constructor(private readonly diskOf: (id: NodeId) => SimDisk | undefined) {}

  /** The highest commit index any member has reported: every ReadIndex started now must reflect it. */
  get knownCommitIndex(): number {
    return this.maxCommit;
  }

  /** Terms with a leader so far. */
  get leaderTerms(): number {
    return this.leaders.size;
  }

  /**
   * Log matching, at every write: an (index, term) pair names one entry, and
   * the same entry before it. By induction, two logs holding an entry with
   * the same index and term hold the same entries up to it.
   */
  onAppend(by: NodeId, entries: readonly Entry[], prevTerm: number | undefined): string | undefined {
    let before = prevTerm;
    for (const e of entries) {
      const key = `${e.index}/${e.term}`;
      const data = Buffer.from(e.data).toString('base64') + (e.type === 'confChange' ? '/cc' : '');
      const w = this.written.get(key);
      if (w === undefined) this.written.set(key, { prevTerm: before, data, by });
      else if (w.data !== data) {
        return `log matching: member ${by} wrote a different entry ${e.index} (term ${e.term}) than member ${w.by} did`;
      } else if (w.prevTerm !== undefined && before !== undefined && w.prevTerm !== before) {
        return `log matching: member ${by} holds entry ${e.index} (term ${e.term}) after an entry of term ${before}, member ${w.by} after one of term ${w.prevTerm}`;
      }
      before = e.term;
    }
    return undefined;
  }

  /**
   * Persist before send: what a message tells its receiver must already
   * survive a crash of its sender. Every term but a pre-vote's, a granted
   * vote, and an acknowledged log prefix.
   */
  onSend(by: NodeId, disk: SimDisk, m: Message): string | undefined {
    const hs = disk.durableHardState();
    const preVote = m.type === 'MsgPreVote' || m.type === 'MsgPreVoteResp';
    if (!preVote && m.term > hs.term) {
      return `persist before send: member ${by} sent ${m.type} at term ${m.term} to ${m.to} while its disk holds term ${hs.term}`;
    }
    if ((m.type === 'MsgVoteResp' && !m.reject) || m.type === 'MsgVote') {
      const votedFor = m.type === 'MsgVote' ? by : m.to;
      if (hs.term === m.term && hs.vote !== votedFor) {
        return `persist before send: member ${by} sent ${m.type} for ${votedFor} at term ${m.term} while its disk holds a vote for ${hs.vote || 'nobody'}`;
      }
    }
    if (m.type === 'MsgAppResp' && !m.reject && m.index > 0) {
      let term: number | undefined;
      try {
        term = disk.term(m.index);
      } catch {
        term = undefined;
      }
      if (term !== undefined && !disk.durablyHolds(m.index, term)) {
        return `persist before send: member ${by} acknowledged index ${m.index} to ${m.to} before its disk made it durable`;
      }
    }
    return undefined;
  }

  /** A vote request reaches a member: remember whether granting it would be allowed. */
  onVoteRequest(incarnation: object, node: RaftNode, m: Message): void {
    const log = coreOf(node).log;
    const lastTerm = log.lastTerm();
    const upToDate = m.logTerm > lastTerm || (m.logTerm === lastTerm && m.index >= log.lastIndex());
    let reqs = this.voteRequests.get(incarnation);
    if (!reqs) this.voteRequests.set(incarnation, (reqs = new Map()));
    if (reqs.size >= MAX_VOTE_REQUESTS) reqs.clear();
    const key = `${m.type}/${m.from}/${m.term}`;
    reqs.set(key, (reqs.get(key) ?? false) || upToDate);
  }

  /** The election restriction (§5.4.1), for votes and pre-votes: only a candidate at least as up to date is granted. */
  onVoteGrant(incarnation: object, by: NodeId, m: Message): string | undefined {
    const req = m.type === 'MsgVoteResp' ? 'MsgVote' : 'MsgPreVote';
    const upToDate = this.voteRequests.get(incarnation)?.get(`${req}/${m.to}/${m.term}`);
    if (upToDate === false) {
      return `election restriction: member ${by} granted ${req} at term ${m.term} to ${m.to}, whose log is behind its own`;
    }
    return undefined;
  }

  /** Once per event: commit indices, the commit rule, durable quorums, election safety, leader completeness. */
  observe(members: readonly MemberProbe[]): string | undefined {
    for (const { id, node } of members) {
      const core = coreOf(node);
      const log = core.log;
      const commit = log.committed;
      let prev = this.seen.get(id);
      if (prev && prev.node !== node) prev = undefined;
      const unchanged = prev !== undefined && prev.commit === commit && prev.term === core.term && prev.role === core.role;
      if (unchanged && core.role !== 'leader') continue;
      const first = log.firstIndex();
      for (let i = Math.max(prev?.commit ?? 0, first - 1) + 1; i <= commit; i++) {
        const term = log.term(i);
        if (term === undefined) continue;
        const known = this.committed.get(i);
        if (known === undefined) this.committed.set(i, { term, by: id });
        else if (known.term !== term) {
          return `state machine safety: member ${id} committed index ${i} with term ${term}, member ${known.by} with term ${known.term}`;
        }
      }
      if (commit > this.maxCommit) this.maxCommit = commit;
      if (core.role === 'leader') {
        const failure =
          this.onLeader(id, core.term, log) ??
          (prev && prev.role === 'leader' && prev.term === core.term && commit > prev.commit
            ? this.checkLeaderCommit(id, core.term, commit, log, [prev.voters, core.voters])
            : undefined);
        if (failure) return failure;
      }
      if (unchanged && prev!.voters === core.voters) continue;
      // The core replaces its voters array on every change, so it is kept by reference.
      this.seen.set(id, { node, term: core.term, role: core.role, commit, voters: core.voters });
    }
    return undefined;
  }

  /** Exactly once: every member applying a (clientId, seq) command finds it took effect at the same index. */
  onApplied(by: NodeId, clientId: string, seq: number, effectIndex: number): string | undefined {
    const key = `${clientId}#${seq}`;
    const first = this.effects.get(key);
    if (first === undefined) this.effects.set(key, { index: effectIndex, by });
    else if (first.index !== effectIndex) {
      return `exactly once: ${clientId} seq ${seq} took effect at index ${effectIndex} on member ${by}, and at index ${first.index} on member ${first.by}`;
    }
    return undefined;
  }

  private onLeader(id: NodeId, term: number, log: CoreLog): string | undefined {
    const known = this.leaders.get(term);
    if (known === id) return undefined;
    if (known !== undefined) return `election safety: members ${known} and ${id} both lead term ${term}`;
    this.leaders.set(term, id);
    this.onNewLeader?.(id, term);
    const first = log.firstIndex();
    for (const [index, c] of this.committed) {
      if (index < first) continue;
      if (log.term(index) !== c.term) {
        return `leader completeness: member ${id} leads term ${term} without entry ${index} (term ${c.term}) that member ${c.by} knew committed`;
      }
    }
    return undefined;
  }

  /**
   * A leader's commit index moves only to an entry of its own term (the
   * Figure 8 rule), and only once a quorum of voters holds it durably.
   * The configuration may have changed in the same event: either will do.
   */
  private checkLeaderCommit(id: NodeId, term: number, commit: number, log: CoreLog, configs: NodeId[][]): string | undefined {
    const t = log.term(commit);
    if (t !== term) {
      return `commit rule: leader ${id} of term ${term} moved its commit index to ${commit}, ${t === undefined ? 'an entry it has not written' : `an entry of term ${t}`}`;
    }
    let holders: NodeId[] = [];
    for (const voters of configs) {
      holders = voters.filter((v) => this.diskOf(v)?.durablyHolds(commit, term) ?? false);
      if (holders.length > voters.length / 2) return undefined;
    }
    return `durability: leader ${id} committed index ${commit} (term ${term}) while only [${holders}] of voters [${configs[configs.length - 1]}] had it on disk`;
  }
}

interface CoreLog {
  committed: number;
  firstIndex(): number;
  lastIndex(): number;
  lastTerm(): number;
  /** undefined when compacted or past the end. */
  term(i: number): number | undefined;
}

interface Core {
  role: string;
  term: number;
  voters: NodeId[];
  log: CoreLog;
}

/**
 * The core behind a RaftNode. Votes and commits are decided against its log,
 * unsaved entries included (the disk may still hold entries it has replaced);
 * RaftNode.status() shows no terms, and copying it at every event costs more
 * than the rest of the simulation.
 */
function coreOf(node: RaftNode): Core {
  const core = (node as unknown as { rn?: { raft?: Core } }).rn?.raft;
  if (!core || typeof core.log?.lastTerm !== 'function' || typeof core.log.term !== 'function' || !Array.isArray(core.voters)) {
    throw new Error('Cannot check invariants: RaftNode no longer exposes its core as rn.raft');
  }
  return core;
}
