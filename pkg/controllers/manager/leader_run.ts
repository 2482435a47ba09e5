// One leader-elected component (kube-scheduler or kube-controller-manager): it competes for its
// Lease; while it leads, a term runs with a client whose every write carries the term's fencing
// token, informers of its own and the parts the component builds; when leadership is lost the term's
// signal aborts, every part stops at once, and the runner competes again. A new term starts once
// the previous one's parts have begun stopping (their queues are shut, their handlers gone), not
// after they finish: what the old term still has in flight carries its stale token and is refused.

import type { Registry } from 'prom-client';
import type { Clock, TimerHandle } from '../../../raft/node/ports.js';
import type { Random } from '../../../raft/core/random.js';
import type { FencingToken, NavarchClient } from '../../client/mod.js';
import { leaderElectionReady, type Takeover } from '../../client/leaderelection/mod.js';
import { InformerFactory } from '../../client/informer/mod.js';
import { TermInformers } from './term_informers.js';
import { catchUpInformers } from './catch_up.js';

/** How long a runner whose term failed to start waits before it competes again. */
const RETRY_AFTER_FAILED_TERM_MS = 2000;

/** What a component's parts are built from, one term at a time. */
export interface TermContext {
  /** Every write through it carries `token`; the API refuses them once another holds the lease. */
  client: NavarchClient;
  /** Unfenced reads; the informers list and watch through it. */
  readClient: NavarchClient;
  token: FencingToken;
  /** Aborts when leadership is lost or the runner stops. */
  signal: AbortSignal;
  /**
   * This term's informers (started by the runner after the parts are built, stopped after they
   * stop), or the runner's warm ones (kept running across terms and while standing by).
   */
  informers: InformerFactory;
  registry: Registry;
  clock: Clock;
  random: Random;
  identity: string;
}

/** A running part of a term (controllers, the scheduler, an event recorder); stopped in list order. */
export interface Part {
  name: string;
  stop(): Promise<void> | void;
}

/** Builds and starts the parts of a term; parts returned are stopped when the term ends. */
export type TermStarter = (ctx: TermContext, parts: Part[]) => Promise<void>;

/**
 * Parts built ahead of a term, while standing by, on the warm informers (their caches follow the
 * cluster; nothing is written), so that taking over only switches them on. One per term.
 */
export interface Standby {
  /** Switches the parts on for a term (its fenced client and signal); parts added are stopped when the term ends. */
  activate(ctx: TermContext, parts: Part[]): Promise<void>;
  /** Drops it unused (the runner stops). */
  discard(): Promise<void> | void;
  /** Resolves once the parts have caught up with the warm informers (e.g. the scheduler's cache is filled). */
  ready?: Promise<void>;
}

export type StandbyBuilder = (o: { readClient: NavarchClient; informers: InformerFactory; registry: Registry; clock: Clock; random: Random; identity: string }) => Standby;

export interface LeaderCallbacks {
  onStartedLeading(leadership: { token: FencingToken; signal: AbortSignal; takeover?: Takeover }): void;
  onStoppedLeading(): void;
  onNewLeader(identity: string): void;
  /** While leading: whether the lease is still current (pkg/client/leaderelection's onLeaseCurrent). */
  onLeaseCurrent?(current: boolean): void;
  /** While leading: the lease was acquired or renewed (pkg/client/leaderelection's onRenewed). */
  onRenewed?(): void;
}

/** The election itself (pkg/client/leaderelection's LeaderElector behind a factory). */
export interface Elector {
  /** Competes until stop(); calls back as leadership comes and goes. */
  start(): void;
  /** Stops competing and releases the lease if held. */
  stop(): Promise<void>;
}

export type ElectorFactory = (callbacks: LeaderCallbacks) => Elector;

export interface RunnerLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface LeaderElectedRunnerOptions {
  /** The lease's name, also the component's: "kube-scheduler", "kube-controller-manager". */
  name: string;
  identity: string;
  client: NavarchClient;
  elector: ElectorFactory;
  start: TermStarter;
  registry: Registry;
  clock: Clock;
  random: Random;
  logger: RunnerLogger;
  /**
   * Informers that outlive terms (the caller starts and stops them; standby included), so a new
   * term starts from current caches instead of listing everything while its lease must be
   * renewed; each term's handlers are removed when it ends. Absent: each term lists on its own.
   */
  warmInformers?: InformerFactory;
  /** With warmInformers: the next term's parts are built while standing by (see Standby); else `start` builds them at takeover. */
  standby?: StandbyBuilder;
  /**
   * With warmInformers: asks the member they watch for a bookmark on every watch. A new term then
   * waits (bounded) until the informers have reached the cluster's current revision, so it never
   * acts on a cache that has not seen the previous holder's last writes.
   */
  requestWatchProgress?: () => void;
}

