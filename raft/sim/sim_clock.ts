// Virtual time for the simulator: timers fire only when the runner says so,
// in order of due time and then of creation, so a seed replays exactly.

import type { Clock, TimerHandle } from '../node/ports.js';

interface Timer {
  id: number;
  dueMs: number;
  fn: () => void;
  cancelled: boolean;
}

export class SimClock implements Clock {
  private now: number;
  private nextId = 1;
  private heap: Timer[] = [];
  private live = new Map<number, Timer>();

  constructor(startMs = 0) {
    this.now = startMs;
  }

  nowMs(): number {
    return this.now;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    if (Number.isNaN(delayMs)) throw new RangeError('Cannot set a timer: delayMs is NaN');
    const t: Timer = { id: this.nextId++, dueMs: this.now + Math.max(0, delayMs), fn, cancelled: false };
    this.live.set(t.id, t);
    this.push(t);
    return { id: t.id };
  }

  clearTimeout(handle: TimerHandle): void {
    const id = (handle as { id?: unknown }).id;
    if (typeof id !== 'number') return;
    const t = this.live.get(id);
    if (t === undefined) return;
    t.cancelled = true;
    this.live.delete(id);
  }

  /** Timers set and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.live.size;
  }

  /** When the next timer is due, or undefined if none is set. */
  nextDueMs(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.dueMs;
  }

  /** Fires the next timer, moving time to it; false when none is set. */
  runNext(): boolean {
    this.dropCancelled();
    const t = this.pop();
    if (t === undefined) return false;
    this.live.delete(t.id);
    if (t.dueMs > this.now) this.now = t.dueMs;
    t.fn();
    return true;
  }

  /** Fires every timer due at or before tMs (including ones they set), then sets time to tMs. */
  advanceTo(tMs: number): void {
    if (tMs < this.now) throw new RangeError(`Cannot move time back to ${tMs} ms: it is already ${this.now} ms`);
    for (;;) {
      const due = this.nextDueMs();
      if (due === undefined || due > tMs) break;
      this.runNext();
    }
    this.now = tMs;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0].cancelled) this.pop();
  }

  private less(a: Timer, b: Timer): boolean {
    return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.id < b.id);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): Timer | undefined {
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
