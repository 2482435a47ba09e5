// A keyed work queue as client-go's workqueue.Interface: an item added while it waits is queued
// once; an item added while a worker holds it is queued again only after done(), so no item is
// ever processed by two workers at once ("stingy"). get() waits for an item. After shutDown(),
// adds are ignored, get() still hands out what was queued (draining), then SHUTDOWN.
//
// Bounded: at most maxDepth distinct items wait (queued, or re-added while processing). Adding a
// new item beyond that throws WorkQueueFullError rather than dropping it silently, so the caller
// (usually an informer handler, which logs it) knows an event was not recorded; re-adding an item
// already waiting is always accepted, since it costs nothing.

import type { Registry } from 'prom-client';
import { realClock, type Clock } from '../../../raft/node/ports.js';
import { WorkQueueMetrics, type InProgressSource } from './metrics.js';

/** What get() resolves with once the queue is shut down and drained. */
export const SHUTDOWN: unique symbol = Symbol('workqueue shut down');
export type Shutdown = typeof SHUTDOWN;

export class WorkQueueFullError extends Error {
  override name = 'WorkQueueFullError';
  constructor(
    readonly queueName: string,
    readonly maxDepth: number,
  ) {
    super(`Cannot add to work queue "${queueName}": it already holds maxDepth=${maxDepth} items`);
  }
}

export interface WorkQueueOptions {
  /** Names the queue in errors and in the metrics' `name` label. @default "unnamed" */
  name?: string;
  /** @default realClock */
  clock?: Clock;
  /** Distinct items that may wait at once. @default 1000000 */
  maxDepth?: number;
  /** Report workqueue_* metrics here (label name = the queue's name). */
  registry?: Registry;
}

export class WorkQueue<T = string> {
  readonly name: string;
  readonly maxDepth: number;
  protected readonly clock: Clock;
  /** Items waiting for a worker, in order; `head` is the next one (popping is O(1)). */
  private items: T[] = [];
  private head = 0;
  /** Items that need processing: queued, or re-added while a worker holds them. */
  private readonly dirty = new Set<T>();
  /** Items a worker holds, with when it got them (ms). */
  private readonly processing = new Map<T, number>();
  /** When each dirty item was added (ms), for the queue latency. */
  private readonly addedAtMs = new Map<T, number>();
  private readonly waiters: Array<(item: T | Shutdown) => void> = [];
  private shuttingDown = false;
  private drained: Array<() => void> = [];
  protected readonly metrics: WorkQueueMetrics | undefined;
  private readonly inProgress: InProgressSource;

  constructor(o: WorkQueueOptions = {}) {
    this.name = o.name ?? 'unnamed';
    this.clock = o.clock ?? realClock;
    this.maxDepth = o.maxDepth ?? 1_000_000;
    if (!Number.isInteger(this.maxDepth) || this.maxDepth < 1) throw new RangeError(`Cannot create work queue "${this.name}": maxDepth must be an integer >= 1, got ${o.maxDepth}`);
    this.inProgress = {
      unfinishedWorkSeconds: () => {
        const now = this.clock.nowMs();
        let sum = 0;
        for (const start of this.processing.values()) sum += now - start;
        return sum / 1000;
      },
      longestRunningProcessorSeconds: () => {
        const now = this.clock.nowMs();
        let oldest = now;
        for (const start of this.processing.values()) oldest = Math.min(oldest, start);
        return (now - oldest) / 1000;
      },
    };
    if (o.registry) {
      this.metrics = WorkQueueMetrics.for(o.registry);
      this.metrics.attach(this.name, this.inProgress);
      this.metrics.depth.set({ name: this.name }, 0);
    }
  }

  /** Queues the item unless it already waits; ignored after shutDown. Throws WorkQueueFullError at maxDepth. */
  add(item: T): void {
    if (this.shuttingDown || this.dirty.has(item)) return;
    if (this.dirty.size >= this.maxDepth) throw new WorkQueueFullError(this.name, this.maxDepth);
    this.dirty.add(item);
    this.addedAtMs.set(item, this.clock.nowMs());
    this.metrics?.adds.inc({ name: this.name });
    this.metrics?.depth.set({ name: this.name }, this.dirty.size);
    // A worker holds it: done() queues it again.
    if (this.processing.has(item)) return;
    this.push(item);
  }

  /** The next item (waiting for one if none is queued), or SHUTDOWN once shut down and drained. Call done(item) when finished with it. */
  get(): Promise<T | Shutdown> {
    if (this.length > 0) return Promise.resolve(this.pop());
    if (this.shuttingDown) return Promise.resolve(SHUTDOWN);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The worker is finished with the item; if it was added meanwhile, it is queued again. */
  done(item: T): void {
    const start = this.processing.get(item);
    if (start === undefined) return;
    this.processing.delete(item);
    this.metrics?.workSeconds.observe({ name: this.name }, (this.clock.nowMs() - start) / 1000);
    if (this.dirty.has(item)) this.push(item);
    else this.checkDrained();
  }

  /** Stops accepting items; get() hands out what is queued, then resolves with SHUTDOWN. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.onShutDown();
    // Waiters exist only while nothing is queued.
    for (const w of this.waiters.splice(0)) w(SHUTDOWN);
    this.metrics?.detach(this.name, this.inProgress);
    this.checkDrained();
  }

  /** shutDown(), then resolves when every queued item has been handed out and done. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Items queued for a worker (not counting ones being processed). */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Items workers hold now. */
  get processingCount(): number {
    return this.processing.size;
  }

  /** Subclasses stop their own machinery (timers) here. */
  protected onShutDown(): void {}

  private push(item: T): void {
    const w = this.waiters.shift();
    if (w !== undefined) {
      // A worker is waiting, so nothing else is queued: hand the item over directly.
      this.items.push(item);
      w(this.pop());
      return;
    }
    this.items.push(item);
  }

  private pop(): T {
    const item = this.items[this.head];
    this.items[this.head] = undefined as T;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    const now = this.clock.nowMs();
    this.processing.set(item, now);
    this.dirty.delete(item);
    const added = this.addedAtMs.get(item);
    this.addedAtMs.delete(item);
    if (this.metrics) {
      if (added !== undefined) this.metrics.queueSeconds.observe({ name: this.name }, (now - added) / 1000);
      this.metrics.depth.set({ name: this.name }, this.dirty.size);
    }
    return item;
  }

  private isDrained(): boolean {
    return this.length === 0 && this.processing.size === 0;
  }

  private checkDrained(): void {
    if (this.shuttingDown && this.drained.length > 0 && this.isDrained()) for (const d of this.drained.splice(0)) d();
  }
}
