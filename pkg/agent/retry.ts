// Optimistic-concurrency retries for the agent's writes: read the latest, change it, write it
// with its resourceVersion, and on Conflict start again from a fresh read, a bounded number of times.

import { isApiError } from '../apiserver/api_error.js';

/** Runs `attempt` until it does not fail with Conflict, at most `maxAttempts` times (the last Conflict is thrown). */
export async function retryOnConflict<T>(maxAttempts: number, attempt: (n: number) => Promise<T>): Promise<T> {
  if (!(Number.isSafeInteger(maxAttempts) && maxAttempts >= 1)) throw new RangeError(`Cannot retry: maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!isApiError(err, 'Conflict') || n >= maxAttempts) throw err;
    }
  }
}
