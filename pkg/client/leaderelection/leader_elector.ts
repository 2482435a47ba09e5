// Leader election over a Lease object, as client-go's tools/leaderelection does it, on an injected
// Clock. A candidate takes the lease when it has seen the same record for a whole lease duration
// (measured on its own clock from when it saw the record change, never by comparing its clock with
// the holder's), or at once when it is released. Unlike client-go, a candidate reads the lease more
// often than it retries (observePeriodMs), so it sees the last renewal of a holder that died soon
// after it was made, and it tries again at the very moment the lease expires rather than at its next
// tick: a dead holder's lease is taken about a lease duration after its last renewal, not up to two
// retry periods later. Each acquisition adds one to leaseTransitions, so (holder, transitions) is a
// fencing token that the API server checks on the leader's writes: a leader that wakes from a pause
// after another took over cannot write, even before it notices. Because of that token the leader
// need not stop before the others may start, as client-go's must (its renewDeadline is shorter than
// the lease): it renews every retryPeriod, straight from the lease it last wrote, and gives up when
// it sees another holder or has not renewed for renewDeadline, which may outlast the lease. A leader
// whose renewals were slowed by load past the lease's expiry, with nobody taking it meanwhile, so
// keeps its term instead of ending it and starting a new one. It reports leadership
// (leader_election_master_status) only while its lease is current, so two processes never both
// report 1.
//
// Unlike client-go's Run, which returns after leadership is lost, the elector goes back to
// campaigning until stop(); stop() releases a held lease so another candidate takes over at once.

import type { Registry } from 'prom-client';
import type { Clock, TimerHandle } from '../../../raft/node/ports.js';
import type { KubeObject, Lease } from '../../api/registry.js';
import { isApiError } from '../../apiserver/api_error.js';
import type { FencingToken } from '../../apiserver/fencing.js';
import { formatMicroTime, leaseWith, recordOf, sameRecord, type LeaderElectionRecord } from './lease_record.js';
import { leaderElectionStatus } from './metrics.js';

/** The calls the elector makes: satisfied by NavarchClient and by the controllers' RecordingClient. */
export interface LeaseClient {
  get<T extends KubeObject = KubeObject>(resource: string, namespace: string | undefined, name: string): Promise<T>;
  create<T extends KubeObject>(object: T): Promise<T>;
  update<T extends KubeObject>(object: T): Promise<T>;
}

export interface LeadingContext {
  /** Pass to client.withFencing(token): the API server refuses those writes once this leadership ends. */
  token: FencingToken;
  /** Aborts when leadership is lost or the elector stops. */
  signal: AbortSignal;
  /** How this leadership began, for logs: whom it took the lease from, and how late after its expiry. */
  takeover: Takeover;
}

export interface Takeover {
  /** The holder before ("" if the lease was released or did not exist). */
  previousHolder: string;
  /** From the lease's expiry (by this candidate's clock) to the acquiring write's answer; 0 if it was free. */
  afterExpiryMs: number;
  /** The acquiring write's duration (get and update). */
  writeMs: number;
}

export interface LeaderCallbacks {
  /** Leadership begins: start the work (it may run until `signal` aborts; a returned promise is not awaited). */
  onStartedLeading(ctx: LeadingContext): void | Promise<void>;
  /** Leadership ended (lost or stopped). On stop the lease is released after this resolves, so it may wait for the work to end. */
  onStoppedLeading?(): void | Promise<void>;
  /** Another (or this) candidate is seen holding the lease. */
  onNewLeader?(identity: string): void;
  /**
   * While leading: false once a lease duration has passed since the last renewal began (another
   * candidate may hold the lease by now; this term goes on, fenced, until renewDeadlineMs), true
   * again when a renewal lands. What leader_election_master_status shows, so two masters never
   * both report 1.
   */
  onLeaseCurrent?(current: boolean): void;
  /** While leading: the lease was acquired or renewed (client-go's observedTime moves; its health check counts from it). */
  onRenewed?(): void;
}

