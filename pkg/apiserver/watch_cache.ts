// The watch cache: one store watch per resource, decoded once, kept as a bounded ring of recent
// revisions that every API watch of that resource reads with its own cursor. A thousand watchers
// cost one store watch and one decode per change; memory is the ring, whatever the watchers do.
// A watcher whose cursor falls off the ring (a slow consumer) or that starts before the ring
// continues from the store's history instead (see watch.ts), so it sees no gap either way.

import type { KindInfo, KubeObject } from '../api/registry.js';
import { ApiError } from './api_error.js';
import type { BackendWatch } from './backend.js';
import { call, type Context } from './context.js';
import { decodeStoredKv, decodeStoredKvAfter, resourcePrefix } from './objects.js';
import { StoredBytes } from './object_bytes.js';
import { WatchOverflowError, prefixEnd, type KeyValue, type WatchEvent as StoreEvent } from '../store/mod.js';

/** One key's change, decoded. Objects are shared by every watcher: never mutate them. */
export interface CachedEvent {
  type: 'put' | 'delete';
  key: string;
  /** Put: the new object. Delete: the last state, with resourceVersion = the delete's revision. */
  object: KubeObject;
  /** Put of an existing key: its previous state, when the store still had it. */
  readonly prev?: KubeObject;
  /** Put that created the key. */
  created: boolean;
  /** The object's stored bytes, for gRPC watchers (set once the cache holds the change). */
  bytes?: StoredBytes;
}

/**
 * A put whose previous state, when the ring no longer holds it, is decoded only if asked for: only
 * a watch with a selector needs it (to tell an object leaving the selection), and decoding it for
 * every update was half of each master's watch cache work under load (a lease renewal's previous
 * version, 10 s old, has always left a busy ring).
 */
class PutEvent implements CachedEvent {
  readonly type = 'put';
  bytes: StoredBytes | undefined = undefined;
  constructor(
    readonly key: string,
    readonly object: KubeObject,
    readonly created: boolean,
    private readonly info: KindInfo,
    private prevObject: KubeObject | undefined,
    /** The previous state undecoded, when prevObject is not given. */
    private prevKv?: KeyValue,
  ) {}

  get prev(): KubeObject | undefined {
    if (this.prevKv) {
      this.prevObject = decodeStoredKv(this.info, this.prevKv, FOR_CACHE);
      this.prevKv = undefined;
    }
    return this.prevObject;
  }
}

/** Every change of one revision. */
export interface CachedRevision {
  revision: number;
  events: CachedEvent[];
}

const FOR_CACHE = { forCache: true };

export function decodeStoreEvent(info: KindInfo, e: StoreEvent): CachedEvent | undefined {
  if (e.type === 'delete') {
    if (!e.prevKv) return undefined;
    const object = decodeStoredKv(info, e.prevKv, FOR_CACHE);
    object.metadata!.resourceVersion = String(e.kv.modRevision);
    return { type: 'delete', key: e.kv.key, object, created: false, bytes: undefined };
  }
  // The ring keeps these for a while: they share strings, empty lists and parts (shared_decode.ts).
  const object = decodeStoredKv(info, e.kv, FOR_CACHE);
  const created = e.kv.version === 1;
  return new PutEvent(e.kv.key, object, created, info, undefined, created ? undefined : e.prevKv);
}

export interface WatchCacheOptions {
  /** Changes (events) the ring keeps across all its revisions. @default 10000 */
  watchCacheEvents?: number;
}

export class WatchCache {
  /** The live ring is ring[head..]; the dead front is dropped in bulk, so eviction is O(1) amortised. */
  private ring: CachedRevision[] = [];
  private head = 0;
  /** Sequence number of ring[head]; a cursor is an absolute sequence number. */
  private baseSeq = 0;
  /** Every change after this revision is in the ring (it rises as old revisions are evicted). */
  private floorRevision = 0;
  private ringEvents = 0;
  /** Changes before this revision are not in the cache (it started watching after it). */
  startRevision = 0;
  /** Every change up to this revision is in the ring (or was, before it fell off). */
  revision = 0;
  failure: ApiError | undefined;
  /** Progress answers received from the store. */
  progressCount = 0;
  closed = false;
  /** Resolves once startRevision is known (or the cache failed). */
  readonly ready: Promise<void>;
  private inner: BackendWatch | undefined;
  private changedResolve!: () => void;
  /** Resolves at the next change of state (append, progress, failure, close); then is replaced. */
  changed!: Promise<void>;
  private readonly maxEvents: number;
  /**
   * The newest object of each key the ring holds: the next change of that key takes it as its prev
   * instead of decoding prevKv again, so the ring holds each version once (and decodes it once).
   * Entries go with the events that hold them, so the map is bounded by the ring.
   */
  private readonly latest = new Map<string, { modRevision: number; object: KubeObject }>();

  constructor(
    private readonly ctx: Context,
    readonly info: KindInfo,
    options: WatchCacheOptions = {},
    private readonly onFail: (c: WatchCache) => void = () => {},
  ) {
    this.maxEvents = options.watchCacheEvents ?? 10_000;
    this.renew();
    let markReady!: () => void;
    this.ready = new Promise((resolve) => (markReady = resolve));
    void this.start(markReady);
  }

  get endSeq(): number {
    return this.baseSeq + this.ring.length - this.head;
  }

  get firstSeq(): number {
    return this.baseSeq;
  }

  at(seq: number): CachedRevision | undefined {
    return seq >= this.baseSeq ? this.ring[this.head + seq - this.baseSeq] : undefined;
  }

