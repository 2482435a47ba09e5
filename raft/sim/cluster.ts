// One simulated run: real RaftNodes over SimClock, SimNetwork and SimDisk,
// a fault phase with clients, a healed liveness phase, and the checkers.
// Everything is drawn from one seed; the same seed replays the same run.

import { SeededRandom } from '../core/random.js';
import type { Entry, Message, NodeId } from '../core/types.js';
import { KvStateMachine, type KvResult, decodeCommand, encodeCommand } from '../kv/kv_state_machine.js';
import { NotLeaderError } from '../node/errors.js';
import type { StateMachine, Transport } from '../node/ports.js';
import { RaftNode } from '../node/raft_node.js';
import { type KvHistoryEntry, checkKvHistory } from './linearizability.js';
import { Buggify } from './buggify.js';
import { Invariants } from './invariants.js';
import { type RunPlan, describePlan, drawPlan } from './plan.js';
import { SimClock } from './sim_clock.js';
import { SimDisk } from './sim_disk.js';
import { SimNetwork } from './sim_network.js';

export interface RunOptions {
  verbose?: boolean;
  /** Lines kept for the trace printed on failure. @default 120 */
  traceTailLines?: number;
}

export interface RunResult {
  seed: number;
  ok: boolean;
  failure?: string;
  trace: string[];
  summary: string;
  /** A hash of every trace line and the final clock: equal for two runs of one seed. */
  digest: string;
}

class SimFailure extends Error {
  override name = 'SimFailure';
}

const LIVENESS_BOUND_MS = 10000;
const OP_DEADLINE_MS = 3000;
const ATTEMPT_TIMEOUT_MS = 1500;

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Member {
  id: NodeId;
  disk: SimDisk;
  node: RaftNode | undefined;
  machine: KvStateMachine | undefined;
  /** Last index this incarnation's machine applied or restored. */
  machineIndex: number;
  removed: boolean;
  joined: boolean;
  starting: boolean;
  crashes: number;
}

/** Keeps the last `max` lines; prints every line as it comes when verbose. */
class Trace {
  private lines: string[] = [];
  /** FNV-1a over every line ever added, not only the kept tail. */
  private hash = 0x811c9dc5;
  constructor(
    private readonly clock: SimClock,
    private readonly max: number,
    private readonly verbose: boolean,
  ) {}
  add(line: string): void {
    const l = `${String(this.clock.nowMs()).padStart(6)} ms  ${line}`;
    if (this.verbose) console.log(l);
    this.lines.push(l);
    if (this.lines.length > this.max * 2) this.lines = this.lines.slice(-this.max);
    for (let i = 0; i < l.length; i++) this.hash = Math.imul(this.hash ^ l.charCodeAt(i), 0x01000193);
  }
  digest(): string {
    return `${(this.hash >>> 0).toString(16)}@${this.clock.nowMs()}`;
  }
  tail(): string[] {
    return this.lines.slice(-this.max);
  }
}

export async function runSeed(seed: number, options: RunOptions = {}): Promise<RunResult> {
  const sim = new Simulation(seed, options);
  try {
    await sim.run();
    return { seed, ok: true, trace: [], summary: sim.summary(), digest: sim.trace.digest() };
  } catch (e) {
    const msg = e instanceof SimFailure ? e.message : `unexpected error: ${(e as Error).stack ?? String(e)}`;
    sim.trace.add(`FAILED: ${msg}`);
    return { seed, ok: false, failure: msg, trace: sim.trace.tail(), summary: sim.summary(), digest: sim.trace.digest() };
  } finally {
    sim.shutdown();
  }
}

