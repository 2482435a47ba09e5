// The scheduler process around the scheduling cycle, as kube-scheduler's scheduleOne loop:
// informers feed the cache (nodes, bound pods, namespaces) and the queue (pending pods this
// scheduler is responsible for); the loop pops one pod at a time, runs schedulePod against the
// cache's snapshot, assumes the pod on the chosen node and binds it asynchronously, so the next
// cycle starts at once. A bounded number of bindings (and status writes) are in flight; when all
// slots are taken, the loop waits. Unschedulable pods get a FailedScheduling event and their
// PodScheduled condition, and are parked until a cluster event may help them.

import type { Registry } from "prom-client";
// Lets I/O callbacks (watch events, binding replies) run between cycles.
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { Random } from "../../raft/core/random.js";
import type { Clock, TimerHandle } from "../../raft/node/ports.js";
import type { Namespace, Node, Pod, PodDisruptionBudget, ReplicaSet, Service, StatefulSet } from "../api/registry.js";
import { isApiError } from "../apiserver/api_error.js";
import type { EventRecorder } from "../client/events/recorder.js";
import type { InformerRegistration, SharedInformer } from "../client/informer/shared_informer.js";
import type { InformerFactory } from "../client/informer/informer_factory.js";
import { NAMESPACE_INDEX } from "../client/informer/indexer.js";
import type { ObjectClient } from "../controllers/client.js";
import { formatTimeMs, markDisruptionTarget } from "../controllers/controller_utils.js";
import type { Binder } from "./binder.js";
import { isTerminal, SchedulerCache } from "./cache/cache.js";
import { DEFAULT_SCHEDULER_NAME, newDefaultFramework } from "./default_profile.js";
import { defaultSpreadSelector, type SiblingListers } from "./default_spread_selector.js";
import { nodeUpdateActions, podUpdateActions, type ActionType } from "./framework/cluster_event.js";
import type { Framework } from "./framework/framework.js";
import type { PostFilterResult } from "./framework/interface.js";
import { podKey, type PodInfo } from "./framework/pod_info.js";
import { schedulePod, SchedulingError, type UnschedulableResult } from "./framework/schedule_pod.js";
import { SchedulerMetrics } from "./metrics.js";
import { type QueuedPodInfo, SchedulingQueue, type SchedulingQueueOptions } from "./queue/scheduling_queue.js";

export interface SchedulerDeps {
  /** Status writes and preemption's deletions (fenced by the leader's lease in a master). */
  client: ObjectClient;
  binder: Binder;
  /**
   * The process's shared informers: the scheduler uses pods, nodes and namespaces (and Services,
   * ReplicaSets and StatefulSets for default spreading, PodDisruptionBudgets for preemption) and
   * starts them; their owner stops them.
   */
  informers: InformerFactory;
  clock: Clock;
  random: Random;
  recorder: EventRecorder;
  registry: Registry;
}

export interface SchedulerLogger {
  warn(msg: string): void;
}

export interface SchedulerOptions extends Omit<SchedulingQueueOptions, "clock"> {
  /** Pods naming this scheduler (or none) are ours. @default "default-scheduler" */
  schedulerName?: string;
  /** @default 0 (Kubernetes' adaptive percentage) */
  percentageOfNodesToScore?: number;
  /** @default newDefaultFramework() */
  framework?: Framework;
  /**
   * Bindings, status writes and preemptions in flight at most; the loop waits for a free slot.
   * @default 256 (the masters once kept 64, so that the scheduler's lease renewal would not queue
   * behind many binding proposals; with bindings batched that cap, not the machine, held the
   * scheduler back: at 150,000 pods thousands waited in its queue, and 256 bound 777 pods/s against
   * 521 with the lease kept through the run)
   */
  maxInflightBindings?: number;
  /**
   * Cycles in a row before the loop lets informers and replies in, at most. @default 256
   * (a fixed small count starved the scheduler on a busy master: it got that many cycles per turn
   * of an event loop whose turns took 100 ms and more)
   */
  yieldEveryPods?: number;
  /** Or sooner, once the cycles in a row have taken this long. @default 40 */
  yieldAfterMs?: number;
  /** @default 30000 */
  assumedPodTtlMs?: number;
  /** How long start() waits for the informers' first lists. @default 60000 */
  syncTimeoutMs?: number;
  /** How long stop() waits for bindings and status writes in flight (they fail anyway once the lease is lost). @default 5000 */
  stopWaitMs?: number;
  /** @default warnings to stderr */
  logger?: SchedulerLogger;
}

