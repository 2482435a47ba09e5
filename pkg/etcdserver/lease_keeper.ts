// The leader's side of leases: on gaining leadership every lease gets a
// full TTL (store.promote), on losing it the clock stops (store.demote), and
// while leading, leases whose TTL ran out are revoked by proposing
// leaseExpire (which applies only if the lease really expired by then).

import type { RaftNode } from '../../raft/node/raft_node.js';
import { encodeCommand, type Store } from '../store/mod.js';

export interface LeaseKeeperOptions {
  intervalMs: number;
  now: () => number;
  /** Expiries proposed per check, at most. @default 1000 */
  maxExpiriesPerCheck?: number;
}

export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private busy = false;

  constructor(
    private readonly node: RaftNode,
    private readonly store: Store,
    private readonly o: LeaseKeeperOptions,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.check(), this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.leading) this.store.demote();
    this.leading = false;
  }

  /** One round: follow leadership changes, then propose expiries. */
  async check(): Promise<void> {
    const leader = this.node.isLeader();
    if (leader && !this.leading) this.store.promote(this.o.now());
    if (!leader && this.leading) this.store.demote();
    this.leading = leader;
    if (!leader || this.busy) return;
    const ids = this.store.expiredLeases(this.o.now(), this.o.maxExpiriesPerCheck ?? 1000);
    if (ids.length === 0) return;
    this.busy = true;
    try {
      // A failure (lost leadership, timeout) is retried on the next round.
      await Promise.allSettled(ids.map((id) => this.node.propose(encodeCommand({ type: 'leaseExpire', nowMs: this.o.now(), id }))));
    } finally {
      this.busy = false;
    }
  }
}