export class LeaderElectedRunner {
  private elector: Elector | undefined;
  private stopped = false;
  private leader = '';
  private leading = false;
  /** While leading: when the elector last said the lease was acquired or renewed (this runner's clock). */
  private renewedAtMs = 0;
  private termCount = 0;
  /** Terms still running or stopping. */
  private readonly running = new Set<Promise<void>>();
  /** Resolves once the latest term's parts have begun stopping. */
  private termStopping: Promise<void> = Promise.resolve();
  /** Aborts the current term (runner stopping). */
  private stopTerm: (() => void) | undefined;
  private started = false;
  /** Competing again after a term failed to start. */
  private retryTimer: TimerHandle | undefined;
  /** The next term's parts, ready (see Standby). */
  private standby: Standby | undefined;
  /** Terms started and not yet ended: a standby is built only when none is. */
  private liveTerms = 0;
  /** The warm informers now (suspendStandby replaces them). */
  private warm: InformerFactory | undefined;
  /** No standby parts are kept (see suspendStandby). */
  private standbySuspended = false;
  /** The warm informers (and standby parts) have caught up, and are not suspended. */
  private warmReady = false;
  /** Counts suspensions and resumptions: a wait for the caches that outlived its own is ignored. */
  private warmEpoch = 0;

  constructor(private readonly o: LeaderElectedRunnerOptions) {
    this.warm = o.warmInformers;
  }

  get name(): string {
    return this.o.name;
  }

  /** Whether a term runs here now. */
  get isLeading(): boolean {
    return this.leading;
  }

  /** The holder this runner last saw ("" before it knows). */
  get currentLeader(): string {
    return this.leader;
  }

  /** Terms started here so far. */
  get terms(): number {
    return this.termCount;
  }

  start(): void {
    if (this.elector || this.stopped || this.started) throw new Error(`Cannot start ${this.o.name}: it was already started`);
    this.started = true;
    leaderElectionReady(this.o.registry).set({ name: this.o.name }, 0);
    this.prepareStandby();
    const ready = this.readyToLead();
    if (!ready) return this.campaign();
    void ready.then(() => {
      if (!this.stopped && !this.elector) this.campaign();
    });
  }

  /**
   * Whether a takeover here would start from cold caches: the warm informers are suspended, or still
   * listing after a restart or a resumption. A master then lets warm candidates take an expired
   * lease first (ControlPlane's deferTakeover). False without warm informers (nothing to wait for).
   */
  get cold(): boolean {
    return this.warm !== undefined && !this.warmReady;
  }

  /**
   * With warm informers, the runner competes only once they (and the standby's parts) have caught
   * up, as kube-scheduler waits for its caches before its leader election: a master restarted into
   * a cluster of 150,000 pods otherwise took the lease at once and then held it, binding nothing,
   * for the 12 to 50 s its lists and caches took, while a warm master stood by.
   */
  private readyToLead(): Promise<void> | undefined {
    const warmInformers = this.warm;
    if (!warmInformers) return undefined;
    const t0 = this.o.clock.nowMs();
    const epoch = this.warmEpoch;
    return Promise.all([warmInformers.waitForSync(), this.standby?.ready]).then(
      () => {
        if (epoch !== this.warmEpoch) return;
        this.warmReady = true;
        this.o.logger.info(`${this.o.name}: caches filled in ${this.o.clock.nowMs() - t0} ms; ${this.elector ? 'ready to take over' : 'competing for the lease'}`);
        if (this.elector && !this.stopped) leaderElectionReady(this.o.registry).set({ name: this.o.name }, 1);
      },
      (e: unknown) => {
        // Stopped meanwhile (the informers stop after the runner), or suspended: nothing to report.
        if (!this.stopped && epoch === this.warmEpoch) this.o.logger.warn(`${this.o.name}: competing for the lease before the caches were filled: ${(e as Error)?.message ?? e}`);
      },
    );
  }

