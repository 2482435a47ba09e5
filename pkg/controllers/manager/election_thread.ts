// Leader election on a thread of its own. A master runs a Raft member, the API server, the
// scheduler and the controller manager on one event loop, and under load that loop is sometimes
// busy for a second or two at a stretch (a large batch applied, a watch fan-out, an informer's
// burst, a major GC). A lease renewed from it lapsed while the process was otherwise healthy: in a
// fill to 150,000 pods the scheduler's lease changed hands without any failure, each time refusing
// the bindings in flight and restarting the term. client-go renews from a goroutine of its own;
// here the electors run on a worker thread (election_worker.ts) with connections of their own, and
// the main thread only hears when leadership starts and ends. The writes stay fenced, so a main
// thread that is late to hear of a loss still cannot write. A main thread that stops for longer
// than a stall limit (10 s) makes the electors step down (main_stall.ts).

import { Worker } from 'node:worker_threads';
import type { Registry } from 'prom-client';
import type { Clock, TimerHandle } from '../../../raft/node/ports.js';
import { checkElectorOptions, leaderElectionStatus } from '../../client/leaderelection/mod.js';
import { LEASE_NAMESPACE, type ElectionTimings, type TakeoverDeferral } from './elector.js';
import { ALIVE_EVERY_MS, type ElectionWorkerData, type FromElectionWorker, type ToElectionWorker } from './election_messages.js';
import type { Elector, ElectorFactory, LeaderCallbacks, RunnerLogger } from './leader_run.js';
import { MAIN_STALL_MS, SHARED_DEFERRAL, SHARED_MAIN_BEAT, SHARED_SLOTS } from './main_stall.js';

export interface ElectionThreadOptions {
  endpoints: readonly string[];
  /** How long deferrable electors let the other candidates take an expired lease first (TakeoverDeferral). */
  deferTakeover?: () => TakeoverDeferral;
  clock: Clock;
  /** The electors step down while this thread's event loop has not run for this long (main_stall.ts). @default MAIN_STALL_MS */
  mainStallMs?: number;
  /** Where leader_election_master_status{name} goes. */
  registry: Registry;
  logger: RunnerLogger;
  /** Starts the thread (tests pass a fake). @default a worker_threads Worker running election_worker.ts */
  spawnWorker?: (data: ElectionWorkerData) => ElectionWorkerHandle;
}

/** What the main side needs of the thread: node's Worker fits. */
export interface ElectionWorkerHandle {
  postMessage(m: ToElectionWorker): void;
  on(event: 'message', f: (m: FromElectionWorker) => void): unknown;
  on(event: 'error', f: (err: Error) => void): unknown;
  on(event: 'exit', f: (code: number) => void): unknown;
  once(event: 'exit', f: (code: number) => void): unknown;
  terminate(): Promise<number>;
}

const spawnWorkerThread = (data: ElectionWorkerData): ElectionWorkerHandle => new Worker(new URL('./election_worker_entry.mjs', import.meta.url), { workerData: data });

/** How often the main thread tells the thread how long to defer takeovers, and bumps its beat. */
const REFRESH_MS = 100;

/** A crashed thread is started again after this long (doubling while it keeps crashing, up to the max), and its electors campaign again. */
const RESTART_AFTER_MS = 1000;
const MAX_RESTART_AFTER_MS = 30_000;
/** A thread that ran this long before crashing starts again after RESTART_AFTER_MS. */
const HEALTHY_RUN_MS = 60_000;

/**
 * A thread not heard from for this long is ended (and started again): hung, it would renew nothing
 * while this master's runner kept its term (fenced off) and never competed again.
 */
const SILENT_AFTER_MS = 30_000;

/** close() waits this long past the longest lease for the electors to release their leases, then ends the thread (a release gives up after a lease duration). */
const CLOSE_MARGIN_MS = 2000;

interface Entry {
  start: Extract<ToElectionWorker, { type: 'start' }>;
  callbacks: LeaderCallbacks;
  /** Set while leading: aborted when leadership ends. */
  leading?: AbortController;
  /** Set by stop(): resolves once the thread says the elector stopped (and released its lease). */
  stopping?: { promise: Promise<void>; resolve: () => void };
}

export class ElectionThread {
  private worker: ElectionWorkerHandle | undefined;
  private readonly shared = new Int32Array(new SharedArrayBuffer(SHARED_SLOTS * Int32Array.BYTES_PER_ELEMENT));
  private readonly entries = new Map<number, Entry>();
  private nextId = 1;
  private closed = false;
  private refreshTimer: TimerHandle | undefined;
  private restartTimer: TimerHandle | undefined;
  private restartAfterMs = RESTART_AFTER_MS;
  private spawnedAtMs = 0;
  private lastHeardMs = 0;
  private watchdog: TimerHandle | undefined;

