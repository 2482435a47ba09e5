// A work queue with addAfter, as client-go's DelayingInterface: the item is added when its delay
// has passed on the Clock. An item already waiting keeps the earlier of its two times. One Clock
// timer is armed, for the earliest item. Waiting items count against maxDepth like queued ones.

import type { TimerHandle } from '../../../raft/node/ports.js';
import { WorkQueue, WorkQueueFullError, type WorkQueueOptions } from './queue.js';

interface Waiting<T> {
  readyMs: number;
  seq: number;
  item: T;
  live: boolean;
}

/** How long an item due while the queue is full waits before the next try. */
const FULL_RETRY_MS = 1000;
/** The longest timer Node keeps as asked (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export class DelayingQueue<T = string> extends WorkQueue<T> {
  /** Min-heap by (readyMs, seq); entries superseded by an earlier time are marked not live. */
  private heap: Waiting<T>[] = [];
  private readonly waiting = new Map<T, Waiting<T>>();
  private seq = 0;
  private timer: { handle: TimerHandle; atMs: number } | undefined;

  constructor(o: WorkQueueOptions = {}) {
    super(o);
  }

  /** Adds the item after delayMs (at once when <= 0); counts as a retry in workqueue_retries_total. */
  addAfter(item: T, delayMs: number): void {
    if (this.isShuttingDown) return;
    if (Number.isNaN(delayMs)) throw new RangeError(`Cannot add to work queue "${this.name}" after a delay: delayMs is NaN`);
    this.countRetry();
    if (delayMs <= 0) {
      this.add(item);
      return;
    }
    const readyMs = this.clock.nowMs() + delayMs;
    const existing = this.waiting.get(item);
    if (existing !== undefined) {
      if (existing.readyMs <= readyMs) return;
      existing.live = false;
    } else if (this.waiting.size >= this.maxDepth) {
      throw new WorkQueueFullError(this.name, this.maxDepth);
    }
    this.wait(item, readyMs);
  }

  /** Items waiting for their delay to pass. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  protected countRetry(): void {
    this.metrics?.retries.inc({ name: this.name });
  }

  protected override onShutDown(): void {
    if (this.timer) this.clock.clearTimeout(this.timer.handle);
    this.timer = undefined;
    this.heap = [];
    this.waiting.clear();
  }

  private wait(item: T, readyMs: number): void {
    const w: Waiting<T> = { readyMs, seq: this.seq++, item, live: true };
    this.waiting.set(item, w);
    this.heapPush(w);
    // Superseded entries stay in the heap until due; rebuild before they outnumber the live ones.
    if (this.heap.length > 2 * this.waiting.size + 1024) {
      const live = [...this.waiting.values()];
      this.heap = [];
      for (const e of live) this.heapPush(e);
    }
    this.arm();
  }

  private arm(): void {
    while (this.heap.length > 0 && !this.heap[0].live) this.heapPop();
    const next = this.heap[0];
    if (next === undefined) return;
    if (this.timer && this.timer.atMs <= next.readyMs) return;
    if (this.timer) this.clock.clearTimeout(this.timer.handle);
    // Node fires a timer longer than MAX_TIMER_MS after 1 ms: a far item is looked at again every MAX_TIMER_MS instead.
    const handle = this.clock.setTimeout(() => this.fire(), Math.min(MAX_TIMER_MS, Math.max(0, next.readyMs - this.clock.nowMs())));
    this.timer = { handle, atMs: next.readyMs };
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.clock.nowMs();
    const blocked: T[] = [];
    while (this.heap.length > 0 && this.heap[0].readyMs <= now) {
      const w = this.heapPop()!;
      if (!w.live) continue;
      this.waiting.delete(w.item);
      try {
        this.add(w.item);
      } catch (err) {
        if (!(err instanceof WorkQueueFullError)) throw err;
        blocked.push(w.item);
      }
    }
    // Full: keep them waiting rather than lose them.
    for (const item of blocked) this.wait(item, now + FULL_RETRY_MS);
    this.arm();
  }

  private less(a: Waiting<T>, b: Waiting<T>): boolean {
    return a.readyMs < b.readyMs || (a.readyMs === b.readyMs && a.seq < b.seq);
  }

  private heapPush(w: Waiting<T>): void {
    const h = this.heap;
    h.push(w);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private heapPop(): Waiting<T> | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
