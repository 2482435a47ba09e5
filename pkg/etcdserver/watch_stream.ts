// One etcd Watch stream: many watches multiplexed on a bidi gRPC call.
// Each watch pumps its store Watcher into the stream and waits for the
// stream to drain before taking more, so a slow client fills the watcher's
// bounded buffer and the watch is cancelled instead of memory growing.

import { once } from 'node:events';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { CompactedError, StoreError, WatchOverflowError, bytesToKey, type Watcher } from '../store/mod.js';
import { eventToEtcd, type Msg } from './convert.js';
import { ERR_COMPACTED, ERR_FUTURE_REV } from './errors.js';
import { malformedRequest } from './malformed.js';
import type { EtcdServer } from './server.js';

export interface WatchStreamOptions {
  maxWatches: number;
  progressNotifyIntervalMs: number;
}

interface OpenWatch {
  watcher: Watcher;
  progressNotify: boolean;
}

export class WatchStream {
  private readonly watches = new Map<number, OpenWatch>();
  private nextId = 0;
  private done = false;
  private progressTimer: NodeJS.Timeout | undefined;
  private resolveClosed!: () => void;
  readonly closed = new Promise<void>((r) => (this.resolveClosed = r));

  constructor(
    private readonly call: ServerDuplexStream<Msg, Msg>,
    private readonly server: EtcdServer,
    private readonly o: WatchStreamOptions,
  ) {
    call.on('data', (req: Msg) => this.onRequest(req));
    call.on('end', () => this.close());
    call.on('error', () => this.close());
    call.on('cancelled', () => this.close());
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    if (this.progressTimer) clearInterval(this.progressTimer);
    for (const w of this.watches.values()) w.watcher.cancel();
    this.watches.clear();
    try {
      this.call.end();
    } catch {
      // Already ended by the client.
    }
    this.resolveClosed();
  }

  private async send(msg: Msg): Promise<void> {
    if (this.done) return;
    if (!this.call.write(msg)) await Promise.race([once(this.call, 'drain'), this.closed]);
  }

  private onRequest(req: Msg): void {
    if (this.done) return;
    const malformed = malformedRequest(req);
    if (malformed) {
      // grpc-js turns an 'error' event on a server stream into the call's final status.
      this.call.emit('error', malformed);
      this.close();
      return;
    }
    if (req.create_request) this.create(req.create_request);
    else if (req.cancel_request) this.cancel(Number(req.cancel_request.watch_id));
    else if (req.progress_request) void this.send({ header: this.server.header(this.server.store.revision), watch_id: -1 });
  }

  private create(c: Msg): void {
    const header = this.server.header(this.server.store.revision);
    let id = Number(c.watch_id) || 0;
    if (id === 0) {
      while (this.watches.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    } else if (this.watches.has(id)) {
      void this.send({ header, watch_id: id, created: true, canceled: true, cancel_reason: 'etcdserver: duplicate watch ID provided on the WatchStream' });
      return;
    }
    if (this.watches.size >= this.o.maxWatches) {
      void this.send({ header, watch_id: -1, created: true, canceled: true, cancel_reason: `etcdserver: too many watches on this stream (the limit is ${this.o.maxWatches})` });
      return;
    }
    const filters: number[] = c.filters ?? [];
    let watcher: Watcher;
    try {
      const key = c.key && c.key.length > 0 ? bytesToKey(c.key) : '';
      watcher = this.server.store.watch({
        key,
        rangeEnd: c.range_end && c.range_end.length > 0 ? bytesToKey(c.range_end) : undefined,
        startRevision: Number(c.start_revision) || 0,
        prevKv: !!c.prev_kv,
        noPut: filters.includes(0),
        noDelete: filters.includes(1),
      });
    } catch (e) {
      void this.send({ header, watch_id: -1, created: true, canceled: true, cancel_reason: `etcdserver: ${(e as Error).message}` });
      return;
    }
    const w: OpenWatch = { watcher, progressNotify: !!c.progress_notify };
    this.watches.set(id, w);
    if (w.progressNotify && !this.progressTimer) {
      this.progressTimer = setInterval(() => {
        for (const x of this.watches.values()) if (x.progressNotify) x.watcher.requestProgress();
      }, this.o.progressNotifyIntervalMs);
      this.progressTimer.unref();
    }
    void this.send({ header, watch_id: id, created: true }).then(() => this.pump(id, w));
  }

  private cancel(id: number): void {
    const w = this.watches.get(id);
    if (!w) return;
    this.watches.delete(id);
    w.watcher.cancel();
    void this.send({ header: this.server.header(this.server.store.revision), watch_id: id, canceled: true });
  }

  private async pump(id: number, w: OpenWatch): Promise<void> {
    try {
      for (;;) {
        const r = await w.watcher.next();
        if (r.done || this.done) return;
        const res = r.value;
        await this.send({ header: this.server.header(res.headerRevision), watch_id: id, events: res.events.map(eventToEtcd) });
      }
    } catch (e) {
      if (this.watches.get(id) !== w) return;
      this.watches.delete(id);
      const header = this.server.header(this.server.store.revision);
      if (e instanceof CompactedError) {
        await this.send({ header, watch_id: id, canceled: true, compact_revision: e.compactRevision, cancel_reason: ERR_COMPACTED });
      } else if (e instanceof WatchOverflowError) {
        await this.send({ header, watch_id: id, canceled: true, cancel_reason: `etcdserver: ${e.message}` });
      } else if (e instanceof StoreError && e.code === 'FutureRevision') {
        await this.send({ header, watch_id: id, canceled: true, cancel_reason: ERR_FUTURE_REV });
      } else {
        await this.send({ header, watch_id: id, canceled: true, cancel_reason: `etcdserver: ${(e as Error).message}` });
      }
    }
  }
}
