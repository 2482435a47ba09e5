// The scheduling queue, as kube-scheduler's PriorityQueue. Three places a pending pod can be:
//   activeQ        ready to try, higher .spec.priority first, then the one waiting longest;
//   backoffQ       failed recently, waiting out a per-pod backoff (1 s doubling to 10 s);
//   unschedulable  rejected by plugins, parked until a cluster event one of those plugins
//                  registered for (EventsToRegister) may help, or until it has waited 5 minutes.
// Popped pods are "in flight" until the scheduler says how the attempt ended. A cluster event that
// arrives while a pod is in flight and that may help it (by its rejecting plugins' registrations)
// sends it to backoff rather than parking it, since the attempt did not see that event (Kubernetes'
// in-flight events). Events that cannot help it, such as the status updates of running pods, do
// not, so a busy cluster does not turn parked pods into pods retried every few seconds.
// All timing comes from the injected Clock: two timers flush the backoff and the parked pods.

import type { Clock, TimerHandle } from "../../../raft/node/ports.js";
import type { Pod } from "../../api/registry.js";
import { type ActionType, type ClusterResource, eventMayHelp, pluginMayHelp } from "../framework/cluster_event.js";
import type { Framework } from "../framework/framework.js";
import { PodInfo, podKey, termMatches } from "../framework/pod_info.js";
import type { Labels } from "../../api/labels.js";
import { INTER_POD_AFFINITY } from "../plugins/inter_pod_affinity.js";
import { POD_TOPOLOGY_SPREAD } from "../plugins/pod_topology_spread.js";
import { KeyedHeap } from "./heap.js";
import { UnschedulablePods } from "./unschedulable_pods.js";

export interface QueuedPodInfo {
  podInfo: PodInfo;
  /** When it last entered the queue (or failed): orders equal priorities, starts its backoff. */
  timestampMs: number;
  /** Counts entries into the queue as timestampMs changes: orders pods that entered in the same millisecond. */
  entry: number;
  /** When it first entered the queue: where the scheduling SLI starts. */
  readonly initialAttemptTimestampMs: number;
  /** Scheduling attempts so far (pop() counts them). */
  attempts: number;
  /** The scheduling cycle of its latest pop: pass it back to addUnschedulableIfNotPresent. */
  cycle: number;
  /** Plugins that rejected it in its last attempt; empty after an error (any event may help). */
  unschedulablePlugins: ReadonlySet<string>;
}

export interface SchedulingQueueOptions {
  clock: Clock;
  /** @default 1000 */
  podInitialBackoffMs?: number;
  /** @default 10000 */
  podMaxBackoffMs?: number;
  /** Parked pods older than this go back to be tried anyway. @default 300000 (5 minutes) */
  podMaxInUnschedulablePodsDurationMs?: number;
  /** @default 1000 */
  backoffFlushIntervalMs?: number;
  /** @default 30000 */
  unschedulableFlushIntervalMs?: number;
  /** Pods the queue holds at most (all places, in flight included); add() refuses beyond. @default 250000 */
  maxPendingPods?: number;
}

export interface PendingCounts {
  active: number;
  backoff: number;
  unschedulable: number;
  /** Pods held back by scheduling gates: always 0, the Pod API has no schedulingGates yet. */
  gated: number;
}

const NO_PLUGINS: ReadonlySet<string> = new Set();
/** Distinct (resource, actions) combinations remembered for in-flight pods. */
const MAX_EVENT_KINDS = 64;

/** Higher priority first; among equals, the one that entered the queue first. */
function activeLess(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
  const pa = a.podInfo.priority;
  const pb = b.podInfo.priority;
  if (pa !== pb) return pa > pb;
  return a.timestampMs !== b.timestampMs ? a.timestampMs < b.timestampMs : a.entry < b.entry;
}

/** Whether anything but status and bookkeeping changed: a parked pod that its owner edited is worth retrying. */
function specOrMetaChanged(before: Pod, after: Pod): boolean {
  const strip = (p: Pod) => {
    const m = p.metadata;
    return JSON.stringify([m?.labels, m?.annotations, m?.ownerReferences, m?.finalizers, p.spec]);
  };
  return strip(before) !== strip(after);
}

