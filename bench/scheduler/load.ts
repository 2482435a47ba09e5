// Pods created through the object API and their bindings seen through a watch: the figures of
// one case (pods/s from the first create to the last binding; per-pod latency from the create's
// answer to the watch showing spec.nodeName, which is the scheduling SLI as a client sees it).

import type { KubeObject, Pod } from '../../pkg/api/registry.js';
import { decodeObject } from '../../pkg/api/convert/object.js';
import { discardAnswer, isApiError, NavarchClient } from '../../pkg/client/mod.js';
import { type AddressPlan, hollowAddressPlan } from '../../pkg/hollow/address_plan.js';
import { DEFAULT_CAPACITY } from '../../pkg/hollow/hollow_nodes.js';
import { type LatencySummary, sleep, summarize } from '../store/stats.js';
import { decodePodProgress } from './pod_progress.js';
import { BOUND_PODS_SELECTOR } from '../../pkg/agent/pod_source.js';

export type PodKind = 'basic' | 'antiaffinity' | 'spread';

export interface CaseResult {
  name: string;
  pods: number;
  /** Pods created and bound just before the case, not measured (scheduler_perf's initPods). */
  initPods?: number;
  bound: number;
  /** First create sent → last binding seen. */
  elapsedS: number;
  podsPerSecond: number;
  createsPerSecond: number;
  /** Create answered → binding seen, per pod. */
  sli: LatencySummary;
  errors: number;
  firstError: string | undefined;
  /** scheduler_pod_scheduling_sli_duration_seconds over the case, from the lease holder's /metrics. */
  schedulerSli?: { p50Ms: number; p99Ms: number; count: number };
  /** The lease holder's scheduler Events over the case (Scheduled, FailedScheduling): written, and dropped by its full queue. */
  schedulerEvents?: { written: number; dropped: number };
  /** How often the scheduler's lease changed hands over the case (no master is killed in these cases: renewals that came too late). */
  leaseChanges?: number;
  /** CPU time the masters and the hollow process spent over the case, per pod bound (ms). */
  cpuMsPerPod?: number;
  /** Minor page faults the masters and the hollow process took over the case, per pod bound. */
  faultsPerPod?: number;
  /** The hollow nodes' reports: pods seen Running in the watch. */
  running?: RunningSummary;
  /** Each master's longest event-loop delay and its p99 over the case (ms; NaN when unreachable): how long its timers and sockets waited. */
  loopDelay?: LoopDelay[];
  /** Each master's Raft entries applied and synced storage writes over the case: how well writes are batched. */
  raftWrites?: Array<{ entries: number; syncs: number }>;
}

export interface LoopDelay {
  maxMs: number;
  p99Ms: number;
}

export interface RunningSummary {
  /** Pods seen Running when the last binding was seen. */
  atLastBinding: number;
  /** Pods seen Running by the end of the wait for them. */
  count: number;
  /** How many could be: the pods bound, at most as many as the hollow nodes had addresses left for. */
  target: number;
  /** First create sent → last pod seen Running. */
  elapsedS: number;
  /** Create answered → Running seen, per pod (the pod startup latency as a client sees it). */
  latency: LatencySummary;
  /** Set when the pods stopped turning Running before all did. */
  failure?: string;
  /** CPU time the masters and the hollow process spent from the first create to the last pod seen Running, per pod bound (ms): the status reports included. */
  cpuMsPerPod?: number;
}

/** scheduler_perf's default pod template: one container with small requests. */
function templateOf(kind: PodKind): Pod {
  const app = kind;
  const spec: Record<string, unknown> = {
    containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
  };
  if (kind === 'antiaffinity') {
    spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app } }, topologyKey: 'kubernetes.io/hostname' }] } };
  }
  if (kind === 'spread') {
    spec.topologySpreadConstraints = [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app } } }];
  }
  return decodeObject({ apiVersion: 'v1', kind: 'Pod', metadata: { labels: { app } }, spec }).object as Pod;
}

const templates = new Map<PodKind, Pod>();

/** A pod of the template: built once per kind, then only named (the bench runs on the cluster's cores). */
export function podOf(kind: PodKind, namespace: string, name: string): Pod {
  let t = templates.get(kind);
  if (!t) templates.set(kind, (t = templateOf(kind)));
  return { ...t, metadata: { ...t.metadata!, name, namespace } };
}

/** Follows bindings in a namespace: when each pod was first seen with a node, and first seen Running. */
export class BindingWatch {
  readonly boundAtMs = new Map<string, number>();
  readonly runningAtMs = new Map<string, number>();
  /** Pods seen Running when the latest binding was seen. */
  runningAtLastBinding = 0;
  /** Binding times in order (performance.now()), for gaps. */
  readonly times: number[] = [];
  private readonly watch: { close(): void };
  private readonly done: Promise<void>;
  private waiters: Array<() => void> = [];
  private wakeQueued = false;

