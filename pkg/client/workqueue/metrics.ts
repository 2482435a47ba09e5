// The work queues' Prometheus metrics, named and labelled as client-go's (label `name` = the
// queue). One set per Registry, shared by every queue that reports there. The two "in progress"
// gauges are computed when scraped, from the queues' own clocks, so no timer runs for them.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** client-go's buckets: 10 ns to 1000 s, by factors of 10. */
const DURATION_BUCKETS_S = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);

/** What a queue reports at scrape time. */
export interface InProgressSource {
  /** Seconds spent so far on items still being processed, summed. */
  unfinishedWorkSeconds(): number;
  /** Seconds the longest-running item still being processed has taken. */
  longestRunningProcessorSeconds(): number;
}

export class WorkQueueMetrics {
  private static readonly byRegistry = new WeakMap<Registry, WorkQueueMetrics>();

  readonly depth: Gauge<'name'>;
  readonly adds: Counter<'name'>;
  readonly queueSeconds: Histogram<'name'>;
  readonly workSeconds: Histogram<'name'>;
  readonly retries: Counter<'name'>;
  private readonly sources = new Map<string, InProgressSource>();
  private readonly unfinished: Gauge<'name'>;
  private readonly longest: Gauge<'name'>;

  /** The metrics in this registry (created on first use). */
  static for(registry: Registry): WorkQueueMetrics {
    let m = WorkQueueMetrics.byRegistry.get(registry);
    if (m === undefined) {
      m = new WorkQueueMetrics(registry);
      WorkQueueMetrics.byRegistry.set(registry, m);
    }
    return m;
  }

  private constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ['name'] as const;
    this.depth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames, registers });
    this.adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames, registers });
    this.queueSeconds = new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested', labelNames, buckets: DURATION_BUCKETS_S, registers });
    this.workSeconds = new Histogram({ name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes', labelNames, buckets: DURATION_BUCKETS_S, registers });
    this.retries = new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames, registers });
    const sources = this.sources;
    this.unfinished = new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help: 'How many seconds of work has been done that is in progress and hasn\'t been observed by work_duration. Large values indicate stuck threads.',
      labelNames,
      registers,
      collect() {
        for (const [name, s] of sources) this.set({ name }, s.unfinishedWorkSeconds());
      },
    });
    this.longest = new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running.',
      labelNames,
      registers,
      collect() {
        for (const [name, s] of sources) this.set({ name }, s.longestRunningProcessorSeconds());
      },
    });
  }

  /** A queue starts reporting; names are unique per registry while the queue runs. */
  attach(name: string, source: InProgressSource): void {
    if (this.sources.has(name)) throw new Error(`Cannot create work queue "${name}": a running queue with that name already reports to this registry`);
    this.sources.set(name, source);
  }

  /** A shut-down queue stops reporting in-progress figures (its counters stay). */
  detach(name: string, source: InProgressSource): void {
    if (this.sources.get(name) !== source) return;
    this.sources.delete(name);
    this.unfinished.set({ name }, 0);
    this.longest.set({ name }, 0);
  }
}