const NO_PLUGINS: ReadonlySet<string> = new Set();
const ADD: readonly ActionType[] = ["Add"];
const DELETE: readonly ActionType[] = ["Delete"];

function isAssigned(pod: Pod): boolean {
  return !!pod.spec?.nodeName;
}

function attemptsLabel(n: number): string {
  return n >= 15 ? "15+" : String(n);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}


export class Scheduler {
  readonly cache: SchedulerCache;
  readonly queue: SchedulingQueue;
  readonly framework: Framework;
  readonly schedulerName: string;
  private readonly deps: SchedulerDeps;
  private readonly metrics: SchedulerMetrics;
  private readonly maxInflight: number;
  private readonly yieldEveryPods: number;
  private readonly yieldAfterMs: number;
  private readonly syncTimeoutMs: number;
  private readonly stopWaitMs: number;
  private readonly logger: SchedulerLogger;
  private readonly registrations: InformerRegistration[] = [];
  private readonly pending = new Set<Promise<void>>();
  private slotWaiter: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  private started = false;
  private prepared = false;
  /** Set by run(): a standby scheduler keeps its queue empty. */
  private queueing = false;
  private stopped = false;
  private informers: { pods: SharedInformer<Pod>; nodes: SharedInformer<Node>; namespaces: SharedInformer<Namespace> } | undefined;
  /** Services, ReplicaSets and StatefulSets, for the default framework's system default spreading. */
  private siblings: SiblingListers | undefined;
  /** PodDisruptionBudgets, which the default framework's preemption tries not to break. */
  private pdbs: SharedInformer<PodDisruptionBudget> | undefined;
  private readonly pendingSource = () => this.queue.pendingCounts();
  /** Pods the full queue refused; counted for the log. */
  private refused = 0;

  constructor(deps: SchedulerDeps, o: SchedulerOptions = {}) {
    this.deps = deps;
    this.schedulerName = o.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    this.framework =
      o.framework ??
      newDefaultFramework({
        schedulerName: this.schedulerName,
        percentageOfNodesToScore: o.percentageOfNodesToScore,
        defaultSpreadSelector: (pod) => (this.siblings === undefined ? undefined : defaultSpreadSelector(pod, this.siblings)),
        pdbLister: (namespace) => this.pdbs?.store.byIndex(NAMESPACE_INDEX, namespace) ?? [],
      });
    this.maxInflight = o.maxInflightBindings ?? 256;
    this.yieldEveryPods = o.yieldEveryPods ?? 256;
    this.yieldAfterMs = o.yieldAfterMs ?? 40;
    this.syncTimeoutMs = o.syncTimeoutMs ?? 60_000;
    this.stopWaitMs = o.stopWaitMs ?? 5000;
    if (!(Number.isInteger(this.maxInflight) && this.maxInflight > 0)) throw new RangeError(`Cannot create the scheduler: maxInflightBindings must be an integer > 0, got ${o.maxInflightBindings}`);
    if (!(Number.isInteger(this.yieldEveryPods) && this.yieldEveryPods > 0)) throw new RangeError(`Cannot create the scheduler: yieldEveryPods must be an integer > 0, got ${o.yieldEveryPods}`);
    if (!(this.yieldAfterMs > 0)) throw new RangeError(`Cannot create the scheduler: yieldAfterMs must be > 0, got ${o.yieldAfterMs}`);
    this.logger = o.logger ?? { warn: (msg) => process.stderr.write(`scheduler: ${msg}\n`) };
    this.queue = new SchedulingQueue(this.framework, { ...o, clock: deps.clock });
    this.cache = new SchedulerCache({
      clock: deps.clock,
      assumedPodTtlMs: o.assumedPodTtlMs,
      onExpired: (p, node) => this.logger.warn(`assumed pod ${p.namespace}/${p.name} on ${node} expired: the watch never showed its binding`),
    });
    this.metrics = SchedulerMetrics.for(deps.registry);
  }

  /** Pods bound or being bound right now. */
  get inflight(): number {
    return this.pending.size;
  }