  private constructor(client: NavarchClient, namespace: string, resourceVersion: string) {
    // Bound pods only (as the hollow nodes watch): a pod's create is of no use here, and it was a
    // third of the events this process decoded and the master it watches sent.
    const watch = client.watch<Pod>('pods', { namespace, resourceVersion, fieldSelector: BOUND_PODS_SELECTOR, decode: decodePodProgress });
    this.watch = watch;
    this.done = (async () => {
      // In batches (as informers read): the events of a batch arrived together, so one time serves them.
      for await (const batch of watch.batches()) {
        const now = performance.now();
        for (const e of batch) {
          if (e.type === 'BOOKMARK' || e.type === 'DELETED') continue;
          const name = e.object.metadata?.name ?? '';
          if (e.object.spec?.nodeName && !this.boundAtMs.has(name)) {
            this.boundAtMs.set(name, now);
            this.times.push(now);
            this.runningAtLastBinding = this.runningAtMs.size;
            this.wakeSoon();
          }
          if (e.object.status?.phase === 'Running' && !this.runningAtMs.has(name)) {
            this.runningAtMs.set(name, now);
            this.wakeSoon();
          }
        }
      }
    })();
    this.done.catch(() => {});
  }

  static async open(client: NavarchClient, namespace: string): Promise<BindingWatch> {
    const rv = (await client.list('pods', { namespace, limit: 1 })).resourceVersion;
    return new BindingWatch(client, namespace, rv);
  }

  get bound(): number {
    return this.boundAtMs.size;
  }

  get running(): number {
    return this.runningAtMs.size;
  }

  /** Resolves once `n` pods are bound; rejects when none is bound for stallMs. */
  waitFor(n: number, stallMs: number): Promise<void> {
    return this.waitUntil('bindings', () => this.bound, n, stallMs);
  }

  /** Resolves once `n` pods are Running; rejects when no more turn Running for stallMs. `onProgress` runs when more have. */
  waitForRunning(n: number, stallMs: number, onProgress?: () => void): Promise<void> {
    return this.waitUntil('Running pods', () => this.running, n, stallMs, onProgress);
  }

