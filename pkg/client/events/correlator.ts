// What keeps Events from flooding the API, as client-go's EventCorrelator, in three steps:
//  1. aggregate: the same object+reason with many different messages (10 distinct ones within
//     10 minutes) becomes one Event "(combined from similar events): <latest message>";
//  2. observe: an Event seen before (same object, reason and message) becomes a patch of
//     count+1 and lastTimestamp on the Event already written, not a new one;
//  3. spam filter: each object (with source and type) has a token bucket, burst 25, refilled one
//     token per 5 minutes; an Event with no token left is skipped.
// Pure bookkeeping on the caller's time; every cache is a bounded LRU.

import type { ObjectMeta } from '../../../gen/navarch/api/v1/meta.js';
import type { Event } from '../../api/registry.js';
import { formatTime } from '../../api/time.js';

export interface CorrelatorOptions {
  /** Distinct messages for one object+reason within similarWindowMs before they are combined. @default 10 */
  maxSimilarEvents?: number;
  /** @default 600000 (10 minutes) */
  similarWindowMs?: number;
  /** Events an object may have in a burst. @default 25 */
  spamBurst?: number;
  /** One more Event is allowed per this many ms. @default 300000 (5 minutes) */
  spamRefillMs?: number;
  /** Entries each cache keeps (least recently used go first). @default 4096 */
  cacheEntries?: number;
}

export interface EventPatch {
  count: number;
  lastTimestamp: string;
  message: string;
}

export type CorrelateResult =
  | { skip: true }
  | {
      skip: false;
      /** What to write: a new Event, or (with `patch`) the Event already written, updated. */
      event: Event;
      /** Present when an Event with this name was written before: patch it with this. */
      patch?: EventPatch;
      /** Hand back to written() with what the server returned. */
      key: string;
    };

export const COMBINED_PREFIX = '(combined from similar events): ';

interface LruNode<V> {
  readonly key: string;
  value: V;
  older: LruNode<V> | undefined;
  newer: LruNode<V> | undefined;
}

/**
 * A Map that forgets its least recently used entry beyond `max`, kept in a list from oldest to
 * newest. Taking the oldest from a Map's own order (its first key) walked past every entry deleted
 * before it that the table still held: at 4,096 entries and a new key each time, as the scheduler's
 * Scheduled Events are, that cost about 2.5 µs a call against 0.3.
 */
class Lru<V> {
  private readonly map = new Map<string, LruNode<V>>();
  private oldest: LruNode<V> | undefined;
  private newest: LruNode<V> | undefined;
  constructor(private readonly max: number) {}

  /** The entry, now the most recently used. */
  get(key: string): V | undefined {
    const n = this.map.get(key);
    if (n === undefined) return undefined;
    this.touch(n);
    return n.value;
  }

  /** Adds or replaces the entry, as the most recently used. */
  set(key: string, v: V): void {
    const had = this.map.get(key);
    if (had !== undefined) {
      had.value = v;
      this.touch(had);
      return;
    }
    const n: LruNode<V> = { key, value: v, older: undefined, newer: undefined };
    this.append(n);
    this.map.set(key, n);
    if (this.map.size > this.max) {
      const out = this.oldest!;
      this.unlink(out);
      this.map.delete(out.key);
    }
  }

  get size(): number {
    return this.map.size;
  }

  private touch(n: LruNode<V>): void {
    if (n === this.newest) return;
    this.unlink(n);
    this.append(n);
  }

  private append(n: LruNode<V>): void {
    n.older = this.newest;
    n.newer = undefined;
    if (this.newest === undefined) this.oldest = n;
    else this.newest.newer = n;
    this.newest = n;
  }

  private unlink(n: LruNode<V>): void {
    if (n.older === undefined) this.oldest = n.newer;
    else n.older.newer = n.newer;
    if (n.newer === undefined) this.newest = n.older;
    else n.newer.older = n.older;
  }
}

interface AggregateRecord {
  /** The distinct messages, oldest first; most objects only ever have one, kept without a Set. */
  first: string;
  more: Set<string> | undefined;
  lastMs: number;
}

function distinctMessages(rec: AggregateRecord): number {
  return rec.more === undefined ? 1 : rec.more.size;
}

interface Observed {
  count: number;
  firstTimestamp: string;
  name: string;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

/** The object an Event is about, with its source and type: the spam filter's key, and the start of the others. */
function objectKeyOf(e: Event): string {
  const io = e.involvedObject ?? {};
  const src = e.source;
  return `${src?.component ?? ''}\u0000${src?.host ?? ''}\u0000${io.kind ?? ''}\u0000${io.namespace ?? ''}\u0000${io.name ?? ''}\u0000${io.uid ?? ''}\u0000${io.apiVersion ?? ''}\u0000${e.type ?? ''}`;
}

function withName(ev: Event, name: string): ObjectMeta {
  return { labels: {}, annotations: {}, ownerReferences: [], finalizers: [], ...ev.metadata, name };
}

export class EventCorrelator {
  readonly maxSimilarEvents: number;
  readonly similarWindowMs: number;
  readonly spamBurst: number;
  readonly spamRefillMs: number;
  private readonly aggregates: Lru<AggregateRecord>;
  private readonly observed: Lru<Observed>;
  private readonly buckets: Lru<Bucket>;

