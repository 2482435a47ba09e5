// The scheduler's cache, as kube-scheduler's: the cluster as the watches show it, plus "assumed"
// pods: a pod counts on its node from the moment the scheduler picks the node, before the binding
// is written and long before the watch shows it, so the next cycle does not pick the same room.
// An assumed pod is confirmed when the watch shows it bound, forgotten when its binding fails,
// and expires if the watch never shows it within assumedPodTtlMs after its binding finished.
// The one Snapshot that schedulePod reads is this cache, updated one change at a time.

import type { Clock, TimerHandle } from "../../../raft/node/ports.js";
import type { Namespace, Node, Pod } from "../../api/registry.js";
import { PodInfo, onlyStatusChanged, podKey } from "../framework/pod_info.js";
import { Snapshot } from "../framework/snapshot.js";

export interface SchedulerCacheOptions {
  clock: Clock;
  /** How long after its binding finished an unconfirmed assumed pod is kept. @default 30000 */
  assumedPodTtlMs?: number;
  /** How often expired assumed pods are looked for. @default 1000 */
  cleanupIntervalMs?: number;
  /** Told of each assumed pod that expired. */
  onExpired?: (pod: PodInfo, nodeName: string) => void;
}

interface Assumed {
  info: PodInfo;
  nodeName: string;
  /** Set when the binding finished: the watch should show the pod by then. */
  deadlineMs: number | undefined;
}

/** Pods that hold no resources any more, as the scheduler's informer filter. */
export function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

export class SchedulerCache {
  readonly snapshot = new Snapshot();
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly cleanupIntervalMs: number;
  private readonly onExpired: ((pod: PodInfo, nodeName: string) => void) | undefined;
  private readonly assumed = new Map<string, Assumed>();
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(o: SchedulerCacheOptions) {
    this.clock = o.clock;
    this.ttlMs = o.assumedPodTtlMs ?? 30_000;
    this.cleanupIntervalMs = o.cleanupIntervalMs ?? 1000;
    if (!(this.ttlMs > 0)) throw new RangeError(`Cannot create the scheduler cache: assumedPodTtlMs must be > 0, got ${o.assumedPodTtlMs}`);
    if (!(this.cleanupIntervalMs > 0)) throw new RangeError(`Cannot create the scheduler cache: cleanupIntervalMs must be > 0, got ${o.cleanupIntervalMs}`);
    this.onExpired = o.onExpired;
  }

  /** Starts the timer that expires assumed pods. */
  run(): void {
    if (this.stopped || this.timer !== undefined) return;
    const tick = () => {
      this.cleanupAssumedPods();
      this.timer = this.clock.setTimeout(tick, this.cleanupIntervalMs);
    };
    this.timer = this.clock.setTimeout(tick, this.cleanupIntervalMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  get assumedCount(): number {
    return this.assumed.size;
  }

  isAssumed(key: string): boolean {
    return this.assumed.has(key);
  }

  /** Whether the pod is on a node here, assumed or confirmed. */
  isPlaced(key: string): boolean {
    return this.snapshot.nodeOf(key) !== undefined;
  }

  /** Counts the pod on the node now, before its binding is written. */
  assumePod(info: PodInfo, nodeName: string): void {
    if (this.snapshot.nodeOf(info.key) !== undefined) {
      throw new Error(`Cannot assume pod ${JSON.stringify(`${info.namespace}/${info.name}`)} on ${JSON.stringify(nodeName)}: it is already on ${JSON.stringify(this.snapshot.nodeOf(info.key))}`);
    }
    this.snapshot.addPod(info, nodeName);
    this.assumed.set(info.key, { info, nodeName, deadlineMs: undefined });
  }

  /** The binding was written: from now the watch has assumedPodTtlMs to show it. */
  finishBinding(key: string): void {
    const a = this.assumed.get(key);
    if (a !== undefined) a.deadlineMs = this.clock.nowMs() + this.ttlMs;
  }

  /** The binding failed: the pod no longer counts on the node. */
  forgetPod(key: string): boolean {
    if (!this.assumed.delete(key)) return false;
    this.snapshot.removePod(key);
    return true;
  }

  /** Expires assumed pods whose binding finished more than the TTL ago and that the watch never showed. */
  cleanupAssumedPods(): number {
    const now = this.clock.nowMs();
    let n = 0;
    for (const [key, a] of this.assumed) {
      if (a.deadlineMs === undefined || a.deadlineMs > now) continue;
      this.assumed.delete(key);
      this.snapshot.removePod(key);
      this.onExpired?.(a.info, a.nodeName);
      n++;
    }
    return n;
  }

  /** A bound pod from the watch: confirms an assumed one (moving it if the watch says another node). */
  addPod(pod: Pod): void {
    const key = podKey(pod);
    this.assumed.delete(key);
    if (isTerminal(pod)) {
      this.snapshot.removePod(key);
      return;
    }
    this.snapshot.addPod(new PodInfo(pod));
  }

  updatePod(pod: Pod): void {
    // A status write (the pod started, its IP) changes nothing the filters count: keep what was parsed.
    const prev = isTerminal(pod) ? undefined : this.snapshot.placedPod(podKey(pod));
    if (prev !== undefined && !this.assumed.has(prev.key) && onlyStatusChanged(prev.pod, pod) && this.snapshot.replacePod(new PodInfo(pod, prev))) return;
    this.addPod(pod);
  }

  removePod(pod: Pod): void {
    const key = podKey(pod);
    this.assumed.delete(key);
    this.snapshot.removePod(key);
  }

  setNode(node: Node): void {
    this.snapshot.setNode(node);
  }

  removeNode(node: Node): void {
    this.snapshot.removeNode(node.metadata?.name ?? "");
  }

  setNamespace(ns: Namespace): void {
    this.snapshot.setNamespaceLabels(ns.metadata?.name ?? "", ns.metadata?.labels ?? {});
  }

  removeNamespace(ns: Namespace): void {
    this.snapshot.removeNamespace(ns.metadata?.name ?? "");
  }
}
