import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { type ConfChange, type ConfChangeType, decodeConfChange } from '../core/conf_change.js';
import { ConfChangePendingError, ProposalDroppedError } from '../core/errors.js';
import type { Random } from '../core/random.js';
import { RawNode, type Status } from '../core/raw_node.js';
import { contextKey } from '../core/read_only.js';
import { type ConfState, type Entry, type Message, type NodeId, type Ready, type Snapshot, message } from '../core/types.js';
import type { RaftStorage } from '../storage/raft_storage.js';
import { decodeSnapshotEnvelope, encodeSnapshotEnvelope, encodeSnapshotEnvelopeHeader } from './snapshot_envelope.js';
import type { Clock, StateMachine, TimerHandle, Transport } from './ports.js';
import { NotLeaderError, RaftStoppedError, RaftTimeoutError } from './errors.js';

export interface Member {
  id: NodeId;
  address: string;
}

export interface RaftNodeLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface RaftNodeOptions {
  id: NodeId;
  /** Every member address this process knows; more are learned from configuration changes and snapshots. */
  peers: Member[];
  /** Start a new cluster whose voters are `peers` (ignored when storage already holds state); false joins an existing one. */
  bootstrap: boolean;
  storage: RaftStorage;
  transport: Transport;
  stateMachine: StateMachine;
  clock: Clock;
  random: Random;
  /** @default 50 */
  tickMs?: number;
  /**
   * @default 20 (a follower campaigns after 1–2 s of silence, as etcd's default 1 s election timeout;
   * with 500–1000 ms, a loaded 2-core machine's event-loop and GC pauses made a leader change every minute or so)
   */
  electionTicks?: number;
  /** @default 1 */
  heartbeatTicks?: number;
  /** Take a snapshot once this many entries were applied since the last one. @default 10000 */
  snapshotEntries?: number;
  /** Or once this many bytes of entries were applied since the last one. @default 64 MiB */
  snapshotBytes?: number;
  /**
   * Below snapshotBytes, also wait until the entries applied since the last
   * snapshot add up to this fraction of its size (0: snapshot every
   * snapshotEntries regardless). @default 0
   */
  snapshotLogRatio?: number;
  /**
   * With snapshotLogRatio: past its threshold, a snapshot waits for a tick in
   * which nothing was applied, until the log reaches this many times the
   * threshold. @default 4
   */
  snapshotIdleWaitFactor?: number;
  /**
   * This member's thresholds are this fraction higher (0 to 1): members
   * applying the same log then snapshot at different indexes instead of all
   * stalling at once. The entry count is raised for the first snapshot only
   * (later ones keep that phase); the byte thresholds for every snapshot,
   * since they are sized by the last snapshot, which members that once
   * snapshotted together share. @default 0
   */
  snapshotStaggerFraction?: number;
  /** Entries kept behind a snapshot so slightly slow followers need no snapshot. @default 1000 */
  snapshotCatchUpEntries?: number;
  /** @default 5000 */
  proposalTimeoutMs?: number;
  /** @default 5000 */
  readIndexTimeoutMs?: number;
  /** Proposals and reads waiting for an answer, at most. @default 65536 */
  maxPendingRequests?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  /** See RaftConfig.lazyCommitBroadcast. @default false */
  lazyCommitBroadcast?: boolean;
  logger?: RaftNodeLogger;
  /** Called with the duration of every synced storage write (the fsync latency metric). */
  onSync?: (seconds: number) => void;
  /**
   * Applying committed entries gives the event loop a turn once it has run this long, so that a
   * large batch (a follower catching up, a leader after a pause) does not hold back heartbeats,
   * timers and requests for seconds. @default 50
   */
  applyTurnMs?: number;
  /** How applying gives way: resolves once other ready work has run. @default setImmediate */
  yieldTurn?: () => Promise<void>;
  /**
   * A proposal that arrives less than this long after the last batch was appended waits for the
   * rest of the interval, so that writes trickling in (5,000 nodes' lease renewals) share one
   * append, one fsync on each member and one message to each follower instead of taking one each.
   * A busy member's appends are mostly further apart than this anyway, so it seldom waits.
   * @default 0
   */
  proposalBatchMs?: number;
}

interface Pending {
  term: number;
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: TimerHandle;
}

