// A synchronous in-process cluster of RawNodes for scenario tests: every
// member persists to a MemoryStorage, messages go through one queue that
// tests can cut, drop or reorder, and time moves only when a test ticks.

import { type ConfChange, decodeConfChange } from '../conf_change.js';
import { MemoryStorage } from '../memory_storage.js';
import { SeededRandom } from '../random.js';
import { RawNode } from '../raw_node.js';
import type { ConfState, Entry, Message, NodeId } from '../types.js';

export interface TestMember {
  id: NodeId;
  rn: RawNode;
  storage: MemoryStorage;
  /** Every normal entry applied, in order (empty no-ops included). */
  applied: Entry[];
  /** The applied key-value state: entries are "key=value" strings. */
  kv: Map<string, string>;
  up: boolean;
  /** The index of the snapshot the state machine was last restored from. */
  restoredIndex: number;
}

export interface ClusterOptions {
  electionTicks?: number;
  heartbeatTicks?: number;
  seed?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  maxMsgSizeBytes?: number;
  maxInflightMsgs?: number;
  lazyCommitBroadcast?: boolean;
  /** Each member snapshots and compacts once it has applied this many entries past its last snapshot. */
  snapshotEveryEntries?: number;
  /** Entries kept behind a snapshot, so slightly lagging followers need no snapshot. */
  compactKeepEntries?: number;
}

