// Watchers. A watcher is either synced (it has seen every revision up to
// the current one, and new revisions are pushed to it as they commit) or
// unsynced (it replays history from the change log, pulled as its consumer
// asks, so catching up never overflows). Events come in revision order with
// no gap and no duplicate; one revision is never split across responses.
//
// A synced watcher whose consumer lets more than watchBufferEvents pile up
// is cancelled with WatchOverflowError carrying the next revision it needs.
// A watcher that needs history compaction has dropped gets CompactedError.

import { CompactedError, StoreError, WatchOverflowError, invalidArgument } from './errors.js';
import { inRange } from './keys.js';
import type { Keyspace, Version } from './keyspace.js';
import type { WatchEvent } from './types.js';

export interface WatchOptions {
  key: string;
  /** As in range: absent = key alone, '\0' = every key >= key, else [key, rangeEnd). */
  rangeEnd?: string;
  /** First revision to deliver; 0 or absent = the next one (only new changes). */
  startRevision?: number;
  /** Attach each event's previous kv. */
  prevKv?: boolean;
  /** Skip put events. */
  noPut?: boolean;
  /** Skip delete events. */
  noDelete?: boolean;
  /** Events the watcher may hold for a slow consumer before it is cancelled; defaults to the store's. */
  watchBufferEvents?: number;
}

/**
 * One delivery. Events: whole revisions, in order. `progress: true` is a
 * bookmark with no events: every event at or below `headerRevision` has
 * been delivered.
 */
export interface WatchResponse {
  watchId: number;
  events: WatchEvent[];
  headerRevision: number;
  progress: boolean;
}