interface QueuedProposal {
  data: Uint8Array;
  /** Handed to the leader without a pending entry here (see forward()). */
  forward: boolean;
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/** A snapshot the state machine took at `index`, with what it takes to name it in storage. */
interface TakenSnapshot {
  index: number;
  confState: ConfState;
  /** Absent when storage already holds it (written as it was encoded). */
  data?: Uint8Array;
  /** bytesSinceSnapshot when it was taken: what was applied after it still counts toward the next. */
  bytesAtTake: number;
}

interface ReadWaiter {
  index: number;
  resolve(): void;
  reject(e: Error): void;
  timer: TimerHandle;
}

export interface RaftNodeStats {
  /** Synced writes to storage. */
  syncs: number;
  /** Entries written by those syncs. */
  entriesSynced: number;
  applied: number;
  snapshotsTaken: number;
  snapshotsRestored: number;
  leaderChanges: number;
  /** ReadIndex requests sent (reads queued together share one). */
  readIndexRequests: number;
  /** Times applying gave the event loop a turn in the middle of a batch (applyTurnMs). */
  applyYields: number;
}

const silentLogger: RaftNodeLogger = { info() {}, warn() {}, error() {} };

/**
 * Drives a RawNode: ticks from a Clock, persists each Ready (synced) before
 * sending its messages, applies committed entries to the StateMachine in
 * order, and snapshots when the log grows past a bound.
 */
export class RaftNode {
  readonly id: NodeId;
  private readonly rn: RawNode;
  private readonly o: RaftNodeOptions;
  private readonly log: RaftNodeLogger;
  private readonly members = new Map<NodeId, string>();
  private readonly pending = new Map<number, Pending>();
  /** Proposals waiting for the next loop turn, where they are stepped as one batch. */
  private queued: QueuedProposal[] = [];
  /** Reads waiting for the next loop turn, where they share one ReadIndex request (one heartbeat round). */
  private readQueued: ReadWaiter[] = [];
  /** ReadIndex requests sent, by context: the reads that share each. */
  private readonly readRequests = new Map<string, ReadWaiter[]>();
  /** Reads whose index is known, waiting for it to be applied. */
  private readonly readWaiters: ReadWaiter[] = [];
  private readonly leaderWaiters: Array<{ id: NodeId; resolve(): void }> = [];
  private readonly applyWaiters: Array<{ index: number; resolve(): void }> = [];
  private readCounter = 0;
  private bytesSinceSnapshot = 0;
  /** Size of the last snapshot this member took, started from or received (0: none yet). */
  private lastSnapshotBytes = 0;
  private appliedAtLastTick = 0;
  /** When the event loop last had a turn while this loop ran (applyTurnMs counts from it). */
  private turnStartMs = 0;
  /** An idle tick asked the loop for a snapshot. */
  private snapshotWanted = false;
  /** Storage writing a taken snapshot's data while the loop goes on (prepareSnapshot); one at a time. */
  private snapshotWriting: Promise<void> | undefined;
  /** A snapshot being read from storage to send to followers (see send). */
  private snapshotRead: { index: number; data: Promise<Snapshot> } | undefined;
  /** Its data is written: the loop names it in storage next (createSnapshot). */
  private snapshotPrepared: TakenSnapshot | undefined;
  private readonly readEpoch: number;
  private applied: number;
  private smApplied: number;
  private snapshotIndex: number;
  private tickTimer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** When proposals were last handed to the core (see proposalBatchMs). */
  private proposalsFlushedAtMs = -Infinity;
  /** Flushes the proposals held back by proposalBatchMs. */
  private proposalTimer: TimerHandle | undefined;
  private stopped = false;
  private fatal: Error | undefined;
  private lead = 0;
  private persistedTerm = 0;
  private persistedVote = 0;
  readonly stats: RaftNodeStats = { syncs: 0, entriesSynced: 0, applied: 0, snapshotsTaken: 0, snapshotsRestored: 0, leaderChanges: 0, readIndexRequests: 0, applyYields: 0 };

  private constructor(o: RaftNodeOptions, rn: RawNode, applied: number, smApplied: number, snapshotIndex: number) {
    this.o = o;
    this.id = o.id;
    this.rn = rn;
    this.log = o.logger ?? silentLogger;
    this.applied = applied;
    this.smApplied = smApplied;
    this.snapshotIndex = snapshotIndex;
    this.readEpoch = o.random.intn(0x100000000);
  }

  /** Opens the state machine, restores the latest snapshot, and starts ticking and serving. */
  static async start(o: RaftNodeOptions): Promise<RaftNode> {
    const stagger = o.snapshotStaggerFraction ?? 0;
    if (!(stagger >= 0 && stagger <= 1)) throw new RangeError(`Invalid snapshotStaggerFraction ${stagger}: expected a number from 0 to 1`);
    const storage = o.storage;
    const smApplied = await o.stateMachine.open();
    const snap = storage.loadSnapshot ? await storage.loadSnapshot() : storage.snapshot();
    const members = new Map<NodeId, string>(o.peers.map((p) => [p.id, p.address]));
    if (snap.data.byteLength > 0) {
      const env = decodeSnapshotEnvelope(snap.data);
      for (const [id, addr] of env.members) if (!members.has(id)) members.set(id, addr);
      if (snap.metadata.index > smApplied && snap.metadata.index > 0) await o.stateMachine.restore(env.app, snap.metadata.index);
    } else if (snap.metadata.index > smApplied) {
      // Starting from it would skip every entry up to its index.
      throw new Error(`Cannot start member ${o.id}: storage gave the snapshot at index ${snap.metadata.index} without its data (a storage that keeps it on disk must implement loadSnapshot)`);
    }
    const fresh = storage.lastIndex() === 0 && storage.initialState().hardState.term === 0;
    const rn = new RawNode({
      id: o.id,
      electionTicks: o.electionTicks ?? 20,
      heartbeatTicks: o.heartbeatTicks ?? 1,
      storage,
      random: o.random,
      bootstrapVoters: fresh && o.bootstrap ? o.peers.map((p) => p.id) : undefined,
      // Entries up to the snapshot are in the machine already; replay starts after it.
      applied: snap.metadata.index,
      preVote: o.preVote,
      checkQuorum: o.checkQuorum,
      lazyCommitBroadcast: o.lazyCommitBroadcast,
    });
    const node = new RaftNode(o, rn, snap.metadata.index, Math.max(smApplied, snap.metadata.index), snap.metadata.index);
    // The ratio rule needs the last snapshot's size. Unknown, a restarted member counted the log it
    // replays as due and re-encoded the whole state within seconds of starting (a 250 MB store: 2 to
    // 6 s of its main thread while its caches filled). Index 0 is the bootstrap record, not a state.
    if (snap.metadata.index > 0) node.lastSnapshotBytes = snap.data.byteLength;
    for (const [id, addr] of members) node.members.set(id, addr);
    const hs = storage.initialState().hardState;
    node.persistedTerm = hs.term;
    node.persistedVote = hs.vote;
    if (fresh && o.bootstrap) {
      // Record the initial configuration durably, so a restart does not depend on flags.
      await storage.save({
        snapshot: {
          metadata: { index: 0, term: 0, confState: { voters: o.peers.map((p) => p.id), learners: [] } },
          data: encodeSnapshotEnvelope(node.members, new Uint8Array(0)),
        },
        entries: [],
      });
    }
    await o.transport.start({
      onMessage: (m) => node.receive(m),
      onUnreachable: (peer) => {
        if (node.stopped) return;
        node.rn.reportUnreachable(peer);
        node.kick();
      },
      onSnapshotStatus: (peer, ok) => {
        if (node.stopped) return;
        node.rn.reportSnapshot(peer, ok);
        node.kick();
      },
    });
    for (const [id, addr] of node.members) if (id !== o.id) o.transport.addPeer(id, addr);
    node.scheduleTick();
    node.kick();
    return node;
  }

