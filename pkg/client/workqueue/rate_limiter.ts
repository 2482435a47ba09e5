// How long to wait before retrying an item, as client-go's workqueue rate limiters: per-item
// exponential backoff, an overall token bucket, and the max of several. The default for
// controllers combines 5 ms doubling to 1000 s per item with 10 qps (burst 100) overall.

import { realClock, type Clock } from '../../../raft/node/ports.js';

export interface RateLimiter<T = string> {
  /** How long (ms) the item should wait before its next try; records the try. */
  when(item: T): number;
  /** The item succeeded: forget its failures. */
  forget(item: T): void;
  /** Tries recorded for the item since it was last forgotten. */
  numRequeues(item: T): number;
}

/** baseMs * 2^(failures so far), capped at maxMs. Remembers each item until forget(item). */
export class ItemExponentialFailureRateLimiter<T = string> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>();

  constructor(
    readonly baseMs: number,
    readonly maxMs: number,
  ) {
    if (!(baseMs > 0)) throw new RangeError(`Cannot create a backoff: baseMs must be > 0, got ${baseMs}`);
    if (!(maxMs >= baseMs)) throw new RangeError(`Cannot create a backoff: maxMs must be >= baseMs (${baseMs}), got ${maxMs}`);
  }

  when(item: T): number {
    const exp = this.failures.get(item) ?? 0;
    this.failures.set(item, exp + 1);
    const backoffMs = this.baseMs * 2 ** exp;
    return backoffMs > this.maxMs ? this.maxMs : backoffMs;
  }

  forget(item: T): void {
    this.failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }
}

export interface BucketOptions {
  /** Tokens added per second. */
  qps: number;
  /** Tokens the bucket holds (and starts with). */
  burst: number;
  /** @default realClock */
  clock?: Clock;
}

/**
 * A token bucket shared by all items: each try takes a token, and a try with none left is
 * delayed until its token will have been added (tokens go negative, reserving future ones).
 */
export class BucketRateLimiter<T = string> implements RateLimiter<T> {
  readonly qps: number;
  readonly burst: number;
  private readonly clock: Clock;
  private tokens: number;
  private lastMs: number;

  constructor(o: BucketOptions) {
    if (!(o.qps > 0)) throw new RangeError(`Cannot create a token bucket: qps must be > 0, got ${o.qps}`);
    if (!Number.isInteger(o.burst) || o.burst < 1) throw new RangeError(`Cannot create a token bucket: burst must be an integer >= 1, got ${o.burst}`);
    this.qps = o.qps;
    this.burst = o.burst;
    this.clock = o.clock ?? realClock;
    this.tokens = o.burst;
    this.lastMs = this.clock.nowMs();
  }

  when(_item: T): number {
    const now = this.clock.nowMs();
    if (now > this.lastMs) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastMs) * this.qps) / 1000);
      this.lastMs = now;
    }
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.qps;
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0;
  }
}

/** The longest wait any of the limiters asks for. */
export class MaxOfRateLimiter<T = string> implements RateLimiter<T> {
  private readonly limiters: readonly RateLimiter<T>[];

  constructor(...limiters: RateLimiter<T>[]) {
    if (limiters.length === 0) throw new RangeError('Cannot combine rate limiters: none given');
    this.limiters = limiters;
  }

  when(item: T): number {
    let ms = 0;
    // Every limiter records the try, so each one's state advances.
    for (const l of this.limiters) ms = Math.max(ms, l.when(item));
    return ms;
  }

  forget(item: T): void {
    for (const l of this.limiters) l.forget(item);
  }

  numRequeues(item: T): number {
    let n = 0;
    for (const l of this.limiters) n = Math.max(n, l.numRequeues(item));
    return n;
  }
}

/** client-go's DefaultControllerRateLimiter: max(5 ms * 2^n up to 1000 s per item, 10 qps burst 100 overall). */
export function defaultControllerRateLimiter<T = string>(clock: Clock = realClock): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(new ItemExponentialFailureRateLimiter<T>(5, 1_000_000), new BucketRateLimiter<T>({ qps: 10, burst: 100, clock }));
}
