// Leases: replicated records (id, TTL, expiry in the replicated clock,
// attached keys) plus one piece of leader-local state, the promotion time.
// Expiry is the leader's decision: it asks expiredLeases(nowMs) and proposes
// `leaseExpire` commands, which apply only if the replicated expiry has
// really passed at the command's time (a keepalive may have raced it).

export interface Lease {
  readonly id: number;
  /** The TTL granted (after raising to the minimum). */
  readonly ttlSeconds: number;
  /** Replicated: the command time of the grant or last keepalive plus the TTL. */
  expiryMs: number;
  /** Keys attached to the lease (derived from the keyspace on restore). */
  readonly keys: Set<string>;
}

/** Bytes a lease counts against the quota. */
export const LEASE_BYTES = 128;

export class Lessor {
  readonly leases = new Map<number, Lease>();
  /** The largest id handed out automatically; replicated so every member picks the same next id. */
  lastAutoId = 0;
  /** Leader-local: when this member became leader (0 when not promoted). Not replicated, not snapshotted. */
  private promotedAtMs = 0;

  get(id: number): Lease | undefined {
    return this.leases.get(id);
  }

  /** The id a grant with id 0 receives. */
  nextAutoId(): number {
    let id = this.lastAutoId + 1;
    while (this.leases.has(id)) id++;
    return id;
  }

  grant(id: number, ttlSeconds: number, nowMs: number): Lease {
    const lease: Lease = { id, ttlSeconds, expiryMs: nowMs + ttlSeconds * 1000, keys: new Set() };
    this.leases.set(id, lease);
    return lease;
  }

  refresh(lease: Lease, nowMs: number): void {
    lease.expiryMs = nowMs + lease.ttlSeconds * 1000;
  }

  attach(id: number, key: string): void {
    this.leases.get(id)?.keys.add(key);
  }

  detach(id: number, key: string): void {
    this.leases.get(id)?.keys.delete(key);
  }

  remove(id: number): void {
    this.leases.delete(id);
  }

  /**
   * Leader-local, as etcd's Promote: after a leader change every lease gets
   * a full TTL from now, because the old leader's keepalives may not have
   * reached the log and clocks differ between members.
   */
  promote(nowMs: number): void {
    this.promotedAtMs = nowMs;
  }

  /** Keeps leader-local state across a restore, which replaces the replicated part. */
  copyLocalStateFrom(other: Lessor): void {
    this.promotedAtMs = other.promotedAtMs;
  }

  /** Leader-local: forget the promotion (this member is no longer leader). */
  demote(): void {
    this.promotedAtMs = 0;
  }

  /** Whether the lease has expired at nowMs by this member's view (replicated expiry and promotion). */
  isExpired(lease: Lease, nowMs: number): boolean {
    const floor = this.promotedAtMs > 0 ? this.promotedAtMs + lease.ttlSeconds * 1000 : 0;
    return Math.max(lease.expiryMs, floor) <= nowMs;
  }

  /** Up to `limit` expired lease ids at nowMs, earliest expiry first (ties by id). O(leases). */
  expired(nowMs: number, limit: number): number[] {
    const out: Lease[] = [];
    for (const l of this.leases.values()) if (this.isExpired(l, nowMs)) out.push(l);
    out.sort((a, b) => a.expiryMs - b.expiryMs || a.id - b.id);
    return out.slice(0, limit).map((l) => l.id);
  }

  /** Leases in id order (for snapshots and listing). */
  sorted(): Lease[] {
    return [...this.leases.values()].sort((a, b) => a.id - b.id);
  }
}