  private receive(m: Message): void {
    if (this.stopped) return;
    this.rn.step(m);
    this.kick();
  }

  private scheduleTick(): void {
    const tickMs = this.o.tickMs ?? 50;
    const armedMs = this.o.clock.nowMs();
    this.tickTimer = this.o.clock.setTimeout(() => {
      if (this.stopped) return;
      const lateMs = this.o.clock.nowMs() - armedMs - tickMs;
      // Heartbeats and elections run on ticks: a process this busy looks dead to its peers.
      if (lateMs >= (this.o.electionTicks ?? 20) * tickMs / 2) this.log.warn(`member ${this.id}: a tick came ${lateMs} ms late: this process was busy or paused`);
      // Nothing applied for a whole tick that came on time: a good moment for a snapshot that can
      // wait for one. A late tick has nothing applied because this process was stalled, not idle.
      if (lateMs < tickMs && this.applied === this.appliedAtLastTick && !this.snapshotWanted && this.snapshotDue() === 'idle') {
        this.snapshotWanted = true;
        this.kick();
      }
      this.appliedAtLastTick = this.applied;
      this.rn.tick();
      this.kick();
      this.scheduleTick();
    }, tickMs);
  }

  /**
   * Hands messages to the transport. A snapshot whose data the storage keeps on disk (its
   * snapshot() gives metadata only) is read first; followers that need the same one share the read.
   */
  private send(messages: Message[]): void {
    const load = this.o.storage.loadSnapshot?.bind(this.o.storage);
    const needsData = (m: Message) => m.type === 'MsgSnap' && m.snapshot !== undefined && m.snapshot.metadata.index > 0 && m.snapshot.data.byteLength === 0;
    if (!messages.some(needsData)) {
      this.o.transport.send(messages);
      return;
    }
    this.o.transport.send(messages.filter((m) => !needsData(m)));
    for (const m of messages) {
      if (!needsData(m)) continue;
      const index = m.snapshot!.metadata.index;
      if (!load) {
        this.log.error(`member ${this.id}: the snapshot at index ${index} for member ${m.to} has no data and storage cannot read it (no loadSnapshot)`);
        this.snapshotSendFailed(m.to);
        continue;
      }
      if (this.snapshotRead?.index !== index) {
        const read = { index, data: load() };
        read.data.finally(() => {
          if (this.snapshotRead === read) this.snapshotRead = undefined;
        }).catch(() => {});
        this.snapshotRead = read;
      }
      this.snapshotRead.data.then(
        (snap) => {
          if (this.stopped) return;
          // Replaced meanwhile: Raft sends the newer one after this failure.
          if (snap.metadata.index !== index) return this.snapshotSendFailed(m.to);
          this.o.transport.send([{ ...m, snapshot: snap }]);
        },
        (e: unknown) => {
          if (this.stopped) return;
          this.log.warn(`member ${this.id}: cannot read the snapshot at index ${index} for member ${m.to}: ${(e as Error).message}`);
          this.snapshotSendFailed(m.to);
        },
      );
    }
  }

  private snapshotSendFailed(peer: NodeId): void {
    this.rn.reportSnapshot(peer, false);
    this.kick();
  }

  /** Processes Readies soon; everything stepped before then lands in one synced batch. */
  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = Promise.resolve().then(() => this.loop());
  }

