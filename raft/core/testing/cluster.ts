// A synchronous in-process cluster of RawNodes for scenario tests: every
// member persists to a MemoryStorage, messages go through one queue that
// tests can cut, drop or reorder, and time moves only when a test ticks.

import { decodeConfChange } from '../conf_change.js';
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
}

export interface ClusterOptions {
  electionTicks?: number;
  heartbeatTicks?: number;
  seed?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  maxMsgSizeBytes?: number;
  maxInflightMsgs?: number;
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
  readonly random: SeededRandom;
  /** Counters for the RPC-count scenarios. */
  sent = { messages: 0, bytes: 0, byType: new Map<string, number>() };
  /** A hook to inspect or drop messages: return false to drop. */
  filter: ((m: Message) => boolean) | undefined;

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
      const state = JSON.parse(dec.decode(rd.snapshot.data) || '{"kv":[],"applied":[]}') as { kv: [string, string][] };
      m.kv = new Map(state.kv);
      m.applied = [];
    }
    if (rd.entries.length > 0) m.storage.append(rd.entries);
    if (rd.hardState) m.storage.setHardState(rd.hardState);
    for (const msg of rd.messages) this.send(msg);
    for (const e of rd.committedEntries) {
      if (e.type === 'confChange') {
        m.rn.applyConfChange(decodeConfChange(e.data));
        continue;
      }
      m.applied.push(e);
      const s = dec.decode(e.data);
      const eq = s.indexOf('=');
      if (eq > 0) m.kv.set(s.slice(0, eq), s.slice(eq + 1));
    }
    m.rn.advance(rd);
    return true;
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
      if (!to || !to.up || !this.members.get(msg.from)?.up) continue;
      if (this.cut.has(`${msg.from}->${msg.to}`)) continue;
      if (this.dropRate > 0 && this.random.float() < this.dropRate) continue;
      if (this.filter && !this.filter(msg)) continue;
      to.rn.step(msg);
      n++;
    }
    return n;
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
      for (const m of this.members.values()) if (m.up && (!ids || ids.includes(m.id))) m.rn.tick();
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

  heal(): void {
    this.cut.clear();
    this.dropRate = 0;
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
    if (snap.metadata.index > 0 && snap.data.byteLength > 0) {
      const state = JSON.parse(dec.decode(snap.data)) as { kv: [string, string][] };
      fresh.kv = new Map(state.kv);
    }
    fresh.up = true;
  }

  /** Takes a snapshot of a member's state at its applied index and compacts its log. */
  snapshotAndCompact(id: NodeId, keep = 0): void {
    const m = this.member(id);
    const applied = m.rn.raft.log.applied;
    const data = enc.encode(JSON.stringify({ kv: [...m.kv] }));
    m.storage.createSnapshot(applied, m.rn.raft.confState() as ConfState, data);
    if (applied - keep > m.storage.firstIndex()) m.storage.compact(applied - keep);
  }

  /** Committed normal entries with data, as strings, of one member. */
  appliedData(id: NodeId): string[] {
    return this.member(id).applied.filter((e) => e.data.byteLength > 0).map((e) => dec.decode(e.data));
  }

  /** Asserts that applied histories are prefixes of one another; returns the longest. */
  checkStateMachineSafety(): Entry[] {
    let longest: Entry[] = [];
    for (const m of this.members.values()) if (m.applied.length > longest.length) longest = m.applied;
    for (const m of this.members.values()) {
      for (let i = 0; i < m.applied.length; i++) {
        const a = m.applied[i];
        const b = longest.find((e) => e.index === a.index);
        if (b && (b.term !== a.term || dec.decode(b.data) !== dec.decode(a.data))) {
          throw new Error(`Members disagree at index ${a.index}: member ${m.id} applied term ${a.term} "${dec.decode(a.data)}", another term ${b.term} "${dec.decode(b.data)}"`);
        }
      }
    }
    return longest;
  }
}
