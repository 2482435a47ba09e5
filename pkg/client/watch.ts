// A watch that outlives the member serving it. Events after a numeric resourceVersion arrive in
// revision order, so the last one delivered is where to resume: when the stream breaks (the member
// died, restarted or shut down), the watch reopens on the next member from that revision — no gap,
// no duplicate. A watch from "" or "0" first lists (a consistent read), delivers ADDED for each
// item, and then watches from the list's revision, so it resumes the same way. The gRPC stream is
// read as the consumer asks (Node stream backpressure), so a slow consumer holds no growing buffer.
//
// A client inside a master (its scheduler and controllers) reads watches of that master straight
// from its watch cache (LocalWatchSource): the same events, without encoding, HTTP/2 and decoding.

import { Metadata } from '@grpc/grpc-js';
import { decodeStored, encodeBinary } from '../api/convert/binary.js';
import { decodeStoredShared } from '../api/convert/shared_decode.js';
import { deepFreeze } from '../api/deep_freeze.js';
import type { KubeObject } from '../api/registry.js';
import { ApiError } from '../apiserver/api_error.js';
import type { WatchEvent as ApiWatchEvent, WatchRequest as ApiWatchRequest } from '../apiserver/watch.js';
import type { WatchEvents as WireWatchEvents } from '../../gen/navarch/apiserver/v1/objects.js';
import type { EndpointPool, Picked } from './endpoints.js';
import { classify } from './errors.js';

export type ClientWatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface ClientWatchEvent<T extends KubeObject = KubeObject> {
  type: ClientWatchEventType;
  /** For BOOKMARK: only apiVersion, kind and metadata.resourceVersion are meaningful. */
  object: T;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** "" or "0": ADDED for every current object first. */
  resourceVersion?: string;
  allowBookmarks?: boolean;
  signal?: AbortSignal;
  /** Items per list page for a watch from "" (the initial ADDED events). @default 500 */
  listPageSize?: number;
  /** The objects go into a cache: decoded with shared, frozen parts (ListOptions.forCache). */
  forCache?: boolean;
  /** Decodes each object's bytes instead of the full decode (ListOptions.decode); in process, the object is encoded for it first. */
  decode?: (bytes: Uint8Array) => KubeObject;
}

/**
 * The master this process runs inside: its watches are read in process (ApiServer.watch). The
 * objects are the watch cache's, shared with every other watcher of that master, so they come
 * frozen: an informer's objects must not be changed in place anyway.
 */
export interface LocalWatchSource {
  /** This master's client address, as it appears in the client's endpoints. */
  endpoint: string;
  watch(req: ApiWatchRequest): { batches(): AsyncIterable<readonly ApiWatchEvent[]> };
}

/** Initial ADDED events in one batch, from a list (a page may hold thousands). */
const LIST_BATCH_EVENTS = 256;

/** Events read in process in a row before the watch lets timers and I/O run (a backlog is read in slices). */
const LOCAL_EVENTS_PER_SLICE = 256;

const EVENT_TYPES = new Set<string>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']);

/** An object of a list or watch from its stored bytes, as the reader asked: its own decode, for a cache, or in full. */
export function decodeItem(o: { forCache?: boolean; decode?: (bytes: Uint8Array) => KubeObject }, bytes: Uint8Array): KubeObject {
  return o.decode ? o.decode(bytes) : o.forCache ? decodeStoredShared(bytes) : decodeStored(bytes);
}

/**
 * Where a broken watch resumes. One revision can change many objects (a transaction: the Events of
 * a CreateBatch, say) and its events may arrive in more than one message: resuming from that
 * revision would skip the rest of it. So until an event of a later revision (or a bookmark) shows
 * that a revision is complete, the watch resumes from the one before, and drops the events of the
 * unfinished revision it has already delivered.
 */
export class ResumePoint {
  /** Every event up to this revision has been delivered. */
  private complete: string;
  /**
   * The revision being delivered, and the objects of it delivered so far: the first one's key, and
   * a set only once there is a second (most revisions change one object).
   */
  private partial: { revision: number; first: string; more: Set<string> | undefined } | undefined;

  constructor(resourceVersion: string) {
    this.complete = resourceVersion;
  }

