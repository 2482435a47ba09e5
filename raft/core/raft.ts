import { type ConfChange, changedConfState, decodeConfChange, encodeConfChange } from './conf_change.js';
import { ConfChangePendingError, ProposalDroppedError } from './errors.js';
import { RaftLog } from './log.js';
import { Progress } from './progress.js';
import { committedIndex, voteResult } from './quorum.js';
import type { Random } from './random.js';
import { ReadOnly } from './read_only.js';
import type { Storage } from './storage.js';
import {
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type MessageType,
  NONE,
  type NodeId,
  type ReadState,
  type Role,
  type Snapshot,
  entrySizeBytes,
  message,
} from './types.js';

export interface RaftConfig {
  id: NodeId;
  /** Ticks without hearing from a leader before a follower campaigns; randomized in [t, 2t). */
  electionTicks: number;
  heartbeatTicks: number;
  storage: Storage;
  random: Random;
  /** Set when storage is empty and this member starts a new cluster. */
  bootstrapVoters?: NodeId[];
  /** The last index the application has applied (entries up to it are not handed out again). */
  applied?: number;
  maxMsgSizeBytes?: number;
  maxInflightMsgs?: number;
  maxInflightBytes?: number;
  maxUncommittedSizeBytes?: number;
  maxPendingReadIndex?: number;
  maxApplyingSizeBytes?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  /**
   * When the commit index moves and a follower has no new entries to receive, leave the news to
   * the next append or heartbeat instead of an empty append at once (etcd sends one). Each write
   * then costs each follower one append and one reply instead of two of each; followers apply up
   * to one heartbeat later. @default false
   */
  lazyCommitBroadcast?: boolean;
  logger?: (line: string) => void;
}

const CAMPAIGN_TRANSFER = new TextEncoder().encode('transfer');

function isTransferCampaign(ctx: Uint8Array): boolean {
  if (ctx.length !== CAMPAIGN_TRANSFER.length) return false;
  for (let i = 0; i < ctx.length; i++) if (ctx[i] !== CAMPAIGN_TRANSFER[i]) return false;
  return true;
}

function voteRespType(t: MessageType): MessageType {
  return t === 'MsgVote' ? 'MsgVoteResp' : 'MsgPreVoteResp';
}

