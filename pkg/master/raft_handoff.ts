// A master that holds the scheduler's and the controller manager's leases hands Raft leadership to
// another member.
// The Raft leader does every write's work; the lease holders do the scheduling and the control
// loops; on one event loop they take turns, while another master idles. The components defer
// takeover on the Raft leader (ControlPlaneOptions.deferTakeover), but a Raft election can still
// join them: the Raft leader dies, and the master holding the leases wins the election. Raft
// leadership moves in a round trip (a transfer); the leases would move only with a failover's gap.
// Only when this master runs both components and holds both leases: the member that takes over
// (the most caught-up live voter) then holds none, so leadership does not come straight back.

import type { Clock, TimerHandle } from '../../raft/node/ports.js';

export interface RaftHandOffOptions {
  clock: Clock;
  leadsRaft: () => boolean;
  /** Whether this master holds every lease (see holdsEveryLease). */
  holdsEveryLease: () => boolean;
  /** Moves Raft leadership to another member and names it; undefined: no member to move it to; rejects when it could not. */
  handOff: () => Promise<string | undefined>;
  /** Both must hold at every check for this long before a hand-off. @default 10000 */
  afterMs?: number;
  /** @default 1000 */
  checkMs?: number;
  logger: { info(m: string): void; warn(m: string): void };
}

/**
 * Whether these runners (a master's scheduler and controller manager) both run here and both lead:
 * then no other master holds a lease. A runner that has not read its lease yet, or a master running
 * one component only, cannot tell where the other lease is: no.
 */
export function holdsEveryLease(runners: readonly { readonly name: string; readonly isLeading: boolean }[], components: readonly string[]): boolean {
  if (components.length === 0) return false;
  return components.every((c) => runners.some((r) => r.name === c && r.isLeading));
}

export class RaftHandOff {
  private sinceMs: number | undefined;
  private timer: TimerHandle | undefined;
  private inFlight = false;
  private stopped = false;
  private readonly afterMs: number;
  private readonly checkMs: number;

  constructor(private readonly o: RaftHandOffOptions) {
    this.afterMs = o.afterMs ?? 10_000;
    this.checkMs = o.checkMs ?? 1000;
    if (!(this.afterMs >= 0)) throw new RangeError(`Cannot hand Raft leadership off: afterMs must be >= 0, got ${o.afterMs}`);
    if (!(this.checkMs > 0)) throw new RangeError(`Cannot hand Raft leadership off: checkMs must be > 0, got ${o.checkMs}`);
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.check();
      this.schedule();
    }, this.checkMs);
  }

  private check(): void {
    if (this.inFlight) return;
    const now = this.o.clock.nowMs();
    if (!(this.o.leadsRaft() && this.o.holdsEveryLease())) {
      this.sinceMs = undefined;
      return;
    }
    this.sinceMs ??= now;
    if (now - this.sinceMs < this.afterMs) return;
    this.sinceMs = undefined;
    this.inFlight = true;
    this.o.handOff().then(
      (to) => to !== undefined && this.o.logger.info(`handed Raft leadership to ${to}: this master holds the scheduler and controller manager leases, and on one event loop the two would take turns`),
      (err: unknown) => this.o.logger.warn(`could not hand Raft leadership off (tried again in ${this.afterMs} ms if still needed): ${(err as Error)?.message ?? err}`),
    ).finally(() => (this.inFlight = false));
  }
}