  /** The resourceVersion to watch from. */
  from(): string {
    return this.partial ? String(this.partial.revision - 1) : this.complete;
  }

  /** The events of `batch` to deliver (take), in order: the batch itself when that is all of them. */
  takeAll<E extends ClientWatchEvent>(batch: E[]): E[] {
    for (let i = 0; i < batch.length; i++) {
      if (this.take(batch[i])) continue;
      // A resumed watch repeating what was delivered: rare, so only then a new list.
      const out = batch.slice(0, i);
      for (let j = i + 1; j < batch.length; j++) if (this.take(batch[j])) out.push(batch[j]);
      return out;
    }
    return batch;
  }

  /** Whether to deliver `e` (false: this watch delivered it before it broke), noting it delivered. */
  take(e: ClientWatchEvent): boolean {
    const rv = e.object.metadata?.resourceVersion;
    if (!rv) return true;
    const revision = Number(rv);
    if (e.type === 'BOOKMARK' || !Number.isSafeInteger(revision)) {
      this.complete = rv;
      this.partial = undefined;
      return true;
    }
    const key = `${e.object.metadata?.namespace ?? ''}/${e.object.metadata?.name ?? ''}`;
    const p = this.partial;
    if (p?.revision === revision) {
      if (key === p.first || p.more?.has(key)) return false;
      (p.more ??= new Set()).add(key);
      return true;
    }
    if (p && revision < p.revision) return false;
    if (p) this.complete = String(p.revision);
    this.partial = { revision, first: key, more: undefined };
    return true;
  }
}

export class ResumableWatch<T extends KubeObject> implements AsyncIterable<ClientWatchEvent<T>> {
  private closed = false;
  private cancelCurrent: (() => void) | undefined;
  private started = false;

  constructor(
    private readonly pool: EndpointPool,
    private readonly resource: string,
    private readonly o: WatchOptions,
    private readonly retryDeadlineMs: number,
    /** A consistent list of every page (the client's listAll). */
    private readonly listAll: (resource: string, o: Pick<WatchOptions, 'namespace' | 'labelSelector' | 'fieldSelector' | 'forCache' | 'decode'> & { pageSize?: number }) => Promise<{ items: KubeObject[]; resourceVersion: string }>,
    private readonly local?: LocalWatchSource,
  ) {
    o.signal?.addEventListener('abort', () => this.close(), { once: true });
  }