  /**
   * Starts the informers, waits for their first lists (so no pod is placed against a partial
   * view), then runs the loop until stop(). Call once; after stop(), build a new Scheduler.
   */
  async start(): Promise<void> {
    await this.prepare();
    this.run();
  }

  /**
   * The first half of start(): the cache follows the informers from now on, but nothing is
   * queued, scheduled or written until run(). A standby scheduler waits so, and a takeover then
   * only queues the pending pods instead of replaying every pod and node into a new cache.
   */
  async prepare(): Promise<void> {
    if (this.started) throw new Error("Cannot start the scheduler: it was already started");
    this.started = true;
    const f = this.deps.informers;
    const pods = f.informer<Pod>("pods");
    const nodes = f.informer<Node>("nodes");
    const namespaces = f.informer<Namespace>("namespaces");
    this.informers = { pods, nodes, namespaces };
    this.registrations.push(
      namespaces.addEventHandler({
        onAdd: (ns) => this.cache.setNamespace(ns),
        onUpdate: (_, ns) => this.cache.setNamespace(ns),
        onDelete: (ns) => this.cache.removeNamespace(ns),
      }),
      nodes.addEventHandler({
        onAdd: (n) => this.onNodeAdd(n),
        onUpdate: (old, n) => this.onNodeUpdate(old, n),
        onDelete: (n) => this.cache.removeNode(n),
      }),
      pods.addEventHandler({
        onAdd: (p) => this.onPodAdd(p),
        onUpdate: (old, p) => this.onPodUpdate(old, p),
        onDelete: (p) => this.onPodDelete(p),
      }),
    );
    const siblingInformers = [f.informer<Service>("services"), f.informer<ReplicaSet>("replicasets"), f.informer<StatefulSet>("statefulsets")] as const;
    const [services, replicaSets, statefulSets] = siblingInformers;
    this.siblings = {
      services: (ns) => services.store.byIndex(NAMESPACE_INDEX, ns),
      replicaSet: (ns, name) => replicaSets.store.get(ns, name),
      statefulSet: (ns, name) => statefulSets.store.get(ns, name),
    };
    const pdbs = f.informer<PodDisruptionBudget>("poddisruptionbudgets");
    this.pdbs = pdbs;
    f.start();
    await Promise.all([pods, nodes, namespaces, ...siblingInformers, pdbs].map((i) => i.waitForSync({ timeoutMs: this.syncTimeoutMs })));
    // Warm informers replay what they hold to the new handlers in turns: the cache is whole after.
    await Promise.all(this.registrations.map((r) => r.synced));
    this.prepared = true;
  }

  /** The second half of start(): schedules until stop(). */
  run(): void {
    if (!this.prepared) throw new Error("Cannot run the scheduler: prepare() has not finished");
    if (this.stopped || this.loopDone) return;
    this.metrics.pendingSource = this.pendingSource;
    // The queue stayed empty while standby: a pending pod waited in the informer alone, not in a
    // heap on every master too. In the informer's order, which is the order the pods were seen.
    this.queueing = true;
    for (const p of this.informers!.pods.store.list()) if (!isAssigned(p)) this.enqueue(p);
    this.queue.run();
    this.cache.run();
    this.loopDone = this.loop();
  }

