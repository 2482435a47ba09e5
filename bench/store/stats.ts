// Latency samples and the figures the tables print (milliseconds throughout).

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Percentile q (0..1) of ascending samples; NaN when there are none. */
export function percentile(sortedMs: readonly number[], q: number): number {
  if (sortedMs.length === 0) return NaN;
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor(q * sortedMs.length))];
}

export function summarize(samplesMs: number[]): LatencySummary {
  const s = Float64Array.from(samplesMs).sort();
  const arr = Array.from(s);
  return { count: arr.length, p50Ms: percentile(arr, 0.5), p99Ms: percentile(arr, 0.99), maxMs: arr.length ? arr[arr.length - 1] : NaN };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls check until it returns true, failing with what was awaited once timeoutMs has passed. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, pollMs = 5): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}