  constructor(private readonly o: ElectionThreadOptions) {}

  /**
   * Starts the thread ahead of its electors: loading it takes half a second or more on a busy
   * machine, and a master that has just filled its caches must compete at once (a restarted master
   * is the standby a failover needs). An elector started first starts it too.
   */
  start(): void {
    if (!this.closed && !this.worker && this.restartTimer === undefined) this.spawn();
  }

  /**
   * An ElectorFactory for one lease, run on this thread. Bad timings throw here, on the caller's
   * thread (as LeaderElector's constructor would), not on the election thread.
   */
  elector(e: { name: string; identity: string; timings?: ElectionTimings }): ElectorFactory {
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = checkElectorOptions({ ...e.timings, leaseNamespace: LEASE_NAMESPACE, leaseName: e.name, identity: e.identity });
    const timings = { leaseDurationMs, renewDeadlineMs, retryPeriodMs };
    return (callbacks) => new ThreadElector(this, { type: 'start', id: 0, name: e.name, identity: e.identity, timings, deferrable: this.o.deferTakeover !== undefined }, callbacks);
  }

  /** @internal (ThreadElector) */
  startElector(start: Entry['start'], callbacks: LeaderCallbacks): number {
    const id = this.nextId++;
    const entry: Entry = { start: { ...start, id }, callbacks };
    this.entries.set(id, entry);
    this.status(entry, false);
    if (this.closed) return id;
    // A thread that starts sends every elector's start; one that is running is sent this one.
    if (this.worker) this.post(entry.start);
    else this.start();
    return id;
  }