  private async loop(): Promise<void> {
    this.turnStartMs = this.o.clock.nowMs();
    try {
      do {
        this.again = false;
        this.flushProposals();
        this.flushReads();
        while (!this.stopped && this.rn.hasReady()) {
          await this.handleReady(this.rn.ready());
          // Proposals made while that Ready was being written join the next one, as one append.
          this.flushProposals();
          this.flushReads();
        }
        if (this.snapshotPrepared && !this.stopped) await this.commitSnapshot(this.snapshotPrepared);
        if (this.snapshotWanted && !this.stopped) {
          this.snapshotWanted = false;
          if (this.snapshotDue() !== 'no') await this.takeSnapshot();
        }
      } while (this.again && !this.stopped);
    } catch (e) {
      this.die(e as Error);
    } finally {
      this.running = undefined;
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState && rd.softState.lead !== this.lead) {
      this.lead = rd.softState.lead;
      this.stats.leaderChanges++;
      this.log.info(`member ${this.id}: leader is now ${this.lead || 'unknown'} (${rd.softState.role})`);
      for (let i = this.leaderWaiters.length - 1; i >= 0; i--) {
        if (this.leaderWaiters[i].id === this.lead) this.leaderWaiters.splice(i, 1)[0].resolve();
      }
    }
    // A leader's appends may go out while its own disk write runs (Raft thesis §10.2.1): it counts
    // itself toward a commit only once synced. Everything else waits for the disk.
    const termOrVoteChanged = rd.hardState !== undefined && (rd.hardState.term !== this.persistedTerm || rd.hardState.vote !== this.persistedVote);
    const sendEarly = this.rn.raft.role === 'leader' && !termOrVoteChanged && !rd.snapshot;
    if (sendEarly && rd.messages.length > 0) this.send(rd.messages);
    // Only a moved commit index: nothing waits on it being durable, so apply while it is written.
    let commitSave: Promise<Error | undefined> | undefined;
    /** How many of rd.committedEntries are applied. */
    let applied = 0;
    if (rd.hardState || rd.entries.length > 0 || rd.snapshot) {
      const saving = this.o.storage.save({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot, sync: rd.mustSync });
      if (!rd.mustSync && rd.entries.length === 0 && !rd.snapshot) {
        // Caught here so that returning early on stop leaves no unhandled rejection behind.
        commitSave = saving.then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      } else {
        const t0 = this.o.clock.nowMs();
        if (sendEarly && rd.committedEntries.length > 0) {
          // The leader's committed entries are on its disk already (it counts itself only once
          // synced): apply them while this Ready's new entries are written.
          saving.catch(() => undefined); // awaited below; this only keeps a failure during apply from counting as unhandled
          const firstNew = rd.entries.length > 0 ? rd.entries[0].index : Infinity;
          for (; applied < rd.committedEntries.length && rd.committedEntries[applied].index < firstNew; applied++) {
            const applying = this.applyEntry(rd.committedEntries[applied]);
            if (applying) await applying;
            if (this.turnOver()) await this.giveTurn();
            if (this.stopped) return;
          }
        }
        await saving;
        this.turnStartMs = this.o.clock.nowMs();
        if (rd.mustSync) {
          this.stats.syncs++;
          this.o.onSync?.((this.o.clock.nowMs() - t0) / 1000);
        }
        this.stats.entriesSynced += rd.entries.length;
        if (rd.hardState) {
          this.persistedTerm = rd.hardState.term;
          this.persistedVote = rd.hardState.vote;
        }
        if (this.stopped) return;
      }
    }
    if (rd.snapshot && rd.snapshot.metadata.index > this.applied) {
      await this.restoreSnapshot(rd.snapshot.metadata.index, rd.snapshot.data);
    }
    if (!sendEarly && rd.messages.length > 0) this.send(rd.messages);
    for (; applied < rd.committedEntries.length; applied++) {
      const applying = this.applyEntry(rd.committedEntries[applied]);
      if (applying) await applying;
      if (this.turnOver()) await this.giveTurn();
      if (this.stopped) return;
    }
    for (const rs of rd.readStates) this.onReadState(rs.index, rs.requestCtx);
    const commitSaveError = commitSave && (await commitSave);
    if (commitSaveError) throw commitSaveError;
    if (this.stopped) return;
    this.rn.advance(rd);
    this.releaseReads();
    for (let i = this.applyWaiters.length - 1; i >= 0; i--) {
      if (this.applyWaiters[i].index < this.applied) this.applyWaiters.splice(i, 1)[0].resolve();
    }
    // Here too, not only once the loop runs out of Readies: under steady writes it never does.
    if (this.snapshotPrepared) await this.commitSnapshot(this.snapshotPrepared);
    await this.maybeSnapshot();
  }

  private async restoreSnapshot(index: number, data: Uint8Array): Promise<void> {
    const env = decodeSnapshotEnvelope(data);
    // The snapshot's member list is authoritative at its index: forget members removed before it.
    for (const id of [...this.members.keys()]) {
      if (id !== this.id && env.members.size > 0 && !env.members.has(id)) {
        this.members.delete(id);
        this.o.transport.removePeer(id);
      }
    }
    for (const [id, addr] of env.members) {
      if (!this.members.has(id)) {
        this.members.set(id, addr);
        if (id !== this.id) this.o.transport.addPeer(id, addr);
      }
    }
    await this.o.stateMachine.restore(env.app, index);
    this.applied = index;
    this.smApplied = index;
    this.snapshotIndex = index;
    this.bytesSinceSnapshot = 0;
    // The next snapshot waits for a log as large as this state, as after one taken here.
    this.lastSnapshotBytes = data.byteLength;
    this.stats.snapshotsRestored++;
    this.log.info(`member ${this.id}: restored snapshot at index ${index}`);
  }

  /** Whether applying has held the event loop for a whole turn (since the last yield or the loop's start). */
  private turnOver(): boolean {
    return this.o.clock.nowMs() - this.turnStartMs >= (this.o.applyTurnMs ?? 50);
  }

  private async giveTurn(): Promise<void> {
    this.stats.applyYields++;
    await (this.o.yieldTurn ?? yieldToEventLoop)();
    this.turnStartMs = this.o.clock.nowMs();
  }