  close(): void {
    this.closed = true;
    this.cancelCurrent?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<ClientWatchEvent<T>> {
    return this.flat(this.batches());
  }

  /**
   * The events in batches as they come (a gRPC message's, a run of the master's watch cache, part
   * of a list), never empty: a reader that takes them in bulk (an informer) pays one turn of the
   * generators per batch, not per event. A watch can be iterated once, either way.
   */
  batches(): AsyncGenerator<ClientWatchEvent<T>[]> {
    if (this.started) throw new Error('A watch can be iterated once');
    this.started = true;
    return this.run();
  }

  private async *flat(batches: AsyncIterable<ClientWatchEvent<T>[]>): AsyncGenerator<ClientWatchEvent<T>> {
    for await (const batch of batches) yield* batch;
  }

  private async *run(): AsyncGenerator<ClientWatchEvent<T>[]> {
    if (this.o.signal?.aborted) return;
    let rv = this.o.resourceVersion ?? '';
    if (rv === '' || rv === '0') {
      const listed = yield* this.initialList();
      if (listed === undefined) return;
      rv = listed;
    }
    let retryUntil = performance.now() + this.retryDeadlineMs;
    let delayMs = 50;
    const resume = new ResumePoint(rv);
    while (!this.closed) {
      const { client, endpoint, index } = this.pool.pick();
      const from = resume.from();
      const events = endpoint === this.local?.endpoint ? this.localEvents(from) : this.streamEvents(client, endpoint, from);
      let failure: unknown;
      let goHome = false;
      try {
        for await (const batch of events) {
          retryUntil = performance.now() + this.retryDeadlineMs;
          delayMs = 50;
          // Served by another member only because this one led Raft or failed: resume on our own,
          // which delivers this batch again (it is not taken here).
          if (this.local !== undefined && this.pool.homeFrom(index)) {
            goHome = true;
            break;
          }
          const taken = resume.takeAll(batch);
          if (taken.length === 0) continue;
          yield taken;
          if (this.closed) break;
        }
      } catch (err) {
        failure = err;
      }
      if (this.closed) return;
      if (goHome) continue;
      if (failure instanceof ApiError) throw failure;
      if (failure !== undefined) {
        const f = classify(failure, endpoint);
        // The server refused the watch (Expired, Invalid, NotFound): resuming cannot help.
        if (f.fromServer) throw f.error;
        if (performance.now() + delayMs >= retryUntil) throw f.error;
      }
      // Broken or ended by a member that is going away: try the next member from where we are.
      this.pool.failed(index);
      await new Promise((r) => setTimeout(r, delayMs));
      delayMs = Math.min(delayMs * 2, 1000);
    }
  }

  private async *streamEvents(client: Picked['client'], endpoint: string, rv: string): AsyncGenerator<ClientWatchEvent<T>[]> {
    const stream = client.watch(
      {
        resource: this.resource,
        namespace: this.o.namespace ?? '',
        labelSelector: this.o.labelSelector ?? '',
        fieldSelector: this.o.fieldSelector ?? '',
        resourceVersion: rv,
        allowBookmarks: this.o.allowBookmarks ?? false,
      },
      new Metadata(),
    );
    this.cancelCurrent = () => stream.cancel();
    try {
      for await (const batch of stream as AsyncIterable<WireWatchEvents>) {
        const events: ClientWatchEvent<T>[] = [];
        for (const wire of batch.events) {
          if (!EVENT_TYPES.has(wire.type)) throw new ApiError('Internal', `Master ${endpoint} sent a watch event of unknown type ${JSON.stringify(wire.type)}`);
          events.push({ type: wire.type as ClientWatchEventType, object: decodeItem(this.o, wire.object) as T });
        }
        if (events.length > 0) yield events;
      }
    } finally {
      this.cancelCurrent = undefined;
      stream.cancel();
    }
  }

  private async *localEvents(rv: string): AsyncGenerator<ClientWatchEvent<T>[]> {
    const ac = new AbortController();
    this.cancelCurrent = () => ac.abort();
    try {
      const watch = this.local!.watch({
        resource: this.resource,
        namespace: this.o.namespace || undefined,
        labelSelector: this.o.labelSelector ?? '',
        fieldSelector: this.o.fieldSelector ?? '',
        resourceVersion: rv,
        allowBookmarks: this.o.allowBookmarks ?? false,
        signal: ac.signal,
      });
      let inSlice = 0;
      const decode = this.o.decode;
      for await (const batch of watch.batches()) {
        const events: ClientWatchEvent<T>[] = new Array(batch.length);
        for (let i = 0; i < batch.length; i++) {
          const e = batch[i];
          events[i] = { type: e.type, object: (decode ? decode(encodeBinary(e.object)) : deepFreeze(e.object)) as T };
        }
        yield events;
        // Events already in the cache come without a turn of the event loop in between.
        inSlice += batch.length;
        if (inSlice >= LOCAL_EVENTS_PER_SLICE) {
          inSlice = 0;
          await new Promise((r) => setImmediate(r));
        }
      }
    } finally {
      this.cancelCurrent = undefined;
      ac.abort();
    }
  }

  /** The ADDED events of a watch from "": resolves with the list's revision (undefined if closed meanwhile). */
  private async *initialList(): AsyncGenerator<ClientWatchEvent<T>[], string | undefined> {
    const page = await this.listAll(this.resource, {
      namespace: this.o.namespace,
      labelSelector: this.o.labelSelector,
      fieldSelector: this.o.fieldSelector,
      pageSize: this.o.listPageSize,
      forCache: this.o.forCache,
      decode: this.o.decode,
    });
    for (let i = 0; i < page.items.length; i += LIST_BATCH_EVENTS) {
      if (this.closed) return undefined;
      yield page.items.slice(i, i + LIST_BATCH_EVENTS).map((object): ClientWatchEvent<T> => ({ type: 'ADDED', object: object as T }));
    }
    return page.resourceVersion;
  }
}
