// The scheduler's Prometheus metrics, named and bucketed as kube-scheduler's. One set per Registry:
// a scheduler that loses and regains leadership is a new Scheduler on the same registry, so the
// pending-pods gauge reads whichever queue is current when scraped.

import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { LabeledCounter, LabeledHistogram } from "../metrics/labeled.js";
import type { PendingCounts } from "./queue/scheduling_queue.js";

export type AttemptResult = "scheduled" | "unschedulable" | "error";

/** Kubernetes' ExponentialBuckets(start, factor, count). */
function exponential(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start * factor ** i);
}

export class SchedulerMetrics {
  private static readonly byRegistry = new WeakMap<Registry, SchedulerMetrics>();

  // Observed for every pod: labeled.ts, not prom-client's own.
  /** From the first time the pod entered the queue to its binding. */
  readonly podSchedulingSliSeconds: LabeledHistogram<"attempts">;
  /** One attempt: the scheduling cycle, and for "scheduled" the binding too. */
  readonly attemptSeconds: LabeledHistogram<"result" | "profile">;
  readonly attempts: LabeledCounter<"result" | "profile">;
  readonly preemptionVictims: Histogram;
  readonly preemptionAttempts: Counter;
  /** Where the pending counts come from at scrape time. */
  pendingSource: (() => PendingCounts) | undefined;

  static for(registry: Registry): SchedulerMetrics {
    let m = SchedulerMetrics.byRegistry.get(registry);
    if (m === undefined) {
      m = new SchedulerMetrics(registry);
      SchedulerMetrics.byRegistry.set(registry, m);
    }
    return m;
  }

  private constructor(registry: Registry) {
    const registers = [registry];
    this.podSchedulingSliSeconds = new LabeledHistogram({
      name: "scheduler_pod_scheduling_sli_duration_seconds",
      help: "E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and might involve multiple scheduling attempts.",
      labelNames: ["attempts"],
      buckets: exponential(0.01, 2, 20),
      registers,
    });
    this.attemptSeconds = new LabeledHistogram({
      name: "scheduler_scheduling_attempt_duration_seconds",
      help: "Scheduling attempt latency in seconds (scheduling algorithm + binding)",
      labelNames: ["result", "profile"],
      buckets: exponential(0.001, 2, 15),
      registers,
    });
    this.attempts = new LabeledCounter({
      name: "scheduler_schedule_attempts_total",
      help: "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.",
      labelNames: ["result", "profile"],
      registers,
    });
    this.preemptionVictims = new Histogram({
      name: "scheduler_preemption_victims",
      help: "Number of selected preemption victims",
      buckets: exponential(1, 2, 7),
      registers,
    });
    this.preemptionAttempts = new Counter({ name: "scheduler_preemption_attempts_total", help: "Total preemption attempts in the cluster till now", registers });
    const self = this;
    new Gauge({
      name: "scheduler_pending_pods",
      help: "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
      labelNames: ["queue"],
      registers,
      collect() {
        const c = self.pendingSource?.() ?? { active: 0, backoff: 0, unschedulable: 0, gated: 0 };
        this.set({ queue: "active" }, c.active);
        this.set({ queue: "backoff" }, c.backoff);
        this.set({ queue: "unschedulable" }, c.unschedulable);
        this.set({ queue: "gated" }, c.gated);
      },
    });
  }

  /** Records one finished attempt (durations in seconds). */
  attempt(result: AttemptResult, profile: string, seconds: number): void {
    this.attempts.inc(this.attempts.child(result, profile));
    this.attemptSeconds.observe(this.attemptSeconds.child(result, profile), seconds);
  }

  /** A pod bound after `attempts` attempts ("1", ..., "15+"), `seconds` after it first entered the queue. */
  scheduled(attempts: string, seconds: number): void {
    this.podSchedulingSliSeconds.observe(this.podSchedulingSliSeconds.child(attempts), seconds);
  }
}