  /** Applies one committed entry; returns a promise only when the state machine's apply is asynchronous. */
  private applyEntry(e: Entry): Promise<void> | undefined {
    if (e.type === 'confChange') {
      // Configuration always reaches the core, even when the machine already has the entry.
      let cc: ConfChange | undefined;
      let failure: Error | undefined;
      try {
        cc = decodeConfChange(e.data);
      } catch (err) {
        failure = err as Error;
        this.log.error(`member ${this.id}: skipped undecodable configuration change at index ${e.index}: ${failure.message}`);
      }
      const result = cc ? this.applyConfChange(cc, e.index) : undefined;
      this.o.stateMachine.skipped?.(e);
      this.entryDone(e, result, failure);
      return undefined;
    }
    if (e.index <= this.smApplied || e.data.byteLength === 0) {
      if (e.index > this.smApplied) this.o.stateMachine.skipped?.(e);
      this.entryDone(e, undefined, undefined);
      return undefined;
    }
    let r: unknown;
    try {
      r = this.o.stateMachine.apply(e);
    } catch (err) {
      // A deterministic application error goes back to the proposer; every member sees the same.
      this.entryDone(e, undefined, err as Error);
      return undefined;
    }
    if (!(r instanceof Promise)) {
      this.entryDone(e, r, undefined);
      return undefined;
    }
    return r.then(
      (v) => this.entryDone(e, v, undefined),
      (err) => this.entryDone(e, undefined, err as Error),
    );
  }

  private entryDone(e: Entry, result: unknown, failure: Error | undefined): void {
    this.applied = e.index;
    this.bytesSinceSnapshot += e.data.byteLength;
    if (e.index > this.smApplied) this.smApplied = e.index;
    this.stats.applied++;
    const p = this.pending.get(e.index);
    if (p) {
      this.pending.delete(e.index);
      this.o.clock.clearTimeout(p.timer);
      if (p.term !== e.term) p.reject(new ProposalDroppedError(`the entry at index ${e.index} was replaced by a newer leader's`));
      else if (failure) p.reject(failure);
      else p.resolve(result);
    }
  }

  private applyConfChange(cc: ConfChange, index: number): ConfState {
    const cs = this.rn.applyConfChange(cc, index);
    if (cc.type === 'removeNode') {
      this.members.delete(cc.nodeId);
      if (cc.nodeId !== this.id) this.o.transport.removePeer(cc.nodeId);
    } else if (cc.context !== '') {
      const had = this.members.get(cc.nodeId);
      this.members.set(cc.nodeId, cc.context);
      if (cc.nodeId !== this.id && had !== cc.context) this.o.transport.addPeer(cc.nodeId, cc.context);
    }
    this.log.info(`member ${this.id}: applied ${cc.type} ${cc.nodeId}; voters [${cs.voters}] learners [${cs.learners}]`);
    return cs;
  }

  /**
   * Whether a snapshot is due: 'now', or 'idle' (wanted, but it blocks this
   * member for as long as encoding the whole state takes, so it waits for a
   * tick with nothing applied, up to snapshotIdleWaitFactor times the
   * threshold), or 'no'.
   */
  private snapshotDue(): 'no' | 'idle' | 'now' {
    const stagger = 1 + (this.o.snapshotStaggerFraction ?? 0);
    const entries = (this.o.snapshotEntries ?? 10000) * (this.stats.snapshotsTaken === 0 ? stagger : 1);
    if (this.bytesSinceSnapshot >= (this.o.snapshotBytes ?? 64 * 1024 * 1024) * stagger) return 'now';
    if (this.applied - this.snapshotIndex < entries) return 'no';
    const ratio = this.o.snapshotLogRatio ?? 0;
    if (ratio === 0) return 'now';
    // Waiting until the log since the last snapshot is as large as that snapshot keeps the cost per
    // applied byte bounded as the state grows.
    const threshold = this.lastSnapshotBytes * ratio * stagger;
    if (this.bytesSinceSnapshot < threshold) return 'no';
    const factor = this.o.snapshotIdleWaitFactor ?? 4;
    // Before the first snapshot its size is unknown: the entry count stands in.
    const forced = threshold > 0 ? this.bytesSinceSnapshot >= threshold * factor : this.applied - this.snapshotIndex >= entries * factor;
    return forced ? 'now' : 'idle';
  }

  private async maybeSnapshot(): Promise<void> {
    if (this.snapshotDue() === 'now') await this.takeSnapshot();
  }

  private async takeSnapshot(): Promise<void> {
    if (this.snapshotWriting || this.snapshotPrepared) return;
    // A snapshot received meanwhile already set the core's configuration past `applied`; it replaces ours anyway.
    if (this.rn.raft.log.unstable.snapshot) return;
    const index = this.applied;
    // Read before awaiting: a snapshot stepped during the await changes the core's configuration.
    const confState = this.rn.raft.confState();
    const bytesAtTake = this.bytesSinceSnapshot;
    const members = new Map(this.members);
    const sm = this.o.stateMachine;
    const storage = this.o.storage;
    const startedMs = this.o.clock.nowMs();
    const taken = (bytes: number, data?: Uint8Array): TakenSnapshot => {
      this.log.info(`member ${this.id}: encoded a snapshot at index ${index}: ${bytes} bytes in ${this.o.clock.nowMs() - startedMs} ms`);
      this.lastSnapshotBytes = bytes;
      return { index, confState, data, bytesAtTake };
    };
    // The state machine copies its state as it is at this call; the promise may settle later (a
    // store of hundreds of MiB encodes in turns) while more entries are applied. Encoding and
    // writing run beside the loop: a loop waiting for seconds sends no heartbeats, and its peers
    // then elect another leader. The log up to `index` stays until the snapshot is named.
    let written: Promise<TakenSnapshot | undefined>;
    if (sm.snapshotTo && storage.writeSnapshot) {
      // Each piece goes to disk before the next is encoded: the state is never in memory twice.
      const writer = storage.writeSnapshot(index);
      written = sm.snapshotTo(encodeSnapshotEnvelopeHeader(members), (piece) => writer.write(piece)).then(async (bytes) => {
        if (await writer.finish()) return taken(bytes);
        // A newer snapshot (from the leader) was stored meanwhile: this one is no longer needed.
        this.log.info(`member ${this.id}: dropped the snapshot at index ${index}: a newer one was stored while it was written`);
        return undefined;
      });
    } else {
      const encoded = sm.snapshotAfter ? sm.snapshotAfter(encodeSnapshotEnvelopeHeader(members)) : sm.snapshot().then((d) => encodeSnapshotEnvelope(members, d));
      if (!storage.prepareSnapshot) {
        const data = await encoded;
        return this.commitSnapshot(taken(data.byteLength, data));
      }
      written = encoded.then(async (data) => {
        const t = taken(data.byteLength, data);
        await storage.prepareSnapshot!(index, data);
        return t;
      });
    }
    this.snapshotWriting = written
      .then(
        (t) => {
          this.snapshotWriting = undefined;
          this.snapshotPrepared = t;
          this.kick();
        },
        (e: unknown) => {
          this.snapshotWriting = undefined;
          if (!this.stopped) this.die(e as Error);
        },
      );
  }