  /** Whether a watch that has seen everything up to `revision` can continue from the ring. */
  covers(revision: number): boolean {
    if (this.failure || this.closed) return false;
    return revision >= this.floorRevision;
  }

  /** The first sequence number whose revision is after `revision` (endSeq if none yet). */
  seqAfter(revision: number): number {
    let lo = this.head;
    let hi = this.ring.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ring[mid].revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    return this.baseSeq + lo - this.head;
  }

  /** Asks the store for a progress notification, which moves `revision` up to the store's. */
  requestProgress(): void {
    this.inner?.requestProgress();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inner?.cancel();
    this.notify();
  }

  private renew(): void {
    this.changed = new Promise((resolve) => (this.changedResolve = resolve));
  }

  private notify(): void {
    const resolve = this.changedResolve;
    // Once failed or closed it stays so: a watcher that was busy sending when that happened must
    // not wait for a change that never comes (its stream would stay open and silent).
    if (this.failure || this.closed) this.changed = Promise.resolve();
    else this.renew();
    resolve();
  }

  /** Learns the revision to start from (then the cache is ready), and pumps the store watch until closed or failed. */
  private async start(markReady: () => void): Promise<void> {
    const key = resourcePrefix(this.info);
    try {
      const r = await call(() => this.ctx.backend.range({ key, rangeEnd: prefixEnd(key), countOnly: true }));
      this.startRevision = this.revision = this.floorRevision = r.header.revision;
      markReady();
      await this.pump(key);
    } catch (err) {
      this.failure = err instanceof ApiError ? err : new ApiError('Unavailable', `The watch cache of ${this.info.resource} stopped: ${(err as Error).message}`, { cause: err });
      markReady();
      this.notify();
      this.onFail(this);
    }
  }

  private async pump(key: string): Promise<void> {
    while (!this.closed) {
      this.inner = this.ctx.backend.watch({ key, rangeEnd: prefixEnd(key), startRevision: this.revision + 1, prevKv: true });
      if (this.closed) this.inner.cancel();
      try {
        for await (const resp of this.inner) {
          if (resp.events.length) this.append(resp.events);
          if (resp.progress) {
            this.revision = Math.max(this.revision, resp.headerRevision);
            this.progressCount++;
            this.notify();
          }
        }
        return;
      } catch (err) {
        // The pump fell behind the store's buffer: continue from its history.
        if (err instanceof WatchOverflowError) continue;
        throw err;
      }
    }
  }

  private append(events: readonly StoreEvent[]): void {
    // Decoded before any of it enters the ring: an object that fails to decode fails the cache
    // without leaving half a revision for a watcher to deliver as if whole.
    const revisions: CachedRevision[] = [];
    let cur: CachedRevision | undefined;
    for (const e of events) {
      const rev = e.kv.modRevision;
      const c = this.decode(e);
      if (!cur || cur.revision !== rev) {
        // Most revisions hold one change: a list made with it is one slot long, where an empty one
        // grows to seventeen on its first push (152 bytes, kept as long as the ring keeps it).
        cur = { revision: rev, events: c ? [c] : [] };
        revisions.push(cur);
      } else if (c) cur.events.push(c);
    }
    for (const r of revisions) {
      this.ring.push(r);
      this.ringEvents += r.events.length;
      this.revision = r.revision;
    }
    // Keep the newest revisions within the bound; the last revision stays whatever its size.
    while (this.ringEvents > this.maxEvents && this.ring.length - this.head > 1) {
      const old = this.ring[this.head++];
      this.ringEvents -= old.events.length;
      for (const ev of old.events) if (this.latest.get(ev.key)?.object === ev.object) this.latest.delete(ev.key);
      this.floorRevision = old.revision;
      this.baseSeq++;
    }
    if (this.head > 1024 && this.head * 2 > this.ring.length) {
      this.ring = this.ring.slice(this.head);
      this.head = 0;
    }
    this.notify();
  }

  /** decodeStoreEvent, taking the previous state from the ring when it holds that version; with the change's stored bytes. */
  private decode(e: StoreEvent): CachedEvent | undefined {
    const c = this.decodeChange(e);
    if (c) c.bytes = new StoredBytes(c.type === 'delete' ? e.prevKv! : e.kv, e.kv.modRevision);
    return c;
  }

  private decodeChange(e: StoreEvent): CachedEvent | undefined {
    const known = this.latest.get(e.kv.key);
    const prev = e.prevKv && known?.modRevision === e.prevKv.modRevision ? known.object : undefined;
    if (prev === undefined) {
      const c = decodeStoreEvent(this.info, e);
      if (c?.type === 'put') this.latest.set(c.key, { modRevision: e.kv.modRevision, object: c.object });
      else this.latest.delete(e.kv.key);
      return c;
    }
    if (e.type === 'delete') {
      this.latest.delete(e.kv.key);
      // A copy: the ring's objects are shared and never changed.
      return { type: 'delete', key: e.kv.key, object: { ...prev, metadata: { ...prev.metadata!, resourceVersion: String(e.kv.modRevision) } }, created: false, bytes: undefined };
    }
    // The previous version is in hand: what did not change is taken from it, not decoded again.
    const object = decodeStoredKvAfter(this.info, e.kv, e.prevKv!, prev);
    this.latest.set(e.kv.key, { modRevision: e.kv.modRevision, object });
    return new PutEvent(e.kv.key, object, e.kv.version === 1, this.info, prev);
  }
}
