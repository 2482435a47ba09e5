// A simulated network between members: one Transport per member, every
// delivery scheduled on the SimClock, every fault drawn from the injected
// Random. Delays are drawn per message, so messages reorder naturally.

import type { Random } from '../core/random.js';
import type { Entry, Message, NodeId, Snapshot } from '../core/types.js';
import type { Transport, TransportHandler } from '../node/ports.js';
import type { Buggify } from './buggify.js';
import type { SimClock } from './sim_clock.js';

export interface NetworkFaults {
  /** @default 1 */
  minDelayMs: number;
  /** @default 10 */
  maxDelayMs: number;
  /** @default 0 */
  dropProbability: number;
  /** @default 0 */
  duplicateProbability: number;
  /** Added to a snapshot's delay, as if it were streamed in chunks. @default 20 */
  snapshotExtraDelayMs: number;
}

export interface SimNetworkOptions {
  clock: SimClock;
  random: Random;
  faults?: Partial<NetworkFaults>;
  /** Messages in flight on one directed link; more are dropped. @default 512 */
  maxInflightPerLink?: number;
  /** Site "network.slow" holds a message back up to 20× the max delay. */
  buggify?: Buggify;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
}

const DEFAULT_FAULTS: NetworkFaults = { minDelayMs: 1, maxDelayMs: 10, dropProbability: 0, duplicateProbability: 0, snapshotExtraDelayMs: 20 };

export class SimNetwork {
  private readonly clock: SimClock;
  private readonly random: Random;
  private readonly maxInflightPerLink: number;
  private readonly buggify: Buggify | undefined;
  private faultsNow: NetworkFaults;
  private readonly endpoints = new Map<NodeId, SimTransport>();
  private readonly blocked = new Set<string>();
  private readonly isolated = new Set<NodeId>();
  private readonly inflight = new Map<string, number>();
  private readonly unreachablePending = new Set<string>();
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
  /** Called for each delivery or drop, for traces. */
  onTrace: ((line: string) => void) | undefined;

  constructor(o: SimNetworkOptions) {
    this.clock = o.clock;
    this.random = o.random;
    this.maxInflightPerLink = o.maxInflightPerLink ?? 512;
    this.buggify = o.buggify;
    this.faultsNow = checkFaults({ ...DEFAULT_FAULTS, ...o.faults });
  }

  /** A new Transport for member id (one per process incarnation). */
  transport(id: NodeId): Transport {
    return new SimTransport(this, id);
  }

  get faults(): NetworkFaults {
    return { ...this.faultsNow };
  }

  setFaults(f: Partial<NetworkFaults>): void {
    this.faultsNow = checkFaults({ ...this.faultsNow, ...f });
  }

  /** Drops messages from `from` to `to` (one direction only). */
  block(from: NodeId, to: NodeId): void {
    this.blocked.add(linkKey(from, to));
  }

  /** Cuts every link between the two groups, both ways. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.block(x, y);
        this.block(y, x);
      }
    }
  }

  /** Cuts every link to and from id, including to members that join later. */
  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  /** Undoes isolate(id); partitions and blocked links stay. */
  rejoin(id: NodeId): void {
    this.isolated.delete(id);
  }

  heal(): void {
    this.blocked.clear();
    this.isolated.clear();
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.isolated.has(from) || this.isolated.has(to) || this.blocked.has(linkKey(from, to));
  }

  private incarnations = 0;

  /** @internal */
  nextIncarnation(): number {
    return ++this.incarnations;
  }

  /** @internal */
  register(t: SimTransport): void {
    this.endpoints.set(t.id, t);
  }

  /** @internal */
  unregister(t: SimTransport): void {
    if (this.endpoints.get(t.id) === t) this.endpoints.delete(t.id);
  }