  constructor(o: CorrelatorOptions = {}) {
    this.maxSimilarEvents = o.maxSimilarEvents ?? 10;
    this.similarWindowMs = o.similarWindowMs ?? 600_000;
    this.spamBurst = o.spamBurst ?? 25;
    this.spamRefillMs = o.spamRefillMs ?? 300_000;
    const cacheEntries = o.cacheEntries ?? 4096;
    const check = (name: string, v: number, min: number) => {
      if (!(Number.isFinite(v) && v >= min)) throw new RangeError(`Cannot create an event correlator: ${name} must be a number >= ${min}, got ${v}`);
    };
    check('maxSimilarEvents', this.maxSimilarEvents, 1);
    check('similarWindowMs', this.similarWindowMs, 0);
    check('spamBurst', this.spamBurst, 1);
    check('spamRefillMs', this.spamRefillMs, 1);
    check('cacheEntries', cacheEntries, 1);
    this.aggregates = new Lru(cacheEntries);
    this.observed = new Lru(cacheEntries);
    this.buckets = new Lru(cacheEntries);
  }

  /**
   * Decides what to write for a new Event (count 1, first = last timestamp = nowMs, a fresh name).
   * `newName` names a combined Event when one starts.
   */
  correlate(ev: Event, nowMs: number, newName: () => string): CorrelateResult {
    // A combined or repeated Event keeps the object, source and type: one key serves all three steps.
    const objectKey = objectKeyOf(ev);
    const { event: aggregated, key } = this.aggregate(ev, objectKey, nowMs, newName);
    const { event, patch } = this.observe(aggregated, key);
    if (!this.allow(objectKey, nowMs)) return { skip: true };
    return { skip: false, event, patch, key };
  }

  /**
   * The server wrote the Event under `key`, asked to write it as `askedName`: later repeats patch
   * that one (by its name). A write that finishes after its key was forgotten and seen again (a
   * new Event by now) leaves the new one's name alone.
   */
  written(key: string, ev: Event, askedName?: string): void {
    const o = this.observed.get(key);
    if (o === undefined || !ev.metadata?.name) return;
    if (askedName !== undefined && o.name !== askedName) return;
    o.name = ev.metadata.name;
  }

  private aggregate(ev: Event, objectKey: string, nowMs: number, newName: () => string): { event: Event; key: string } {
    const aggregateKey = `${objectKey}\u0000${ev.reason ?? ''}`;
    const message = ev.message ?? '';
    let rec = this.aggregates.get(aggregateKey);
    if (rec === undefined || nowMs - rec.lastMs > this.similarWindowMs) {
      rec = { first: message, more: undefined, lastMs: nowMs };
      this.aggregates.set(aggregateKey, rec);
    } else if (rec.more === undefined) {
      if (message !== rec.first) rec.more = new Set([rec.first, message]);
    } else rec.more.add(message);
    rec.lastMs = nowMs;
    if (distinctMessages(rec) < this.maxSimilarEvents) return { event: ev, key: `${aggregateKey}\u0000${message}` };
    // Keep the set at its limit: every further distinct message lands in the combined Event.
    if (rec.more === undefined) {
      // A limit of 1: the one message is forgotten and the next distinct one takes its place.
      rec.first = '';
      rec.more = new Set();
    } else rec.more.delete(rec.more.values().next().value as string);
    const now = formatTime(nowMs);
    const combined: Event = {
      ...ev,
      metadata: withName(ev, newName()),
      message: COMBINED_PREFIX + message,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
    };
    return { event: combined, key: aggregateKey };
  }

  private observe(ev: Event, key: string): { event: Event; patch?: EventPatch } {
    const last = this.observed.get(key);
    if (last === undefined) {
      this.observed.set(key, { count: ev.count ?? 1, firstTimestamp: ev.firstTimestamp ?? '', name: ev.metadata?.name ?? '' });
      return { event: ev };
    }
    last.count += 1;
    const event: Event = { ...ev, metadata: withName(ev, last.name), count: last.count, firstTimestamp: last.firstTimestamp };
    return { event, patch: { count: last.count, lastTimestamp: ev.lastTimestamp ?? '', message: ev.message ?? '' } };
  }

  private allow(key: string, nowMs: number): boolean {
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.spamBurst, atMs: nowMs };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.spamBurst, b.tokens + Math.max(0, nowMs - b.atMs) / this.spamRefillMs);
    b.atMs = nowMs;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
