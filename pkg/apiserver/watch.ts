// Watch: an AsyncIterable of ADDED / MODIFIED / DELETED events from a resourceVersion, in revision
// order with no gap, filtered by namespace and selectors (an object that stops matching is seen as
// DELETED, one that starts matching as ADDED), with BOOKMARKs on request. A resourceVersion that
// compaction has dropped ends the watch with an Expired error: relist, then watch from the list.
//
// The store watch underneath is bounded (watchBufferEvents). When this consumer falls behind and
// the store cuts it off, the watch resumes from the store's history at the next revision, which is
// read on demand: a slow consumer costs no memory, and if it falls behind past compaction it gets
// Expired like any other stale watcher.

import type { KindInfo, KubeObject } from '../api/registry.js';
import { ApiError, expired } from './api_error.js';
import { fromStoreError, type BackendWatch } from './backend.js';
import { resolve, type Context, type ResourceRef } from './context.js';
import { list } from './list.js';
import { resourcePrefix } from './objects.js';
import { parseResourceVersion } from './resource_version.js';
import { parseSelectors, type ObjectFilter, type SelectorOptions } from './selectors.js';
import { CompactedError, WatchOverflowError, prefixEnd } from '../store/mod.js';
import { decodeStoreEvent, type CachedEvent, type WatchCache } from './watch_cache.js';
import type { StoredBytes } from './object_bytes.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

/** Events in one batch of ApiWatch.batches. */
export const WATCH_BATCH_EVENTS = 256;

export interface WatchEvent {
  type: WatchEventType;
  /** For BOOKMARK: only apiVersion, kind and metadata.resourceVersion are meaningful. */
  object: KubeObject;
  /** The object's stored bytes, when it is a watch-cache change's object (its wire form is made once for every watcher). */
  bytes?: StoredBytes;
}

export interface WatchRequest extends ResourceRef, SelectorOptions {
  /**
   * Deliver changes after this revision. "" or "0": first an ADDED event for every current object
   * (a consistent list), then changes after it.
   */
  resourceVersion?: string;
  /** Deliver BOOKMARK events when asked (requestBookmark or ApiServer.requestWatchProgress). */
  allowBookmarks?: boolean;
  /** Ends the watch; the iterator then finishes. */
  signal?: AbortSignal;
  /** Events the store may hold for this watch before it falls back to reading history. */
  watchBufferEvents?: number;
}

export class ApiWatch implements AsyncIterable<WatchEvent> {
  private inner: BackendWatch | undefined;
  private closed = false;
  private bookmarkWanted = false;
  /** The cache's progressCount when the bookmark was asked for. */
  private bookmarkProgress = 0;
  /** Every change at or below this revision has been delivered (or filtered out). */
  private delivered: number;
  private readonly initial: boolean;
  private readonly onAbort = () => this.close();
  private readonly prefix: string;
  private closedResolve!: () => void;
  /** Resolves when the watch is closed, to end any wait. */
  private readonly closedSignal = new Promise<void>((resolve) => (this.closedResolve = resolve));