class Simulation {
  readonly clock = new SimClock();
  readonly trace: Trace;
  private readonly root: SeededRandom;
  private readonly faultRandom: SeededRandom;
  private readonly clientRandom: SeededRandom;
  private readonly network: SimNetwork;
  private readonly buggify: Buggify;
  private readonly members = new Map<NodeId, Member>();
  private readonly history: KvHistoryEntry[] = [];
  /** index -> what was applied there (term, data), by whichever member applied it first. */
  private readonly applied = new Map<number, { term: number; data: string; by: NodeId }>();
  private readonly invariants = new Invariants((id) => this.members.get(id)?.disk);
  private nextId: NodeId;
  private readonly initialVoters: number;
  private readonly initialFaults: string;
  private readonly maxFsyncMs: number;
  private readonly plan: RunPlan;
  /** The leader isolated with a write in flight (one at a time): healing the network leaves it cut off. */
  private isolatedInFlight: NodeId | undefined;
  private phase: 'fault' | 'liveness' | 'done' = 'fault';
  private clientsDone = 0;
  private opsOk = 0;
  private opsUnknown = 0;
  private stopped = false;
  private failure: SimFailure | undefined;
  /** Per client and key, the last value it saw, for cas expectations. */
  private readonly lastSeen = new Map<string, string | null>();

  constructor(
    readonly seed: number,
    options: RunOptions,
  ) {
    this.trace = new Trace(this.clock, options.traceTailLines ?? 120, options.verbose ?? false);
    this.root = new SeededRandom(seed);
    this.faultRandom = this.root.fork();
    this.clientRandom = this.root.fork();
    const r = this.root;
    this.initialVoters = r.intn(2) === 0 ? 3 : 5;
    this.nextId = this.initialVoters + 1;
    this.plan = drawPlan(this.root.fork(), this.initialVoters);
    this.buggify = new Buggify(this.root.fork());
    this.network = new SimNetwork({
      clock: this.clock,
      random: this.root.fork(),
      buggify: this.buggify,
      faults: {
        minDelayMs: 1,
        maxDelayMs: 2 + r.intn(20),
        dropProbability: r.float() * 0.08,
        duplicateProbability: r.float() * 0.05,
      },
    });
    this.maxFsyncMs = 2 + r.intn(15);
    const f = this.network.faults;
    this.initialFaults = `fsync ≤${this.maxFsyncMs} ms, delay ≤${f.maxDelayMs} ms, drop ${(f.dropProbability * 100).toFixed(1)}%, dup ${(f.duplicateProbability * 100).toFixed(1)}%`;
  }

  summary(): string {
    const crashes = [...this.members.values()].reduce((n, m) => n + m.crashes, 0);
    const changes = this.members.size - this.initialVoters;
    return (
      `seed ${this.seed}: ${this.initialVoters} voters, ${this.initialFaults}, ${crashes} crashes, ${changes ? 'membership changes, ' : ''}` +
      `${this.history.length} ops (${this.opsUnknown} unknown), ${describePlan(this.plan)}, ` +
      `${this.invariants.leaderTerms} terms with a leader, ${this.network.stats.sent} messages` +
      (this.buggify.enabledSites().length ? `, buggify [${this.buggify.enabledSites()}]` : '')
    );
  }

