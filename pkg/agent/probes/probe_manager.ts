// Probe workers, as the kubelet's prober manager runs them: one per (pod, container, kind) for
// the container's startup, liveness and readiness probes, on the injected Clock.
//
// - A worker first probes initialDelaySeconds after the container started, then every
//   periodSeconds (a fixed rate: a tick that finds the previous probe still queued or running is
//   skipped).
// - A result changes the worker's state only after successThreshold successes or
//   failureThreshold failures in a row; unknown results (the probe could not run) do not count.
// - Startup gates the others: liveness and readiness begin only once the startup probe has
//   succeeded, and the startup worker then stops.
// - Liveness or startup failing past the threshold calls onRestart once; the worker then holds
//   until the pod worker reports a new container (containerStarted with a new id).
// - Readiness is false until the readiness probe succeeds.
// At most maxConcurrentProbes probes run at once; the rest wait in a queue that holds each worker
// at most once, so it is bounded by the number of workers.

import type { Container, Pod, Probe } from '../../../gen/navarch/api/v1/core.js';
import type { Clock, TimerHandle } from '../../../raft/node/ports.js';
import type { ExecFn, ProbeOutcome, ProbeResult } from './outcome.js';
import { PROBE_DEFAULTS, runProbe, type ProbeTarget } from './probe.js';

export type ProbeKind = 'startup' | 'liveness' | 'readiness';

export interface ProbeManagerOptions {
  clock: Clock;
  /**
   * Liveness or startup failed past its threshold: the container must be restarted. `o` carries the
   * probe's own terminationGracePeriodSeconds, which then overrides the pod's.
   */
  onRestart(podUid: string, containerName: string, reason: string, o: { kind: ProbeKind; terminationGracePeriodSeconds?: number }): void;
  /** Readiness or started changed for this container. */
  onChange?(podUid: string, containerName: string): void;
  /** Probes running at once. @default 32 */
  maxConcurrentProbes?: number;
  /** Runs one probe; the real prober unless a test stands in. @default runProbe */
  run?: (probe: Probe, target: ProbeTarget, clock: Clock, field: string) => Promise<ProbeOutcome>;
}

export interface ContainerStart {
  /** The runtime id of this run of the container; a new id resets the workers. */
  containerId: string;
  startedAtMs: number;
  podIP: string;
  exec: ExecFn;
}

interface Params {
  initialDelayMs: number;
  periodMs: number;
  successThreshold: number;
  failureThreshold: number;
}

interface Worker {
  kind: ProbeKind;
  probe: Probe;
  field: string;
  params: Params;
  timer?: TimerHandle;
  /** Queued or running. */
  busy: boolean;
  onHold: boolean;
  lastResult?: ProbeResult;
  resultRun: number;
  stopped: boolean;
}

interface Entry {
  podUid: string;
  container: Container;
  start: ContainerStart;
  started: boolean;
  ready: boolean;
  hasStartup: boolean;
  hasReadiness: boolean;
  workers: Worker[];
}

const KIND_FIELD: Record<ProbeKind, 'startupProbe' | 'livenessProbe' | 'readinessProbe'> = { startup: 'startupProbe', liveness: 'livenessProbe', readiness: 'readinessProbe' };
const KIND_LABEL: Record<ProbeKind, string> = { startup: 'Startup', liveness: 'Liveness', readiness: 'Readiness' };

function params(p: Probe, kind: ProbeKind): Params {
  const positive = (v: number | undefined, d: number) => (v !== undefined && v > 0 ? v : d);
  return {
    initialDelayMs: Math.max(0, p.initialDelaySeconds ?? 0) * 1000,
    periodMs: positive(p.periodSeconds, PROBE_DEFAULTS.periodSeconds) * 1000,
    // Liveness and startup must succeed once, as Kubernetes' validation requires.
    successThreshold: kind === 'readiness' ? positive(p.successThreshold, PROBE_DEFAULTS.successThreshold) : 1,
    failureThreshold: positive(p.failureThreshold, PROBE_DEFAULTS.failureThreshold),
  };
}

