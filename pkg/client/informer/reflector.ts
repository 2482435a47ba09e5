// Keeps a sink in step with the API, as client-go's Reflector: list (one consistent revision),
// hand the whole list to the sink, then watch from the list's resourceVersion with bookmarks and
// pass each change on. A watch that ends cleanly is reopened from the last revision seen. A watch
// ended by Expired (its revision was compacted away) means changes were missed: relist, and the
// sink works out the difference. A watch that failed because no master answered (Unavailable) is
// reopened from the same revision, as client-go does on a refused connection: the history is most
// likely still there, and a relist of 150,000 pods is what a struggling cluster needs least.
// Any other failure relists. Each retry waits on the Clock as client-go's backoff manager does:
// 800 ms doubling to 30 s, each wait stretched by up to 100% at random so many clients do not come
// back in step, and back to 800 ms only after two minutes without a wait (a watch that delivers an
// event and fails again does not reset it).

import { realClock, type Clock, type TimerHandle } from '../../../raft/node/ports.js';
import type { KubeObject } from '../../api/registry.js';
import { isApiError } from '../../apiserver/api_error.js';
import type { ClientWatchEvent } from '../watch.js';
import type { ListWatcher, WatchStream } from './list_watcher.js';

export interface ReflectorSink<T extends KubeObject> {
  /** A (re)list: the store must now hold exactly these items (once the promise, if any, resolves). */
  replace(items: T[], resourceVersion: string): void | Promise<void>;
  /** One change (ADDED, MODIFIED or DELETED). */
  apply(event: ClientWatchEvent<T>): void;
}

export interface ReflectorLogger {
  warn(msg: string): void;
}

export interface ReflectorOptions {
  /** Names the reflector in log lines, e.g. the resource. @default "objects" */
  name?: string;
  /** @default realClock */
  clock?: Clock;
  /** @default 800 */
  initialBackoffMs?: number;
  /** @default 30000 */
  maxBackoffMs?: number;
  /** Each backoff is stretched by up to this fraction at random, so many clients do not relist in step. @default 1 */
  backoffJitter?: number;
  /** The backoff starts again from initialBackoffMs once this long has passed since the last wait began. @default 120000 */
  backoffResetMs?: number;
  /** Uniform in [0, 1). @default Math.random */
  random?: () => number;
  /** @default warnings to stderr */
  logger?: ReflectorLogger;
}

export interface ReflectorStats {
  lists: number;
  watches: number;
  /** Watches ended by Expired. */
  expired: number;
  /** Lists and watches that failed otherwise. */
  errors: number;
  /** Watches reopened from the same revision after Unavailable, without a relist. */
  rewatches: number;
}

const stderrLogger: ReflectorLogger = { warn: (msg) => process.stderr.write(`${msg}\n`) };

export class Reflector<T extends KubeObject = KubeObject> {
  readonly name: string;
  readonly stats: ReflectorStats = { lists: 0, watches: 0, expired: 0, errors: 0, rewatches: 0 };
  private readonly clock: Clock;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly jitter: number;
  private readonly backoffResetMs: number;
  private readonly random: () => number;
  private readonly logger: ReflectorLogger;
  private rv = '';
  /** The next wait before jitter, and when the last one began (client-go's exponential backoff manager). */
  private nextBackoffMs: number;
  private lastBackoffAtMs: number | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private current: WatchStream<T> | undefined;
  private sleeping: { handle: TimerHandle; wake: () => void } | undefined;

  constructor(
    private readonly lw: ListWatcher<T>,
    private readonly sink: ReflectorSink<T>,
    o: ReflectorOptions = {},
  ) {
    this.name = o.name ?? 'objects';
    this.clock = o.clock ?? realClock;
    this.initialBackoffMs = o.initialBackoffMs ?? 800;
    this.maxBackoffMs = o.maxBackoffMs ?? 30_000;
    this.jitter = o.backoffJitter ?? 1;
    this.backoffResetMs = o.backoffResetMs ?? 120_000;
    this.random = o.random ?? Math.random;
    this.logger = o.logger ?? stderrLogger;
    if (!(this.initialBackoffMs > 0) || !(this.maxBackoffMs >= this.initialBackoffMs)) {
      throw new RangeError(`Cannot create reflector "${this.name}": expected 0 < initialBackoffMs <= maxBackoffMs, got ${this.initialBackoffMs} and ${this.maxBackoffMs}`);
    }
    this.nextBackoffMs = this.initialBackoffMs;
  }