  /**
   * Wakes the waiters once the events that arrived together are handled: a wake (and the caller's
   * progress work, a read of every process's CPU time) per event was most of this process's CPU.
   */
  private wakeSoon(): void {
    if (this.wakeQueued) return;
    this.wakeQueued = true;
    setImmediate(() => {
      this.wakeQueued = false;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  private async waitUntil(what: string, count: () => number, n: number, stallMs: number, onProgress?: () => void): Promise<void> {
    let last = count();
    let lastChange = performance.now();
    // One timer for the stall check, not one per wake.
    const check = setInterval(() => this.wakeSoon(), 1000);
    try {
      while (count() < n) {
        await new Promise<void>((r) => this.waiters.push(r));
        if (count() !== last) {
          last = count();
          lastChange = performance.now();
          onProgress?.();
        } else if (performance.now() - lastChange > stallMs) {
          throw new Error(`${what} stalled at ${count()} of ${n} for ${stallMs / 1000} s`);
        }
      }
    } finally {
      clearInterval(check);
    }
  }

  close(): void {
    this.watch.close();
  }
}

export interface CreateOptions {
  clients: NavarchClient[];
  kind: PodKind;
  namespace: string;
  prefix: string;
  pods: number;
  /** Creates in flight (closed loop), unless ratePerSecond is given (open loop). */
  inflight: number;
  ratePerSecond?: number;
  log: (line: string) => void;
}

export interface CreateResult {
  /** Create answered, by pod name (performance.now()). */
  createdAtMs: Map<string, number>;
  startMs: number;
  endMs: number;
  errors: number;
  firstError: string | undefined;
}

const CREATE_ATTEMPTS = 6;

/** Creates the pods; a failed create is tried again under the same name (AlreadyExists: it had landed). */
export async function createPods(o: CreateOptions): Promise<CreateResult> {
  const createdAtMs = new Map<string, number>();
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const startMs = performance.now();
  let lastLog = startMs;
  const one = async (i: number): Promise<void> => {
    const name = `${o.prefix}-${i}`;
    const pod = podOf(o.kind, o.namespace, name);
    for (let attempt = 1; ; attempt++) {
      const c = o.clients[(i + attempt - 1) % o.clients.length];
      try {
        // The stored pod comes back; the watch reports what happens to it, so the answer is not decoded.
        await c.create(pod, { decode: discardAnswer });
        break;
      } catch (e) {
        if (isApiError(e, 'AlreadyExists')) break;
        errors++;
        firstError ??= (e as Error).message;
        if (attempt >= CREATE_ATTEMPTS) return;
        await sleep(200 * attempt);
      }
    }
    const now = performance.now();
    createdAtMs.set(name, now);
    if (now - lastLog > 10_000) {
      lastLog = now;
      o.log(`created ${createdAtMs.size} of ${o.pods}, ${(createdAtMs.size / ((now - startMs) / 1000)).toFixed(0)}/s`);
    }
  };
  if (o.ratePerSecond === undefined) {
    await Promise.all(
      Array.from({ length: Math.min(o.inflight, o.pods) }, async () => {
        while (next < o.pods) await one(next++);
      }),
    );
  } else {
    const pending = new Set<Promise<void>>();
    for (let i = 0; i < o.pods; i++) {
      const dueMs = startMs + (i * 1000) / o.ratePerSecond;
      const waitMs = dueMs - performance.now();
      if (waitMs > 0) await sleep(waitMs);
      const p = one(i).finally(() => pending.delete(p));
      pending.add(p);
      if (pending.size >= o.inflight) await Promise.race(pending);
    }
    await Promise.all(pending);
  }
  return { createdAtMs, startMs, endMs: performance.now(), errors, firstError };
}

/** One throughput case: create `pods` pods of a kind in a fresh namespace and wait for every binding. */
export async function runCase(o: {
  name: string;
  client: NavarchClient;
  clients: NavarchClient[];
  ensureNamespace: (ns: string) => Promise<void>;
  kind: PodKind;
  pods: number;
  inflight: number;
  log: (line: string) => void;
  /** Called when the last binding is seen, before the wait for the pods to turn Running. */
  onBound?: (r: CaseResult) => void;
  /**
   * How many of the pods can be Running: the hollow nodes' pod addresses run out (podAddresses), and
   * pods past that wait for one. @default every pod
   */
  runningTarget?: number;
  /** Called each time more pods are seen Running (the wait for them). */
  onRunning?: () => void;
}): Promise<CaseResult> {
  const namespace = `bench-${o.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  await o.ensureNamespace(namespace);
  const watch = await BindingWatch.open(o.client, namespace);
  try {
    const created = await createPods({ clients: o.clients, kind: o.kind, namespace, prefix: 'p', pods: o.pods, inflight: o.inflight, log: o.log });
    o.log(`${o.name}: ${created.createdAtMs.size} created in ${((created.endMs - created.startMs) / 1000).toFixed(1)} s; waiting for the bindings (${watch.bound} so far)`);
    let failure: string | undefined;
    await watch.waitFor(created.createdAtMs.size, 60_000).catch((e: Error) => (failure = e.message));
    const result = summarizeCase(o.name, o.pods, created, watch, failure);
    o.onBound?.(result);
    const atLastBinding = watch.runningAtLastBinding;
    let runningFailure: string | undefined;
    const target = Math.min(result.bound, o.runningTarget ?? Infinity);
    await watch.waitForRunning(target, 60_000, o.onRunning).catch((e: Error) => (runningFailure = e.message));
    result.running = summarizeRunning(created, watch, atLastBinding, target, runningFailure);
    return result;
  } finally {
    watch.close();
  }
}

/** Create answered → `seenAtMs` for each created pod seen there, and the last time seen. */
function latencies(created: CreateResult, seenAtMs: ReadonlyMap<string, number>): { lat: number[]; lastMs: number } {
  const lat: number[] = [];
  let lastMs = created.startMs;
  for (const [pod, at] of created.createdAtMs) {
    const seen = seenAtMs.get(pod);
    if (seen === undefined) continue;
    lat.push(Math.max(0, seen - at));
    lastMs = Math.max(lastMs, seen);
  }
  return { lat, lastMs };
}

export function summarizeCase(name: string, pods: number, created: CreateResult, watch: BindingWatch, failure?: string): CaseResult {
  const { lat, lastMs } = latencies(created, watch.boundAtMs);
  const elapsedS = (lastMs - created.startMs) / 1000;
  return {
    name,
    pods,
    bound: lat.length,
    elapsedS,
    podsPerSecond: lat.length / elapsedS,
    createsPerSecond: created.createdAtMs.size / ((created.endMs - created.startMs) / 1000),
    sli: summarize(lat),
    errors: created.errors + (failure ? 1 : 0),
    firstError: failure ?? created.firstError,
  };
}

export function summarizeRunning(created: CreateResult, watch: BindingWatch, atLastBinding: number, target: number, failure?: string): RunningSummary {
  const { lat, lastMs } = latencies(created, watch.runningAtMs);
  return { atLastBinding, count: lat.length, target, elapsedS: (lastMs - created.startMs) / 1000, latency: summarize(lat), failure };
}

/** The hollow nodes' addresses as navarch hollow lays them out by default. */
export function hollowPlan(nodes: number): AddressPlan {
  return hollowAddressPlan(nodes, Number(DEFAULT_CAPACITY.pods));
}

/** Pods the hollow nodes can give an address (and so report Running). */
export function podAddresses(nodes: number): number {
  return hollowPlan(nodes).podsPerNode * nodes;
}
