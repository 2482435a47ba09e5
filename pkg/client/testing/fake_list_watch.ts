// An in-memory API for one resource, to drive reflectors and informers in tests: objects with
// revisions, an event log that watches read from, and compaction. It behaves like the server
// where the reflector cares: a list is one revision; a watch delivers every change after its
// resourceVersion in order; a watch whose revision has been compacted away (at open or while it
// lags) ends with ApiError Expired; bookmarks on request. Faults on demand: expireWatches(),
// failWatches(), failNextList(), endWatches().

import type { KubeObject } from '../../api/registry.js';
import { ApiError, expired } from '../../apiserver/api_error.js';
import { namespacedKey, objectKey } from '../informer/keys.js';
import type { ListWatchResult, ListWatcher, WatchFromOptions, WatchStream } from '../informer/list_watcher.js';
import type { ClientWatchEvent, ClientWatchEventType } from '../watch.js';

interface LogEntry<T> {
  rev: number;
  type: Exclude<ClientWatchEventType, 'BOOKMARK'>;
  object: T;
}

export interface FakeListWatchOptions {
  /** Events kept for watches; older ones are compacted away. @default 10000 */
  maxHistoryEvents?: number;
}

export class FakeListWatch<T extends KubeObject = KubeObject> implements ListWatcher<T> {
  listCalls = 0;
  watchCalls = 0;
  private rev = 0;
  private compactedRev = 0;
  private readonly objects = new Map<string, T>();
  private log: LogEntry<T>[] = [];
  private readonly watches = new Set<FakeWatch<T>>();
  private readonly listFailures: unknown[] = [];
  private readonly maxHistoryEvents: number;

  constructor(o: FakeListWatchOptions = {}) {
    this.maxHistoryEvents = o.maxHistoryEvents ?? 10_000;
  }

  get revision(): number {
    return this.rev;
  }

  get compactRevision(): number {
    return this.compactedRev;
  }

  get openWatches(): number {
    return this.watches.size;
  }

  /** Stores a new object (resourceVersion set to the new revision); AlreadyExists if its key is taken. */
  create(o: T): T {
    const key = objectKey(o);
    if (this.objects.has(key)) throw new ApiError('AlreadyExists', `${key} already exists`);
    return this.write('ADDED', key, o);
  }

  /** Replaces a stored object; NotFound if absent. */
  update(o: T): T {
    const key = objectKey(o);
    if (!this.objects.has(key)) throw new ApiError('NotFound', `${key} not found`);
    return this.write('MODIFIED', key, o);
  }

  delete(namespace: string | undefined, name: string): T {
    const key = namespacedKey(namespace, name);
    const old = this.objects.get(key);
    if (old === undefined) throw new ApiError('NotFound', `${key} not found`);
    return this.write('DELETED', key, old);
  }

  /** Moves the revision as writes to other resources would (the revision is shared by all of them). */
  bumpRevision(by = 1): void {
    this.rev += by;
  }

  /** Drops the history at and before `rev`: watches that still need it end with Expired. */
  compact(rev = this.rev): void {
    if (rev <= this.compactedRev) return;
    this.compactedRev = Math.min(rev, this.rev);
    let i = 0;
    while (i < this.log.length && this.log[i].rev <= this.compactedRev) i++;
    this.log = this.log.slice(i);
    this.wakeAll();
  }

  /** Ends every open watch with Expired, as a server that dropped its watch history does. */
  expireWatches(): void {
    for (const w of this.watches) w.fail(expired(w.cursor, this.rev));
  }

  /** Ends every open watch with this error (e.g. Unavailable after the client gave up on every member). */
  failWatches(err: unknown): void {
    for (const w of this.watches) w.fail(err);
  }

  /** Ends every open watch cleanly (a member going away). */
  endWatches(): void {
    for (const w of [...this.watches]) w.close();
  }

  /** A BOOKMARK at the current revision on every open watch that allows them. */
  bookmark(): void {
    for (const w of this.watches) w.requestBookmark();
  }

  /** The next list() rejects with this. */
  failNextList(err: unknown): void {
    this.listFailures.push(err);
  }

  async list(): Promise<ListWatchResult<T>> {
    this.listCalls++;
    await Promise.resolve();
    if (this.listFailures.length > 0) throw this.listFailures.shift();
    const items = [...this.objects.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => structuredClone(o));
    return { items, resourceVersion: String(this.rev) };
  }

  watch(o: WatchFromOptions): WatchStream<T> {
    this.watchCalls++;
    const from = Number(o.resourceVersion);
    if (!Number.isInteger(from) || from < 0) throw new ApiError('Invalid', `Cannot watch from resourceVersion ${JSON.stringify(o.resourceVersion)}: expected a revision number`);
    const w = new FakeWatch<T>(this, from, o.allowBookmarks, (closed) => this.watches.delete(closed));
    this.watches.add(w);
    return w;
  }

  /** The first event after `cursor`, undefined if none yet; Expired if it was compacted away. */
  eventAfter(cursor: number): LogEntry<T> | undefined {
    if (cursor < this.compactedRev) throw expired(cursor, this.compactedRev);
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.log[mid].rev <= cursor) lo = mid + 1;
      else hi = mid;
    }
    return this.log[lo];
  }

  private write(type: LogEntry<T>['type'], key: string, o: T): T {
    const rev = ++this.rev;
    const stored = structuredClone(o);
    stored.metadata = { ...(stored.metadata ?? {}), resourceVersion: String(rev) } as T['metadata'];
    if (type === 'DELETED') this.objects.delete(key);
    else this.objects.set(key, stored);
    this.log.push({ rev, type, object: stored });
    if (this.log.length > this.maxHistoryEvents) this.compact(this.log[this.log.length - this.maxHistoryEvents - 1].rev);
    this.wakeAll();
    return structuredClone(stored);
  }

  private wakeAll(): void {
    for (const w of this.watches) w.wake();
  }
}

class FakeWatch<T extends KubeObject> implements AsyncIterable<ClientWatchEvent<T>> {
  cursor: number;
  private closed = false;
  private failure: unknown;
  private bookmarkPending = false;
  private waiting: (() => void) | undefined;

  constructor(
    private readonly source: FakeListWatch<T>,
    from: number,
    private readonly allowBookmarks: boolean,
    private readonly onClose: (w: FakeWatch<T>) => void,
  ) {
    this.cursor = from;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    this.wake();
  }

  fail(err: unknown): void {
    this.failure ??= err;
    this.wake();
  }

  requestBookmark(): void {
    if (!this.allowBookmarks) return;
    this.bookmarkPending = true;
    this.wake();
  }

  wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ClientWatchEvent<T>> {
    try {
      for (;;) {
        if (this.closed) return;
        if (this.failure !== undefined) throw this.failure;
        const e = this.source.eventAfter(this.cursor);
        if (e !== undefined) {
          this.cursor = e.rev;
          yield { type: e.type, object: structuredClone(e.object) };
          continue;
        }
        if (this.bookmarkPending) {
          this.bookmarkPending = false;
          this.cursor = this.source.revision;
          yield { type: 'BOOKMARK', object: { apiVersion: 'v1', kind: '', metadata: { resourceVersion: String(this.cursor) } } as unknown as T };
          continue;
        }
        await new Promise<void>((r) => (this.waiting = r));
      }
    } finally {
      this.close();
    }
  }
}