export interface LeaderElectorOptions {
  client: LeaseClient;
  clock: Clock;
  leaseNamespace: string;
  leaseName: string;
  /** Unique per process (a restarted process must not reuse a live one's identity): e.g. host_uuid. */
  identity: string;
  /** How long a lease lasts unrenewed. @default 3000 (client-go: 15000) */
  leaseDurationMs?: number;
  /**
   * The leader gives up if it could not renew for this long; it may exceed leaseDurationMs (its
   * writes are fenced once another takes over). @default leaseDurationMs + 2000 (client-go: 10000, under its 15000 lease)
   */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. @default 1000 (client-go: 2000) */
  retryPeriodMs?: number;
  /**
   * Time between a candidate's reads of a lease another holds. Expiry counts from when it first
   * saw the holder's last renewal, so the sooner it sees it the sooner a dead holder is replaced.
   * @default retryPeriodMs / 4
   */
  observePeriodMs?: number;
  /**
   * Extra time, asked at each attempt, before this candidate takes over an expired lease from
   * another holder: a candidate that should rather not lead (a master that leads Raft, so that a
   * crash does not take both down at once) lets the others go first, and still leads if they don't.
   * @default none
   */
  takeoverDelayMs?: () => number;
  callbacks: LeaderCallbacks;
  /** Where leader_election_master_status{name} goes. */
  registry?: Registry;
  /** The gauge's `name` label. @default leaseName */
  name?: string;
  /** Told of failed attempts (API errors), for logs. */
  onError?: (err: unknown) => void;
}

const LEASES = 'leases';

type Timings = Required<Pick<LeaderElectorOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs' | 'observePeriodMs'>>;

/** The timings with their defaults; throws RangeError naming what is wrong (as the constructor does). */
export function checkElectorOptions(options: Pick<LeaderElectorOptions, keyof Timings | 'leaseNamespace' | 'leaseName' | 'identity'>): Timings {
  // An option given as undefined takes its default too (timings are often passed through as a whole).
  const retryPeriodMs = options.retryPeriodMs ?? 1000;
  const leaseDurationMs = options.leaseDurationMs ?? 3000;
  const o: Timings = {
    leaseDurationMs,
    renewDeadlineMs: options.renewDeadlineMs ?? leaseDurationMs + 2000,
    retryPeriodMs,
    observePeriodMs: options.observePeriodMs ?? retryPeriodMs / 4,
  };
  for (const k of ['leaseDurationMs', 'renewDeadlineMs', 'retryPeriodMs', 'observePeriodMs'] as const) {
    if (!(Number.isFinite(o[k]) && o[k] > 0)) throw new RangeError(`Invalid leader election ${k} ${o[k]}: expected a number of ms > 0`);
  }
  if (o.leaseDurationMs <= o.retryPeriodMs) throw new RangeError(`Invalid leader election timing: leaseDurationMs (${o.leaseDurationMs}) must be greater than retryPeriodMs (${o.retryPeriodMs})`);
  if (o.renewDeadlineMs <= o.retryPeriodMs) throw new RangeError(`Invalid leader election timing: renewDeadlineMs (${o.renewDeadlineMs}) must be greater than retryPeriodMs (${o.retryPeriodMs})`);
  if (o.observePeriodMs > o.retryPeriodMs) throw new RangeError(`Invalid leader election timing: observePeriodMs (${o.observePeriodMs}) must not be greater than retryPeriodMs (${o.retryPeriodMs})`);
  for (const k of ['leaseNamespace', 'leaseName', 'identity'] as const) {
    if (typeof options[k] !== 'string' || options[k] === '') throw new RangeError(`Invalid leader election ${k}: expected a non-empty string`);
  }
  return o;
}

export class LeaderElector {
  private readonly o: Timings & LeaderElectorOptions;
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Resolve the in-flight attempt as failed when stop() is called (a call to an unreachable master may take long). */
  private readonly onStop = new Set<() => void>();
  /** The last attempt started: stop() stops waiting for it, but its write may still land before the release. */
  private inflight: Promise<boolean> | undefined;
  private timer: TimerHandle | undefined;
  /** The last record seen, the lease it came in, and when (by our clock) it was first seen so. */
  private observed: { record: LeaderElectionRecord; lease: Lease; atMs: number } | undefined;
  private reportedLeader = '';
  private leading: { token: FencingToken; abort: AbortController } | undefined;
  private readonly status: ((leading: boolean) => void) | undefined;
  /** Fires a lease duration after the last renewal began: the lease may be another's by then. */
  private lapseTimer: TimerHandle | undefined;
  private leaseCurrent = false;
  /** When the lease last seen held by another may be taken over, by our clock (undefined: not held by another). */
  private heldUntilMs: number | undefined;
  /** The last attempt lost a race for the lease (Conflict): read it again soon, it has just changed. */
  private lostRace = false;
  /** A renewal reads the lease first (after a failed attempt) instead of writing over the one it last wrote. */
  private mustRead = true;
  /** When this candidate first found the lease missing (a deferring candidate creates it only its delay later). */
  private missingSinceMs: number | undefined;
  /** When the last successful attempt (acquisition or renewal) began, by our clock. */
  private wroteAtMs = 0;
  /** How the last successful acquisition went (read by becomeLeader). */
  private lastTakeover: Takeover = { previousHolder: '', afterExpiryMs: 0, writeMs: 0 };