  /** Names a taken snapshot in storage (one short synced write when prepared) and compacts the log behind it. */
  private async commitSnapshot(s: TakenSnapshot): Promise<void> {
    this.snapshotPrepared = undefined;
    // A snapshot from the leader replaced ours while its data was written.
    if (s.index <= this.snapshotIndex) return;
    await this.o.storage.createSnapshot(s.index, s.confState, s.data);
    this.snapshotIndex = s.index;
    this.bytesSinceSnapshot = Math.max(0, this.bytesSinceSnapshot - s.bytesAtTake);
    this.stats.snapshotsTaken++;
    const keep = this.o.snapshotCatchUpEntries ?? 1000;
    const compactTo = s.index - keep;
    if (compactTo > this.o.storage.firstIndex()) await this.o.storage.compact(compactTo);
  }

  private die(e: Error): void {
    if (this.fatal) return;
    this.fatal = e;
    this.log.error(`member ${this.id} stopped on a fatal error: ${e.message}`);
    this.halt(new RaftStoppedError(`member ${this.id} stopped: ${e.message}`));
  }

  // ---- public API ----

  /**
   * Replicates data and resolves with the state machine's result once it is
   * applied here. Rejects with NotLeaderError (carrying the leader's id) on a
   * follower, ProposalDroppedError when refused or overwritten, and
   * RaftTimeoutError when the outcome is unknown.
   */
  propose(data: Uint8Array): Promise<unknown> {
    if (this.stopped) return Promise.reject(new RaftStoppedError(`member ${this.id} is stopped`));
    if (this.rn.raft.role !== 'leader') return Promise.reject(new NotLeaderError(this.id, this.rn.raft.lead));
    if (this.pending.size + this.readWaiters.length + this.queued.length >= (this.o.maxPendingRequests ?? 65536)) {
      return Promise.reject(new ProposalDroppedError(`member ${this.id} has too many requests in flight`));
    }
    return new Promise((resolve, reject) => {
      this.queued.push({ data, forward: false, resolve, reject });
      this.kick();
    });
  }

  /**
   * Hands data to the leader from any member without waiting for it to
   * apply: on a follower it travels inside Raft (MsgProp) with the others
   * proposed since the last Ready; on the leader it is appended. Resolves
   * once handed over (the caller learns the outcome from its state machine,
   * so the data must identify its proposer); rejects with
   * ProposalDroppedError when no leader is known or the leader refuses it.
   */
  forward(data: Uint8Array): Promise<void> {
    if (this.stopped) return Promise.reject(new RaftStoppedError(`member ${this.id} is stopped`));
    if (this.queued.length >= (this.o.maxPendingRequests ?? 65536)) {
      return Promise.reject(new ProposalDroppedError(`member ${this.id} has too many requests in flight`));
    }
    return new Promise((resolve, reject) => {
      this.queued.push({ data, forward: true, resolve, reject });
      this.kick();
    });
  }

  /** This member's current term. */
  term(): number {
    return this.rn.raft.term;
  }

  /** Steps the queued proposals: the leader's own as one MsgProp (one append, one broadcast), forwarded ones as another. */
  private flushProposals(): void {
    if (this.queued.length === 0 || this.stopped || this.proposalTimer !== undefined) return;
    const batchMs = this.o.proposalBatchMs ?? 0;
    if (batchMs > 0) {
      const now = this.o.clock.nowMs();
      const waitMs = this.proposalsFlushedAtMs + batchMs - now;
      if (waitMs > 0) {
        // At most one interval, whatever the clock did (a wall clock stepped back), and the
        // proposals then go whatever it says.
        this.proposalTimer = this.o.clock.setTimeout(() => {
          this.proposalTimer = undefined;
          this.proposalsFlushedAtMs = -Infinity;
          this.kick();
        }, Math.min(waitMs, batchMs));
        return;
      }
      this.proposalsFlushedAtMs = now;
    }
    const batch = this.queued;
    this.queued = [];
    const own = batch.filter((q) => !q.forward);
    const forwarded = own.length === batch.length ? [] : batch.filter((q) => q.forward);
    if (own.length > 0) this.appendOwn(own);
    if (forwarded.length > 0) {
      try {
        this.stepProposal(forwarded);
        for (const q of forwarded) q.resolve(undefined);
      } catch (e) {
        for (const q of forwarded) q.reject(e as Error);
      }
    }
  }

  private stepProposal(qs: QueuedProposal[]): void {
    const entries: Entry[] = qs.map((q) => ({ term: 0, index: 0, type: 'normal', data: q.data }));
    this.rn.raft.step(message({ type: 'MsgProp', from: this.id, entries }));
  }

