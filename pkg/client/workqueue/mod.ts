export { WorkQueue, WorkQueueFullError, SHUTDOWN, type Shutdown, type WorkQueueOptions } from './queue.js';
export { DelayingQueue } from './delaying_queue.js';
export { RateLimitingQueue, type RateLimitingQueueOptions } from './rate_limiting_queue.js';
export { BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter, defaultControllerRateLimiter, type BucketOptions, type RateLimiter } from './rate_limiter.js';
export { WorkQueueMetrics } from './metrics.js';
export { runWorkers, type RunWorkersOptions } from './run_workers.js';