  async run(): Promise<void> {
    const voters = Array.from({ length: this.initialVoters }, (_, i) => i + 1);
    for (const id of voters) {
      this.members.set(id, { id, disk: this.newDisk(id), node: undefined, machine: undefined, machineIndex: 0, removed: false, joined: true, starting: false, crashes: 0 });
    }
    let started = false;
    void Promise.all(voters.map((id) => this.startMember(id, voters, true))).then(() => (started = true));
    // Starting writes to the simulated disk, which needs the clock to move.
    await this.runUntil(() => started);
    this.trace.add(`start: voters [${voters}], faults ${JSON.stringify(this.network.faults)}`);

    const clients = this.plan.clients;
    this.invariants.onNewLeader = (id) => this.onNewLeader(id);
    for (let c = 1; c <= clients; c++) void this.client(c);
    void this.faults();
    if (this.faultRandom.intn(10) < 7) void this.membershipChanges();

    await this.runUntil(() => this.clock.nowMs() >= this.plan.faultPhaseMs);
    this.phase = 'liveness';
    this.heal();
    const livenessStart = this.clock.nowMs();
    this.trace.add('liveness phase: network healed, every member restarted');
    await this.runUntil(() => this.clientsDone === clients || this.clock.nowMs() > livenessStart + LIVENESS_BOUND_MS + OP_DEADLINE_MS);
    if (this.clientsDone < clients) {
      throw new SimFailure(`liveness: ${clients - this.clientsDone} of ${clients} clients did not complete a request within ${LIVENESS_BOUND_MS} ms of healing`);
    }
    this.phase = 'done';
    for (const m of this.members.values()) {
      const err = m.node?.fatalError();
      if (err) throw new SimFailure(`member ${m.id} stopped on a fatal error: ${err.message}`);
    }
    this.checkLogMatching();
    const r = checkKvHistory(this.history);
    if (r.kind === 'illegal') throw new SimFailure(`history is not linearizable\n${r.explanation}`);
    if (r.kind === 'unknown') throw new SimFailure(`linearizability check gave up on key "${r.key}": ${r.reason}`);
  }

  shutdown(): void {
    this.stopped = true;
    for (const m of this.members.values()) m.node?.halt();
  }

  // ---- the event loop ----

  /** Records the first failure (thrown from inside a node or a client) for the event loop to raise. */
  private fail(msg: string): never {
    this.failure ??= new SimFailure(msg);
    throw this.failure;
  }