export class Watcher implements AsyncIterable<WatchResponse> {
  readonly key: string;
  readonly rangeEnd: string | undefined;
  /**
   * Unsynced: the next revision to replay. Synced: the first revision it
   * wants (it has buffered everything before max(this, current + 1)).
   */
  nextRevision: number;
  synced = false;
  /** The events of the revision being notified (WatchHub.notify), and which notify they belong to. */
  pending: WatchEvent[] | undefined;
  pendingNotify = 0;
  private buffer: WatchEvent[] = [];
  private progressWanted = false;
  private failure: StoreError | undefined;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly hub: WatchHub,
    readonly id: number,
    readonly options: Readonly<WatchOptions>,
    readonly bufferEvents: number,
    startRevision: number,
  ) {
    this.key = options.key;
    this.rangeEnd = options.rangeEnd === '' ? undefined : options.rangeEnd;
    this.nextRevision = startRevision;
  }

  /** Whether the watcher ended (cancelled, failed, or its error delivered). */
  get done(): boolean {
    return this.closed;
  }

  /** The error that ended the watcher, once buffered events are delivered. */
  get error(): StoreError | undefined {
    return this.failure;
  }

  matches(key: string): boolean {
    return inRange(key, this.key, this.rangeEnd);
  }

  /** Asks for a bookmark: delivered once every event up to the then-current revision is. */
  requestProgress(): void {
    if (this.closed) return;
    this.progressWanted = true;
    this.signal();
  }

  /** Stops the watcher; a waiting next() resolves as done. */
  cancel(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer = [];
    this.hub.remove(this);
    this.signal();
  }

  /**
   * The next response if one is ready, without waiting: events first, then a
   * requested bookmark. Throws the watcher's error once the events before it
   * are delivered. Returns undefined when nothing is ready (or it is done).
   */
  poll(): WatchResponse | undefined {
    if (this.buffer.length === 0 && !this.synced && !this.failure && !this.closed) this.hub.fill(this);
    if (this.buffer.length > 0) {
      const events = this.buffer;
      this.buffer = [];
      return { watchId: this.id, events, headerRevision: this.hub.revision, progress: false };
    }
    if (this.failure) {
      const err = this.failure;
      if (!this.closed) {
        this.closed = true;
        this.hub.remove(this);
      }
      throw err;
    }
    if (this.closed) return undefined;
    if (this.synced && this.progressWanted) {
      this.progressWanted = false;
      return { watchId: this.id, events: [], headerRevision: this.hub.revision, progress: true };
    }
    return undefined;
  }

  /** Waits for the next response; done when cancelled; rejects with the watcher's error. */
  async next(): Promise<IteratorResult<WatchResponse>> {
    for (;;) {
      const r = this.poll();
      if (r) return { value: r, done: false };
      if (this.closed) return { value: undefined, done: true };
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async return(): Promise<IteratorResult<WatchResponse>> {
    this.cancel();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchResponse> {
    return this;
  }

  /** Events buffered for the consumer. */
  get bufferedEvents(): number {
    return this.buffer.length;
  }

  /** Hub side: appends one revision's events; false when they would overflow the buffer. */
  offer(events: WatchEvent[]): boolean {
    if (this.buffer.length > 0 && this.buffer.length + events.length > this.bufferEvents) return false;
    for (const e of events) this.buffer.push(e);
    this.signal();
    return true;
  }

  /** Hub side: ends the watcher with an error delivered after the buffered events. */
  fail(err: StoreError): void {
    if (this.failure || this.closed) return;
    this.failure = err;
    this.signal();
  }

  /** Hub side: wakes a waiting next(). */
  signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}

/** One notify's deliveries: the watchers that get events (each holds them in `pending`), and the events built so far, by change. */
interface Delivery {
  rev: number;
  notify: number;
  to: Watcher[];
  plain: Array<WatchEvent | undefined> | undefined;
  withPrev: Array<WatchEvent | undefined> | undefined;
}

export class WatchHub {
  private lastId = 0;
  /** Counts notify calls: a watcher's pendingNotify says which one its pending events are for. */
  private notifies = 0;
  /** Synced watchers on one key, by key. */
  private readonly byKey = new Map<string, Set<Watcher>>();
  /** Synced watchers on a range. */
  private readonly ranged = new Set<Watcher>();
  private readonly unsynced = new Set<Watcher>();

  constructor(
    private readonly keyspace: () => Keyspace,
    private readonly defaultBufferEvents: number,
  ) {}

  get revision(): number {
    return this.keyspace().revision;
  }

  /** Watchers currently open. */
  get size(): number {
    let n = this.ranged.size + this.unsynced.size;
    for (const s of this.byKey.values()) n += s.size;
    return n;
  }

  watch(o: WatchOptions): Watcher {
    if (o === null || typeof o !== 'object' || typeof o.key !== 'string' || o.key.length === 0) throw invalidArgument('Invalid watch: key is not provided');
    const start = o.startRevision ?? 0;
    if (!Number.isSafeInteger(start) || start < 0) throw invalidArgument(`Invalid watch start revision ${JSON.stringify(start)}: expected a non-negative integer`);
    const buf = o.watchBufferEvents ?? this.defaultBufferEvents;
    if (!Number.isSafeInteger(buf) || buf < 1) throw invalidArgument(`Invalid watchBufferEvents ${JSON.stringify(buf)}: expected a positive integer`);
    const ks = this.keyspace();
    const w = new Watcher(this, ++this.lastId, { ...o }, buf, start === 0 ? ks.revision + 1 : start);
    if (w.nextRevision > ks.revision) this.addSynced(w);
    else this.unsynced.add(w);
    // Check compaction at once, so the error comes before any event.
    if (w.nextRevision < ks.compactRevision) w.fail(new CompactedError(w.nextRevision, ks.compactRevision));
    return w;
  }

  private addSynced(w: Watcher): void {
    w.synced = true;
    if (w.rangeEnd === undefined) {
      let s = this.byKey.get(w.key);
      if (!s) this.byKey.set(w.key, (s = new Set()));
      s.add(w);
    } else {
      this.ranged.add(w);
    }
  }

  remove(w: Watcher): void {
    this.unsynced.delete(w);
    this.ranged.delete(w);
    const s = this.byKey.get(w.key);
    if (s?.delete(w) && s.size === 0) this.byKey.delete(w.key);
  }

  private event(v: Version, withPrev: boolean): WatchEvent {
    const type = v.deleted ? 'delete' : 'put';
    if (!withPrev) return { type, kv: v };
    const prev = this.keyspace().prevOf(v);
    return prev ? { type, kv: v, prevKv: prev } : { type, kv: v };
  }

  private wants(w: Watcher, v: Version): boolean {
    return v.deleted ? !w.options.noDelete : !w.options.noPut;
  }

  /** Pushes a committed revision's changes to the synced watchers. */
  notify(rev: number, changes: Version[]): void {
    if (changes.length === 0) return;
    // No closure or Map per call: this runs for every write on every member.
    const d: Delivery = { rev, notify: ++this.notifies, to: [], plain: undefined, withPrev: undefined };
    for (let i = 0; i < changes.length; i++) {
      const v = changes[i];
      const s = this.byKey.get(v.key);
      if (s) for (const w of s) this.collect(d, w, v, i);
      for (const w of this.ranged) if (w.matches(v.key)) this.collect(d, w, v, i);
    }
    for (const w of d.to) {
      const events = w.pending!;
      w.pending = undefined;
      if (!w.offer(events)) {
        this.remove(w);
        w.fail(new WatchOverflowError(rev, w.bufferEvents));
      }
    }
  }

  /** Adds change i (v) to what w gets from this notify, if w wants it. Events are shared between watchers: built once per flavour. */
  private collect(d: Delivery, w: Watcher, v: Version, i: number): void {
    if (w.nextRevision > d.rev || !this.wants(w, v)) return;
    const withPrev = !!w.options.prevKv;
    const cache = withPrev ? (d.withPrev ??= []) : (d.plain ??= []);
    const e = (cache[i] ??= this.event(v, withPrev));
    if (w.pendingNotify !== d.notify) {
      w.pendingNotify = d.notify;
      w.pending = [];
      d.to.push(w);
    }
    w.pending!.push(e);
  }

  /** Replays history into an unsynced watcher's empty buffer, whole revisions, up to its buffer size. */
  fill(w: Watcher): void {
    const ks = this.keyspace();
    if (w.nextRevision < ks.compactRevision) {
      w.fail(new CompactedError(w.nextRevision, ks.compactRevision));
      return;
    }
    const batch: WatchEvent[] = [];
    let reachedEnd = true;
    let lastRev = 0;
    ks.forEachChange(w.nextRevision, (v) => {
      if (v.modRevision !== lastRev) {
        // Stop between revisions once the buffer is full.
        if (batch.length >= w.bufferEvents) {
          reachedEnd = false;
          w.nextRevision = v.modRevision;
          return false;
        }
        lastRev = v.modRevision;
      }
      if (w.matches(v.key) && this.wants(w, v)) batch.push(this.event(v, !!w.options.prevKv));
      return true;
    });
    if (batch.length > 0) w.offer(batch);
    if (reachedEnd) {
      w.nextRevision = ks.revision + 1;
      this.unsynced.delete(w);
      this.addSynced(w);
    }
    w.signal();
  }

  /** After compaction: unsynced watchers that still need dropped history fail with CompactedError. */
  onCompacted(compactRevision: number): void {
    for (const w of this.unsynced) if (w.nextRevision < compactRevision) w.fail(new CompactedError(w.nextRevision, compactRevision));
  }

  /**
   * After the keyspace was replaced by a snapshot: every watcher catches up
   * from the new history. `prevRevision` is the replaced keyspace's revision,
   * which synced watchers had fully buffered.
   */
  onRestored(prevRevision: number): void {
    const all: Watcher[] = [...this.ranged];
    for (const s of this.byKey.values()) all.push(...s);
    this.ranged.clear();
    this.byKey.clear();
    for (const w of all) {
      w.synced = false;
      w.nextRevision = Math.max(w.nextRevision, prevRevision + 1);
      this.unsynced.add(w);
    }
    const ks = this.keyspace();
    for (const w of this.unsynced) {
      if (w.nextRevision < ks.compactRevision) w.fail(new CompactedError(w.nextRevision, ks.compactRevision));
      // A watcher already ahead of the restored state waits for new revisions.
      else if (w.nextRevision > ks.revision) {
        this.unsynced.delete(w);
        this.addSynced(w);
      } else w.signal();
    }
  }

  /** Bookmarks for every open watcher (the facade calls this on its progress timer). */
  requestProgressAll(): void {
    for (const w of this.unsynced) w.requestProgress();
    for (const w of this.ranged) w.requestProgress();
    for (const s of this.byKey.values()) for (const w of s) w.requestProgress();
  }
}
