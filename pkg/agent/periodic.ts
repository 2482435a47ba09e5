// A task run every intervalMs on an injected Clock, keeping its phase (the k-th run is due at
// firstDue + k * intervalMs, so many tasks given spread initial delays stay spread). A failed
// run is retried with doubling backoff (retryInitialMs up to retryMaxMs) until one succeeds,
// then the task returns to its phase. At most one run is in flight.

import type { Clock, TimerHandle } from '../../raft/node/ports.js';

export interface PeriodicOptions {
  clock: Clock;
  intervalMs: number;
  /** The first run is due this long after start(). @default 0 */
  initialDelayMs?: number;
  /** @default 200 */
  retryInitialMs?: number;
  /** @default 7000 */
  retryMaxMs?: number;
  /** Hears of each failed run (it is retried). */
  onError?: (err: unknown) => void;
}

export class Periodic {
  failures = 0;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private timer: TimerHandle | undefined;
  private firstDueMs = 0;
  private backoffMs = 0;
  private running = false;
  private inflight: Promise<void> | undefined;

  constructor(
    private readonly what: string,
    private readonly o: PeriodicOptions,
    private readonly task: () => Promise<void>,
  ) {
    this.retryInitialMs = o.retryInitialMs ?? 200;
    this.retryMaxMs = o.retryMaxMs ?? 7000;
    if (!(o.intervalMs > 0)) throw new RangeError(`Cannot schedule ${what}: the interval must be > 0 ms, got ${o.intervalMs}`);
    if (!(this.retryInitialMs > 0 && this.retryMaxMs >= this.retryInitialMs)) {
      throw new RangeError(`Cannot schedule ${what}: expected 0 < retryInitialMs <= retryMaxMs, got ${o.retryInitialMs} and ${o.retryMaxMs}`);
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.firstDueMs = this.o.clock.nowMs() + Math.max(0, this.o.initialDelayMs ?? 0);
    this.arm(this.firstDueMs - this.o.clock.nowMs());
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Runs the task now, or joins the run in flight (throws on failure; the schedule is not changed). */
  runNow(): Promise<void> {
    this.inflight ??= this.task().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private arm(delayMs: number): void {
    if (!this.running) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, delayMs);
  }

  private async tick(): Promise<void> {
    try {
      await this.runNow();
      this.backoffMs = 0;
      const now = this.o.clock.nowMs();
      const periods = Math.floor((now - this.firstDueMs) / this.o.intervalMs) + 1;
      this.arm(this.firstDueMs + periods * this.o.intervalMs - now);
    } catch (err) {
      this.failures++;
      this.o.onError?.(err);
      this.backoffMs = this.backoffMs === 0 ? this.retryInitialMs : Math.min(this.backoffMs * 2, this.retryMaxMs);
      this.arm(this.backoffMs);
    }
  }
}
