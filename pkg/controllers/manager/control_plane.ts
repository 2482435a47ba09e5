// The scheduler and the controller manager as one process runs them: inside every master (one
// active of each across the cluster, by their Leases in kube-system) or standalone
// (`navarch scheduler`, `navarch controllers`) against remote masters.
//
//   const cp = new ControlPlane({ client, identity: 'master-1_3fa2', scheduler: true, controllers: true, registry, logger });
//   cp.start();
//   ...
//   await cp.stop();   // parts stop first, then the leases are released for an instant takeover

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import type { Random } from '../../../raft/core/random.js';
import { entropyRandom, realClock, type Clock, type TimerHandle } from '../../../raft/node/ports.js';
import { InformerFactory } from '../../client/informer/mod.js';
import { NavarchClient } from '../../client/mod.js';
import type { SchedulerOptions } from '../../scheduler/mod.js';
import { CONTROLLER_MANAGER_LEASE, controllerIndexers, controllerManagerStarter, SCHEDULER_LEASE, schedulerStandby, schedulerStarter, type ControllerManagerOptions } from './components.js';
import { DEFER_AS_RAFT_LEADER, DEFER_COLD, LEASE_NAMESPACE, leaseElector, localReads, NO_DEFERRAL, type ElectionTimings, type TakeoverDeferral } from './elector.js';
import { checkElectorOptions } from '../../client/leaderelection/mod.js';
import { ElectionThread } from './election_thread.js';
import { LeaderElectedRunner, type RunnerLogger } from './leader_run.js';
import type { HealthCheck } from '../../healthz/healthz.js';

/** kube-scheduler's and kube-controller-manager's leader-election health timeout. */
const LEASE_HEALTH_TOLERANCE_MS = 20_000;

/** Listed and watched from the start; the components' other informers join on their first term. */
const WARM_RESOURCES = ['pods', 'nodes', 'namespaces'];

/** How often suspendStandbyWhile is asked. */
const STANDBY_CHECK_MS = 1000;

export interface ControlPlaneOptions {
  /** Unfenced; each term derives its fenced client from it. */
  client: NavarchClient;
  /** This process's identity in the leases ("<name>_<random>", see newIdentity). */
  identity: string;
  scheduler: boolean;
  controllers: boolean;
  /** Leader election status, scheduler_*, workqueue_* and controller metrics go here. */
  registry: Registry;
  clock?: Clock;
  random?: Random;
  election?: ElectionTimings;
  scheduling?: SchedulerOptions;
  controllerManager?: Omit<ControllerManagerOptions, 'logger'>;
  /** Each component lists everything when it takes over, instead of keeping its informers warm in standby. */
  coldStandby?: boolean;
  /**
   * The standby scheduler keeps warm informers only, and a new leader builds its scheduler (replaying
   * every pod and node) when it takes over; by default the standby scheduler's cache and queue are
   * kept current too (CPU on every master for each pod change), so a takeover only starts its loop.
   */
  warmStandby?: boolean;
  /** The member the client reaches first: a bookmark on each of its watches (see LeaderElectedRunnerOptions). */
  requestWatchProgress?: () => void;
  /**
   * While this returns true, an expired lease is taken over only a retry period after it expired,
   * so that another candidate goes first. A master passes "I lead Raft": a lease holder on the Raft
   * leader turns its crash into two failovers in a row (a Raft election, then the lease's), and the
   * Raft leader has the most other work.
   */
  deferTakeover?: () => boolean;
  /**
   * While this has returned true for standbySuspendAfterMs, and no component leads here, the warm
   * informers and the standby scheduler are dropped; they are listed and built again as soon as it
   * returns false. A master passes "I lead Raft": its components go first to the other masters
   * (deferTakeover), which keep theirs warm, and the Raft leader is the busiest process (keeping
   * them current took a tenth of its CPU while pods were created). Meanwhile it leaves an expired
   * lease to the others for a lease duration more (DEFER_COLD); should it take one all the same,
   * that term lists everything first, as with coldStandby.
   */
  suspendStandbyWhile?: () => boolean;
  /** @default 10000 */
  standbySuspendAfterMs?: number;
  /**
   * Run the leases' electors on a worker thread of their own (see election_thread.ts), so that a
   * busy event loop does not let the leases lapse. @default true unless a `clock` is given: the
   * thread runs on the real clock, so electors on an injected one stay on this thread.
   */
  electionThread?: boolean;
  logger: RunnerLogger;
}