  private appendOwn(qs: QueuedProposal[]): void {
    const raft = this.rn.raft;
    if (raft.role !== 'leader') {
      const err = new NotLeaderError(this.id, raft.lead);
      for (const q of qs) q.reject(err);
      return;
    }
    const first = raft.log.lastIndex() + 1;
    try {
      this.stepProposal(qs);
    } catch (e) {
      for (const q of qs) q.reject(e as Error);
      return;
    }
    if (raft.log.lastIndex() !== first + qs.length - 1) throw new Error(`Raft invariant broken: ${qs.length} proposals from index ${first} left the log at ${raft.log.lastIndex()}`);
    const term = raft.term;
    for (let i = 0; i < qs.length; i++) this.addPending(first + i, term, qs[i].resolve, qs[i].reject);
  }

  /**
   * Adds or removes one member; resolves with the new configuration once
   * applied here. While another change (or a new leader's first entry) is
   * still being applied, it waits for that, up to the proposal timeout.
   */
  async changeMembership(type: ConfChangeType, nodeId: NodeId, address = ''): Promise<ConfState> {
    const timeoutMs = this.o.proposalTimeoutMs ?? 5000;
    const deadline = this.o.clock.nowMs() + timeoutMs;
    for (;;) {
      try {
        return (await this.submit(() => this.rn.proposeConfChange({ type, nodeId, context: address }))) as ConfState;
      } catch (e) {
        if (!(e instanceof ConfChangePendingError) || this.o.clock.nowMs() >= deadline) throw e;
        await this.appliedPast(this.applied, deadline - this.o.clock.nowMs());
      }
    }
  }