  /** The revision of the last list, event or bookmark applied ("" before the first list). */
  get lastSyncResourceVersion(): string {
    return this.rv;
  }

  /** Starts listing and watching; resolves when stopped. */
  run(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Ends the watch and any backoff; run() resolves once an in-flight list returns. */
  stop(): void {
    this.stopped = true;
    this.current?.close();
    if (this.sleeping) {
      this.clock.clearTimeout(this.sleeping.handle);
      this.sleeping.wake();
    }
  }

  private async loop(): Promise<void> {
    let relist = true;
    while (!this.stopped) {
      if (relist && !(await this.listIntoSink())) {
        if (this.stopped) return;
        await this.backoff();
        continue;
      }
      if (this.stopped) return;
      const err = await this.watchUntilFailure();
      if (this.stopped) return;
      if (isApiError(err, 'Expired')) {
        this.stats.expired++;
        relist = true;
      } else if (isApiError(err, 'Unavailable')) {
        this.stats.errors++;
        this.stats.rewatches++;
        this.logger.warn(`Reflector "${this.name}": watch failed (${message(err)}); watching again from revision ${this.rv}`);
        relist = false;
      } else {
        this.stats.errors++;
        this.logger.warn(`Reflector "${this.name}": watch failed (${message(err)}); relisting`);
        relist = true;
      }
      await this.backoff();
    }
  }

  /** Lists and hands the list to the sink; false (logged) if either failed. */
  private async listIntoSink(): Promise<boolean> {
    let listed;
    try {
      this.stats.lists++;
      listed = await this.lw.list();
    } catch (err) {
      if (this.stopped) return false;
      this.stats.errors++;
      this.logger.warn(`Reflector "${this.name}": list failed (${message(err)}); retrying`);
      return false;
    }
    if (this.stopped) return false;
    // Set first: the sink is synced (and its waiters run) as the last object is stored.
    const previous = this.rv;
    this.rv = listed.resourceVersion;
    try {
      const storing = this.sink.replace(listed.items, listed.resourceVersion);
      if (storing) await storing;
      return true;
    } catch (err) {
      this.rv = previous;
      this.stats.errors++;
      this.logger.warn(`Reflector "${this.name}": could not store the list (${message(err)}); relisting`);
      return false;
    }
  }

  /** Watches from this.rv, reopening clean ends; returns what ended it (undefined when stopped). */
  private async watchUntilFailure(): Promise<unknown> {
    while (!this.stopped) {
      let w: WatchStream<T>;
      try {
        w = this.lw.watch({ resourceVersion: this.rv, allowBookmarks: true });
      } catch (err) {
        return err;
      }
      this.current = w;
      this.stats.watches++;
      let delivered = false;
      try {
        if (w.batches) {
          for await (const batch of w.batches()) {
            if (this.stopped) break;
            // The sink's handlers run for one event after another; stopping ends the batch too.
            for (let i = 0; i < batch.length && !this.stopped; i++) this.take(batch[i]);
            delivered = true;
          }
        } else {
          for await (const ev of w) {
            if (this.stopped) break;
            this.take(ev);
            delivered = true;
          }
        }
      } catch (err) {
        return err;
      } finally {
        this.current = undefined;
        w.close();
      }
      if (this.stopped) return undefined;
      // Ended cleanly: reopen from here; if it gave nothing, do not spin against the server.
      if (!delivered) await this.backoff();
    }
    return undefined;
  }

  private take(ev: ClientWatchEvent<T>): void {
    const rv = ev.object.metadata?.resourceVersion;
    if (rv) this.rv = rv;
    if (ev.type !== 'BOOKMARK') this.sink.apply(ev);
  }

  private backoff(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const nowMs = this.clock.nowMs();
    if (this.lastBackoffAtMs === undefined || nowMs - this.lastBackoffAtMs > this.backoffResetMs) this.nextBackoffMs = this.initialBackoffMs;
    this.lastBackoffAtMs = nowMs;
    const baseMs = this.nextBackoffMs;
    this.nextBackoffMs = Math.min(this.maxBackoffMs, baseMs * 2);
    const delayMs = baseMs * (1 + this.jitter * this.random());
    return new Promise((resolve) => {
      const wake = () => {
        this.sleeping = undefined;
        resolve();
      };
      this.sleeping = { handle: this.clock.setTimeout(wake, delayMs), wake };
    });
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