  /** Stops the loop and the timers, then waits (at most stopWaitMs) for the bindings in flight. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const r of this.registrations.splice(0)) r.remove();
    if (this.metrics.pendingSource === this.pendingSource) this.metrics.pendingSource = undefined;
    this.queue.close();
    this.cache.stop();
    this.wakeLoop();
    await this.loopDone;
    if (this.pending.size === 0) return;
    let timer: TimerHandle | undefined;
    const timeout = new Promise<void>((resolve) => (timer = this.deps.clock.setTimeout(resolve, this.stopWaitMs)));
    await Promise.race([Promise.allSettled([...this.pending]), timeout]);
    this.deps.clock.clearTimeout(timer!);
    if (this.pending.size > 0) this.logger.warn(`stopped with ${this.pending.size} bindings or status writes still in flight`);
  }

  // --- informer handlers: note the change and return ---

  private responsible(pod: Pod): boolean {
    const name = pod.spec?.schedulerName;
    return (name === undefined || name === "" ? DEFAULT_SCHEDULER_NAME : name) === this.schedulerName;
  }

  private assignedPodChanged(p: Pod, actions: readonly ActionType[]): void {
    const namespace = p.metadata?.namespace ?? "";
    this.queue.assignedPodChanged({ namespace, labels: p.metadata?.labels ?? {} }, actions, this.cache.snapshot.namespaceLabels(namespace));
  }

  private onNodeAdd(n: Node): void {
    this.cache.setNode(n);
    this.queue.moveAllToActiveOrBackoffQueue("Node", ADD);
  }

  private onNodeUpdate(old: Node, n: Node): void {
    // Heartbeats change only status conditions: nothing a plugin reads, so skip rebuilding the node.
    const actions = nodeUpdateActions(old, n);
    if (actions.length === 0) return;
    this.cache.setNode(n);
    this.queue.moveAllToActiveOrBackoffQueue("Node", actions);
  }

  private onPodAdd(p: Pod): void {
    if (isAssigned(p)) {
      this.cache.addPod(p);
      this.assignedPodChanged(p, ADD);
      return;
    }
    this.enqueue(p);
  }

  private onPodUpdate(old: Pod, p: Pod): void {
    if (isAssigned(p)) {
      if (!isAssigned(old)) {
        // Bound: by us (confirming the assumed pod) or by someone else.
        this.queue.delete(old);
        this.cache.addPod(p);
        this.assignedPodChanged(p, ADD);
        return;
      }
      this.cache.updatePod(p);
      if (isTerminal(p) && !isTerminal(old)) this.queue.moveAllToActiveOrBackoffQueue("Pod", DELETE);
      else {
        const actions = podUpdateActions(old, p);
        // Resources given back (a resize down) may help any pod; a relabel only some.
        if (actions.includes("UpdatePodScaleDown")) this.queue.moveAllToActiveOrBackoffQueue("Pod", actions);
        else this.assignedPodChanged(p, actions);
      }
      return;
    }
    if (!this.responsible(p) || isTerminal(p) || p.metadata?.deletionTimestamp) {
      this.queue.delete(p);
      this.cache.snapshot.removeNomination(podKey(p));
      return;
    }
    if (this.queue.placeOf(podKey(p)) === undefined) this.enqueue(p);
    else this.queue.update(old, p);
    this.noteNomination(p);
  }

  private onPodDelete(p: Pod): void {
    if (isAssigned(p)) {
      this.cache.removePod(p);
      this.queue.moveAllToActiveOrBackoffQueue("Pod", DELETE);
      return;
    }
    this.queue.delete(p);
    this.cache.snapshot.removeNomination(podKey(p));
  }

  private enqueue(p: Pod): void {
    if (!this.responsible(p) || isTerminal(p) || p.metadata?.deletionTimestamp) return;
    if (!this.queueing) return this.noteNomination(p);
    if (!this.queue.add(p)) {
      if (this.refused++ % 1000 === 0) this.logger.warn(`the scheduling queue is full (${this.queue.maxPendingPods} pods): pod ${p.metadata?.namespace}/${p.metadata?.name} waits for its next update`);
      return;
    }
    this.noteNomination(p);
  }

  /** A nomination written by an earlier leader (or by this one) holds the room on its node. */
  private noteNomination(p: Pod): void {
    const node = p.status?.nominatedNodeName;
    if (node) this.cache.snapshot.nominatePod(p, node);
    else this.cache.snapshot.removeNomination(podKey(p));
  }

  // --- the loop ---

  private async loop(): Promise<void> {
    let sinceYield = 0;
    let turnStartMs = this.deps.clock.nowMs();
    while (!this.stopped) {
      if (this.pending.size >= this.maxInflight) {
        await new Promise<void>((resolve) => (this.slotWaiter = resolve));
        sinceYield = 0;
        turnStartMs = this.deps.clock.nowMs();
        continue;
      }
      let q = this.queue.tryPop();
      if (q === undefined) {
        q = await this.queue.pop();
        if (q === undefined || this.stopped) break;
        sinceYield = 0;
        turnStartMs = this.deps.clock.nowMs();
      }
      this.scheduleOne(q);
      if (++sinceYield >= this.yieldEveryPods || this.deps.clock.nowMs() - turnStartMs >= this.yieldAfterMs) {
        await yieldToEventLoop();
        sinceYield = 0;
        turnStartMs = this.deps.clock.nowMs();
      }
    }
  }

