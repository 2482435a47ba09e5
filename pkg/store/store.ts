// The replicated MVCC store: an etcd-v3-like keyspace with revisions,
// transactions, watch, leases, automatic compaction and a space quota.
//
// Writes take the time of their command (`nowMs`, the proposer's wall clock,
// carried in the log) and must only be called from Raft's apply path, in log
// order, on every member; reads and watches are local. Every decision a
// write makes depends only on the store's state, the command and the options
// below marked "replicated", so members that apply the same log agree.
//
// Compaction is decided during apply: after each command the store compacts
// at the newest revision that is either `compactRetainRevisions` behind the
// current one or older than `compactRetainMs` by the replicated clock (the
// largest command time applied so far). No separate proposal is needed, and
// a snapshot carries the revision times, so a restored member compacts
// exactly as the others do.

import { CompactedError, FutureRevisionError, QuotaExceededError, StoreError, invalidArgument } from './errors.js';
import { Keyspace, type Version } from './keyspace.js';
import { LEASE_BYTES, Lessor } from './lessor.js';
import { rangeAt, readRevision, checkRangeRequest } from './range.js';
import { ProposalWaiters } from './proposals.js';
import { decodeSnapshot, encodeSnapshot, encodeSnapshotInTurns, snapshotPieces } from './snapshot.js';
import { WriteBatch, checkTxn, isReadOnlyTxn, runTxn } from './txn.js';
import type {
  CompactResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from './types.js';
import { WatchHub, type WatchOptions, type Watcher } from './watch.js';

export interface StoreOptions {
  /** Replicated. History kept, in revisions behind the current one. @default 100000 */
  compactRetainRevisions?: number;
  /** Replicated. History kept, in ms of the replicated clock (Infinity: no age limit). @default 300000 */
  compactRetainMs?: number;
  /** Replicated. Writes that would take sizeBytes past this are refused. @default 2 GiB */
  quotaBytes?: number;
  /** Replicated. Most ops (and compares) per txn branch. @default 128 */
  maxTxnOps?: number;
  /** Replicated. Grants below this TTL are raised to it. @default 2 */
  minLeaseTtlSeconds?: number;
  /** Local. Events a watcher holds for its consumer before it is cancelled. @default 4096 */
  watchBufferEvents?: number;
}

/** The largest TTL etcd accepts. */
const MAX_LEASE_TTL_SECONDS = 9_000_000_000;

export interface LeaseExpireResponse extends LeaseRevokeResponse {
  /** False when a keepalive extended the lease before this command applied (nothing changed). */
  expired: boolean;
}

export interface StoreStatus {
  revision: number;
  compactRevision: number;
  /** Approximate bytes held (keys, values, history, leases): what the quota counts. */
  sizeBytes: number;
  quotaBytes: number;
  /** Keys in the index, including ones whose retained history ends in a delete. */
  indexedKeys: number;
  /** Versions in the retained history (the change log). */
  retainedVersions: number;
  leases: number;
  watchers: number;
  /** The replicated clock: the largest command time applied. */
  timeMs: number;
}

function positive(name: string, v: number, allowInfinity = false): number {
  if (!(allowInfinity && v === Infinity) && (!Number.isSafeInteger(v) || v < 1)) throw new RangeError(`Invalid ${name} "${v}": expected a positive integer`);
  return v;
}

export class Store {
  private ks = new Keyspace();
  private lessor = new Lessor();
  private readonly hub: WatchHub;
  /** Local: commands this member proposed from a follower, waiting to apply here (see proposals.ts). */
  readonly proposals = new ProposalWaiters();
  readonly compactRetainRevisions: number;
  readonly compactRetainMs: number;
  readonly quotaBytes: number;
  readonly maxTxnOps: number;
  readonly minLeaseTtlSeconds: number;

  constructor(options: StoreOptions = {}) {
    this.compactRetainRevisions = positive('compactRetainRevisions', options.compactRetainRevisions ?? 100_000, true);
    this.compactRetainMs = positive('compactRetainMs', options.compactRetainMs ?? 300_000, true);
    this.quotaBytes = positive('quotaBytes', options.quotaBytes ?? 2 * 1024 ** 3);
    this.maxTxnOps = positive('maxTxnOps', options.maxTxnOps ?? 128);
    this.minLeaseTtlSeconds = positive('minLeaseTtlSeconds', options.minLeaseTtlSeconds ?? 2);
    this.hub = new WatchHub(() => this.ks, positive('watchBufferEvents', options.watchBufferEvents ?? 4096));
  }

  /** The current revision (1 in an empty store). */
  get revision(): number {
    return this.ks.revision;
  }

  /** The oldest revision still readable and watchable (0: nothing compacted yet). */
  get compactRevision(): number {
    return this.ks.compactRevision;
  }

  /** What the quota counts: keyspace with history, plus leases. */
  get sizeBytes(): number {
    return this.ks.sizeBytes + this.lessor.leases.size * LEASE_BYTES;
  }

  status(): StoreStatus {
    return {
      revision: this.ks.revision,
      compactRevision: this.ks.compactRevision,
      sizeBytes: this.sizeBytes,
      quotaBytes: this.quotaBytes,
      indexedKeys: this.ks.index.size,
      retainedVersions: this.ks.changes.length,
      leases: this.lessor.leases.size,
      watchers: this.hub.size,
      timeMs: this.ks.timeMs,
    };
  }

  // ---- reads (local) ----

  /** Reads a key or range at a revision. Throws CompactedError, FutureRevisionError or InvalidArgument. */
  range(req: RangeRequest): RangeResponse {
    checkRangeRequest(req);
    const rev = readRevision(this.ks, req.revision);
    return { header: { revision: this.ks.revision }, ...rangeAt(this.ks, req, rev) };
  }

  /** The key's current live version: range({ key }) without the request's checks and the response. */
  latest(key: string): Version | undefined {
    return this.ks.get(key, this.ks.revision);
  }

  /** The live keys in [key, rangeEnd) at the current revision, in key order, at most `limit`: a serializable range's kvs, without a request and a response. */
  latestRange(key: string, rangeEnd: string, limit: number): Version[] {
    const out: Version[] = [];
    this.ks.forEachLive(key, rangeEnd, this.ks.revision, (v) => {
      out.push(v);
      return out.length < limit;
    });
    return out;
  }

  /**
   * Runs a txn whose branches only read (no put, no deleteRange) against the
   * local state, without a revision or any change: etcd serves these without
   * Raft. Throws InvalidArgument for a txn that writes, and the StoreErrors a
   * range can throw.
   */
  readTxn(req: TxnRequest): TxnResponse {
    checkTxn(req, this.maxTxnOps);
    if (!isReadOnlyTxn(req)) throw invalidArgument('Invalid read-only txn: it has a put or deleteRange; propose it as a write');
    const r = runTxn(this.ks, this.lessor, req, { maxTxnOps: this.maxTxnOps, quotaBytes: this.quotaBytes, usedBytes: this.sizeBytes });
    return { header: { revision: this.ks.revision }, succeeded: r.succeeded, responses: r.responses };
  }

  /** Opens a watcher (see watch.ts). Throws InvalidArgument for a bad request. */
  watch(options: WatchOptions): Watcher {
    return this.hub.watch(options);
  }

  /** Queues a bookmark on every open watcher (etcd's progress notify, driven by the caller's timer). */
  requestWatchProgress(): void {
    this.hub.requestProgressAll();
  }

  leaseTimeToLive(id: number, options: { keys?: boolean } = {}): LeaseTimeToLiveResponse {
    const l = this.lessor.get(id);
    const header = { revision: this.ks.revision };
    if (!l) return { header, id, ttlSeconds: -1, grantedTtlSeconds: 0, keys: [] };
    const left = Math.max(0, Math.ceil((l.expiryMs - this.ks.timeMs) / 1000));
    return { header, id, ttlSeconds: left, grantedTtlSeconds: l.ttlSeconds, keys: options.keys ? [...l.keys].sort() : [] };
  }

  /** Every lease id, ascending. */
  leaseIds(): number[] {
    return this.lessor.sorted().map((l) => l.id);
  }

  // ---- leader-local lease clock ----

  /** Call when this member becomes leader: every lease gets a full TTL from nowMs before it can expire. */
  promote(nowMs: number): void {
    this.lessor.promote(nowMs);
  }

  /** Call when this member stops being leader. */
  demote(): void {
    this.lessor.demote();
  }

  /** Leader: up to `limit` leases expired at nowMs, to propose `leaseExpire` commands for. */
  expiredLeases(nowMs: number, limit = 1000): number[] {
    return this.lessor.expired(nowMs, limit);
  }

  // ---- writes (apply path only) ----

  /** Moves the replicated clock to the command's time and drops history that fell out of the window, before the command runs (so a write after a quiet spell finds the space compaction frees). */
  private advance(nowMs: number): void {
    if (!Number.isFinite(nowMs) || nowMs < 0) throw invalidArgument(`Invalid command time ${JSON.stringify(nowMs)}: expected milliseconds since the epoch`);
    if (nowMs > this.ks.timeMs) this.ks.timeMs = nowMs;
    this.autoCompact();
  }

  private finish(changed: Version[]): void {
    if (changed.length > 0) this.hub.notify(this.ks.revision, changed);
    this.autoCompact();
  }

  private autoCompact(): void {
    const ks = this.ks;
    let target = this.compactRetainRevisions === Infinity ? 0 : ks.revision - this.compactRetainRevisions;
    if (this.compactRetainMs !== Infinity) target = Math.max(target, ks.lastRevisionAtOrBefore(ks.timeMs - this.compactRetainMs));
    if (target > ks.revision) target = ks.revision;
    if (target > ks.compactRevision) this.compactAt(target);
  }

  private compactAt(rev: number): void {
    this.ks.compact(rev);
    this.hub.onCompacted(rev);
  }

  /** Runs a txn (the one write primitive). Throws StoreError; nothing changes when it does. */
  txn(req: TxnRequest, nowMs: number): TxnResponse {
    this.advance(nowMs);
    try {
      checkTxn(req, this.maxTxnOps);
    } catch (err) {
      this.autoCompact();
      throw err;
    }
    let r: ReturnType<typeof runTxn>;
    try {
      r = runTxn(this.ks, this.lessor, req, { maxTxnOps: this.maxTxnOps, quotaBytes: this.quotaBytes, usedBytes: this.sizeBytes });
    } catch (err) {
      this.autoCompact();
      throw err;
    }
    this.finish(r.changed);
    return { header: { revision: this.ks.revision }, succeeded: r.succeeded, responses: r.responses };
  }

  /** Compacts history below `revision` now (etcd's Compact). */
  compact(revision: number, nowMs: number): CompactResponse {
    this.advance(nowMs);
    if (!Number.isSafeInteger(revision) || revision < 1) throw invalidArgument(`Invalid compact revision ${JSON.stringify(revision)}: expected a positive integer`);
    if (revision <= this.ks.compactRevision) throw new CompactedError(revision, this.ks.compactRevision);
    if (revision > this.ks.revision) throw new FutureRevisionError(revision, this.ks.revision);
    this.compactAt(revision);
    this.autoCompact();
    return { header: { revision: this.ks.revision }, compactRevision: this.ks.compactRevision };
  }

  /** Grants a lease; id 0 picks the next free id. Throws LeaseExists, QuotaExceeded or InvalidArgument. */
  leaseGrant(id: number, ttlSeconds: number, nowMs: number): LeaseGrantResponse {
    this.advance(nowMs);
    this.autoCompact();
    if (!Number.isSafeInteger(id) || id < 0) throw invalidArgument(`Invalid lease id ${JSON.stringify(id)}: expected a non-negative integer`);
    if (!Number.isSafeInteger(ttlSeconds)) throw invalidArgument(`Invalid lease TTL ${JSON.stringify(ttlSeconds)}: expected an integer number of seconds`);
    if (ttlSeconds > MAX_LEASE_TTL_SECONDS) throw invalidArgument(`Invalid lease TTL ${ttlSeconds}: the largest is ${MAX_LEASE_TTL_SECONDS} seconds`);
    if (id !== 0 && this.lessor.get(id)) throw new StoreError('LeaseExists', `Cannot grant lease ${id}: it already exists`);
    if (this.sizeBytes + LEASE_BYTES > this.quotaBytes) throw new QuotaExceededError(this.sizeBytes, LEASE_BYTES, this.quotaBytes);
    const ttl = Math.max(ttlSeconds, this.minLeaseTtlSeconds);
    if (id === 0) {
      id = this.lessor.nextAutoId();
      this.lessor.lastAutoId = id;
    }
    this.lessor.grant(id, ttl, this.ks.timeMs);
    return { header: { revision: this.ks.revision }, id, ttlSeconds: ttl };
  }

  /** Revokes a lease, deleting its keys in one revision. Throws LeaseNotFound. */
  leaseRevoke(id: number, nowMs: number): LeaseRevokeResponse {
    this.advance(nowMs);
    const l = this.lessor.get(id);
    if (!l) {
      this.autoCompact();
      throw new StoreError('LeaseNotFound', `Cannot revoke lease ${id}: lease not found`);
    }
    const batch = new WriteBatch(this.ks, this.lessor);
    // Sorted: the order decides sub-revisions and must not depend on Set history.
    for (const key of [...l.keys].sort()) {
      const v = this.ks.get(key, batch.readRev);
      if (v && v.lease === id) batch.delete(v);
    }
    this.lessor.remove(id);
    const changed = batch.commit();
    this.finish(changed);
    return { header: { revision: this.ks.revision }, deleted: changed.length };
  }

  /** Refreshes a lease to a full TTL from the command's time. Throws LeaseNotFound. */
  leaseKeepAlive(id: number, nowMs: number): LeaseKeepAliveResponse {
    this.advance(nowMs);
    this.autoCompact();
    const l = this.lessor.get(id);
    if (!l) throw new StoreError('LeaseNotFound', `Cannot keep lease ${id} alive: lease not found`);
    this.lessor.refresh(l, this.ks.timeMs);
    return { header: { revision: this.ks.revision }, id, ttlSeconds: l.ttlSeconds };
  }

  /** The leader's expiry decision: revokes the lease only if its replicated expiry has passed. Throws LeaseNotFound. */
  leaseExpire(id: number, nowMs: number): LeaseExpireResponse {
    this.advance(nowMs);
    const l = this.lessor.get(id);
    if (!l) {
      this.autoCompact();
      throw new StoreError('LeaseNotFound', `Cannot expire lease ${id}: lease not found`);
    }
    if (l.expiryMs > this.ks.timeMs) {
      this.autoCompact();
      return { header: { revision: this.ks.revision }, deleted: 0, expired: false };
    }
    return { ...this.leaseRevoke(id, nowMs), expired: true };
  }

  // ---- snapshots ----

  /** The replicated state's bytes, after `prefix` when given (see StateMachine.snapshotAfter). */
  snapshot(prefix?: Uint8Array): Uint8Array {
    return encodeSnapshot(this.ks, this.lessor, prefix);
  }

  /** The same bytes, a few MiB per step: the state is the one at this call, whatever is written between steps. */
  snapshotInTurns(prefix?: Uint8Array, turnBytes?: number): Generator<void, Uint8Array, void> {
    return encodeSnapshotInTurns(this.ks, this.lessor, prefix, turnBytes);
  }

  /** The same bytes (without a prefix) as separate pieces of about pieceBytes, one per step; the state is the one at the first step. */
  snapshotPieces(pieceBytes?: number): Generator<Uint8Array, void, void> {
    return snapshotPieces(this.ks, this.lessor, pieceBytes);
  }

  /**
   * Replaces the state with a snapshot's, atomically: the new state is built
   * aside and swapped in only when complete. Open watchers catch up from the
   * restored history (or get CompactedError if it no longer reaches them).
   * Throws on a corrupt snapshot, leaving the store unchanged.
   */
  restore(data: Uint8Array): void {
    const { keyspace, lessor } = decodeSnapshot(data);
    const prevRevision = this.ks.revision;
    lessor.copyLocalStateFrom(this.lessor);
    this.ks = keyspace;
    this.lessor = lessor;
    this.hub.onRestored(prevRevision);
  }

  /** For tests: the incremental size equals one computed from scratch. */
  checkSize(): void {
    const want = this.ks.computeSizeBytes();
    if (want !== this.ks.sizeBytes) throw new Error(`sizeBytes ${this.ks.sizeBytes} but the contents add up to ${want}`);
  }
}