/** A lease identity: the given name (a master's, or the host's) and a random suffix, so a restarted process is a new holder. */
export function newIdentity(name = hostname()): string {
  return `${name}_${randomBytes(3).toString('hex')}`;
}

export class ControlPlane {
  readonly runners: LeaderElectedRunner[] = [];
  /**
   * One set of informers for both components, kept current in standby too, so taking over does not
   * wait for 5,000 nodes and every pod to be listed again (and a term's start does not starve the
   * renewals of its own lease).
   */
  private warm: InformerFactory | undefined;
  /** Builds warm informers (not started): at the start, and again each time the standby is suspended. */
  private readonly newWarm: (() => InformerFactory) | undefined;
  /** Since when suspendStandbyWhile has held (undefined: it does not). */
  private suspendWantedSinceMs: number | undefined;
  private standbySuspended = false;
  /** Terms started by the runners when the standby was last dropped. */
  private termsAtSuspend = 0;
  private standbyTimer: TimerHandle | undefined;
  private readonly clock: Clock;
  /** The electors' thread, or (electionThread false) their client: connections of their own either way. */
  private readonly election: ElectionThread | NavarchClient;

  /** The leases' duration (the election timings with their defaults). */
  private readonly leaseDurationMs: number;
  private readonly standbySuspendAfterMs: number;
  private stopped = false;

  constructor(private readonly o: ControlPlaneOptions) {
    this.standbySuspendAfterMs = o.standbySuspendAfterMs ?? 10_000;
    this.leaseDurationMs = checkElectorOptions({ ...o.election, leaseNamespace: LEASE_NAMESPACE, leaseName: SCHEDULER_LEASE, identity: o.identity }).leaseDurationMs;
    const clock = o.clock ?? realClock;
    this.clock = clock;
    if (!o.coldStandby) {
      this.newWarm = () => {
        const f = InformerFactory.forClient(o.client, { clock });
        for (const r of WARM_RESOURCES) f.informer(r, { indexers: o.controllers ? controllerIndexers(r) : {} });
        return f;
      };
      this.warm = this.newWarm();
    }
    const random = o.random ?? entropyRandom();
    const common = { identity: o.identity, client: o.client, registry: o.registry, clock, random, logger: o.logger };
    const deferTakeover = o.deferTakeover || (o.suspendStandbyWhile && this.warm) ? () => this.takeoverDeferral() : undefined;
    const election = !(o.electionThread ?? o.clock === undefined) ? new NavarchClient({ endpoints: o.client.endpoints, ownConnections: true }) : new ElectionThread({ endpoints: ownEndpointLast(o.client.endpoints), deferTakeover, clock, registry: o.registry, logger: o.logger });
    this.election = election;
    const elector = (name: string) =>
      election instanceof ElectionThread
        ? election.elector({ name, identity: o.identity, timings: o.election })
        : leaseElector({
            name,
            identity: o.identity,
            client: localReads(election),
            clock,
            registry: o.registry,
            timings: o.election,
            deferTakeover,
            onError: (e) => o.logger.warn(`${name}: lease attempt failed: ${(e as Error)?.message ?? e}`),
          });
    if (o.scheduler) {
      const scheduling = { logger: o.logger, options: o.scheduling };
      this.runners.push(
        new LeaderElectedRunner({
          ...common,
          name: SCHEDULER_LEASE,
          elector: elector(SCHEDULER_LEASE),
          start: schedulerStarter(scheduling),
          warmInformers: this.warm,
          // No catch-up barrier for the scheduler (as kube-scheduler has none): on a loaded cluster
          // it cost about 1 s of every failover, and a cache that has not yet seen the previous
          // holder's last bindings only costs a binding refused with Conflict (the pod is then
          // forgotten) or a node asked for more than it has, which the node's admission refuses.
          standby: o.warmStandby ? undefined : schedulerStandby(scheduling),
        }),
      );
    }
    if (o.controllers) {
      this.runners.push(
        new LeaderElectedRunner({
          ...common,
          name: CONTROLLER_MANAGER_LEASE,
          elector: elector(CONTROLLER_MANAGER_LEASE),
          start: controllerManagerStarter({ logger: o.logger, ...o.controllerManager }),
          warmInformers: this.warm,
          requestWatchProgress: o.requestWatchProgress,
        }),
      );
    }
  }