  private async runUntil(done: () => boolean): Promise<void> {
    while (!done()) {
      if (!this.clock.runNext()) {
        await drain();
        if (!this.clock.runNext()) throw new SimFailure('no timer left to run: the cluster is stuck');
      }
      await drain();
      if (this.failure) throw this.failure;
      this.observe();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }

  // ---- members ----

  private newDisk(id: NodeId): SimDisk {
    return new SimDisk({
      clock: this.clock,
      random: this.root.fork(),
      minFsyncMs: 1,
      maxFsyncMs: this.maxFsyncMs * (this.plan.fsyncSkew[id - 1] ?? 1),
      slowFsyncBaseMs: this.maxFsyncMs,
      buggify: this.buggify,
      onAppend: (entries, prevTerm) => {
        const failure = this.invariants.onAppend(id, entries, prevTerm);
        if (failure) this.fail(failure);
      },
    });
  }

  private async startMember(id: NodeId, peers: NodeId[], bootstrap: boolean): Promise<void> {
    const m = this.members.get(id)!;
    const machine = new KvStateMachine();
    m.machine = machine;
    m.machineIndex = 0;
    let node: RaftNode | undefined = undefined;
    node = await RaftNode.start({
      id,
      peers: peers.map((p) => ({ id: p, address: `sim-${p}` })),
      bootstrap,
      storage: m.disk,
      transport: this.checkedTransport(m, this.network.transport(id), () => node),
      stateMachine: this.recording(m, machine),
      clock: this.clock,
      random: this.root.fork(),
      tickMs: 20,
      electionTicks: 10,
      heartbeatTicks: 2,
      // Both ways of telling followers of a commit, as members of either kind come to lead.
      lazyCommitBroadcast: id % 2 === 0,
      // Proposals held back and appended together, as the masters do, on some members.
      proposalBatchMs: id % 3 === 1 ? 10 : 0,
      snapshotEntries: 40 + this.root.intn(60),
      snapshotCatchUpEntries: 10,
      proposalTimeoutMs: 1000,
      readIndexTimeoutMs: 1000,
      logger: {
        info: (msg) => this.trace.add(msg),
        warn: (msg) => this.trace.add(`warn: ${msg}`),
        error: (msg) => this.trace.add(`error: ${msg}`),
      },
    });
    m.node = node;
  }

  /**
   * Wraps a member's transport: vote requests are noted as they arrive, and
   * every message sent is checked against what its sender's disk holds.
   */
  private checkedTransport(m: Member, inner: Transport, node: () => RaftNode | undefined): Transport {
    const disk = m.disk;
    const incarnation = {};
    let appendTerm = 0;
    const check = (failure: string | undefined): void => {
      if (failure) this.fail(failure);
    };
    return {
      start: (handler) =>
        inner.start({
          ...handler,
          onMessage: (msg: Message) => {
            const n = node();
            if (n && (msg.type === 'MsgVote' || msg.type === 'MsgPreVote')) this.invariants.onVoteRequest(incarnation, n, msg);
            handler.onMessage(msg);
          },
          onUnreachable: (peer) => handler.onUnreachable(peer),
          onSnapshotStatus: (peer, ok) => handler.onSnapshotStatus(peer, ok),
        }),
      send: (messages) => {
        // A leader sends its appends before its own write of them: a stall now delays only its own sync.
        const app = messages.find((x) => x.type === 'MsgApp');
        if (app) {
          this.maybeStallLeader(m, disk, app.term > appendTerm);
          appendTerm = app.term;
        }
        for (const msg of messages) {
          check(this.invariants.onSend(m.id, disk, msg));
          if ((msg.type === 'MsgVoteResp' || msg.type === 'MsgPreVoteResp') && !msg.reject) check(this.invariants.onVoteGrant(incarnation, m.id, msg));
        }
        inner.send(messages);
      },
      addPeer: (id, address) => inner.addPeer(id, address),
      removePeer: (id) => inner.removePeer(id),
      stop: () => inner.stop(),
    };
  }

  /** Wraps the machine to check that every member applies the same entry at each index, once, in order. */
  private recording(m: Member, machine: KvStateMachine): StateMachine {
    return {
      open: () => machine.open(),
      snapshot: () => machine.snapshot(),
      restore: async (data, index) => {
        await machine.restore(data);
        m.machineIndex = index;
      },
      apply: (e: Entry) => {
        if (e.index <= m.machineIndex) this.fail(`member ${m.id} applied index ${e.index} after ${m.machineIndex}: out of order or twice`);
        m.machineIndex = e.index;
        const data = Buffer.from(e.data).toString('base64');
        const seen = this.applied.get(e.index);
        if (seen === undefined) this.applied.set(e.index, { term: e.term, data, by: m.id });
        else if (seen.term !== e.term || seen.data !== data) {
          this.fail(`state machine safety: member ${m.id} applied (term ${e.term}) at index ${e.index} but member ${seen.by} applied (term ${seen.term}) there`);
        }
        const result = machine.apply(e);
        if (!result.error) {
          const c = decodeCommand(e.data);
          const failure = this.invariants.onApplied(m.id, c.clientId, c.seq, result.index);
          if (failure) this.fail(failure);
        }
        return result;
      },
    };
  }

  private live(): Member[] {
    return [...this.members.values()].filter((m) => m.node !== undefined && !m.removed);
  }

  /** Crashes m unless that would take down more members than the schedule allows, and restarts it a little later. */
  private crashAndRestart(m: Member, why: string): void {
    if (this.phase !== 'fault' || !m.node || m.removed) return;
    const ids = [...this.members.values()].filter((x) => !x.removed);
    const down = ids.filter((x) => !x.node).length;
    if (down >= Math.floor((ids.length - 1) / 2) + 1) return;
    this.crash(m, why);
    void this.sleep(50 + this.faultRandom.intn(500)).then(() => (this.phase === 'fault' ? this.restart(m) : undefined));
  }

  private maybeStallLeader(m: Member, disk: SimDisk, firstOfTerm: boolean): void {
    if (this.phase !== 'fault') return;
    const pct = firstOfTerm ? this.plan.stallNewLeaderPct : this.plan.stallLeaderPct;
    if (pct === 0 || this.faultRandom.intn(100) >= pct) return;
    const ms = firstOfTerm ? 10 + this.faultRandom.intn(150) : 5 + this.faultRandom.intn(60);
    this.trace.add(`stall the disk of ${firstOfTerm ? 'new ' : ''}leader ${m.id} for ${ms} ms`);
    disk.stall(ms);
  }

  private onNewLeader(id: NodeId): void {
    if (this.phase !== 'fault' || this.faultRandom.intn(100) >= this.plan.crashNewLeaderPct) return;
    const m = this.members.get(id)!;
    const node = m.node;
    // Within its first round of appends, or before it: the election's outcome is half known.
    void this.sleep(this.faultRandom.intn(15)).then(() => {
      if (m.node === node) this.crashAndRestart(m, 'new leader');
    });
  }

  private crash(m: Member, why = 'fault schedule'): void {
    if (!m.node) return;
    this.trace.add(`crash member ${m.id} (${why})`);
    m.node.halt();
    m.disk.crash();
    m.node = undefined;
    m.machine = undefined;
    m.crashes++;
  }

  private async restart(m: Member): Promise<void> {
    if (m.node || m.removed || m.starting) return;
    m.starting = true;
    m.disk = m.disk.reopen();
    this.trace.add(`restart member ${m.id} (durable hard state ${JSON.stringify(m.disk.initialState().hardState)}, last index ${m.disk.lastIndex()})`);
    const peers = [...this.members.values()].filter((x) => x.joined && !x.removed).map((x) => x.id);
    try {
      await this.startMember(m.id, peers, false);
    } finally {
      m.starting = false;
    }
  }

  private heal(): void {
    this.network.heal();
    this.network.setFaults({ dropProbability: 0, duplicateProbability: 0 });
    for (const m of this.members.values()) if (!m.node && !m.removed) void this.restart(m);
  }

  // ---- faults ----

  private async faults(): Promise<void> {
    const r = this.faultRandom;
    let stormLeft = 0;
    while (this.phase === 'fault' && !this.stopped) {
      if (stormLeft === 0) {
        // A calm spell: the network heals and clients make progress, so the next storm (and the
        // faults aimed at writes in flight) finds a log worth breaking.
        this.trace.add('heal network (calm spell)');
        this.network.heal();
        if (this.isolatedInFlight !== undefined) this.network.isolate(this.isolatedInFlight);
        await this.sleep(this.plan.calmMs[0] + r.intn(this.plan.calmMs[1] - this.plan.calmMs[0] + 1));
        stormLeft = 1 + r.intn(6);
        continue;
      }
      stormLeft--;
      await this.sleep(50 + r.intn(this.plan.maxFaultGapMs - 49));
      if (this.phase !== 'fault') return;
      const live = this.live();
      const ids = [...this.members.values()].filter((m) => !m.removed).map((m) => m.id);
      switch (r.intn(7)) {
        case 0:
        case 6: {
          if (live.length > 0) {
            // The leader half the time: its crash loses the most in-flight work.
            const m = (r.intn(2) === 0 ? live.find((x) => x.node!.isLeader()) : undefined) ?? live[r.intn(live.length)];
            this.crashAndRestart(m, 'fault schedule');
          }
          break;
        }
        case 1: {
          const shuffled = shuffle(r, ids);
          const cut = 1 + r.intn(shuffled.length - 1);
          const a = shuffled.slice(0, cut);
          const b = shuffled.slice(cut);
          this.trace.add(`partition [${a}] | [${b}]`);
          this.network.partition(a, b);
          break;
        }
        case 2: {
          const from = ids[r.intn(ids.length)];
          const to = ids[r.intn(ids.length)];
          if (from !== to) {
            this.trace.add(`block ${from} -> ${to} (one way)`);
            this.network.block(from, to);
          }
          break;
        }
        case 3: {
          const leader = live.find((m) => m.node!.isLeader());
          if (leader) {
            this.trace.add(`isolate leader ${leader.id}`);
            this.network.isolate(leader.id);
          }
          break;
        }
        default:
          this.trace.add('heal network');
          this.network.heal();
          if (this.isolatedInFlight !== undefined) this.network.isolate(this.isolatedInFlight);
      }
    }
  }

  private async membershipChanges(): Promise<void> {
    await this.sleep(300 + this.faultRandom.intn(700));
    const id = this.nextId++;
    this.members.set(id, { id, disk: this.newDisk(id), node: undefined, machine: undefined, machineIndex: 0, removed: false, joined: false, starting: false, crashes: 0 });
    const peers = [...this.members.values()].filter((x) => x.joined && !x.removed).map((x) => x.id);
    await this.startMember(id, [...peers, id], false);
    this.members.get(id)!.joined = true;
    if (!(await this.changeMembership('addLearner', id))) return;
    await this.sleep(200 + this.faultRandom.intn(600));
    if (!(await this.changeMembership('addVoter', id))) return;
    await this.sleep(200 + this.faultRandom.intn(600));
    const voters = [...this.members.values()].filter((m) => m.joined && !m.removed && m.id !== id);
    const victim = voters[this.faultRandom.intn(voters.length)];
    if (await this.changeMembership('removeNode', victim.id)) {
      this.trace.add(`member ${victim.id} removed; stopping it`);
      victim.removed = true;
      victim.node?.halt();
    }
  }

  private async changeMembership(type: 'addLearner' | 'addVoter' | 'removeNode', id: NodeId): Promise<boolean> {
    while (this.phase !== 'done' && !this.stopped) {
      const leader = this.live().find((m) => m.node!.isLeader());
      if (leader) {
        try {
          const cs = await leader.node!.changeMembership(type, id, `sim-${id}`);
          this.trace.add(`${type} ${id} applied: voters [${cs.voters}] learners [${cs.learners}]`);
          return true;
        } catch (e) {
          this.trace.add(`${type} ${id} via ${leader.id} failed: ${(e as Error).message}`);
        }
      }
      await this.sleep(50 + this.faultRandom.intn(100));
    }
    return false;
  }

  // ---- clients ----

  private async client(c: number): Promise<void> {
    const r = this.clientRandom;
    let session = 1;
    let written = 0;
    let clientId = `client-${c}`;
    let seq = 0;
    let target: NodeId = 1;
    while (!this.stopped) {
      const liveness = this.phase === 'liveness';
      if ((this.phase as string) === 'done') return;
      const p = this.plan;
      const key = p.keys[r.intn(p.keys.length)];
      const kind = r.intn(100);
      const callTimeMs = this.clock.nowMs();
      const deadline = callTimeMs + (liveness ? LIVENESS_BOUND_MS : OP_DEADLINE_MS);
      const value = `${c}.${++written}`;
      const op: KvHistoryEntry['op'] = kind < p.putPct ? 'put' : kind < p.putPct + p.casPct ? 'cas' : 'get';
      const viaLog = op === 'get' && kind >= 100 - p.logReadPct;
      const hedge = op !== 'get' && r.intn(100) < p.hedgePct;
      if (r.intn(100) < p.hopPct) target = this.pickTarget(r);
      // Only commands through the log take a sequence number: the session table sees 1, 2, 3, ...
      if (op !== 'get' || viaLog) seq++;
      const expected = op === 'cas' ? (r.intn(4) === 0 ? null : (this.lastSeen.get(`${c}/${key}`) ?? null)) : undefined;
      let output: KvHistoryEntry['output'];
      let done = false;
      while (!done && this.clock.nowMs() < deadline && !this.stopped && this.phase !== 'done') {
        const m = this.members.get(target);
        if (!m?.node || m.removed) {
          target = this.pickTarget(r);
          await this.sleep(1 + r.intn(10));
          continue;
        }
        await this.sleep(1 + r.intn(3));
        const node = m.node;
        try {
          const res = await withTimeout(
            this.attempt(m, node, op, key, value, expected, viaLog, hedge, clientId, seq),
            this.sleep(ATTEMPT_TIMEOUT_MS).then(() => {
              throw new Error('client gave up on the attempt');
            }),
          );
          // Before any other event: a leader that acknowledged a write must already hold it durably.
          if ((op !== 'get' || viaLog) && r.intn(100) < p.crashAfterAckPct) this.crashAndRestart(m, 'right after acknowledging a write');
          await this.sleep(1 + r.intn(3));
          output = res;
          done = true;
        } catch (e) {
          if (e instanceof SimFailure) return;
          if (e instanceof NotLeaderError && e.leaderId !== 0 && r.intn(4) !== 0) target = e.leaderId;
          else target = this.pickTarget(r);
          await this.sleep(5 + r.intn(40));
        }
      }
      const input = op === 'get' ? { key } : op === 'put' ? { key, value } : { key, value, expected: expected ?? null };
      if (done) {
        this.opsOk++;
        if (op === 'get') this.lastSeen.set(`${c}/${key}`, output as string | null);
        else if (op === 'put' || output === true) this.lastSeen.set(`${c}/${key}`, value);
        this.history.push({ clientId, op, input, output, callTimeMs, returnTimeMs: this.clock.nowMs() });
        this.trace.add(`client ${c} ${op} ${key}${op !== 'get' ? ` ${value}` : ''} -> ${JSON.stringify(output)}`);
        if (liveness) {
          this.clientsDone++;
          return;
        }
      } else {
        this.opsUnknown++;
        this.history.push({ clientId, op, input, output: undefined, callTimeMs, returnTimeMs: Infinity });
        this.trace.add(`client ${c} ${op} ${key} seq ${seq}: outcome unknown`);
        // The session may never have begun (seq 1 lost): go on under a new one.
        if (op !== 'get' || viaLog) {
          clientId = `client-${c}.${++session}`;
          seq = 0;
        }
        if (liveness) return; // counted as a liveness failure: clientsDone stays short
      }
      await this.sleep(1 + r.intn(20));
    }
  }

  private pickTarget(r: SeededRandom): NodeId {
    const live = this.live();
    if (live.length === 0) return 1;
    return live[r.intn(live.length)].id;
  }

  private async attempt(
    m: Member,
    node: RaftNode,
    op: KvHistoryEntry['op'],
    key: string,
    value: string,
    expected: string | null | undefined,
    viaLog: boolean,
    hedge: boolean,
    clientId: string,
    seq: number,
  ): Promise<KvHistoryEntry['output']> {
    if (op === 'get' && !viaLog) {
      const mustSee = this.invariants.knownCommitIndex;
      await node.readIndex();
      if (m.node !== node || !m.machine) throw new Error('member crashed during the read');
      const applied = node.status().applied;
      if (applied < mustSee) this.fail(`read index: member ${m.id} served a read at applied index ${applied}, below index ${mustSee} known committed when the read began`);
      const v = m.machine.read(key);
      return v === undefined ? null : dec.decode(v);
    }
    const data =
      op === 'put'
        ? encodeCommand({ op: 'put', clientId, seq, key, value: enc.encode(value) })
        : op === 'get'
          ? encodeCommand({ op: 'get', clientId, seq, key })
          : encodeCommand({ op: 'cas', clientId, seq, key, expected: expected == null ? null : enc.encode(expected), value: enc.encode(value) });
    const proposed = hedge ? firstFulfilled([node.propose(data), node.propose(data)]) : node.propose(data);
    this.maybeCutInFlight(m, node);
    const res = (await proposed) as KvResult;
    if (res.error) this.fail(`client ${clientId} seq ${seq} was refused with "${res.error}": the session table lost a live client`);
    if (op === 'put') return 'ok';
    if (op === 'cas') return res.ok;
    return res.value == null ? null : dec.decode(res.value);
  }

  /**
   * Cuts off a leader about a round trip after it took a write, by a crash or
   * an isolation long enough for others to elect a leader and write over it.
   */
  private maybeCutInFlight(m: Member, node: RaftNode): void {
    if (this.phase !== 'fault' || !node.isLeader()) return;
    const r = this.faultRandom;
    if (r.intn(100) >= this.plan.cutInFlightPct) return;
    const crash = this.isolatedInFlight !== undefined || r.intn(2) === 0;
    const delayMs = r.intn(2 * this.network.faults.maxDelayMs + this.maxFsyncMs + 1);
    void this.sleep(delayMs).then(() => {
      if (this.phase !== 'fault' || m.node !== node) return;
      if (crash) return this.crashAndRestart(m, `${delayMs} ms after taking a write`);
      if (this.isolatedInFlight !== undefined) return;
      this.isolatedInFlight = m.id;
      this.trace.add(`isolate leader ${m.id} ${delayMs} ms after taking a write`);
      this.network.isolate(m.id);
      return this.sleep(200 + r.intn(1000)).then(() => {
        this.isolatedInFlight = undefined;
        if (this.phase !== 'fault') return;
        this.trace.add(`member ${m.id} rejoins`);
        this.network.rejoin(m.id);
      });
    });
  }

  // ---- checkers ----

  /** Runs the event-by-event checkers over every running member. */
  private observe(): void {
    const probes = [];
    for (const m of this.members.values()) if (m.node && !m.removed) probes.push({ id: m.id, node: m.node });
    const failure = this.invariants.observe(probes);
    if (failure) throw new SimFailure(failure);
  }

  /** Any two logs that agree on an entry's term agree on every entry up to it. */
  private checkLogMatching(): void {
    const logs = [...this.members.values()].map((m) => ({ id: m.id, log: readLog(m.disk) }));
    for (let i = 0; i < logs.length; i++) {
      for (let j = i + 1; j < logs.length; j++) {
        const a = logs[i];
        const b = logs[j];
        let agreeAt = 0;
        for (const [index, ea] of a.log) {
          const eb = b.log.get(index);
          if (eb && eb.term === ea.term && index > agreeAt) agreeAt = index;
        }
        for (const [index, ea] of a.log) {
          if (index > agreeAt) continue;
          const eb = b.log.get(index);
          if (eb && (eb.term !== ea.term || eb.data !== ea.data)) {
            throw new SimFailure(`log matching: members ${a.id} and ${b.id} agree at index ${agreeAt} but differ at ${index} (terms ${ea.term} and ${eb.term})`);
          }
        }
      }
    }
  }
}

function readLog(disk: SimDisk): Map<number, { term: number; data: string }> {
  const out = new Map<number, { term: number; data: string }>();
  const first = disk.firstIndex();
  const last = disk.lastIndex();
  if (last < first) return out;
  for (const e of disk.entries(first, last + 1, Infinity)) out.set(e.index, { term: e.term, data: Buffer.from(e.data).toString('base64') });
  return out;
}

function shuffle<T>(r: SeededRandom, xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = r.intn(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** The first to succeed; rejects only when all do, with the first rejection. */
function firstFulfilled<T>(ps: Promise<T>[]): Promise<T> {
  return new Promise((resolve, reject) => {
    let failed = 0;
    for (const p of ps) {
      p.then(resolve, (e: unknown) => {
        if (++failed === ps.length) reject(e);
      });
    }
  });
}

function withTimeout<T>(p: Promise<T>, timeout: Promise<never>): Promise<T> {
  // The loser's rejection is handled so it never surfaces as unhandled.
  timeout.catch(() => {});
  p.catch(() => {});
  return Promise.race([p, timeout]);
}

/** Lets every promise continuation triggered by the last event run; no real I/O is pending. */
function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