  /**
   * Stops keeping the next term's parts ready (they are dropped now) and moves to `next`, warm
   * informers not yet started: the caller stops the old ones. Until resumeStandby(), a term that
   * starts builds its parts from scratch on `next`, which it starts and waits for (as with no warm
   * informers). A master does this while it leads Raft (see ControlPlane's suspendStandbyWhile).
   */
  async suspendStandby(next: InformerFactory): Promise<void> {
    if (!this.o.warmInformers) return;
    this.standbySuspended = true;
    this.warm = next;
    this.warmEpoch++;
    this.warmReady = false;
    // Still competing (someone must lead), but not ready to take over at once.
    if (this.started && !this.stopped) leaderElectionReady(this.o.registry).set({ name: this.o.name }, 0);
    const standby = this.standby;
    this.standby = undefined;
    await standby?.discard();
  }

  /** Keeps the next term's parts ready again, on the warm informers given to suspendStandby (started by the caller). */
  resumeStandby(): void {
    if (!this.standbySuspended) return;
    this.standbySuspended = false;
    this.warmEpoch++;
    this.prepareStandby();
    void this.readyToLead();
  }

  private prepareStandby(): void {
    const { standby } = this.o;
    const warmInformers = this.warm;
    if (!standby || !warmInformers || this.standby || this.stopped || this.liveTerms > 0 || this.standbySuspended) return;
    try {
      this.standby = standby({ readClient: this.o.client, informers: warmInformers, registry: this.o.registry, clock: this.o.clock, random: this.o.random, identity: this.o.identity });
    } catch (e) {
      this.o.logger.warn(`${this.o.name}: cannot build the standby parts (the next term builds its own): ${(e as Error)?.message ?? e}`);
    }
  }

  private campaign(): void {
    leaderElectionReady(this.o.registry).set({ name: this.o.name }, this.standbySuspended ? 0 : 1);
    this.elector = this.o.elector({
      onStartedLeading: ({ token, signal, takeover }) => {
        this.leading = true;
        this.renewedAtMs = this.o.clock.nowMs();
        this.o.logger.info(`${this.o.name}: acquired the lease (transition ${token.leaseTransitions}) ${describeTakeover(takeover, this.o.identity)}`);
        let markStopping!: () => void;
        const prev = this.termStopping;
        this.termStopping = new Promise<void>((r) => (markStopping = r));
        const t = prev.then(() => this.runTerm(token, signal, markStopping));
        this.running.add(t);
        void t.finally(() => this.running.delete(t));
      },
      onStoppedLeading: () => {
        this.leading = false;
        this.o.logger.info(`${this.o.name}: stopped leading`);
      },
      onNewLeader: (identity) => {
        this.leader = identity;
        if (identity !== this.o.identity) this.o.logger.info(`${this.o.name}: the leader is ${identity}`);
      },
      onRenewed: () => {
        if (this.leading) this.renewedAtMs = this.o.clock.nowMs();
      },
    });
    this.elector.start();
  }

  /**
   * client-go's leader-election health check (kube-scheduler's /healthz "leaderElection"): a
   * process that still leads although it has heard of no renewal for more than maxSilenceMs (a
   * lease duration plus a tolerance) is stuck: its elector (or the thread it runs on) should have
   * renewed or given the term up long before. undefined: healthy.
   */
  leaseHealth(maxSilenceMs: number): string | undefined {
    if (!this.leading || this.o.clock.nowMs() - this.renewedAtMs <= maxSilenceMs) return undefined;
    return `failed election to renew leadership on lease ${this.o.name}`;
  }

