// A delaying queue whose retries wait as a RateLimiter says, as client-go's
// RateLimitingInterface. The worker loop: get → sync → forget on success, addRateLimited on a
// transient error → always done.

import { DelayingQueue } from './delaying_queue.js';
import type { WorkQueueOptions } from './queue.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate_limiter.js';

export interface RateLimitingQueueOptions<T> extends WorkQueueOptions {
  /** @default defaultControllerRateLimiter on the queue's clock */
  rateLimiter?: RateLimiter<T>;
}

export class RateLimitingQueue<T = string> extends DelayingQueue<T> {
  readonly rateLimiter: RateLimiter<T>;

  constructor(o: RateLimitingQueueOptions<T> = {}) {
    super(o);
    this.rateLimiter = o.rateLimiter ?? defaultControllerRateLimiter<T>(this.clock);
  }

  /** Adds the item once the rate limiter allows (its per-item backoff grows with each call). */
  addRateLimited(item: T): void {
    if (this.isShuttingDown) return;
    this.addAfter(item, this.rateLimiter.when(item));
  }

  /** The item succeeded: its backoff starts again from the base. (It does not remove a queued item.) */
  forget(item: T): void {
    this.rateLimiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.rateLimiter.numRequeues(item);
  }
}