const key = (podUid: string, containerName: string) => `${podUid}/${containerName}`;

export class ProbeManager {
  private readonly entries = new Map<string, Entry>();
  private readonly queue: Array<{ entry: Entry; worker: Worker }> = [];
  private running = 0;
  private readonly maxConcurrentProbes: number;
  private readonly run: NonNullable<ProbeManagerOptions['run']>;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly o: ProbeManagerOptions) {
    this.maxConcurrentProbes = o.maxConcurrentProbes ?? 32;
    if (!(Number.isSafeInteger(this.maxConcurrentProbes) && this.maxConcurrentProbes >= 1)) throw new RangeError(`Cannot create the probe manager: maxConcurrentProbes must be an integer >= 1, got ${o.maxConcurrentProbes}`);
    this.run = o.run ?? runProbe;
  }

  /** Workers alive (one per probe of each known container). */
  get workerCount(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.workers.filter((w) => !w.stopped).length;
    return n;
  }

  /** Probes running now and waiting for a slot. */
  get pendingProbes(): number {
    return this.running + this.queue.length;
  }

  /** The pod worker started (or found running) this container; a new containerId resets its probes. */
  containerStarted(pod: Pod, containerName: string, start: ContainerStart): void {
    const podUid = pod.metadata?.uid;
    if (!podUid) throw new RangeError('Cannot probe a pod without metadata.uid');
    const k = key(podUid, containerName);
    const cur = this.entries.get(k);
    if (cur && cur.start.containerId === start.containerId) return;
    if (cur) this.stopEntry(cur);
    // Regular containers, and sidecars (init containers that restart Always), may have probes.
    let list: 'containers' | 'initContainers' = 'containers';
    let index = (pod.spec?.containers ?? []).findIndex((c) => c.name === containerName);
    if (index < 0) {
      list = 'initContainers';
      index = (pod.spec?.initContainers ?? []).findIndex((c) => c.name === containerName && c.restartPolicy === 'Always');
    }
    const container = index < 0 ? undefined : pod.spec?.[list][index];
    if (!container) throw new RangeError(`Cannot probe container ${JSON.stringify(containerName)}: not a container or sidecar of pod ${pod.metadata?.namespace}/${pod.metadata?.name}`);
    const entry: Entry = { podUid, container, start, started: !container.startupProbe, ready: false, hasStartup: Boolean(container.startupProbe), hasReadiness: Boolean(container.readinessProbe), workers: [] };
    for (const kind of ['startup', 'liveness', 'readiness'] as const) {
      const probe = container[KIND_FIELD[kind]];
      if (probe) entry.workers.push({ kind, probe, field: `spec.${list}[${index}].${KIND_FIELD[kind]}`, params: params(probe, kind), busy: false, onHold: false, resultRun: 0, stopped: false });
    }
    this.entries.set(k, entry);
    for (const w of entry.workers) if (w.kind === 'startup' || entry.started) this.scheduleFirst(entry, w);
    if (cur) this.o.onChange?.(podUid, containerName);
  }

  /** The container is no longer running: its workers stop and its results are forgotten. */
  containerStopped(podUid: string, containerName: string): void {
    const e = this.entries.get(key(podUid, containerName));
    if (!e) return;
    this.stopEntry(e);
    this.entries.delete(key(podUid, containerName));
  }

  removePod(podUid: string): void {
    for (const e of [...this.entries.values()]) if (e.podUid === podUid) this.containerStopped(podUid, e.container.name ?? '');
  }

  /**
   * Whether the probes let the container count as ready: false before startup succeeded and until
   * readiness succeeds. Undefined when the container has neither a readiness nor a startup probe
   * (ready once running) or is not known here.
   */
  isReady(podUid: string, containerName: string): boolean | undefined {
    const e = this.entries.get(key(podUid, containerName));
    if (!e || (!e.hasReadiness && !e.hasStartup)) return undefined;
    return e.started && (!e.hasReadiness || e.ready);
  }

  /** Whether the startup probe has succeeded; undefined without a startup probe or for an unknown container. */
  isStarted(podUid: string, containerName: string): boolean | undefined {
    const e = this.entries.get(key(podUid, containerName));
    if (!e || !e.hasStartup) return undefined;
    return e.started;
  }

  /** Stops every worker. */
  stop(): void {
    for (const e of this.entries.values()) this.stopEntry(e);
    this.entries.clear();
  }

  /** Resolves once no probe is running or queued (for tests and shutdown). */
  idle(): Promise<void> {
    if (this.pendingProbes === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private stopEntry(e: Entry): void {
    for (const w of e.workers) {
      w.stopped = true;
      if (w.timer !== undefined) this.o.clock.clearTimeout(w.timer);
      w.timer = undefined;
    }
  }

  private scheduleFirst(e: Entry, w: Worker): void {
    const now = this.o.clock.nowMs();
    const due = Math.max(now, e.start.startedAtMs + w.params.initialDelayMs);
    this.scheduleAt(e, w, due);
  }

  private scheduleAt(e: Entry, w: Worker, dueMs: number): void {
    if (w.stopped) return;
    w.timer = this.o.clock.setTimeout(() => this.tick(e, w, dueMs), Math.max(0, dueMs - this.o.clock.nowMs()));
  }

  private tick(e: Entry, w: Worker, dueMs: number): void {
    w.timer = undefined;
    if (w.stopped) return;
    this.scheduleAt(e, w, dueMs + w.params.periodMs);
    if (w.busy || w.onHold) return;
    w.busy = true;
    this.queue.push({ entry: e, worker: w });
    this.pump();
  }

  private pump(): void {
    while (this.running < this.maxConcurrentProbes && this.queue.length > 0) {
      const { entry, worker } = this.queue.shift()!;
      if (worker.stopped) {
        worker.busy = false;
        continue;
      }
      this.running++;
      const target: ProbeTarget = { container: entry.container, podIP: entry.start.podIP, exec: entry.start.exec };
      this.run(worker.probe, target, this.o.clock, worker.field)
        .catch((err: unknown): ProbeOutcome => ({ result: 'unknown', output: String(err) }))
        .then((outcome) => {
          this.running--;
          worker.busy = false;
          if (!worker.stopped) this.record(entry, worker, outcome);
          this.pump();
          if (this.pendingProbes === 0) for (const r of this.idleWaiters.splice(0)) r();
        });
    }
  }

  private record(e: Entry, w: Worker, outcome: ProbeOutcome): void {
    if (outcome.result === 'unknown') return;
    if (w.lastResult === outcome.result) w.resultRun++;
    else {
      w.lastResult = outcome.result;
      w.resultRun = 1;
    }
    const threshold = outcome.result === 'success' ? w.params.successThreshold : w.params.failureThreshold;
    if (w.resultRun < threshold) return;
    const containerName = e.container.name ?? '';
    switch (w.kind) {
      case 'readiness': {
        const ready = outcome.result === 'success';
        if (ready !== e.ready) {
          e.ready = ready;
          this.o.onChange?.(e.podUid, containerName);
        }
        return;
      }
      case 'startup':
        if (outcome.result === 'success') {
          e.started = true;
          this.stopWorker(w);
          for (const other of e.workers) if (other.kind !== 'startup') this.scheduleFirst(e, other);
          this.o.onChange?.(e.podUid, containerName);
          return;
        }
        break;
      case 'liveness':
        if (outcome.result === 'success') return;
        break;
    }
    // Liveness or startup failed past the threshold: restart, and wait for the next container.
    w.onHold = true;
    w.resultRun = 0;
    this.o.onRestart(e.podUid, containerName, `${KIND_LABEL[w.kind]} probe failed: ${outcome.output}`, { kind: w.kind, terminationGracePeriodSeconds: w.probe.terminationGracePeriodSeconds });
  }

  private stopWorker(w: Worker): void {
    w.stopped = true;
    if (w.timer !== undefined) this.o.clock.clearTimeout(w.timer);
    w.timer = undefined;
  }
}