  /**
   * One leader-election check per component ("leaderElection-kube-scheduler"), as each Kubernetes
   * component's /healthz has: failing while it leads without a renewal for a lease duration + 20 s.
   */
  healthChecks(): HealthCheck[] {
    const maxSilenceMs = this.leaseDurationMs + LEASE_HEALTH_TOLERANCE_MS;
    return this.runners.map((r) => ({ name: `leaderElection-${r.name}`, check: () => r.leaseHealth(maxSilenceMs) }));
  }

  start(): void {
    if (this.election instanceof ElectionThread) this.election.start();
    this.warm?.start();
    for (const r of this.runners) r.start();
    if (this.warm && this.o.suspendStandbyWhile) this.scheduleStandbyCheck();
  }

  /** Stops the components; their leases are released before the election client closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.standbyTimer !== undefined) this.clock.clearTimeout(this.standbyTimer);
    await Promise.all(this.runners.map((r) => r.stop()));
    this.warm?.stop();
    if (this.election instanceof ElectionThread) await this.election.close();
    else this.election.close();
  }

  /**
   * How long this master's electors leave an expired lease to the other candidates: a lease
   * duration more while its standby is dropped or relisting (a takeover would start cold), a retry
   * period while deferTakeover holds, else not at all.
   */
  takeoverDeferral(): TakeoverDeferral {
    if (this.runners.some((r) => r.cold)) return DEFER_COLD;
    return this.o.deferTakeover?.() ? DEFER_AS_RAFT_LEADER : NO_DEFERRAL;
  }

  /** Whether the standby is dropped now (see suspendStandbyWhile). */
  get standbySuspendedNow(): boolean {
    return this.standbySuspended;
  }

  private scheduleStandbyCheck(): void {
    if (this.stopped) return;
    this.standbyTimer = this.clock.setTimeout(() => {
      this.standbyTimer = undefined;
      this.checkStandby();
      this.scheduleStandbyCheck();
    }, STANDBY_CHECK_MS);
  }

  private checkStandby(): void {
    const now = this.clock.nowMs();
    if (!this.o.suspendStandbyWhile?.()) this.suspendWantedSinceMs = undefined;
    else this.suspendWantedSinceMs ??= now;
    const leading = this.runners.some((r) => r.isLeading);
    const wanted = this.suspendWantedSinceMs !== undefined && now - this.suspendWantedSinceMs >= this.standbySuspendAfterMs;
    if (!this.standbySuspended) {
      if (wanted && !leading) this.suspendStandby();
    } else if (!wanted || leading) {
      // A term that started meanwhile has started the new informers already; the other component's standby is built on them.
      this.resumeStandby();
    } else if (this.terms() !== this.termsAtSuspend) {
      // A term came and went between two checks: it started the informers it ran on; drop them again.
      this.suspendStandby();
    }
  }

  private terms(): number {
    return this.runners.reduce((n, r) => n + r.terms, 0);
  }

  /** Synchronous up to the runners' discards, so no term starts on the informers being stopped. */
  private suspendStandby(): void {
    const old = this.warm!;
    const next = this.newWarm!();
    this.warm = next;
    this.standbySuspended = true;
    this.termsAtSuspend = this.terms();
    for (const r of this.runners) void r.suspendStandby(next).catch((e: unknown) => this.o.logger.warn(`${r.name}: dropping the standby failed: ${(e as Error)?.message ?? e}`));
    old.stop();
    this.o.logger.info('standby informers and scheduler dropped: this master leads Raft, so the others take the leases first');
  }

  private resumeStandby(): void {
    this.standbySuspended = false;
    this.warm!.start();
    for (const r of this.runners) r.resumeStandby();
    this.o.logger.info('standby informers and scheduler rebuilding: this master no longer leads Raft, or leads a component');
  }
}

/**
 * The endpoints with the first (in a master, its own) last: the election thread's reads then go to
 * another member, whose loop is not the one this thread exists to avoid waiting for.
 */
function ownEndpointLast(endpoints: readonly string[]): string[] {
  return endpoints.length > 1 ? [...endpoints.slice(1), endpoints[0]] : [...endpoints];
}