  /** @internal */
  send(from: SimTransport, m: Message): void {
    this.stats.sent++;
    const f = this.faultsNow;
    const isSnap = m.type === 'MsgSnap';
    const fail = (why: string): void => {
      this.stats.dropped++;
      this.onTrace?.(`drop ${m.type} ${m.from}->${m.to} (${why})`);
      if (isSnap) this.later(f.maxDelayMs + f.snapshotExtraDelayMs, () => from.snapshotStatus(m.to, false));
      if (why === 'blocked') this.reportUnreachable(from, m.to);
    };
    if (from.removed.has(m.to)) return fail('peer removed');
    if (this.isBlocked(m.from, m.to)) return fail('blocked');
    if (this.random.float() < f.dropProbability) return fail('random drop');
    const copies = this.random.float() < f.duplicateProbability && !isSnap ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let c = 0; c < copies; c++) {
      const key = linkKey(m.from, m.to);
      const n = this.inflight.get(key) ?? 0;
      if (n >= this.maxInflightPerLink) return fail('link full');
      this.inflight.set(key, n + 1);
      let delay = f.minDelayMs + this.random.intn(f.maxDelayMs - f.minDelayMs + 1) + (isSnap ? f.snapshotExtraDelayMs : 0);
      if (this.buggify?.fires('network.slow')) delay += this.random.intn(20 * f.maxDelayMs + 1);
      const copy = cloneMessage(m);
      this.later(delay, () => {
        this.inflight.set(key, (this.inflight.get(key) ?? 1) - 1);
        const to = this.endpoints.get(m.to);
        // Faults in force at arrival time count too: a partition cuts messages already on the wire.
        const arrived = to !== undefined && !this.isBlocked(m.from, m.to);
        if (isSnap && c === 0) from.snapshotStatus(m.to, arrived);
        if (!arrived) {
          this.stats.dropped++;
          this.onTrace?.(`drop ${m.type} ${m.from}->${m.to} (${to === undefined ? 'receiver down' : 'blocked on arrival'})`);
          return;
        }
        this.stats.delivered++;
        to.deliver(copy);
      });
    }
  }

  private reportUnreachable(from: SimTransport, to: NodeId): void {
    const key = `${from.incarnation}:${linkKey(from.id, to)}`;
    if (this.unreachablePending.has(key)) return;
    this.unreachablePending.add(key);
    this.later(this.faultsNow.maxDelayMs, () => {
      this.unreachablePending.delete(key);
      from.unreachable(to);
    });
  }

  private later(delayMs: number, fn: () => void): void {
    this.clock.setTimeout(fn, delayMs);
  }
}

class SimTransport implements Transport {
  private handler: TransportHandler | undefined;
  readonly removed = new Set<NodeId>();
  readonly incarnation: number;

  constructor(
    private readonly net: SimNetwork,
    readonly id: NodeId,
  ) {
    this.incarnation = net.nextIncarnation();
  }

  async start(handler: TransportHandler): Promise<void> {
    if (this.handler) throw new Error(`Cannot start the transport of member ${this.id}: it is already started`);
    this.handler = handler;
    this.net.register(this);
  }

  send(messages: readonly Message[]): void {
    if (!this.handler) return;
    for (const m of messages) this.net.send(this, m);
  }

  addPeer(id: NodeId): void {
    this.removed.delete(id);
  }

  removePeer(id: NodeId): void {
    this.removed.add(id);
  }

  async stop(): Promise<void> {
    this.handler = undefined;
    this.net.unregister(this);
  }

  deliver(m: Message): void {
    this.handler?.onMessage(m);
  }

  snapshotStatus(peer: NodeId, ok: boolean): void {
    this.handler?.onSnapshotStatus(peer, ok);
  }

  unreachable(peer: NodeId): void {
    this.handler?.onUnreachable(peer);
  }
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}>${to}`;
}

function checkFaults(f: NetworkFaults): NetworkFaults {
  if (!(f.minDelayMs >= 0 && f.maxDelayMs >= f.minDelayMs)) {
    throw new RangeError(`Invalid delay range [${f.minDelayMs}, ${f.maxDelayMs}] ms: expected 0 ≤ minDelayMs ≤ maxDelayMs`);
  }
  for (const k of ['dropProbability', 'duplicateProbability'] as const) {
    if (!(f[k] >= 0 && f[k] <= 1)) throw new RangeError(`Invalid ${k} "${f[k]}": expected a probability in [0, 1]`);
  }
  return f;
}

function cloneEntry(e: Entry): Entry {
  return { term: e.term, index: e.index, type: e.type, data: e.data.slice() };
}

function cloneSnapshot(s: Snapshot): Snapshot {
  const c = s.metadata.confState;
  return { metadata: { index: s.metadata.index, term: s.metadata.term, confState: { voters: [...c.voters], learners: [...c.learners] } }, data: s.data.slice() };
}

/** Receivers get their own copy, as they would off a real wire. */
function cloneMessage(m: Message): Message {
  const out: Message = { ...m, entries: m.entries.map(cloneEntry), context: m.context.slice() };
  if (m.snapshot) out.snapshot = cloneSnapshot(m.snapshot);
  return out;
}