  constructor(options: LeaderElectorOptions) {
    const o = { ...options, ...checkElectorOptions(options) };
    this.o = o;
    if (o.registry) {
      const gauge = leaderElectionStatus(o.registry);
      const name = o.name ?? o.leaseName;
      this.status = (leading) => gauge.set({ name }, leading ? 1 : 0);
      this.status(false);
    }
  }

  /** Starts campaigning (once). */
  start(): void {
    if (this.stopped) throw new Error('Cannot start a stopped LeaderElector');
    this.running ??= this.loop();
  }

  /** Stops campaigning; a leader stops leading (onStoppedLeading), then releases the lease (waiting at most leaseDurationMs). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.wake?.();
    for (const f of [...this.onStop]) f();
    await this.running;
    if (this.leading) {
      await this.stepDown();
      await this.release();
    }
  }

  isLeader(): boolean {
    return this.leading !== undefined;
  }

  /** The fencing token while leading. */
  get token(): FencingToken | undefined {
    return this.leading?.token;
  }

  /** The holder last seen ("" if none or released). */
  get leader(): string {
    return this.observed?.record.holderIdentity ?? '';
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (!(await this.untilStopped(this.attempt()))) {
        await this.sleep(this.candidateWaitMs());
        continue;
      }
      for (;;) {
        this.becomeLeader();
        const end = await this.renewWhileLeading();
        if (this.stopped) return;
        await this.stepDown();
        // Taken back as a new term (the lease was released, recreated or rewritten by hand): lead
        // again at once, under the new token; the old one is stale for the API server.
        if (end !== 'reacquired') break;
      }
    }
  }

  /**
   * Returns when leadership is lost (seen taken, or not renewed within renewDeadlineMs of the last
   * renewal) or the elector stops, or with "reacquired" when a write kept the lease but as a new
   * transition (so the term's fencing token no longer holds).
   */
  private async renewWhileLeading(): Promise<'lost' | 'reacquired'> {
    const { clock, retryPeriodMs, renewDeadlineMs } = this.o;
    // From when the acquiring attempt began: the others count the lease from when they saw it
    // written, which may be well before its answer reached us.
    let renewedAtMs = this.wroteAtMs;
    this.armLapse(renewedAtMs);
    for (;;) {
      // Counted from the start of the last renewal, not its answer: under load a renewal can take
      // most of a second, and renewals a retry period plus that apart leave the others little
      // margin before the lease looks expired to them.
      await this.sleep(Math.max(0, renewedAtMs + retryPeriodMs - clock.nowMs()));
      for (;;) {
        if (this.stopped) return 'lost';
        const leftMs = renewedAtMs + renewDeadlineMs - clock.nowMs();
        if (leftMs <= 0) return 'lost';
        const startedMs = clock.nowMs();
        if (await this.untilStopped(this.withDeadline(this.attempt(), leftMs))) {
          if (this.observed?.record.leaseTransitions !== this.leading?.token.leaseTransitions) return 'reacquired';
          renewedAtMs = startedMs;
          this.armLapse(renewedAtMs);
          break;
        }
        if (this.stopped || this.leader !== this.o.identity) return 'lost';
        // A lost race means someone else wrote the lease: read it again soon to know whether it was taken.
        const waitMs = this.lostRace ? this.o.observePeriodMs : retryPeriodMs;
        await this.sleep(Math.min(waitMs, Math.max(0, renewedAtMs + renewDeadlineMs - clock.nowMs())));
      }
    }
  }

  /**
   * A candidate's wait before its next attempt: a lease another holds is read again every
   * observePeriodMs and tried at the moment it expires; after a lost race (Conflict: the lease just
   * changed) it is read again after observePeriodMs; after a failed call, the retry period, so an
   * unreachable API is not called more often than client-go would, except when the lease last seen
   * is due (expired or released): then the takeover is retried every observePeriodMs (the API is
   * often just coming back, e.g. after the Raft leader died with the lease's holder).
   */
  private candidateWaitMs(): number {
    if (this.lostRace) return this.o.observePeriodMs;
    if (this.heldUntilMs === undefined) return this.takeoverDue() ? this.o.observePeriodMs : this.o.retryPeriodMs;
    return Math.max(0, Math.min(this.o.observePeriodMs, this.heldUntilMs - this.o.clock.nowMs()));
  }

  private becomeLeader(): void {
    const record = this.observed!.record;
    const token: FencingToken = { leaseNamespace: this.o.leaseNamespace, leaseName: this.o.leaseName, holderIdentity: this.o.identity, leaseTransitions: record.leaseTransitions };
    const abort = new AbortController();
    this.leading = { token, abort };
    this.showLeaseCurrent(true);
    const takeover = this.lastTakeover;
    void Promise.resolve()
      .then(() => this.o.callbacks.onStartedLeading({ token, signal: abort.signal, takeover }))
      .catch((err: unknown) => this.o.onError?.(err));
  }

  private async stepDown(): Promise<void> {
    const l = this.leading;
    if (!l) return;
    this.leading = undefined;
    if (this.lapseTimer !== undefined) this.o.clock.clearTimeout(this.lapseTimer);
    this.lapseTimer = undefined;
    this.showLeaseCurrent(false);
    l.abort.abort();
    try {
      await this.o.callbacks.onStoppedLeading?.();
    } catch (err) {
      this.o.onError?.(err);
    }
  }

  /** Renewed (as of startedMs): the lease is current again, until a lease duration from then. */
  private armLapse(startedMs: number): void {
    try {
      this.o.callbacks.onRenewed?.();
    } catch (err) {
      this.o.onError?.(err);
    }
    const { clock, leaseDurationMs } = this.o;
    if (this.lapseTimer !== undefined) clock.clearTimeout(this.lapseTimer);
    this.lapseTimer = undefined;
    const leftMs = startedMs + leaseDurationMs - clock.nowMs();
    this.showLeaseCurrent(leftMs > 0);
    if (leftMs > 0) {
      this.lapseTimer = clock.setTimeout(() => {
        this.lapseTimer = undefined;
        if (this.leading) this.showLeaseCurrent(false);
      }, leftMs);
    }
  }

  private showLeaseCurrent(current: boolean): void {
    if (current === this.leaseCurrent) return;
    this.leaseCurrent = current;
    this.status?.(current);
    try {
      this.o.callbacks.onLeaseCurrent?.(current);
    } catch (err) {
      this.o.onError?.(err);
    }
  }

  private attempt(): Promise<boolean> {
    const p = this.tryAcquireOrRenew();
    this.inflight = p;
    return p;
  }

  /** One attempt: create the lease, renew it, or take it over if it expired or was released. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, clock, identity, leaseNamespace: ns, leaseName: name } = this.o;
    const nowMs = clock.nowMs();
    const now = formatMicroTime(nowMs);
    const durationS = Math.ceil(this.o.leaseDurationMs / 1000);
    this.heldUntilMs = undefined;
    this.lostRace = false;
    const mustRead = this.mustRead;
    this.mustRead = true;
    try {
      let lease: Lease;
      try {
        // The leader is the lease's one writer: it renews over the lease it last wrote, one call
        // instead of two; a Conflict (someone else wrote it) makes the next attempt read it first.
        const seen = this.observed;
        const mine = !mustRead && this.leading !== undefined && seen !== undefined && seen.record.holderIdentity === identity && seen.record.leaseTransitions === this.leading.token.leaseTransitions;
        lease = mine ? seen.lease : await client.get<Lease>(LEASES, ns, name);
      } catch (err) {
        if (!isApiError(err, 'NotFound')) throw err;
        this.missingSinceMs ??= nowMs;
        const dueMs = this.missingSinceMs + this.takeoverDelayMs();
        if (dueMs > nowMs) {
          this.heldUntilMs = dueMs;
          return false;
        }
        // A lease deleted and created again goes on from the transitions last seen, not from 0:
        // (holder, transitions) must never name two terms, or an old term's writes pass the fence.
        const transitions = this.observed === undefined ? 0 : this.observed.record.leaseTransitions + 1;
        const mine: LeaderElectionRecord = { holderIdentity: identity, leaseDurationSeconds: durationS, acquireTime: now, renewTime: now, leaseTransitions: transitions };
        const created = await client.create(leaseWith(ns, name, mine));
        this.wroteAtMs = nowMs;
        this.missingSinceMs = undefined;
        this.observe(created, clock.nowMs());
        this.mustRead = false;
        this.lastTakeover = { previousHolder: '', afterExpiryMs: 0, writeMs: clock.nowMs() - nowMs };
        return true;
      }
      this.missingSinceMs = undefined;
      const old = recordOf(lease);
      if (!this.observed || !sameRecord(this.observed.record, old)) this.observe(lease, clock.nowMs());
      const held = old.holderIdentity !== '' && old.holderIdentity !== identity;
      const expiresMs = this.expiresAtMs(this.observed!);
      const dueMs = expiresMs + this.takeoverDelayMs();
      if (held && dueMs > clock.nowMs()) {
        this.heldUntilMs = dueMs;
        return false;
      }
      // Renewing keeps the acquisition; taking it (even back, after losing it) is a new transition.
      const renewing = this.leading !== undefined && old.holderIdentity === identity && old.leaseTransitions === this.leading.token.leaseTransitions;
      const next: LeaderElectionRecord = renewing
        ? { ...old, leaseDurationSeconds: durationS, renewTime: now }
        : { holderIdentity: identity, leaseDurationSeconds: durationS, acquireTime: now, renewTime: now, leaseTransitions: old.leaseTransitions + 1 };
      const updated = await client.update(leaseWith(ns, name, next, lease));
      this.wroteAtMs = nowMs;
      this.observe(updated, clock.nowMs());
      this.mustRead = false;
      if (!renewing) this.lastTakeover = { previousHolder: old.holderIdentity, afterExpiryMs: held ? clock.nowMs() - expiresMs : 0, writeMs: clock.nowMs() - nowMs };
      return true;
    } catch (err) {
      // Another write got there first (a renewal, another candidate) or this read was stale.
      this.lostRace = isApiError(err, 'Conflict');
      this.o.onError?.(err);
      return false;
    }
  }

  /** When a lease seen so expires by our clock: a lease duration after we first saw that record. */
  private expiresAtMs(seen: { record: LeaderElectionRecord; atMs: number }): number {
    return seen.atMs + (seen.record.leaseDurationSeconds || Math.ceil(this.o.leaseDurationMs / 1000)) * 1000;
  }

  private takeoverDelayMs(): number {
    const ms = this.o.takeoverDelayMs?.() ?? 0;
    return Number.isFinite(ms) && ms > 0 ? ms : 0;
  }

  /** The lease last seen is another's (or nobody's) and may be taken over by now (our clock). */
  private takeoverDue(): boolean {
    const seen = this.observed;
    if (seen === undefined || seen.record.holderIdentity === this.o.identity) return false;
    return seen.record.holderIdentity === '' || this.expiresAtMs(seen) + this.takeoverDelayMs() <= this.o.clock.nowMs();
  }

  private observe(lease: Lease, atMs: number): void {
    const record = recordOf(lease);
    this.observed = { record, lease, atMs };
    if (record.holderIdentity !== '' && record.holderIdentity !== this.reportedLeader) {
      this.reportedLeader = record.holderIdentity;
      this.o.callbacks.onNewLeader?.(record.holderIdentity);
    }
  }

  /** Gives the lease up so another candidate takes it without waiting for it to expire. */
  private async release(): Promise<void> {
    const deadlineMs = this.o.clock.nowMs() + this.o.leaseDurationMs;
    // A renewal still in flight may land: released over the lease it read, the release would fail
    // with Conflict and leave the lease held until it expires. Its result is the lease to release.
    if (this.inflight) await this.withDeadline(this.inflight.catch(() => false), this.o.leaseDurationMs);
    const leftMs = deadlineMs - this.o.clock.nowMs();
    // By then the lease has expired for the others anyway.
    if (leftMs <= 0) return;
    const seen = this.observed;
    if (!seen || seen.record.holderIdentity !== this.o.identity) return;
    const now = formatMicroTime(this.o.clock.nowMs());
    const released: LeaderElectionRecord = { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: seen.record.leaseTransitions };
    const attempt = this.o.client.update(leaseWith(this.o.leaseNamespace, this.o.leaseName, released, seen.lease)).then(
      (updated) => {
        this.observed = { record: recordOf(updated), lease: updated, atMs: this.o.clock.nowMs() };
        return true;
      },
      (err: unknown) => {
        this.o.onError?.(err);
        return false;
      },
    );
    // Best effort, bounded: unreleased, the lease still expires for the others within a lease duration.
    await this.withDeadline(attempt, leftMs);
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        this.timer = undefined;
        resolve();
      };
      this.timer = this.o.clock.setTimeout(() => this.wake?.(), ms);
    });
  }

  /** The attempt's result, or false as soon as the elector stops. */
  private untilStopped(p: Promise<boolean>): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const stopped = () => resolve(false);
      this.onStop.add(stopped);
      void p.then((ok) => {
        this.onStop.delete(stopped);
        resolve(ok);
      });
    });
  }

  /** The attempt's result, or false if it has not finished within ms (it may still land: the lease's resourceVersion guards it). */
  private withDeadline(p: Promise<boolean>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = this.o.clock.setTimeout(() => resolve(false), ms);
      p.then((ok) => {
        this.o.clock.clearTimeout(t);
        resolve(ok);
      });
    });
  }
}