  /** @internal (ThreadElector) Resolves once the elector has stopped and released its lease. */
  stopElector(id: number): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return Promise.resolve();
    if (entry.stopping) return entry.stopping.promise;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    entry.stopping = { promise, resolve };
    // No thread (closed, or between a crash and its restart): nothing holds or renews the lease.
    if (!this.worker) this.finish(id, entry);
    else this.post({ type: 'stop', id });
    return promise;
  }

  /** Stops every elector (releasing held leases), then the thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of [this.refreshTimer, this.restartTimer, this.watchdog]) if (t !== undefined) this.o.clock.clearTimeout(t);
    const worker = this.worker;
    if (worker) {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      this.post({ type: 'close' });
      let timer: TimerHandle | undefined;
      const leaseMs = Math.max(0, ...[...this.entries.values()].map((e) => e.start.timings.leaseDurationMs));
      const late = new Promise<void>((resolve) => (timer = this.o.clock.setTimeout(resolve, leaseMs + CLOSE_MARGIN_MS)));
      await Promise.race([exited, late]);
      this.o.clock.clearTimeout(timer!);
      await worker.terminate();
    }
    for (const [id, entry] of this.entries) this.finish(id, entry);
  }

  private spawn(): void {
    const data: ElectionWorkerData = { endpoints: [...this.o.endpoints], shared: this.shared.buffer as SharedArrayBuffer, mainStallMs: this.o.mainStallMs ?? MAIN_STALL_MS };
    if (this.refreshTimer === undefined) this.refresh();
    const worker = (this.o.spawnWorker ?? spawnWorkerThread)(data);
    this.worker = worker;
    this.spawnedAtMs = this.lastHeardMs = this.o.clock.nowMs();
    if (this.watchdog === undefined) this.watch(this.o.clock.nowMs());
    // A dead thread's last messages may arrive after its error: only the current thread's count.
    worker.on('message', (m: FromElectionWorker) => {
      if (this.worker !== worker) return;
      this.lastHeardMs = this.o.clock.nowMs();
      this.onMessage(m);
    });
    worker.on('error', (err) => this.crashed(worker, `failed: ${err?.message ?? err}`));
    worker.on('exit', (code) => this.crashed(worker, `exited with code ${code}`));
    for (const entry of this.entries.values()) if (!entry.stopping) this.post(entry.start);
  }

  /** Leadership held on a dead thread is over: its renewals stopped (the lease lapses, and its writes are fenced). */
  private crashed(worker: ElectionWorkerHandle, why: string): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    for (const [id, entry] of this.entries) {
      this.ended(entry);
      if (entry.stopping) this.finish(id, entry);
    }
    if (this.closed) return;
    if (this.o.clock.nowMs() - this.spawnedAtMs >= HEALTHY_RUN_MS) this.restartAfterMs = RESTART_AFTER_MS;
    const afterMs = this.restartAfterMs;
    this.restartAfterMs = Math.min(MAX_RESTART_AFTER_MS, afterMs * 2);
    this.o.logger.warn(`election thread ${why}; starting it again in ${afterMs} ms`);
    this.restartTimer = this.o.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.closed) this.spawn();
    }, afterMs);
  }

  /** The elector is done: leadership (if any) ended, stop() answered, entry forgotten. */
  private finish(id: number, entry: Entry): void {
    this.ended(entry);
    this.entries.delete(id);
    entry.stopping?.resolve();
  }

  /** Ends a thread that has fallen silent; its 'exit' then restarts it as a crash does. */
  private watch(armedMs: number): void {
    this.watchdog = this.o.clock.setTimeout(() => {
      const now = this.o.clock.nowMs();
      // A check that came late means this (main) thread was busy, and the thread's messages may be
      // waiting behind it: judge only on a check that came on time.
      const onTime = now - armedMs < 2 * ALIVE_EVERY_MS;
      const worker = this.worker;
      if (onTime && worker && now - this.lastHeardMs >= SILENT_AFTER_MS) {
        this.o.logger.warn(`election thread silent for ${now - this.lastHeardMs} ms; ending it`);
        worker.terminate().catch(() => {});
      }
      this.watch(now);
    }, ALIVE_EVERY_MS);
  }

  private onMessage(m: FromElectionWorker): void {
    if (m.type === 'alive') return;
    if (m.type === 'mainStalled') {
      if (m.electors > 0) this.o.logger.warn(`this thread's event loop did not run for ${m.silentMs} ms: ${m.electors} elector(s) stepped down, releasing held leases`);
      else this.o.logger.warn(`this thread's event loop did not run for ${m.silentMs} ms (no elector was running)`);
      return;
    }
    if (m.type === 'mainRecovered') {
      this.o.logger.info(`this thread's event loop runs again after ${m.silentMs} ms: the electors campaign again`);
      return;
    }
    const entry = this.entries.get(m.id);
    if (!entry) return;
    const { name } = entry.start;
    // Asked to stop: no new term (the thread may have won the lease again before it read the stop).
    if (entry.stopping && (m.type === 'started' || m.type === 'newLeader')) return;
    switch (m.type) {
      case 'started': {
        // Never two terms at once: a term the runner was not told had ended ends now.
        this.ended(entry);
        const abort = new AbortController();
        entry.leading = abort;
        this.status(entry, true);
        this.callback(name, 'onStartedLeading', () => entry.callbacks.onStartedLeading({ token: m.token, signal: abort.signal, takeover: m.takeover }));
        return;
      }
      case 'stoppedLeading':
        this.ended(entry);
        return;
      case 'newLeader':
        this.callback(name, 'onNewLeader', () => entry.callbacks.onNewLeader(m.identity));
        return;
      case 'leaseCurrent':
        if (entry.leading) this.status(entry, m.current);
        return;
      case 'renewed':
        if (entry.leading) this.callback(name, 'onRenewed', () => entry.callbacks.onRenewed?.());
        return;
      case 'error':
        this.o.logger.warn(`${name}: lease attempt failed: ${m.message}`);
        return;
      case 'stopped':
        this.finish(m.id, entry);
        return;
    }
  }

  /** Leadership ended (if it was held): abort the term, tell the runner. */
  private ended(entry: Entry): void {
    const abort = entry.leading;
    if (!abort) return;
    entry.leading = undefined;
    this.status(entry, false);
    abort.abort();
    this.callback(entry.start.name, 'onStoppedLeading', () => entry.callbacks.onStoppedLeading());
  }

  /** A callback's failure is logged: thrown from a worker's event handler it would end the process. */
  private callback(name: string, which: string, f: () => void): void {
    try {
      f();
    } catch (err) {
      this.o.logger.warn(`${name}: ${which} failed: ${(err as Error)?.message ?? err}`);
    }
  }

  private status(entry: Entry, leading: boolean): void {
    leaderElectionStatus(this.o.registry).set({ name: entry.start.name }, leading ? 1 : 0);
  }

  private post(m: ToElectionWorker): void {
    this.worker?.postMessage(m);
  }

  private refresh(): void {
    if (this.o.deferTakeover) Atomics.store(this.shared, SHARED_DEFERRAL, this.o.deferTakeover());
    Atomics.add(this.shared, SHARED_MAIN_BEAT, 1);
    this.refreshTimer = this.o.clock.setTimeout(() => this.refresh(), REFRESH_MS);
  }
}

class ThreadElector implements Elector {
  private id: number | undefined;

  constructor(
    private readonly thread: ElectionThread,
    private readonly start_: Extract<ToElectionWorker, { type: 'start' }>,
    private readonly callbacks: LeaderCallbacks,
  ) {}

  start(): void {
    if (this.id !== undefined) throw new Error(`Cannot start the elector of ${this.start_.name} twice`);
    this.id = this.thread.startElector(this.start_, this.callbacks);
  }

  stop(): Promise<void> {
    return this.id === undefined ? Promise.resolve() : this.thread.stopElector(this.id);
  }
}