/** The Raft state machine of one member. Pure: no timers, I/O or global randomness. */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role: Role = 'follower';
  readonly log: RaftLog;

  voters: NodeId[] = [];
  learners: NodeId[] = [];
  progress = new Map<NodeId, Progress>();
  private votes = new Map<NodeId, boolean>();

  msgs: Message[] = [];
  readStates: ReadState[] = [];

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  readonly electionTimeout: number;
  readonly heartbeatTimeout: number;
  leadTransferee: NodeId = NONE;
  /** No configuration change may be proposed until this index is applied. */
  pendingConfIndex = 0;
  /** The log index of the configuration in effect (a restored snapshot's, or the last applied change's). */
  private confIndex = 0;
  private uncommittedSizeBytes = 0;
  private readonly readOnly: ReadOnly;
  private pendingReadIndexMessages: Message[] = [];

  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  private readonly random: Random;
  private readonly maxMsgSizeBytes: number;
  private readonly maxInflightMsgs: number;
  private readonly lazyCommitBroadcast: boolean;
  private readonly maxInflightBytes: number;
  private readonly maxUncommittedSizeBytes: number;
  private readonly logger: (line: string) => void;

  constructor(c: RaftConfig) {
    if (!Number.isInteger(c.id) || c.id <= 0) throw new RangeError(`Cannot create raft member: id ${c.id} must be a positive integer`);
    if (c.heartbeatTicks <= 0 || c.electionTicks <= c.heartbeatTicks) {
      throw new RangeError(`Cannot create raft member: electionTicks (${c.electionTicks}) must exceed heartbeatTicks (${c.heartbeatTicks}) > 0`);
    }
    this.id = c.id;
    this.electionTimeout = c.electionTicks;
    this.heartbeatTimeout = c.heartbeatTicks;
    this.random = c.random;
    this.maxMsgSizeBytes = c.maxMsgSizeBytes ?? 1024 * 1024;
    this.maxInflightMsgs = c.maxInflightMsgs ?? 256;
    this.lazyCommitBroadcast = c.lazyCommitBroadcast ?? false;
    this.maxInflightBytes = c.maxInflightBytes ?? 32 * 1024 * 1024;
    this.maxUncommittedSizeBytes = c.maxUncommittedSizeBytes ?? 64 * 1024 * 1024;
    this.readOnly = new ReadOnly(c.maxPendingReadIndex ?? 4096);
    this.preVote = c.preVote ?? true;
    this.checkQuorum = c.checkQuorum ?? true;
    this.logger = c.logger ?? (() => {});
    this.log = new RaftLog(c.storage, c.maxApplyingSizeBytes ?? 4 * 1024 * 1024);

    const { hardState, confState } = c.storage.initialState();
    let conf = confState;
    if (conf.voters.length === 0 && conf.learners.length === 0 && c.bootstrapVoters && c.bootstrapVoters.length > 0) {
      conf = { voters: [...c.bootstrapVoters], learners: [] };
    }
    this.applyConfState(conf);
    // The stored configuration is the snapshot's: older changes replayed from the retained log must not rewind it.
    this.confIndex = c.storage.snapshot().metadata.index;
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) this.loadHardState(hardState);
    if (c.applied !== undefined && c.applied > 0) this.log.appliedTo(Math.min(c.applied, this.log.committed));
    this.becomeFollower(this.term, NONE);
  }

  // ---- configuration ----

  isMember(id: NodeId): boolean {
    return this.voters.includes(id) || this.learners.includes(id);
  }

  promotable(): boolean {
    return this.voters.includes(this.id);
  }

  confState(): ConfState {
    return { voters: [...this.voters], learners: [...this.learners] };
  }

  private applyConfState(cs: ConfState): void {
    this.voters = [...cs.voters].sort((a, b) => a - b);
    this.learners = [...cs.learners].sort((a, b) => a - b);
    const next = this.log.lastIndex() + 1;
    const members = new Set([...this.voters, ...this.learners]);
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      const isLearner = this.learners.includes(id);
      const pr = this.progress.get(id);
      if (pr) pr.isLearner = isLearner;
      else {
        const np = new Progress(next, this.maxInflightMsgs, this.maxInflightBytes, isLearner);
        // A member added while we lead must be probed, not assumed current.
        if (id === this.id) np.match = this.role === 'leader' ? this.log.lastIndex() : 0;
        // Counted as heard from, so a quorum check right after adding it does not depose us.
        np.recentActive = true;
        this.progress.set(id, np);
      }
    }
  }

  /** Applies a committed change; called by the driver when the entry (at `index`) is applied. */
  applyConfChange(cc: ConfChange, index?: number): ConfState {
    if (index !== undefined) {
      // A snapshot received while this entry was being applied already holds a newer configuration.
      if (index <= this.confIndex) return this.confState();
      this.confIndex = index;
    }
    // The leader's stamp is authoritative: our own view may lack the bootstrap configuration.
    const next = cc.confState ?? changedConfState(this.confState(), cc);
    if (next === undefined || next.voters.length === 0) {
      this.logger(`ignored configuration change ${cc.type} ${cc.nodeId}: it would leave no voters`);
      return this.confState();
    }
    this.applyConfState(next);
    if (this.role === 'leader') {
      if (!this.voters.includes(this.id)) {
        // Removed (or demoted): hand over by stepping down; the others elect a new leader.
        this.becomeFollower(this.term, NONE);
      } else {
        if (this.leadTransferee !== NONE && !this.voters.includes(this.leadTransferee)) this.abortLeaderTransfer();
        if (this.maybeCommit()) this.bcastAppend();
        else this.sendPendingAppends();
      }
    }
    return this.confState();
  }

  // ---- state ----

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private loadHardState(h: HardState): void {
    if (h.commit < this.log.committed || h.commit > this.log.lastIndex()) {
      throw new RangeError(`Cannot load hard state: commit ${h.commit} is outside [${this.log.committed}, ${this.log.lastIndex()}]`);
    }
    this.log.committed = h.commit;
    this.term = h.term;
    this.vote = h.vote;
  }

  private send(m: Message): void {
    if (m.from === NONE) m.from = this.id;
    if (
      m.type === 'MsgVote' ||
      m.type === 'MsgVoteResp' ||
      m.type === 'MsgPreVote' ||
      m.type === 'MsgPreVoteResp'
    ) {
      if (m.term === 0) throw new Error(`Raft invariant broken: ${m.type} must carry a term`);
    } else if (m.type !== 'MsgProp' && m.type !== 'MsgReadIndex') {
      m.term = this.term;
    } else if (m.type === 'MsgReadIndex') {
      m.term = 0;
    }
    this.msgs.push(m);
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.votes.clear();
    const last = this.log.lastIndex();
    for (const [id, pr] of this.progress) {
      const np = new Progress(last + 1, this.maxInflightMsgs, this.maxInflightBytes, pr.isLearner);
      if (id === this.id) np.match = 0;
      this.progress.set(id, np);
    }
    this.pendingConfIndex = 0;
    this.uncommittedSizeBytes = 0;
    // Reads waiting on our leadership can no longer be confirmed: refuse them now rather than let callers time out.
    const unconfirmed = [...this.readOnly.reset(), ...this.pendingReadIndexMessages];
    this.pendingReadIndexMessages = [];
    for (const req of unconfirmed) this.dropReadIndex(req);
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.random.intn(this.electionTimeout);
  }

  private pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.role = 'follower';
    this.lead = lead;
  }

  private becomePreCandidate(): void {
    if (this.role === 'leader') throw new Error('Raft invariant broken: leader cannot become pre-candidate');
    // Term and vote stay: a pre-election changes nothing durable.
    this.votes.clear();
    this.role = 'preCandidate';
    this.lead = NONE;
  }

  private becomeCandidate(): void {
    if (this.role === 'leader') throw new Error('Raft invariant broken: leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    if (this.role === 'follower') throw new Error('Raft invariant broken: follower cannot become leader directly');
    this.reset(this.term);
    this.role = 'leader';
    this.lead = this.id;
    const pr = this.progress.get(this.id);
    // Our stable log is ours already; new entries count once they are synced.
    if (pr) {
      pr.match = this.stableLastIndex();
      pr.becomeReplicate();
    }
    const noop: Entry = { term: this.term, index: this.log.lastIndex() + 1, type: 'normal', data: new Uint8Array(0) };
    // No configuration change until this entry, and so everything before it, is applied.
    this.pendingConfIndex = noop.index;
    this.log.append([noop]);
    this.logger(`${this.id} became leader at term ${this.term}`);
    this.bcastAppend();
  }

  private stableLastIndex(): number {
    return this.log.unstable.offset - 1;
  }

  // ---- ticks ----

  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(message({ type: 'MsgHup', from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) {
        if (!this.quorumActive()) {
          this.logger(`${this.id} stepped down at term ${this.term}: no quorum heard within an election timeout`);
          this.becomeFollower(this.term, NONE);
          return;
        }
        for (const [id, pr] of this.progress) if (id !== this.id) pr.recentActive = false;
      }
      if (this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.role !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  private quorumActive(): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const id of this.voters) {
      const pr = this.progress.get(id);
      votes.set(id, id === this.id || (pr?.recentActive ?? false));
    }
    return voteResult(this.voters, votes) === 'won';
  }

  // ---- elections ----

  private hasUnappliedConfChanges(): boolean {
    if (this.log.applied >= this.log.committed) return false;
    // Entries under a just-received snapshot (not yet applied) are covered by its configuration.
    let lo = Math.max(this.log.applied + 1, this.log.firstIndex());
    const hi = this.log.committed + 1;
    while (lo < hi) {
      const ents = this.log.slice(lo, hi, 4 * 1024 * 1024);
      if (ents.length === 0) break;
      for (const e of ents) if (e.type === 'confChange') return true;
      lo = ents[ents.length - 1].index + 1;
    }
    return false;
  }

  private campaign(kind: 'preElection' | 'election' | 'transfer'): void {
    if (!this.promotable()) {
      this.logger(`${this.id} is not a voter and does not campaign`);
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      this.logger(`${this.id} does not campaign at term ${this.term}: committed configuration changes are not yet applied`);
      return;
    }
    let voteMsg: MessageType;
    let term: number;
    if (kind === 'preElection') {
      this.becomePreCandidate();
      voteMsg = 'MsgPreVote';
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = 'MsgVote';
      term = this.term;
    }
    this.votes.set(this.id, true);
    const res = voteResult(this.voters, this.votes);
    if (res === 'won') {
      if (kind === 'preElection') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    for (const id of this.voters) {
      if (id === this.id) continue;
      this.send(
        message({
          type: voteMsg,
          to: id,
          term,
          index: this.log.lastIndex(),
          logTerm: this.log.lastTerm(),
          context: kind === 'transfer' ? CAMPAIGN_TRANSFER : new Uint8Array(0),
        }),
      );
    }
  }

  private poll(from: NodeId, granted: boolean): VoteOutcome {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    return voteResult(this.voters, this.votes);
  }

  // ---- step ----

  step(m: Message): void {
    if (
      m.term !== 0 &&
      !this.isMember(m.from) &&
      this.voters.length + this.learners.length > 0 &&
      !acceptFromNonMember(m.type)
    ) {
      // Votes and answers from outside the configuration (e.g. a removed member) must not disrupt us.
      return;
    }
    if (m.term === 0) {
      // Local message.
    } else if (m.term > this.term) {
      if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
        const force = isTransferCampaign(m.context);
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        if (!force && inLease) {
          // We heard from a leader recently: a disruptive candidate is ignored.
          return;
        }
      }
      if (m.type === 'MsgPreVote') {
        // A pre-vote never changes our term.
      } else if (m.type === 'MsgPreVoteResp' && !m.reject) {
        // The higher term is the one we will campaign at once a quorum agrees.
      } else if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'MsgHeartbeat' || m.type === 'MsgApp')) {
        // A stale leader (e.g. back from a partition) learns the new term and steps down.
        this.send(message({ type: 'MsgAppResp', to: m.from }));
      } else if (m.type === 'MsgPreVote') {
        this.send(message({ type: 'MsgPreVoteResp', to: m.from, term: this.term, reject: true }));
      }
      return;
    }

    switch (m.type) {
      case 'MsgHup':
        if (this.role !== 'leader') this.campaign(this.preVote ? 'preElection' : 'election');
        return;
      case 'MsgVote':
      case 'MsgPreVote': {
        const canVote =
          this.vote === m.from ||
          (this.vote === NONE && this.lead === NONE) ||
          (m.type === 'MsgPreVote' && m.term > this.term);
        // A member that joined with an empty log knows no configuration yet; its vote still counts only where it is a voter.
        const knownVoter = this.voters.includes(m.from) || this.voters.length === 0;
        if (canVote && this.log.isUpToDate(m.index, m.logTerm) && knownVoter) {
          this.send(message({ type: voteRespType(m.type), to: m.from, term: m.term }));
          if (m.type === 'MsgVote') {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else if (this.term > 0) {
          this.send(message({ type: voteRespType(m.type), to: m.from, term: this.term, reject: true }));
        }
        // At term 0 (a member that just joined with an empty log) a refusal could carry no term;
        // the candidate's term is higher, so it would drop the answer anyway.
        return;
      }
    }

    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'MsgProp':
        this.leaderPropose(m.entries);
        return;
      case 'MsgReadIndex':
        this.leaderReadIndex(m);
        return;
      case 'MsgTransferLeader':
        this.leaderTransfer(m.from);
        return;
    }
    const pr = this.progress.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case 'MsgAppResp':
        this.handleAppendResponse(m, pr);
        return;
      case 'MsgHeartbeatResp': {
        pr.recentActive = true;
        pr.probeSent = false;
        // Appends may have been lost: free one slot so replication cannot stall on a full window.
        if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.log.lastIndex()) this.maybeSendAppend(m.from, true);
        if (m.context.length === 0) return;
        const acks = this.readOnly.recvAck(m.from, m.context);
        if (!acks) return;
        const votes = new Map<NodeId, boolean>();
        for (const id of acks) votes.set(id, true);
        if (voteResult(this.voters, votes) !== 'won') return;
        for (const rs of this.readOnly.advance(m.context)) this.respondToReadIndex(rs.request, rs.index);
        return;
      }
      case 'MsgSnapStatus':
        if (pr.state !== 'snapshot') return;
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        // Wait for the follower's answer (or a heartbeat's) before probing again.
        pr.probeSent = true;
        return;
      case 'MsgUnreachable':
        if (pr.state === 'replicate') pr.becomeProbe();
        return;
    }
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      let nextProbe = m.rejectHint;
      if (m.logTerm > 0) nextProbe = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.maybeSendAppend(m.from, true);
      }
      return;
    }
    const oldPaused = pr.isPaused();
    if (pr.maybeUpdate(m.index)) {
      if (pr.state === 'probe') pr.becomeReplicate();
      else if (pr.state === 'snapshot' && pr.match + 1 >= this.log.firstIndex()) {
        pr.becomeProbe();
        pr.becomeReplicate();
      } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);
      if (this.maybeCommit()) {
        this.releasePendingReadIndexMessages();
        this.bcastCommit();
      } else if (oldPaused) {
        this.maybeSendAppend(m.from, true);
      }
      while (this.maybeSendAppend(m.from, false)) {
        // Keep the pipeline full up to the in-flight bounds.
      }
      if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
        this.send(message({ type: 'MsgTimeoutNow', to: m.from }));
      }
    }
  }

  private stepCandidate(m: Message): void {
    const myResp: MessageType = this.role === 'preCandidate' ? 'MsgPreVoteResp' : 'MsgVoteResp';
    switch (m.type) {
      case 'MsgProp':
        throw new ProposalDroppedError(`member ${this.id} is campaigning and there is no leader yet`);
      case 'MsgApp':
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case 'MsgHeartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'MsgSnap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case 'MsgPreVoteResp':
      case 'MsgVoteResp': {
        if (m.type !== myResp) return;
        const res = this.poll(m.from, !m.reject);
        if (res === 'won') {
          if (this.role === 'preCandidate') this.campaign('election');
          else {
            this.becomeLeader();
          }
        } else if (res === 'lost') {
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      case 'MsgReadIndex':
        this.dropReadIndex(m);
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'MsgProp':
        if (this.lead === NONE) throw new ProposalDroppedError(`member ${this.id} knows no leader`);
        m.to = this.lead;
        this.send(m);
        return;
      case 'MsgApp':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case 'MsgHeartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'MsgSnap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case 'MsgTimeoutNow':
        this.logger(`${this.id} received TimeoutNow from ${m.from} at term ${this.term} and campaigns`);
        this.campaign('transfer');
        return;
      case 'MsgReadIndex':
        if (this.lead === NONE) {
          this.dropReadIndex(m);
          return;
        }
        m.to = this.lead;
        this.send(m);
        return;
      case 'MsgReadIndexResp':
        this.readStates.push({ index: m.index, requestCtx: m.context });
        return;
    }
  }

  private dropReadIndex(m: Message): void {
    // index 0 tells the waiting caller its read failed and may be retried.
    if (m.from === this.id || m.from === NONE) this.readStates.push({ index: 0, requestCtx: m.context });
  }

  // ---- leader duties ----

  private leaderPropose(entries: Entry[]): void {
    if (!this.progress.has(this.id)) throw new ProposalDroppedError(`member ${this.id} was removed from the cluster`);
    if (this.leadTransferee !== NONE) {
      throw new ProposalDroppedError(`leadership is being transferred from ${this.id} to ${this.leadTransferee}`);
    }
    let size = 0;
    for (const e of entries) size += entrySizeBytes(e);
    if (this.uncommittedSizeBytes > 0 && this.uncommittedSizeBytes + size > this.maxUncommittedSizeBytes) {
      throw new ProposalDroppedError(
        `too much uncommitted data (${this.uncommittedSizeBytes} bytes, limit ${this.maxUncommittedSizeBytes})`,
      );
    }
    if (entries.filter((e) => e.type === 'confChange').length > 1) {
      throw new ProposalDroppedError('only one configuration change may be proposed at a time');
    }
    for (const e of entries) {
      if (e.type === 'confChange') {
        if (this.pendingConfIndex > this.log.applied) {
          throw new ConfChangePendingError(
            `a configuration change is pending until index ${this.pendingConfIndex} is applied (applied ${this.log.applied})`,
          );
        }
      }
    }
    let index = this.log.lastIndex();
    const ents = entries.map((e) => ({ ...e, term: this.term, index: ++index, data: this.stampConfChange(e) }));
    for (const e of ents) if (e.type === 'confChange') this.pendingConfIndex = e.index;
    this.log.append(ents);
    this.uncommittedSizeBytes += size;
    this.bcastAppend();
  }

  /** A change's entry records the configuration it produces (see ConfChange.confState). */
  private stampConfChange(e: Entry): Uint8Array {
    if (e.type !== 'confChange') return e.data;
    let cc: ConfChange;
    try {
      cc = decodeConfChange(e.data);
    } catch (err) {
      throw new ProposalDroppedError(`the configuration change is malformed: ${(err as Error).message}`);
    }
    // No change is pending (checked above), so our configuration is the one the log leads to.
    const next = changedConfState(this.confState(), cc);
    return next === undefined ? e.data : encodeConfChange({ ...cc, confState: next });
  }

  /** The entries given to the application; the leader counts them out of its uncommitted budget. */
  reduceUncommittedSize(ents: readonly Entry[]): void {
    if (this.role !== 'leader') return;
    let size = 0;
    for (const e of ents) size += entrySizeBytes(e);
    this.uncommittedSizeBytes = Math.max(0, this.uncommittedSizeBytes - size);
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  private leaderReadIndex(m: Message): void {
    // Even a lone voter waits: after a restart its commit index (saved unsynced) may lag what it acknowledged.
    if (!this.committedEntryInCurrentTerm()) {
      // Our commit index may lag until our first entry commits; answer afterwards.
      if (this.pendingReadIndexMessages.length >= this.readOnly.maxPending) this.dropReadIndex(m);
      else this.pendingReadIndexMessages.push(m);
      return;
    }
    this.startReadIndex(m);
  }

  private startReadIndex(m: Message): void {
    if (this.voters.length === 1) {
      this.respondToReadIndex(m, this.log.committed);
      return;
    }
    if (!this.readOnly.addRequest(this.log.committed, m)) {
      this.dropReadIndex(m);
      return;
    }
    this.readOnly.recvAck(this.id, m.context);
    this.bcastHeartbeat(m.context);
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const msgs = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of msgs) this.startReadIndex(m);
  }

  private respondToReadIndex(req: Message, index: number): void {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, requestCtx: req.context });
    } else {
      this.send(message({ type: 'MsgReadIndexResp', to: req.from, index, context: req.context }));
    }
  }

  private leaderTransfer(transferee: NodeId): void {
    const pr = this.progress.get(transferee);
    if (!pr || pr.isLearner || transferee === this.id) {
      this.logger(`${this.id} ignored leadership transfer to ${transferee}: not another voter`);
      return;
    }
    if (this.leadTransferee === transferee) return;
    if (this.leadTransferee !== NONE) this.abortLeaderTransfer();
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    if (pr.match === this.log.lastIndex()) {
      this.send(message({ type: 'MsgTimeoutNow', to: transferee }));
    } else {
      this.maybeSendAppend(transferee, true);
    }
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  private maybeCommit(): boolean {
    const mci = committedIndex(this.voters, (id) => this.progress.get(id)?.match ?? 0);
    return this.log.maybeCommit(mci, this.term);
  }

  /** The driver synced our log up to index; as leader, that counts as our own acknowledgement. */
  selfStable(index: number, term: number): void {
    if (this.role !== 'leader' || this.log.term(index) !== term) return;
    const pr = this.progress.get(this.id);
    if (!pr || !pr.maybeUpdate(index)) return;
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastCommit();
    }
  }

  /** Tells the followers of a moved commit index (see lazyCommitBroadcast). */
  private bcastCommit(): void {
    if (this.lazyCommitBroadcast) this.sendPendingAppends();
    else this.bcastAppend();
  }

  /** Sends each follower the entries it lacks, if any (no empty appends). */
  private sendPendingAppends(): void {
    for (const id of this.progress.keys()) if (id !== this.id) this.maybeSendAppend(id, false);
  }

  private bcastAppend(): void {
    for (const id of this.progress.keys()) if (id !== this.id) this.maybeSendAppend(id, true);
  }

  private bcastHeartbeat(ctx?: Uint8Array): void {
    const context = ctx ?? this.readOnly.lastPendingContext() ?? new Uint8Array(0);
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      this.send(message({ type: 'MsgHeartbeat', to: id, commit: Math.min(pr.match, this.log.committed), context }));
    }
  }

  /** Sends an append (or a snapshot) to `to` unless its progress is paused. */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    let ents: Entry[] | undefined;
    if (prevTerm !== undefined) {
      try {
        ents = this.log.entries(pr.next, this.maxMsgSizeBytes);
      } catch {
        ents = undefined;
      }
    }
    if (prevTerm === undefined || ents === undefined) {
      return this.sendSnapshot(to, pr);
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    let size = 0;
    for (const e of ents) size += entrySizeBytes(e);
    this.send(
      message({ type: 'MsgApp', to, index: prevIndex, logTerm: prevTerm, entries: ents, commit: this.log.committed }),
    );
    pr.sentEntries(ents.length, ents.length > 0 ? ents[ents.length - 1].index : prevIndex, size);
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false;
    let snap: Snapshot;
    try {
      snap = this.log.snapshot();
    } catch (e) {
      this.logger(`${this.id} could not send a snapshot to ${to}: ${(e as Error).message}`);
      return false;
    }
    if (snap.metadata.index === 0) throw new Error('Raft invariant broken: need a snapshot but none exists');
    this.send(message({ type: 'MsgSnap', to, snapshot: snap }));
    pr.becomeSnapshot(snap.metadata.index);
    this.logger(`${this.id} sends snapshot at index ${snap.metadata.index} to ${to}`);
    return true;
  }

  // ---- follower duties ----

  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      this.send(message({ type: 'MsgAppResp', to: m.from, index: this.log.committed }));
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send(message({ type: 'MsgAppResp', to: m.from, index: lastNew }));
      return;
    }
    // Tell the leader where our log may match: the last index ≤ m.index whose term ≤ m.logTerm.
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send(
      message({ type: 'MsgAppResp', to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term }),
    );
  }

  private handleHeartbeat(m: Message): void {
    if (m.commit > this.log.committed) this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send(message({ type: 'MsgHeartbeatResp', to: m.from, context: m.context }));
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (!s) return;
    if (this.restore(s)) {
      this.send(message({ type: 'MsgAppResp', to: m.from, index: this.log.lastIndex() }));
    } else {
      this.send(message({ type: 'MsgAppResp', to: m.from, index: this.log.committed }));
    }
  }

  private restore(s: Snapshot): boolean {
    const { index, term } = s.metadata;
    if (index <= this.log.committed) return false;
    const cs = s.metadata.confState;
    // A member still joining (not in its own configuration) takes a snapshot taken before it was
    // added: the entries after it add the member. Refusing it left such a member unable to catch up.
    if (!cs.voters.includes(this.id) && !cs.learners.includes(this.id) && this.isMember(this.id)) {
      this.logger(`${this.id} ignored a snapshot at index ${index} whose configuration does not include it`);
      return false;
    }
    if (this.log.matchTerm(index, term)) {
      // We have the entries already: just move the commit index.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(s);
    this.progress.clear();
    this.applyConfState(cs);
    this.confIndex = index;
    return true;
  }
}

type VoteOutcome = ReturnType<typeof voteResult>;

/** Whether a member outside the configuration may still be heard: only a leader we have not learned of yet. */
export function acceptFromNonMember(t: MessageType): boolean {
  return t === 'MsgApp' || t === 'MsgHeartbeat' || t === 'MsgSnap';
}