/** What snapshotAndCompact stores: the key-value state and the applied history, for safety checks. */
interface SnapshotState {
  kv: [string, string][];
  applied: [number, number, string][];
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class TestCluster {
  readonly members = new Map<NodeId, TestMember>();
  /** Messages in flight, delivered in order by deliver()/stabilize(). */
  queue: Message[] = [];
  /** Links that drop everything: "from->to". */
  private cut = new Set<string>();
  /** Fraction of messages dropped at random (unreliable network). */
  dropRate = 0;
  /** Fraction of messages held back to a later delivery round (reordering). */
  delayRate = 0;
  /** Fraction of messages delivered twice. */
  duplicateRate = 0;
  readonly random: SeededRandom;
  /** Counters for the RPC-count scenarios. */
  sent = { messages: 0, bytes: 0, byType: new Map<string, number>() };
  /** A hook to inspect, rewrite or drop messages: return false to drop. */
  filter: ((m: Message) => boolean) | undefined;
  /** Which member led each term; a second leader in one term is recorded in `violations`. */
  readonly leaderOfTerm = new Map<number, NodeId>();
  readonly violations: string[] = [];

  constructor(
    voters: NodeId[],
    readonly options: ClusterOptions = {},
  ) {
    this.random = new SeededRandom(options.seed ?? 1);
    for (const id of voters) this.addMember(id, voters);
  }

  /** Creates a member; `voters` bootstraps it, [] makes it join and wait for the leader. */
  addMember(id: NodeId, voters: NodeId[], storage = new MemoryStorage()): TestMember {
    if (voters.length > 0 && storage.lastIndex() === 0 && storage.initialState().confState.voters.length === 0) {
      // Persist the initial configuration, as the driver does, so restarts keep it.
      storage.applySnapshot({ metadata: { index: 0, term: 0, confState: { voters: [...voters], learners: [] } }, data: new Uint8Array(0) });
    }
    const m: TestMember = {
      id,
      storage,
      rn: this.newRawNode(id, storage, voters),
      applied: [],
      kv: new Map(),
      up: true,
      restoredIndex: 0,
    };
    this.members.set(id, m);
    return m;
  }

  private newRawNode(id: NodeId, storage: MemoryStorage, voters: NodeId[]): RawNode {
    return new RawNode({
      id,
      storage,
      electionTicks: this.options.electionTicks ?? 10,
      heartbeatTicks: this.options.heartbeatTicks ?? 1,
      random: this.random.fork(),
      bootstrapVoters: voters.length > 0 ? voters : undefined,
      preVote: this.options.preVote,
      checkQuorum: this.options.checkQuorum,
      maxMsgSizeBytes: this.options.maxMsgSizeBytes,
      maxInflightMsgs: this.options.maxInflightMsgs,
      lazyCommitBroadcast: this.options.lazyCommitBroadcast,
    });
  }

  member(id: NodeId): TestMember {
    const m = this.members.get(id);
    if (!m) throw new Error(`No member ${id}`);
    return m;
  }

  /** Runs one Ready cycle on a member: persist, queue messages, apply, advance. */
  process(id: NodeId): boolean {
    const m = this.member(id);
    if (!m.up || !m.rn.hasReady()) return false;
    const rd = m.rn.ready();
    if (rd.snapshot) {
      m.storage.applySnapshot(rd.snapshot);
      this.restoreStateMachine(m, rd.snapshot.metadata.index, rd.snapshot.data);
    }
    if (rd.entries.length > 0) m.storage.append(rd.entries);
    if (rd.hardState) m.storage.setHardState(rd.hardState);
    for (const msg of rd.messages) this.send(msg);
    for (const e of rd.committedEntries) {
      if (e.type === 'confChange') {
        m.rn.applyConfChange(decodeConfChange(e.data), e.index);
        continue;
      }
      // After a restart the log may still hold entries the restored snapshot covers: skip them, as the driver does.
      if (e.index <= m.restoredIndex) continue;
      m.applied.push(e);
      const s = dec.decode(e.data);
      const eq = s.indexOf('=');
      if (eq > 0) m.kv.set(s.slice(0, eq), s.slice(eq + 1));
    }
    m.rn.advance(rd);
    this.observe(m);
    const every = this.options.snapshotEveryEntries;
    if (every !== undefined && m.rn.raft.log.applied - m.storage.snapshot().metadata.index >= every) {
      this.snapshotAndCompact(id, this.options.compactKeepEntries ?? 0);
    }
    return true;
  }

  private restoreStateMachine(m: TestMember, index: number, data: Uint8Array): void {
    m.restoredIndex = index;
    const state = data.byteLength > 0 ? (JSON.parse(dec.decode(data)) as SnapshotState) : { kv: [], applied: [] };
    m.kv = new Map(state.kv);
    m.applied = state.applied.map(([index, term, d]) => ({ index, term, type: 'normal', data: enc.encode(d) }));
  }

  /** Records who leads which term; election safety is checked on every state change. */
  private observe(m: TestMember): void {
    const r = m.rn.raft;
    if (r.role !== 'leader') return;
    const prev = this.leaderOfTerm.get(r.term);
    if (prev === undefined) this.leaderOfTerm.set(r.term, m.id);
    else if (prev !== m.id) this.violations.push(`members ${prev} and ${m.id} both led term ${r.term}`);
  }

  /** Throws if two members ever led the same term, or applied histories diverge. */
  checkSafety(): void {
    if (this.violations.length > 0) throw new Error(`Election safety broken: ${this.violations.join('; ')}`);
    this.checkStateMachineSafety();
  }

  private send(msg: Message): void {
    this.sent.messages++;
    this.sent.bytes += msg.entries.reduce((n, e) => n + e.data.byteLength, 0);
    this.sent.byType.set(msg.type, (this.sent.byType.get(msg.type) ?? 0) + 1);
    this.queue.push(msg);
  }

  /** Delivers every queued message once (new ones wait for the next call). */
  deliver(): number {
    const batch = this.queue;
    this.queue = [];
    let n = 0;
    for (const msg of batch) {
      const to = this.members.get(msg.to);
      if (!to || !to.up || !this.members.get(msg.from)?.up) {
        this.reportSnapshotOutcome(msg, false);
        continue;
      }
      if (this.cut.has(`${msg.from}->${msg.to}`) || (this.dropRate > 0 && this.random.float() < this.dropRate)) {
        this.reportSnapshotOutcome(msg, false);
        continue;
      }
      if (this.delayRate > 0 && this.random.float() < this.delayRate) {
        this.queue.push(msg);
        continue;
      }
      if (this.filter && !this.filter(msg)) {
        this.reportSnapshotOutcome(msg, false);
        continue;
      }
      to.rn.step(msg);
      if (this.duplicateRate > 0 && this.random.float() < this.duplicateRate) to.rn.step(msg);
      this.observe(to);
      this.reportSnapshotOutcome(msg, true);
      n++;
    }
    return n;
  }

  /** What a transport does: tell the leader whether a snapshot got through, so it does not wait forever. */
  private reportSnapshotOutcome(msg: Message, ok: boolean): void {
    if (msg.type !== 'MsgSnap') return;
    const from = this.members.get(msg.from);
    if (from?.up) from.rn.reportSnapshot(msg.to, ok);
  }

  /** Processes and delivers until nothing moves. */
  stabilize(maxRounds = 10000): void {
    for (let i = 0; i < maxRounds; i++) {
      let moved = false;
      for (const id of this.members.keys()) if (this.process(id)) moved = true;
      if (this.queue.length > 0) {
        this.deliver();
        moved = true;
      }
      if (!moved) return;
    }
    throw new Error(`Cluster did not stabilize within ${maxRounds} rounds`);
  }

  /** Ticks every live member n times, stabilizing after each tick. */
  tick(n = 1, ids?: NodeId[]): void {
    for (let i = 0; i < n; i++) {
      for (const m of this.members.values()) {
        if (!m.up || (ids && !ids.includes(m.id))) continue;
        m.rn.tick();
        this.observe(m);
      }
      this.stabilize();
    }
  }

  /** Ticks until some member leads (and, if given, it is one of `among`); returns it. */
  waitLeader(maxTicks = 200, among?: NodeId[]): NodeId {
    for (let i = 0; i < maxTicks; i++) {
      const l = this.leader(among);
      if (l !== undefined) return l;
      this.tick(1);
    }
    throw new Error(`No leader within ${maxTicks} ticks`);
  }

  /** The live leader with the highest term, if any. */
  leader(among?: NodeId[]): NodeId | undefined {
    let best: TestMember | undefined;
    for (const m of this.members.values()) {
      if (!m.up || m.rn.raft.role !== 'leader') continue;
      if (among && !among.includes(m.id)) continue;
      if (!best || m.rn.raft.term > best.rn.raft.term) best = m;
    }
    return best?.id;
  }

  leaders(): NodeId[] {
    return [...this.members.values()].filter((m) => m.up && m.rn.raft.role === 'leader').map((m) => m.id);
  }

  propose(id: NodeId, data: string): { index: number; term: number } {
    const r = this.member(id).rn.propose(enc.encode(data));
    return r;
  }

  proposeConfChange(id: NodeId, cc: Omit<ConfChange, 'context'>): { index: number; term: number } {
    return this.member(id).rn.proposeConfChange({ ...cc, context: '' });
  }

  /** Starts an election on `id` and runs the cluster until it settles. */
  campaign(id: NodeId): void {
    this.member(id).rn.campaign();
    this.observe(this.member(id));
    this.stabilize();
  }

  /**
   * Makes followers forget their leader, as if their election timers had run
   * out, so they grant votes again (etcd's MsgForgetLeader). Lets tests pick
   * who wins an election without racing randomized timeouts.
   */
  forgetLeader(ids: NodeId[]): void {
    for (const id of ids) {
      const r = this.member(id).rn.raft;
      if (r.role === 'follower') r.lead = 0;
    }
  }

  /** Cuts both directions between a and each of bs. */
  partition(a: NodeId[], b: NodeId[]): void {
    for (const x of a) for (const y of b) {
      this.cut.add(`${x}->${y}`);
      this.cut.add(`${y}->${x}`);
    }
  }

  cutOneWay(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}->${to}`);
  }

  isolate(id: NodeId): void {
    const others = [...this.members.keys()].filter((x) => x !== id);
    this.partition([id], others);
  }

  /** Restores the links between a and each of bs. */
  reconnect(a: NodeId[], b: NodeId[]): void {
    for (const x of a) for (const y of b) {
      this.cut.delete(`${x}->${y}`);
      this.cut.delete(`${y}->${x}`);
    }
  }

  /** Reconnects one member to everyone. */
  rejoin(id: NodeId): void {
    this.reconnect([id], [...this.members.keys()]);
  }

  heal(): void {
    this.cut.clear();
    this.dropRate = 0;
    this.delayRate = 0;
    this.duplicateRate = 0;
  }

  /** Loses everything not persisted (here: nothing, since process() persists synchronously) and stops. */
  crash(id: NodeId): void {
    const m = this.member(id);
    m.up = false;
    this.queue = this.queue.filter((msg) => msg.to !== id && msg.from !== id);
  }

  /** Restarts a member from its storage; its state machine replays from the snapshot. */
  restart(id: NodeId): void {
    const old = this.member(id);
    const fresh = this.addMember(id, [], old.storage);
    const snap = old.storage.snapshot();
    if (snap.metadata.index > 0) this.restoreStateMachine(fresh, snap.metadata.index, snap.data);
    fresh.up = true;
  }

  /** Takes a snapshot of a member's state at its applied index and compacts its log. */
  snapshotAndCompact(id: NodeId, keep = 0): void {
    const m = this.member(id);
    const applied = m.rn.raft.log.applied;
    const state: SnapshotState = {
      kv: [...m.kv],
      applied: m.applied.map((e) => [e.index, e.term, dec.decode(e.data)]),
    };
    const data = enc.encode(JSON.stringify(state));
    m.storage.createSnapshot(applied, m.rn.raft.confState() as ConfState, data);
    if (applied - keep > m.storage.firstIndex()) m.storage.compact(applied - keep);
  }

  /** Committed normal entries with data, as strings, of one member. */
  appliedData(id: NodeId): string[] {
    return this.member(id).applied.filter((e) => e.data.byteLength > 0).map((e) => dec.decode(e.data));
  }

  /** Asserts that applied histories are prefixes of one another, each applied once in order; returns the longest. */
  checkStateMachineSafety(): Entry[] {
    let longest: Entry[] = [];
    for (const m of this.members.values()) if (m.applied.length > longest.length) longest = m.applied;
    const byIndex = new Map<number, Entry>();
    for (const m of this.members.values()) for (const e of m.applied) if (!byIndex.has(e.index)) byIndex.set(e.index, e);
    for (const m of this.members.values()) {
      for (let i = 0; i < m.applied.length; i++) {
        const a = m.applied[i];
        if (i > 0 && a.index <= m.applied[i - 1].index) {
          throw new Error(`Member ${m.id} applied index ${a.index} after ${m.applied[i - 1].index}: out of order or twice`);
        }
        const b = byIndex.get(a.index);
        if (b && (b.term !== a.term || dec.decode(b.data) !== dec.decode(a.data))) {
          throw new Error(`Members disagree at index ${a.index}: member ${m.id} applied term ${a.term} "${dec.decode(a.data)}", another term ${b.term} "${dec.decode(b.data)}"`);
        }
      }
    }
    return longest;
  }
}
