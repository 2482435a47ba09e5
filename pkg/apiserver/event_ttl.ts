// Events expire, as kube-apiserver's --event-ttl (1 h) makes them: every write of an Event attaches
// its key to a store lease that outlives the TTL, and the leader's lease expiry deletes it. Without
// it the store kept every "Scheduled" and "Pulled" event ever written: one or more per pod, for
// ever. One lease serves the writes of a short window, up to 1,000 of them (as Kubernetes' lease
// manager reuses leases), so a burst of events costs a few lease grants, not one each, and an
// expiry deletes at most that many events at once.

import type { KindInfo } from '../api/registry.js';
import { StoreError } from '../store/mod.js';
import { call, type Context } from './context.js';

/** Kubernetes' default --event-ttl. */
export const DEFAULT_EVENT_TTL_SECONDS = 3600;
/** Ten years: far below the store's longest lease, whatever the reuse window adds. */
export const MAX_EVENT_TTL_SECONDS = 315_360_000;

/** Leases are reused for this share of the TTL, at most a minute (Kubernetes' figures). */
const REUSE_FRACTION = 0.05;
const MAX_REUSE_SECONDS = 60;
/** Writes one lease takes before the next gets a new one. */
const MAX_WRITES_PER_LEASE = 1000;

export class EventLeases {
  private current: { id: number; grantedAtMs: number; writes: number } | undefined;
  /** A grant in flight: concurrent writes wait for it instead of granting their own. */
  private granting: Promise<number> | undefined;
  private readonly reuseMs: number;

  constructor(readonly ttlSeconds: number) {
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_EVENT_TTL_SECONDS) throw new RangeError(`eventTtlSeconds must be an integer from 1 to ${MAX_EVENT_TTL_SECONDS} (0: events never expire), got ${ttlSeconds}`);
    this.reuseMs = Math.min(ttlSeconds * REUSE_FRACTION, MAX_REUSE_SECONDS) * 1000;
  }

  /** A lease that lives at least ttlSeconds from now (and at most the reuse window more), for `writes` objects. */
  async leaseFor(ctx: Context, writes = 1): Promise<number> {
    const now = ctx.nowMs();
    const cur = this.current;
    if (cur && now - cur.grantedAtMs < this.reuseMs && cur.writes < MAX_WRITES_PER_LEASE) {
      cur.writes += writes;
      return cur.id;
    }
    this.granting ??= this.grant(ctx, now).finally(() => (this.granting = undefined));
    const id = await this.granting;
    if (this.current?.id === id) this.current.writes += writes;
    return id;
  }

  /** The lease is gone (revoked by hand, or this member's memory of it outlived it): grant anew next time. */
  forget(id: number): void {
    if (this.current?.id === id) this.current = undefined;
  }

  private async grant(ctx: Context, now: number): Promise<number> {
    const r = await call(() => ctx.backend.leaseGrant(this.ttlSeconds + Math.ceil(this.reuseMs / 1000)));
    this.current = { id: r.id, grantedAtMs: now, writes: 0 };
    return r.id;
  }
}

/**
 * Runs a write of `objects` objects of a kind with the lease such objects expire with (Events), or
 * none; once more if that lease was gone.
 */
export async function withExpiry<T>(ctx: Context, info: KindInfo, write: (lease: number | undefined) => Promise<T>, objects = 1): Promise<T> {
  const leases = info.kind === 'Event' ? ctx.eventLeases : undefined;
  if (!leases) return write(undefined);
  for (let attempt = 0; ; attempt++) {
    const id = await leases.leaseFor(ctx, objects);
    try {
      return await write(id);
    } catch (err) {
      if (attempt > 0 || !leaseNotFound(err)) throw err;
      leases.forget(id);
    }
  }
}

function leaseNotFound(err: unknown): boolean {
  const e = err instanceof StoreError ? err : (err as { cause?: unknown } | undefined)?.cause;
  return e instanceof StoreError && e.code === 'LeaseNotFound';
}