  private wakeLoop(): void {
    const w = this.slotWaiter;
    this.slotWaiter = undefined;
    w?.();
  }

  /** Runs async work in one of the bounded slots. */
  private track(work: Promise<void>): void {
    const p = work.then(
      () => {},
      (err: unknown) => this.logger.warn(`unexpected failure: ${describe(err)}`),
    );
    const tracked = p.finally(() => {
      this.pending.delete(tracked);
      this.wakeLoop();
    });
    this.pending.add(tracked);
  }

  /** One scheduling cycle; binding and status writes continue in the background. */
  scheduleOne(q: QueuedPodInfo): void {
    const info = q.podInfo;
    const cycle = q.cycle;
    // Deleted or already placed meanwhile (a stale copy in the queue): nothing to do.
    if (info.terminating || this.cache.isPlaced(info.key)) {
      this.queue.done(info.key);
      return;
    }
    const startMs = this.deps.clock.nowMs();
    let result;
    try {
      result = schedulePod(info, this.cache.snapshot, this.framework, this.deps.random);
    } catch (err) {
      this.metrics.attempt("error", this.schedulerName, (this.deps.clock.nowMs() - startMs) / 1000);
      const msg = err instanceof SchedulingError ? err.message : `Cannot schedule pod: ${describe(err)}`;
      this.deps.recorder.event(info.pod, "Warning", "FailedScheduling", msg);
      this.queue.addUnschedulableIfNotPresent(q, NO_PLUGINS, cycle);
      if (needsStatusWrite(info.pod, SCHEDULER_ERROR, msg, undefined)) this.track(this.writeNotScheduled(info, SCHEDULER_ERROR, msg, undefined));
      return;
    }
    if (result.kind === "unschedulable") {
      this.metrics.attempt("unschedulable", this.schedulerName, (this.deps.clock.nowMs() - startMs) / 1000);
      this.onUnschedulable(q, result, cycle);
      return;
    }
    this.cache.assumePod(info, result.nodeName);
    this.track(this.bind(q, result.nodeName, startMs, cycle));
  }

  private async bind(q: QueuedPodInfo, nodeName: string, startMs: number, cycle: number): Promise<void> {
    const info = q.podInfo;
    const { namespace, name } = info;
    try {
      await this.deps.binder.bind(namespace, name, nodeName, { uid: info.pod.metadata?.uid || undefined });
    } catch (err) {
      this.cache.forgetPod(info.key);
      this.metrics.attempt("error", this.schedulerName, (this.deps.clock.nowMs() - startMs) / 1000);
      if (isApiError(err, "Conflict") || isApiError(err, "NotFound")) {
        // Bound elsewhere, deleted, or recreated: the watch tells the rest; retrying cannot succeed.
        this.queue.done(info.key);
        this.logger.warn(`binding ${namespace}/${name} to ${nodeName} refused, forgetting the pod: ${describe(err)}`);
        return;
      }
      const msg = `Binding rejected: ${describe(err)}`;
      this.deps.recorder.event(info.pod, "Warning", "FailedScheduling", msg);
      this.queue.addUnschedulableIfNotPresent(q, NO_PLUGINS, cycle);
      if (needsStatusWrite(info.pod, SCHEDULER_ERROR, msg, undefined)) await this.writeNotScheduled(info, SCHEDULER_ERROR, msg, undefined);
      return;
    }
    const nowMs = this.deps.clock.nowMs();
    this.cache.finishBinding(info.key);
    this.queue.done(info.key);
    this.metrics.attempt("scheduled", this.schedulerName, (nowMs - startMs) / 1000);
    this.metrics.scheduled(attemptsLabel(q.attempts), (nowMs - q.initialAttemptTimestampMs) / 1000);
    this.deps.recorder.event(info.pod, "Normal", "Scheduled", `Successfully assigned ${namespace}/${name} to ${nodeName}`);
  }

