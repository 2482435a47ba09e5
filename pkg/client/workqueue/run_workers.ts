// The controller worker loop (sample-controller's processNextWorkItem) once, for every
// controller: get → sync → forget on success, addRateLimited on failure → always done.

import { SHUTDOWN, WorkQueueFullError } from './queue.js';
import type { RateLimitingQueue } from './rate_limiting_queue.js';

export interface RunWorkersOptions<T> {
  /** Items synced at once (never the same item twice at once). @default 1 */
  workers?: number;
  /** After this many retries an item is dropped (forgotten) instead of requeued. @default Infinity */
  maxRetries?: number;
  /** Hears of every failed sync; `requeued` false when the item was dropped. */
  onError?: (item: T, err: unknown, requeued: boolean) => void;
}

/** Runs `workers` loops over the queue; resolves once it is shut down and every loop has finished. */
export async function runWorkers<T>(queue: RateLimitingQueue<T>, sync: (item: T) => Promise<void>, o: RunWorkersOptions<T> = {}): Promise<void> {
  const workers = o.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`Cannot run workers for queue "${queue.name}": workers must be an integer >= 1, got ${o.workers}`);
  const maxRetries = o.maxRetries ?? Infinity;
  const worker = async (): Promise<void> => {
    for (;;) {
      const item = await queue.get();
      if (item === SHUTDOWN) return;
      try {
        await sync(item);
        queue.forget(item);
      } catch (err) {
        let requeue = queue.numRequeues(item) < maxRetries;
        if (requeue) {
          try {
            queue.addRateLimited(item);
          } catch (full) {
            // A full queue drops the retry (and says so), never the worker: it goes on with the rest.
            if (!(full instanceof WorkQueueFullError)) throw full;
            requeue = false;
          }
        }
        if (!requeue) queue.forget(item);
        o.onError?.(item, err, requeue);
      } finally {
        queue.done(item);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
}
