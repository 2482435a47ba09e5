// Samples the node's and its pods' cumulative CPU time and current memory every intervalMs on the
// given Clock, keeping only the last two samples: CPU rates (nanocores) are the difference between
// them over the time between them, as the kubelet's summary computes usageNanoCores. Memory is the
// newer sample's. Only containers the pod workers made (pod labels) and that are running count.

import type { NodeSummary, PodUsage } from '../../../gen/navarch/agent/v1/stats.js';
import type { Clock, TimerHandle } from '../../../raft/node/ports.js';
import { LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from '../pods/container_config.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { NodeProc } from './proc.js';

interface ContainerSample {
  namespace: string;
  pod: string;
  uid: string;
  container: string;
  cpuNanos: number;
  memoryBytes: number;
  atMs: number;
}

interface Sample {
  atMs: number;
  cpuNanos: number;
  memoryBytes: number;
  memoryTotalBytes: number;
  /** By container id; holds only the containers running at this sample, so it is bounded by them. */
  containers: Map<string, ContainerSample>;
}

export interface SamplerOptions {
  runtime: Pick<ContainerRuntime, 'listContainers' | 'stats'>;
  proc: NodeProc;
  clock: Clock;
  /** @default 10000 (the kubelet's housekeeping interval) */
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

/** Rate of a cumulative counter; a counter that went back (a restart) gives no rate. */
const rate = (nanosNew: number, nanosOld: number, windowMs: number): number | undefined =>
  windowMs > 0 && nanosNew >= nanosOld ? Math.round(((nanosNew - nanosOld) * 1000) / windowMs) : undefined;

export class StatsSampler {
  private prev: Sample | undefined;
  private last: Sample | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly o: SamplerOptions) {}

  /** Samples now and then every intervalMs until stop(). */
  start(): void {
    this.stopped = false;
    const tick = async (): Promise<void> => {
      try {
        await this.sampleOnce();
      } catch (err) {
        this.o.onError?.(err);
      }
      if (!this.stopped) this.timer = this.o.clock.setTimeout(() => void tick(), this.o.intervalMs ?? 10_000);
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  async sampleOnce(): Promise<void> {
    const atMs = this.o.clock.nowMs();
    const cpuNanos = this.o.proc.cpuNanos();
    const mem = this.o.proc.memory();
    const containers = new Map<string, ContainerSample>();
    for (const c of await this.o.runtime.listContainers()) {
      const uid = c.labels[LABEL_POD_UID];
      if (c.phase !== 'running' || !uid) continue;
      const s = await this.o.runtime.stats(c.id);
      if (!s) continue;
      containers.set(c.id, {
        namespace: c.labels[LABEL_POD_NAMESPACE] ?? '',
        pod: c.labels[LABEL_POD_NAME] ?? '',
        uid,
        container: c.containerName,
        cpuNanos: s.cpuUsageNanos,
        memoryBytes: s.memoryWorkingSetBytes,
        atMs: s.timestampMs,
      });
    }
    this.prev = this.last;
    this.last = { atMs, cpuNanos, memoryBytes: mem.workingSetBytes, memoryTotalBytes: mem.totalBytes, containers };
  }

  /** Undefined until two samples exist. */
  summary(): NodeSummary | undefined {
    const { prev, last } = this;
    if (!prev || !last) return undefined;
    const windowMs = last.atMs - prev.atMs;
    const pods = new Map<string, PodUsage>();
    for (const [id, c] of last.containers) {
      const old = prev.containers.get(id);
      const cpu = old ? rate(c.cpuNanos, old.cpuNanos, c.atMs - old.atMs) : undefined;
      if (cpu === undefined) continue;
      let p = pods.get(c.uid);
      if (!p) pods.set(c.uid, (p = { namespace: c.namespace, name: c.pod, uid: c.uid, containers: [] }));
      p.containers.push({ name: c.container, cpuNanocores: cpu, memoryWorkingSetBytes: c.memoryBytes });
    }
    return {
      timestampMs: last.atMs,
      windowMs,
      nodeCpuNanocores: rate(last.cpuNanos, prev.cpuNanos, windowMs) ?? 0,
      nodeMemoryWorkingSetBytes: last.memoryBytes,
      nodeMemoryTotalBytes: last.memoryTotalBytes,
      pods: [...pods.values()],
    };
  }
}