export class SchedulingQueue {
  private readonly clock: Clock;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxUnschedulableMs: number;
  private readonly backoffFlushMs: number;
  private readonly unschedulableFlushMs: number;
  readonly maxPendingPods: number;

  /** Entries into the queue so far: QueuedPodInfo.entry. */
  private entries = 0;
  private readonly active = new KeyedHeap<QueuedPodInfo>(activeLess);
  private readonly backoff = new KeyedHeap<QueuedPodInfo>((a, b) => this.backoffExpiryMs(a) < this.backoffExpiryMs(b));
  private readonly unschedulable = new UnschedulablePods<QueuedPodInfo>();
  /** Popped and not yet done, with the scheduling cycle each was popped in. */
  private readonly inFlight = new Map<string, QueuedPodInfo>();
  /** Counts pops: the cycle number of the latest attempt. */
  private schedulingCycle = 0;
  /** Each kind of cluster event with the scheduling cycle it last happened in (a handful of kinds). */
  private readonly recentEvents = new Map<string, { resource: ClusterResource; actions: readonly ActionType[]; cycle: number }>();
  private waiter: (() => void) | undefined;
  private closed = false;
  private backoffTimer: TimerHandle | undefined;
  private unschedulableTimer: TimerHandle | undefined;

  constructor(
    private readonly fwk: Framework,
    o: SchedulingQueueOptions,
  ) {
    this.clock = o.clock;
    this.initialBackoffMs = positive("podInitialBackoffMs", o.podInitialBackoffMs ?? 1000);
    this.maxBackoffMs = positive("podMaxBackoffMs", o.podMaxBackoffMs ?? 10_000);
    this.maxUnschedulableMs = positive("podMaxInUnschedulablePodsDurationMs", o.podMaxInUnschedulablePodsDurationMs ?? 300_000);
    this.backoffFlushMs = positive("backoffFlushIntervalMs", o.backoffFlushIntervalMs ?? 1000);
    this.unschedulableFlushMs = positive("unschedulableFlushIntervalMs", o.unschedulableFlushIntervalMs ?? 30_000);
    this.maxPendingPods = positive("maxPendingPods", o.maxPendingPods ?? 250_000);
    if (this.maxBackoffMs < this.initialBackoffMs) {
      throw new RangeError(`Cannot create the scheduling queue: podMaxBackoffMs (${this.maxBackoffMs}) is below podInitialBackoffMs (${this.initialBackoffMs})`);
    }
  }

  /** Starts the two flush timers. */
  run(): void {
    if (this.closed || this.backoffTimer !== undefined) return;
    const flushBackoff = () => {
      this.flushBackoffCompleted();
      this.backoffTimer = this.clock.setTimeout(flushBackoff, this.backoffFlushMs);
    };
    const flushUnschedulable = () => {
      this.flushUnschedulableLeftover();
      this.unschedulableTimer = this.clock.setTimeout(flushUnschedulable, this.unschedulableFlushMs);
    };
    this.backoffTimer = this.clock.setTimeout(flushBackoff, this.backoffFlushMs);
    this.unschedulableTimer = this.clock.setTimeout(flushUnschedulable, this.unschedulableFlushMs);
  }

  /** Stops the timers; a waiting pop() resolves undefined. */
  close(): void {
    this.closed = true;
    if (this.backoffTimer !== undefined) this.clock.clearTimeout(this.backoffTimer);
    if (this.unschedulableTimer !== undefined) this.clock.clearTimeout(this.unschedulableTimer);
    this.backoffTimer = this.unschedulableTimer = undefined;
    this.wake();
  }

  get size(): number {
    return this.active.size + this.backoff.size + this.unschedulable.size + this.inFlight.size;
  }

