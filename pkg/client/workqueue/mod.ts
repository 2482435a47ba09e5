// Work queues for controllers: keyed and deduplicated, never the same key in two workers at once,
// delayed and rate-limited retries, bounded, with workqueue_* metrics, all on an injected Clock.
//
//   const queue = new RateLimitingQueue({ name: 'deployment', clock, registry });
//   informer.addEventHandler({ onAdd: (d) => queue.add(objectKey(d)), ... });
//   void runWorkers(queue, (key) => syncDeployment(key), { workers: 4 });
//   ...
//   queue.shutDown();

export { WorkQueue, WorkQueueFullError, SHUTDOWN, type Shutdown, type WorkQueueOptions } from './queue.js';
export { DelayingQueue } from './delaying_queue.js';
export { RateLimitingQueue, type RateLimitingQueueOptions } from './rate_limiting_queue.js';
export { BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter, defaultControllerRateLimiter, type BucketOptions, type RateLimiter } from './rate_limiter.js';
export { WorkQueueMetrics } from './metrics.js';
export { runWorkers, type RunWorkersOptions } from './run_workers.js';