  /** Stops the parts first (no writes after this), then releases the lease so another takes over at once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    leaderElectionReady(this.o.registry).set({ name: this.o.name }, 0);
    if (this.retryTimer !== undefined) this.o.clock.clearTimeout(this.retryTimer);
    const elector = this.elector;
    this.stopTerm?.();
    const standby = this.standby;
    this.standby = undefined;
    await standby?.discard();
    while (this.running.size > 0) await Promise.all(this.running);
    await elector?.stop();
  }

  /** Releases the lease (so another candidate, or this one later, starts afresh), then competes again. */
  private async giveUp(): Promise<void> {
    const elector = this.elector;
    this.elector = undefined;
    await elector?.stop();
    if (this.stopped) return;
    this.retryTimer = this.o.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) this.campaign();
    }, RETRY_AFTER_FAILED_TERM_MS);
  }

  private async runTerm(token: FencingToken, leaseSignal: AbortSignal, markStopping: () => void): Promise<void> {
    if (leaseSignal.aborted || this.stopped) return markStopping();
    const term = new AbortController();
    const onLost = (): void => term.abort(leaseSignal.reason);
    leaseSignal.addEventListener('abort', onLost, { once: true });
    const stopThis = (): void => term.abort(new Error(`${this.o.name} stopped`));
    this.stopTerm = stopThis;
    this.termCount++;
    this.liveTerms++;
    const standby = this.standby;
    this.standby = undefined;
    const t0 = this.o.clock.nowMs();
    this.o.logger.info(`${this.o.name}: leading (lease transition ${token.leaseTransitions}); starting${standby ? ' from standby' : ''}`);
    const warm = this.warm;
    const informers = warm ? new TermInformers(warm) : InformerFactory.forClient(this.o.client, { clock: this.o.clock });
    const parts: Part[] = [];
    const ctx: TermContext = {
      client: this.o.client.withFencing(token),
      readClient: this.o.client,
      token,
      signal: term.signal,
      informers,
      registry: this.o.registry,
      clock: this.o.clock,
      random: this.o.random,
      identity: this.o.identity,
    };
    const ended = new Promise<void>((resolve) => term.signal.addEventListener('abort', () => resolve(), { once: true }));
    try {
      if (warm && this.o.requestWatchProgress) {
        const c = await catchUpInformers({ client: this.o.client, informers: warm, requestWatchProgress: this.o.requestWatchProgress, clock: this.o.clock, signal: term.signal });
        if (!c.caughtUp) this.o.logger.warn(`${this.o.name}: informers had not reached revision ${c.revision} after the wait; starting anyway`);
        else this.o.logger.info(`${this.o.name}: informers caught up with revision ${c.revision} in ${this.o.clock.nowMs() - t0} ms (the read of the revision took ${c.listMs} ms)`);
      }
      const started = standby ? standby.activate(ctx, parts) : this.o.start(ctx, parts);
      informers.start();
      // A part that never finishes starting must not hold the term past the lease's loss.
      await Promise.race([started, ended]);
      if (!term.signal.aborted) this.o.logger.info(`${this.o.name}: started ${parts.map((p) => p.name).join(', ')} in ${this.o.clock.nowMs() - t0} ms`);
      await ended;
    } catch (e) {
      this.o.logger.warn(`${this.o.name}: term failed: ${(e as Error).message}; giving the lease up`);
      term.abort(e);
      // Holding the lease with nothing running would stall the component cluster-wide.
      if (!leaseSignal.aborted) void this.giveUp();
    } finally {
      leaseSignal.removeEventListener('abort', onLost);
      if (this.stopTerm === stopThis) this.stopTerm = undefined;
      // In order: writers first, then what they report through (event recorders). Each stop()
      // shuts its queues and removes its handlers before its first await.
      informers.stop();
      // Once the first part (the writer) has begun stopping, the next term may start; its standby
      // is built first, so a lease taken back at once (a renewal missed the deadline) does not
      // wait for this term's stragglers (bindings in flight) or build its parts from scratch.
      let handedOver = false;
      const handOver = (): void => {
        if (handedOver) return;
        handedOver = true;
        this.liveTerms--;
        this.prepareStandby();
        markStopping();
      };
      for (const [i, p] of parts.entries()) {
        const stopping = (async () => p.stop())();
        if (i === 0) handOver();
        try {
          await stopping;
        } catch (e) {
          this.o.logger.warn(`${this.o.name}: stopping ${p.name} failed: ${(e as Error)?.message ?? e}`);
        }
      }
      handOver();
      this.o.logger.info(`${this.o.name}: term ended (${(term.signal.reason as Error)?.message ?? 'stopped'}); its parts stopped`);
    }
  }
}

/** For the log line of an acquisition: where the time between the old holder's death and now went. */
function describeTakeover(t: Takeover | undefined, identity: string): string {
  if (!t) return '';
  if (t.previousHolder === '') return `(it was free; the write took ${t.writeMs} ms)`;
  // Its own last term ended (a renewal missed the renew deadline) while the lease still named it.
  if (t.previousHolder === identity) return `back after its own term ended (the write took ${t.writeMs} ms)`;
  return `from ${t.previousHolder}, ${t.afterExpiryMs} ms after it expired by this clock (the write took ${t.writeMs} ms)`;
}
