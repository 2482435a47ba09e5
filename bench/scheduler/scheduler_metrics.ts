// The scheduler's own view of a case from the lease holder's /metrics, before and after:
// scheduler_pod_scheduling_sli_duration_seconds, quantiles interpolated within the histogram
// buckets, and how many of the scheduler's Events were written and dropped.

export interface Histogram {
  /** Cumulative counts by upper bound (seconds), ascending; the last is +Inf. */
  buckets: Array<{ le: number; count: number }>;
  count: number;
}

const NAME = 'scheduler_pod_scheduling_sli_duration_seconds';

/** Sums the histogram's series (every label set) from exposition text; undefined when absent. */
export function parseHistogram(text: string, name = NAME): Histogram | undefined {
  const byLe = new Map<number, number>();
  const re = new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    const le = /(?:^|,)le="([^"]+)"/.exec(m[1])?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    byLe.set(bound, (byLe.get(bound) ?? 0) + Number(m[2]));
  }
  if (byLe.size === 0) return undefined;
  const buckets = [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
  return { buckets, count: buckets[buckets.length - 1].count };
}

export function diff(after: Histogram, before: Histogram | undefined): Histogram {
  if (!before) return after;
  const old = new Map(before.buckets.map((b) => [b.le, b.count]));
  const buckets = after.buckets.map((b) => ({ le: b.le, count: b.count - (old.get(b.le) ?? 0) }));
  return { buckets, count: buckets[buckets.length - 1].count };
}

/** Quantile q (0..1) in ms, linear within its bucket as Prometheus' histogram_quantile; NaN when empty. */
export function quantileMs(h: Histogram, q: number): number {
  if (h.count <= 0) return NaN;
  const rank = q * h.count;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe * 1000;
      const inBucket = b.count - prevCount;
      const frac = inBucket > 0 ? (rank - prevCount) / inBucket : 1;
      return (prevLe + (b.le - prevLe) * frac) * 1000;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe * 1000;
}

/** Sums a counter's series whose labels include every `labels` pair. */
export function parseCounter(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  const re = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    if (Object.entries(labels).every(([k, v]) => m[1].split(',').includes(`${k}="${v}"`))) sum += Number(m[2]);
  }
  return sum;
}

export interface SchedulerScrape {
  sli: Histogram | undefined;
  /** The scheduler's Events written (created or patched) and dropped (its recorder's queue was full). */
  events: { written: number; dropped: number };
}

const SCHEDULER_COMPONENT = { component: 'default-scheduler' };

export function parseSchedulerMetrics(text: string): SchedulerScrape {
  const written = parseCounter(text, 'event_recorder_writes_total', { ...SCHEDULER_COMPONENT, result: 'created' }) + parseCounter(text, 'event_recorder_writes_total', { ...SCHEDULER_COMPONENT, result: 'patched' });
  return { sli: parseHistogram(text), events: { written, dropped: parseCounter(text, 'event_recorder_dropped_events_total', SCHEDULER_COMPONENT) } };
}

export async function scrape(metricsAddress: string): Promise<SchedulerScrape | undefined> {
  try {
    const res = await fetch(`http://${metricsAddress}/metrics`, { signal: AbortSignal.timeout(30_000) });
    return parseSchedulerMetrics(await res.text());
  } catch {
    return undefined;
  }
}