  pendingCounts(): PendingCounts {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size, gated: 0 };
  }

  /** Where a pod is: "active", "backoff", "unschedulable", "inFlight", or undefined. */
  placeOf(key: string): "active" | "backoff" | "unschedulable" | "inFlight" | undefined {
    if (this.active.has(key)) return "active";
    if (this.backoff.has(key)) return "backoff";
    if (this.unschedulable.has(key)) return "unschedulable";
    if (this.inFlight.has(key)) return "inFlight";
    return undefined;
  }

  /** A new pending pod goes to activeQ; a known one is updated. False when the queue is full. */
  add(pod: Pod): boolean {
    const key = podKey(pod);
    if (this.placeOf(key) !== undefined) {
      this.update(undefined, pod);
      return true;
    }
    if (this.size >= this.maxPendingPods) return false;
    const now = this.clock.nowMs();
    this.active.set(key, { podInfo: new PodInfo(pod), timestampMs: now, entry: this.entries++, initialAttemptTimestampMs: now, attempts: 0, cycle: 0, unschedulablePlugins: NO_PLUGINS });
    this.wake();
    return true;
  }

  /**
   * A pending pod changed. In activeQ or backoffQ it is updated in place; parked, it goes back to
   * be tried if more than its status changed; in flight, the attempt's outcome will use the new copy.
   */
  update(before: Pod | undefined, after: Pod): boolean {
    const key = podKey(after);
    const info = new PodInfo(after);
    const a = this.active.get(key);
    if (a !== undefined) {
      a.podInfo = info;
      this.active.set(key, a);
      return true;
    }
    const b = this.backoff.get(key);
    if (b !== undefined) {
      b.podInfo = info;
      this.backoff.set(key, b);
      return true;
    }
    const u = this.unschedulable.get(key);
    if (u !== undefined) {
      const old = u.podInfo.pod;
      u.podInfo = info;
      if (specOrMetaChanged(before ?? old, after)) {
        this.unschedulable.delete(key);
        this.requeue(key, u);
      }
      return true;
    }
    const f = this.inFlight.get(key);
    if (f !== undefined) {
      f.podInfo = info;
      return true;
    }
    return this.add(after);
  }

  /** Forgets a pod wherever it is (deleted, or bound by someone). */
  delete(pod: Pod): void {
    const key = podKey(pod);
    this.active.delete(key);
    this.backoff.delete(key);
    this.unschedulable.delete(key);
    this.inFlight.delete(key);
  }

  /** The next pod to try, without waiting; undefined if activeQ is empty. */
  tryPop(): QueuedPodInfo | undefined {
    const q = this.active.pop();
    if (q === undefined) return undefined;
    q.attempts++;
    q.cycle = ++this.schedulingCycle;
    this.inFlight.set(q.podInfo.key, q);
    return q;
  }

  /** Waits for a pod in activeQ; undefined once closed. */
  async pop(): Promise<QueuedPodInfo | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      const q = this.tryPop();
      if (q !== undefined) return q;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** The cycle of the latest pop; pass it back to addUnschedulableIfNotPresent. */
  get currentCycle(): number {
    return this.schedulingCycle;
  }

  /** The attempt ended (bound, or handed back below): the pod leaves the in-flight set. */
  done(key: string): void {
    this.inFlight.delete(key);
  }

  /**
   * After a failed attempt: parked until an event may help, or into backoff when the failure was
   * an error or an event came during the attempt. A pod deleted or bound meanwhile is dropped.
   */
  addUnschedulableIfNotPresent(q: QueuedPodInfo, rejectedBy: ReadonlySet<string>, podSchedulingCycle: number): void {
    const key = q.podInfo.key;
    if (this.inFlight.get(key) !== q) return;
    this.inFlight.delete(key);
    q.unschedulablePlugins = rejectedBy;
    q.timestampMs = this.clock.nowMs();
    q.entry = this.entries++;
    if (rejectedBy.size === 0 || this.helpedSince(rejectedBy, podSchedulingCycle)) {
      this.backoff.set(key, q);
      return;
    }
    this.unschedulable.set(key, q);
  }

  /** Whether an event that may help a pod rejected by these plugins came at or after this cycle. */
  private helpedSince(rejectedBy: ReadonlySet<string>, cycle: number): boolean {
    for (const e of this.recentEvents.values()) {
      if (e.cycle >= cycle && eventMayHelp(this.fwk, rejectedBy, e.resource, e.actions)) return true;
    }
    return false;
  }

  /** A cluster event: parked pods that one of their rejecting plugins says it may help go back. */
  moveAllToActiveOrBackoffQueue(resource: ClusterResource, actions: readonly ActionType[]): void {
    if (actions.length === 0) return;
    this.noteEvent(resource, actions);
    if (this.unschedulable.size === 0) return;
    for (const [key, q] of this.unschedulable.takeWhere((plugins) => eventMayHelp(this.fwk, plugins, resource, actions))) this.requeue(key, q);
  }

  /** Pods in flight did not see this event: if it may help them and they fail, they go to backoff. */
  private noteEvent(resource: ClusterResource, actions: readonly ActionType[]): void {
    if (this.inFlight.size > 0) {
      const kind = `${resource}:${actions.join(",")}`;
      const e = this.recentEvents.get(kind);
      if (e !== undefined) e.cycle = this.schedulingCycle;
      else {
        // The kinds are few (resource times combinations of actions); the bound is only a guard.
        if (this.recentEvents.size >= MAX_EVENT_KINDS) this.recentEvents.clear();
        this.recentEvents.set(kind, { resource, actions, cycle: this.schedulingCycle });
      }
    }
  }

  /**
   * An assigned pod was added (bound) or relabelled. As kube-scheduler's AssignedPodAdded and
   * AssignedPodUpdated with their queueing hints, only the parked pods it may help go back: those
   * whose required pod affinity selects it, those topology spread rejected in its namespace, and
   * those rejected by another plugin registered for the event. A bind is not a reason to retry
   * every pod that anti-affinity or spreading keeps out.
   */
  assignedPodChanged(pod: Pick<PodInfo, "namespace" | "labels">, actions: readonly ActionType[], namespaceLabels: Labels): void {
    if (actions.length === 0) return;
    this.noteEvent("Pod", actions);
    if (this.unschedulable.size === 0) return;
    const helps = (q: QueuedPodInfo): boolean => {
      for (const name of q.unschedulablePlugins) {
        if (name === INTER_POD_AFFINITY) {
          if (q.podInfo.requiredAffinityTerms.some((t) => termMatches(t, pod, namespaceLabels))) return true;
        } else if (name === POD_TOPOLOGY_SPREAD) {
          if (q.podInfo.namespace === pod.namespace) return true;
        } else if (pluginMayHelp(this.fwk, name, "Pod", actions)) return true;
      }
      return q.unschedulablePlugins.size === 0;
    };
    const moved = this.unschedulable.takeEachWhere((plugins) => eventMayHelp(this.fwk, plugins, "Pod", actions), helps);
    for (const [key, q] of moved) this.requeue(key, q);
  }

  /** When the pod's backoff ends: timestamp + 1 s doubled per earlier attempt, at most 10 s. */
  backoffExpiryMs(q: QueuedPodInfo): number {
    return q.timestampMs + this.backoffDurationMs(q);
  }

  private backoffDurationMs(q: QueuedPodInfo): number {
    let d = this.initialBackoffMs;
    for (let i = 1; i < q.attempts; i++) {
      d *= 2;
      if (d >= this.maxBackoffMs) return this.maxBackoffMs;
    }
    return d;
  }

  /** Moves the pods whose backoff is over to activeQ (the 1 s timer calls it). */
  flushBackoffCompleted(): void {
    const now = this.clock.nowMs();
    let moved = false;
    for (;;) {
      const q = this.backoff.peek();
      if (q === undefined || this.backoffExpiryMs(q) > now) break;
      this.backoff.pop();
      this.active.set(q.podInfo.key, q);
      moved = true;
    }
    if (moved) this.wake();
  }

  /** Sends back the pods parked longer than podMaxInUnschedulablePodsDurationMs (the 30 s timer calls it). */
  flushUnschedulableLeftover(): void {
    const now = this.clock.nowMs();
    for (const [key, q] of this.unschedulable.entries()) {
      if (now - q.timestampMs <= this.maxUnschedulableMs) continue;
      this.unschedulable.delete(key);
      this.requeue(key, q);
    }
  }

  private requeue(key: string, q: QueuedPodInfo): void {
    if (this.backoffExpiryMs(q) > this.clock.nowMs()) {
      this.backoff.set(key, q);
      return;
    }
    this.active.set(key, q);
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

function positive(name: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`Cannot create the scheduling queue: ${name} must be a number > 0, got ${v}`);
  return v;
}