  /** Resolves once something past `index` is applied, or after timeoutMs. */
  private appliedPast(index: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const w = { index, resolve: () => {
        this.o.clock.clearTimeout(timer);
        resolve();
      } };
      const timer = this.o.clock.setTimeout(() => {
        const i = this.applyWaiters.indexOf(w);
        if (i >= 0) this.applyWaiters.splice(i, 1);
        resolve();
      }, Math.max(1, timeoutMs));
      this.applyWaiters.push(w);
    });
  }

  private submit(append: () => { index: number; term: number }): Promise<unknown> {
    if (this.stopped) return Promise.reject(new RaftStoppedError(`member ${this.id} is stopped`));
    if (this.pending.size + this.readWaiters.length >= (this.o.maxPendingRequests ?? 65536)) {
      return Promise.reject(new ProposalDroppedError(`member ${this.id} has too many requests in flight`));
    }
    let at: { index: number; term: number };
    try {
      at = append();
    } catch (e) {
      if (e instanceof ProposalDroppedError && this.rn.raft.role !== 'leader') {
        return Promise.reject(new NotLeaderError(this.id, this.rn.raft.lead));
      }
      return Promise.reject(e);
    }
    this.kick();
    return new Promise((resolve, reject) => this.addPending(at.index, at.term, resolve, reject));
  }

  private addPending(index: number, term: number, resolve: (v: unknown) => void, reject: (e: Error) => void): void {
    const timer = this.o.clock.setTimeout(() => {
      if (this.pending.get(index)?.timer !== timer) return;
      this.pending.delete(index);
      reject(new RaftTimeoutError(`proposal at index ${index} was not applied within ${this.o.proposalTimeoutMs ?? 5000} ms; it may still be`));
    }, this.o.proposalTimeoutMs ?? 5000);
    const replaced = this.pending.get(index);
    if (replaced) {
      // Our earlier entry at this index was cut from the log while we were not leading.
      this.o.clock.clearTimeout(replaced.timer);
      replaced.reject(new ProposalDroppedError(`the entry at index ${index} was replaced by a newer leader's`));
    }
    this.pending.set(index, { term, resolve, reject, timer });
  }

  /**
   * Resolves once this member's state machine reflects every write that was
   * acknowledged before the call (ReadIndex): reads after it are linearizable.
   */
  readIndex(): Promise<void> {
    if (this.stopped) return Promise.reject(new RaftStoppedError(`member ${this.id} is stopped`));
    if (this.pending.size + this.readWaiters.length + this.readsRequested() >= (this.o.maxPendingRequests ?? 65536)) {
      return Promise.reject(new ProposalDroppedError(`member ${this.id} has too many requests in flight`));
    }
    return new Promise((resolve, reject) => {
      const timeoutMs = this.o.readIndexTimeoutMs ?? 5000;
      const waiter: ReadWaiter = {
        index: 0,
        resolve,
        reject,
        timer: this.o.clock.setTimeout(() => {
          this.forgetRead(waiter);
          reject(new RaftTimeoutError(`read index was not confirmed within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.readQueued.push(waiter);
      this.kick();
    });
  }

  /** Reads queued or sent and not yet answered. */
  private readsRequested(): number {
    let n = this.readQueued.length;
    for (const batch of this.readRequests.values()) n += batch.length;
    return n;
  }

  /** A timed-out read leaves whichever list holds it. */
  private forgetRead(w: ReadWaiter): void {
    const remove = (list: ReadWaiter[]): boolean => {
      const i = list.indexOf(w);
      if (i >= 0) list.splice(i, 1);
      return i >= 0;
    };
    if (remove(this.readQueued) || remove(this.readWaiters)) return;
    for (const [key, batch] of this.readRequests) {
      if (remove(batch)) {
        if (batch.length === 0) this.readRequests.delete(key);
        return;
      }
    }
  }

  /**
   * Sends one ReadIndex request for every read queued since the last turn. Each of them was called
   * before the request is made, so the index the leader confirms covers every write they must see.
   */
  private flushReads(): void {
    if (this.readQueued.length === 0 || this.stopped) return;
    const batch = this.readQueued;
    this.readQueued = [];
    // Member id, a random per-start epoch and a counter: a restarted member's counter starts over,
    // and the leader must not confuse its new request with one from before the restart.
    const ctx = new Uint8Array(16);
    const view = new DataView(ctx.buffer);
    view.setUint32(0, this.id >>> 0);
    view.setUint32(4, this.readEpoch);
    view.setFloat64(8, ++this.readCounter);
    this.readRequests.set(contextKey(ctx), batch);
    this.stats.readIndexRequests++;
    this.rn.readIndex(ctx);
  }

  private onReadState(index: number, ctx: Uint8Array): void {
    const key = contextKey(ctx);
    const batch = this.readRequests.get(key);
    if (!batch) return;
    this.readRequests.delete(key);
    for (const w of batch) {
      if (index === 0) {
        this.o.clock.clearTimeout(w.timer);
        w.reject(new NotLeaderError(this.id, this.rn.raft.lead));
        continue;
      }
      w.index = index;
      this.readWaiters.push(w);
    }
  }

  private releaseReads(): void {
    for (let i = this.readWaiters.length - 1; i >= 0; i--) {
      const w = this.readWaiters[i];
      if (w.index <= this.applied) {
        this.readWaiters.splice(i, 1);
        this.o.clock.clearTimeout(w.timer);
        w.resolve();
      }
    }
  }

  /** Hands leadership to `to` and resolves once this member sees it lead. */
  transferLeadership(to: NodeId, timeoutMs = 5000): Promise<void> {
    if (this.stopped) return Promise.reject(new RaftStoppedError(`member ${this.id} is stopped`));
    if (this.lead === to) return Promise.resolve();
    if (!this.isLeader()) return Promise.reject(new NotLeaderError(this.id, this.rn.raft.lead));
    return new Promise((resolve, reject) => {
      const waiter = {
        id: to,
        resolve: () => {
          this.o.clock.clearTimeout(timer);
          resolve();
        },
      };
      const timer = this.o.clock.setTimeout(() => {
        const i = this.leaderWaiters.indexOf(waiter);
        if (i >= 0) this.leaderWaiters.splice(i, 1);
        reject(new RaftTimeoutError(`leadership did not move to ${to} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.leaderWaiters.push(waiter);
      this.rn.transferLeadership(to);
      this.kick();
    });
  }

  /** Starts an election now instead of waiting for the timeout. */
  campaign(): void {
    this.rn.campaign();
    this.kick();
  }

  status(): Status & { members: Member[]; stats: RaftNodeStats } {
    return {
      ...this.rn.status(),
      applied: this.applied,
      members: [...this.members].map(([id, address]) => ({ id, address })).sort((a, b) => a.id - b.id),
      stats: { ...this.stats },
    };
  }

  isLeader(): boolean {
    return this.rn.raft.role === 'leader';
  }

  leaderId(): NodeId {
    return this.rn.raft.lead;
  }

  /** Stops at once without closing storage or transport: what a crash looks like from inside (the simulator uses it). */
  halt(reason: Error = new RaftStoppedError(`member ${this.id} is stopped`)): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.tickTimer) this.o.clock.clearTimeout(this.tickTimer);
    if (this.proposalTimer) this.o.clock.clearTimeout(this.proposalTimer);
    for (const p of this.pending.values()) {
      this.o.clock.clearTimeout(p.timer);
      p.reject(reason);
    }
    this.pending.clear();
    for (const q of this.queued) q.reject(reason);
    this.queued = [];
    for (const w of [...this.readQueued, ...[...this.readRequests.values()].flat(), ...this.readWaiters]) {
      this.o.clock.clearTimeout(w.timer);
      w.reject(reason);
    }
    this.readQueued = [];
    this.readRequests.clear();
    this.readWaiters.length = 0;
  }

  /** Graceful stop: hands leadership to the most caught-up voter first, then closes transport and storage. */
  async stop(options: { transferLeadership?: boolean } = {}): Promise<void> {
    if (!this.stopped && options.transferLeadership !== false && this.isLeader()) {
      const target = this.bestTransferTarget();
      if (target !== undefined) {
        try {
          await this.transferLeadership(target, 2000);
        } catch (e) {
          this.log.warn(`member ${this.id}: leadership transfer before stop failed: ${(e as Error).message}`);
        }
      }
    }
    this.halt();
    await this.o.transport.stop();
    await this.running;
    await this.snapshotWriting;
    await this.o.storage.close();
  }

  /**
   * The most caught-up other voter: where a leadership transfer should go (undefined: there is
   * none). `live`: only one heard from within the last election timeout and being replicated to,
   * so that a transfer to a dead or far-behind member does not hold writes up until it times out.
   */
  bestTransferTarget(o: { live?: boolean } = {}): NodeId | undefined {
    const st = this.rn.status();
    let best: NodeId | undefined;
    let bestMatch = -1;
    for (const id of st.confState.voters) {
      if (id === this.id) continue;
      const pr = st.progress?.[id];
      if (o.live && !(pr?.recentActive && pr.state === 'replicate')) continue;
      const m = pr?.match ?? 0;
      if (m > bestMatch) {
        best = id;
        bestMatch = m;
      }
    }
    return best;
  }

  /** The error that stopped this member, if one did. */
  fatalError(): Error | undefined {
    return this.fatal;
  }
}