  constructor(
    private readonly ctx: Context,
    readonly info: KindInfo,
    private readonly namespace: string | undefined,
    private readonly filter: ObjectFilter,
    private readonly req: WatchRequest,
    private readonly onClose: (w: ApiWatch) => void,
    private readonly cache?: WatchCache,
  ) {
    this.prefix = resourcePrefix(info, namespace);
    const rv = parseResourceVersion(req.resourceVersion);
    this.initial = rv === 0;
    this.delivered = rv;
    if (req.signal?.aborted) this.closed = true;
    req.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The revision up to which this watch has delivered everything: resume from here. */
  get resourceVersion(): string {
    return String(this.delivered);
  }

  /** Asks for a BOOKMARK once every event up to the current revision is delivered (needs allowBookmarks). */
  requestBookmark(): void {
    if (!this.req.allowBookmarks || this.closed) return;
    this.bookmarkWanted = true;
    this.inner?.requestProgress();
    if (this.cache) {
      this.bookmarkProgress = this.cache.progressCount;
      this.cache.requestProgress();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inner?.cancel();
    this.closedResolve();
    this.req.signal?.removeEventListener('abort', this.onAbort);
    this.onClose(this);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    for await (const batch of this.batches()) yield* batch;
  }

  /**
   * The events in batches: what is at hand at once (a run of the ring, a store response, a list
   * page), at most WATCH_BATCH_EVENTS and whole revisions where one fits (a revision larger than
   * that is split). Readers that take events in bulk (gRPC streams, informers in process) pay one
   * turn per batch instead of one per event through each generator. A watch can be iterated once.
   */
  async *batches(): AsyncGenerator<WatchEvent[]> {
    try {
      if (this.initial) yield* this.initialEvents();
      const cache = this.cache;
      if (cache) await Promise.race([cache.ready, this.closedSignal]);
      // A watch that fell off the ring reads the store until it has caught up, then the ring again.
      // From the store each change is decoded for it alone: a busy master's own informers, once
      // behind in a burst, paid that second decode of every change for the rest of their watch.
      do {
        if (cache?.covers(this.delivered)) yield* this.fromCache(cache);
      } while (!this.closed && (yield* this.fromStore(cache)));
    } finally {
      this.close();
    }
  }

  /** Events from the shared ring; returns when the ring no longer has what this watch needs next. */
  private async *fromCache(cache: WatchCache): AsyncGenerator<WatchEvent[]> {
    let seq = cache.seqAfter(this.delivered);
    while (!this.closed) {
      if (seq < cache.firstSeq || !cache.covers(this.delivered)) return;
      let batch: WatchEvent[] = [];
      for (;;) {
        // Fell off the ring (a slow consumer): the store's history has the rest.
        if (seq < cache.firstSeq) break;
        const entry = cache.at(seq);
        if (!entry) break;
        seq++;
        if (entry.revision <= this.delivered) continue;
        for (const e of entry.events) {
          if (!e.key.startsWith(this.prefix)) continue;
          const out = this.convert(e);
          if (!out) continue;
          // A revision larger than a batch goes out in parts; delivered stays before it until its last part.
          if (batch.length >= WATCH_BATCH_EVENTS) {
            yield batch;
            if (this.closed) return;
            batch = [];
          }
          batch.push(out);
        }
        this.delivered = entry.revision;
        if (batch.length >= WATCH_BATCH_EVENTS) break;
      }
      if (batch.length > 0) {
        yield batch;
        if (this.closed) return;
        continue;
      }
      if (seq < cache.firstSeq) return;
      // A bookmark waits for the store's progress answer, so it carries the newest revision.
      if (this.bookmarkWanted && cache.progressCount > this.bookmarkProgress) {
        this.delivered = Math.max(this.delivered, cache.revision);
        this.bookmarkWanted = false;
        yield [this.bookmark()];
        continue;
      }
      if (!cache.covers(this.delivered)) return;
      await Promise.race([cache.changed, this.closedSignal]);
    }
  }

  /**
   * Events from a store watch of this watch's own, resumed across store buffer overflows. Returns
   * true once the watch is back in the first half of `cache`'s ring (the ring then serves it; the
   * half keeps it from falling off again at once), false when the store watch ended.
   */
  private async *fromStore(cache?: WatchCache): AsyncGenerator<WatchEvent[], boolean> {
    while (!this.closed) {
      const inner = this.open();
      try {
        for await (const resp of inner) {
          if (this.closed) return false;
          let batch: WatchEvent[] = [];
          for (const e of resp.events) {
            const c = decodeStoreEvent(this.info, e);
            const out = c && this.convert(c);
            if (!out) continue;
            if (batch.length >= WATCH_BATCH_EVENTS) {
              yield batch;
              if (this.closed) return false;
              batch = [];
            }
            batch.push(out);
          }
          // A store response holds whole revisions.
          if (resp.events.length) this.delivered = resp.events[resp.events.length - 1].kv.modRevision;
          if (batch.length > 0) {
            yield batch;
            if (this.closed) return false;
          }
          if (resp.progress) {
            this.delivered = Math.max(this.delivered, resp.headerRevision);
            if (this.bookmarkWanted) {
              this.bookmarkWanted = false;
              yield [this.bookmark()];
            }
          }
          if (cache && this.backInRing(cache)) {
            inner.cancel();
            this.inner = undefined;
            return true;
          }
        }
        return false;
      } catch (err) {
        if (err instanceof WatchOverflowError) {
          this.delivered = err.nextRevision - 1;
          continue;
        }
        if (err instanceof CompactedError) throw expired(this.delivered, err.compactRevision);
        throw fromStoreError(err);
      }
    }
    return false;
  }

  /** Whether every change after what this watch delivered is in the ring, in its newer half. */
  private backInRing(cache: WatchCache): boolean {
    if (!cache.covers(this.delivered)) return false;
    const behind = cache.endSeq - cache.seqAfter(this.delivered);
    return behind <= (cache.endSeq - cache.firstSeq) / 2;
  }

  private open(): BackendWatch {
    this.inner = this.ctx.backend.watch({ key: this.prefix, rangeEnd: prefixEnd(this.prefix), startRevision: this.delivered + 1, prevKv: true, watchBufferEvents: this.req.watchBufferEvents });
    if (this.bookmarkWanted) this.inner.requestProgress();
    return this.inner;
  }

  private async *initialEvents(): AsyncGenerator<WatchEvent[]> {
    let cont: string | undefined;
    do {
      const page = await list(this.ctx, {
        resource: this.info,
        namespace: this.namespace,
        labelSelector: this.req.labelSelector,
        fieldSelector: this.req.fieldSelector,
        continue: cont,
      });
      this.delivered = Number(page.resourceVersion);
      for (let i = 0; i < page.items.length; i += WATCH_BATCH_EVENTS) {
        if (this.closed) return;
        yield page.items.slice(i, i + WATCH_BATCH_EVENTS).map((object): WatchEvent => ({ type: 'ADDED', object }));
      }
      cont = page.continue;
    } while (cont && !this.closed);
  }

  private convert(e: CachedEvent): WatchEvent | undefined {
    const now = this.filter.matches(e.object);
    if (e.type === 'delete') return now ? { type: 'DELETED', object: e.object, bytes: e.bytes } : undefined;
    if (e.created || this.filter.everything) return now ? { type: e.created ? 'ADDED' : 'MODIFIED', object: e.object, bytes: e.bytes } : undefined;
    const before = e.prev ? this.filter.matches(e.prev) : now;
    if (now) return { type: before ? 'MODIFIED' : 'ADDED', object: e.object, bytes: e.bytes };
    if (!before) return undefined;
    // As Kubernetes' cacheWatcher: leaving the selection is a DELETED of the state that matched, at the change's resourceVersion.
    const last = e.prev ?? e.object;
    return { type: 'DELETED', object: { ...last, metadata: { ...last.metadata, resourceVersion: e.object.metadata?.resourceVersion } } as KubeObject };
  }

  private bookmark(): WatchEvent {
    return {
      type: 'BOOKMARK',
      // From the kind's empty message, so kinds with maps or lists at the top (ConfigMap's data,
      // Endpoints' subsets) encode too.
      object: {
        ...((this.info.codec as { fromPartial(o: object): unknown }).fromPartial({}) as KubeObject),
        apiVersion: this.info.apiVersion,
        kind: this.info.kind,
        metadata: { resourceVersion: String(this.delivered), labels: {}, annotations: {}, ownerReferences: [], finalizers: [] },
      } as KubeObject,
    };
  }
}

export function openWatch(ctx: Context, req: WatchRequest, onClose: (w: ApiWatch) => void, cacheFor?: (info: KindInfo) => WatchCache | undefined): ApiWatch {
  const info = resolve(req.resource);
  const namespace = info.namespaced ? req.namespace || undefined : undefined;
  const filter = parseSelectors(info, req);
  if (req.watchBufferEvents !== undefined && (!Number.isSafeInteger(req.watchBufferEvents) || req.watchBufferEvents < 1)) {
    throw new ApiError('Invalid', `Invalid watchBufferEvents ${JSON.stringify(req.watchBufferEvents)}: expected a positive integer`);
  }
  return new ApiWatch(ctx, info, namespace, filter, req, onClose, cacheFor?.(info));
}