  private onUnschedulable(q: QueuedPodInfo, result: UnschedulableResult, cycle: number): void {
    const info = q.podInfo;
    const message = result.error.message;
    const preemption = result.preemption;
    // "": preemption found no room anywhere, so the nomination the pod had no longer holds.
    const nominated = preemption?.nominatedNodeName;
    if (nominated) this.cache.snapshot.nominatePod(info, nominated);
    else if (nominated === "") this.cache.snapshot.removeNomination(info.key);
    this.deps.recorder.event(info.pod, "Warning", "FailedScheduling", message);
    this.queue.addUnschedulableIfNotPresent(q, result.error.diagnosis.unschedulablePlugins, cycle);
    const work: Promise<void>[] = [];
    if (preemption !== undefined && nominated) work.push(this.preempt(info, preemption));
    if (needsStatusWrite(info.pod, UNSCHEDULABLE, message, nominated)) work.push(this.writeNotScheduled(info, UNSCHEDULABLE, message, nominated));
    if (work.length > 0) this.track(Promise.all(work).then(() => {}));
  }

  /**
   * PodScheduled=False, reason Unschedulable (no node fits) or SchedulerError (a plugin or the
   * binding failed), and the nominated node ("" clears it), as Kubernetes writes them: the
   * condition keeps its lastTransitionTime while it stays False.
   */
  private async writeNotScheduled(info: PodInfo, reason: NotScheduledReason, message: string, nominatedNodeName: string | undefined): Promise<void> {
    const had = info.pod.status?.conditions?.find((c) => c.type === "PodScheduled");
    const since = had?.status === "False" && had.lastTransitionTime ? had.lastTransitionTime : formatTimeMs(this.deps.clock.nowMs());
    const status: Record<string, unknown> = {
      conditions: [{ type: "PodScheduled", status: "False", reason, message, lastProbeTime: null, lastTransitionTime: since }],
    };
    if (nominatedNodeName !== undefined) status.nominatedNodeName = nominatedNodeName === "" ? null : nominatedNodeName;
    try {
      await this.deps.client.patch("pods", info.namespace, info.name, "strategic", { status }, { subresource: "status" });
    } catch (err) {
      if (!isApiError(err, "NotFound")) this.logger.warn(`cannot write the PodScheduled condition of ${info.namespace}/${info.name}: ${describe(err)}`);
    }
  }

  /** Evicts the victims, and clears the nominations that the chosen node no longer honours. */
  private async preempt(info: PodInfo, r: PostFilterResult): Promise<void> {
    this.metrics.preemptionAttempts.inc();
    this.metrics.preemptionVictims.observe(r.victims.length);
    const client = this.deps.client;
    const jobs = r.victims.map(async (v) => {
      this.deps.recorder.event(v.pod, "Normal", "Preempted", `Preempted by pod ${info.pod.metadata?.uid ?? `${info.namespace}/${info.name}`} on node ${r.nominatedNodeName}`);
      try {
        await markDisruptionTarget(client, v.pod, "PreemptionByScheduler", `${this.schedulerName}: preempting to accommodate a higher priority pod`, this.deps.clock.nowMs());
        await client.delete("pods", v.namespace, v.name, { preconditions: v.pod.metadata?.uid ? { uid: v.pod.metadata.uid } : undefined });
      } catch (err) {
        if (!isApiError(err, "NotFound") && !isApiError(err, "Conflict")) this.logger.warn(`cannot evict ${v.namespace}/${v.name} for ${info.namespace}/${info.name}: ${describe(err)}`);
      }
    });
    for (const p of r.lowerPriorityNominatedPods) {
      this.cache.snapshot.removeNomination(p.key);
      jobs.push(
        client.patch("pods", p.namespace, p.name, "merge", { status: { nominatedNodeName: null } }, { subresource: "status" }).then(
          () => {},
          (err: unknown) => {
            if (!isApiError(err, "NotFound")) this.logger.warn(`cannot clear the nomination of ${p.namespace}/${p.name}: ${describe(err)}`);
          },
        ),
      );
    }
    await Promise.all(jobs);
  }
}

const UNSCHEDULABLE = "Unschedulable";
const SCHEDULER_ERROR = "SchedulerError";
type NotScheduledReason = typeof UNSCHEDULABLE | typeof SCHEDULER_ERROR;

/** Skips the write when the pod already says exactly this (a retry that failed the same way). */
function needsStatusWrite(pod: Pod, reason: NotScheduledReason, message: string, nominatedNodeName: string | undefined): boolean {
  const c = pod.status?.conditions?.find((x) => x.type === "PodScheduled");
  if (c === undefined || c.status !== "False" || c.reason !== reason || c.message !== message) return true;
  return nominatedNodeName !== undefined && nominatedNodeName !== (pod.status?.nominatedNodeName ?? "");
}
