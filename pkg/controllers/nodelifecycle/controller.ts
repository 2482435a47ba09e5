// The node lifecycle controller, as Kubernetes': it watches Nodes, their heartbeat Leases
// (kube-node-lease/<node>) and Pods. A node whose Lease and Ready heartbeat have not moved for
// nodeMonitorGracePeriodMs gets Ready=Unknown ("Kubelet stopped posting node status.") and the
// unreachable taints; a node reporting Ready=False gets the not-ready taints. NoExecute taints
// are added at a bounded rate per zone (disruption.ts). Pods on a node with NoExecute taints are
// deleted once their tolerationSeconds have run out (taints.ts); until then their Ready condition
// is False. When the node is Ready again the taints go: when it reports so, or when only its Lease
// comes back after we marked it Unknown (restoreIfBack: its last report is restored).
//
// Staleness is measured as Kubernetes' nodeHealthData does: on this controller's clock, from the
// moment it saw the Lease's renewTime (or the Ready heartbeat) change, never by comparing the
// node's own wall-clock timestamps with ours. Unlike Kubernetes, a node whose Lease declares a
// longer leaseDurationSeconds than the grace period gets that long (up to MAX_LEASE_GRACE_MS): the
// holder only promised to renew within it (hollow nodes renew every 10 s with 40 s leases, as a
// kubelet does; against the default 10 s grace they would flap), while agents with 10 s leases are
// still caught at 10 s. The zone arithmetic that holds evictions back when (nearly) every node
// stops at once still counts a node down after the grace period alone, so nodes with longer leases
// do not make the others' simultaneous loss look like single failures.
//
// The queue is keyed by node name; sync(node) is level-triggered and re-queues itself for the next
// moment something is due.

import { Counter, type Registry } from 'prom-client';
import type { NodeCondition } from '../../../gen/navarch/api/v1/core.js';
import type { Lease, Node, Pod } from '../../api/registry.js';
import { isApiError } from '../../apiserver/api_error.js';
import type { EventRecorder } from '../../client/events/recorder.js';
import type { InformerFactory } from '../../client/informer/informer_factory.js';
import type { SharedInformer } from '../../client/informer/shared_informer.js';
import type { ObjectClient } from '../client.js';
import { formatTimeMs, markDisruptionTarget, parseTimeMs, QueueController, type QueueControllerOptions } from '../controller_utils.js';
import { type DisruptionOptions, isNodeReady, type ZoneCounts, ZoneTaintLimiter, zoneOf } from './disruption.js';
import { CONDITION_TAINTS, evictionAtMs, FOREVER, isManagedTaint, NO_EXECUTE, NO_SCHEDULE, sameTaint, type Taint, TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE } from './taints.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const POD_NODE_INDEX = 'byNodeName';
/** The indexes this controller adds to the pods informer. */
export const NODELIFECYCLE_POD_INDEXERS = { [POD_NODE_INDEX]: (p: Pod): string[] => (p.spec?.nodeName ? [p.spec.nodeName] : []) };
const PROBED_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];
/** How long a count of nodes up and down per zone is reused. */
const ZONE_SNAPSHOT_MS = 1000;

interface ZoneSnapshot {
  atMs: number;
  nodes: Map<string, { zone: string; up: boolean }>;
  zones: Map<string, ZoneCounts>;
  /** Nodes up in all zones. */
  up: number;
}

export const DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS = 10_000;
/** The most a node's Lease can stretch its grace period: a mistaken duration must not hide a dead node for days. */
export const MAX_LEASE_GRACE_MS = 300_000;


export interface NodeLifecycleOptions extends QueueControllerOptions, DisruptionOptions {
  client: ObjectClient;
  /** Where the nodes, leases and pods informers come from (shared with other controllers). */
  factory: InformerFactory;
  recorder: EventRecorder;
  /** A node whose heartbeat has not moved for this long is Unknown. @default 10000 */
  nodeMonitorGracePeriodMs?: number;
  /**
   * A node that has never posted a Ready condition (an agent still starting) gets this long before
   * it is Unknown, as Kubernetes' --node-startup-grace-period. @default 60000
   */
  nodeStartupGracePeriodMs?: number;
  /** How long a pod without a toleration for the not-ready/unreachable taints stays. @default 20 */
  defaultTolerationSeconds?: number;
  /** How often a node waiting for the eviction rate limiter of a stopped zone is looked at again. @default 5000 */
  nodeMonitorPeriodMs?: number;
}

/** What this controller last saw of a node's heartbeats, and when (on its own clock). */
interface NodeHealth {
  probeMs: number;
  heartbeat: string | undefined;
  renewTime: string | undefined;
  /** What the node had reported when we marked it Unknown, and when: restored if only its Lease comes back. */
  beforeUnknown?: { conditions: NodeCondition[]; atMs: number };
  /** The Ready status last seen, to report when it stops being True. */
  readyStatus?: string;
}

const evictionsByRegistry = new WeakMap<Registry, Counter>();

function evictionCounter(registry: Registry): Counter {
  let c = evictionsByRegistry.get(registry);
  if (c === undefined) {
    c = new Counter({ name: 'taint_eviction_controller_pod_deletions_total', help: 'Pods deleted because their node had NoExecute taints they do not tolerate (any longer)', registers: [registry] });
    evictionsByRegistry.set(registry, c);
  }
  return c;
}

export class NodeLifecycleController extends QueueController {
  readonly nodeMonitorGracePeriodMs: number;
  readonly nodeStartupGracePeriodMs: number;
  readonly defaultTolerationSeconds: number;
  readonly nodeMonitorPeriodMs: number;
  private readonly client: ObjectClient;
  private readonly recorder: EventRecorder;
  private readonly nodes: SharedInformer<Node>;
  private readonly leases: SharedInformer<Lease>;
  private readonly pods: SharedInformer<Pod>;
  private readonly limiter: ZoneTaintLimiter;
  private readonly health = new Map<string, NodeHealth>();
  /** Per node, when each of its NoExecute taints ("key:effect") was first seen. */
  private readonly taintSince = new Map<string, Map<string, number>>();
  private readonly evictions: Counter | undefined;
  private snapshot: ZoneSnapshot | undefined;

  constructor(o: NodeLifecycleOptions) {
    super('node-lifecycle', o);
    this.client = o.client;
    this.recorder = o.recorder;
    this.nodeMonitorGracePeriodMs = o.nodeMonitorGracePeriodMs ?? DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS;
    this.nodeStartupGracePeriodMs = o.nodeStartupGracePeriodMs ?? 60_000;
    this.defaultTolerationSeconds = o.defaultTolerationSeconds ?? 20;
    this.nodeMonitorPeriodMs = o.nodeMonitorPeriodMs ?? 5000;
    if (!(this.nodeMonitorGracePeriodMs > 0)) throw new RangeError(`Cannot create the node lifecycle controller: nodeMonitorGracePeriodMs must be > 0, got ${o.nodeMonitorGracePeriodMs}`);
    if (!(this.defaultTolerationSeconds >= 0)) throw new RangeError(`Cannot create the node lifecycle controller: defaultTolerationSeconds must be >= 0, got ${o.defaultTolerationSeconds}`);
    if (!(this.nodeMonitorPeriodMs > 0)) throw new RangeError(`Cannot create the node lifecycle controller: nodeMonitorPeriodMs must be > 0, got ${o.nodeMonitorPeriodMs}`);
    this.limiter = new ZoneTaintLimiter(this.clock, o);
    this.evictions = o.registry ? evictionCounter(o.registry) : undefined;

    this.nodes = o.factory.informer<Node>('nodes');
    this.leases = o.factory.informer<Lease>('leases');
    this.pods = o.factory.informer<Pod>('pods', { indexers: NODELIFECYCLE_POD_INDEXERS });
    this.waitFor(this.nodes, this.leases, this.pods);

    this.nodes.addEventHandler({
      onAdd: (n) => this.enqueueObject(n),
      onUpdate: (_, n) => this.enqueueObject(n),
      onDelete: (n) => this.enqueueObject(n),
    });
    // A renewal of a healthy node's Lease is only noted (when this controller saw it move): the
    // check already queued for the end of its grace period finds it and queues the next. 5,000
    // nodes renew 500 times a second, and a sync each cost the controllers' master more than the
    // rest of its idle work. (Kubernetes instead looks at every node every 5 s.)
    const onLease = (l: Lease) => {
      const name = l.metadata?.name;
      if (l.metadata?.namespace !== NODE_LEASE_NAMESPACE || !name) return;
      const node = this.nodes.store.get(undefined, name);
      const h = this.health.get(name);
      if (node !== undefined && h !== undefined && h.readyStatus === 'True' && readyCondition(node)?.status === 'True' && !node.spec?.taints?.some(isManagedTaint)) {
        this.observeHealth(node, this.clock.nowMs());
        return;
      }
      this.enqueue(name);
    };
    this.leases.addEventHandler({ onAdd: onLease, onUpdate: (_, l) => onLease(l) });
    // A pod landing on (or changing on) a node with NoExecute taints needs its eviction time.
    const onPod = (p: Pod) => {
      const nodeName = p.spec?.nodeName;
      if (!nodeName || p.metadata?.deletionTimestamp) return;
      const node = this.nodes.store.get(undefined, nodeName);
      if (node?.spec?.taints?.some((t) => t.effect === NO_EXECUTE)) this.enqueue(nodeName);
    };
    this.pods.addEventHandler({ onAdd: onPod, onUpdate: (_, p) => onPod(p) });
  }

  protected async sync(name: string): Promise<void> {
    const node = this.nodes.store.get(undefined, name);
    if (node === undefined) {
      this.health.delete(name);
      this.taintSince.delete(name);
      return;
    }
    try {
      await this.syncNode(name, node);
    } catch (err) {
      if (!isApiError(err, 'Conflict')) throw err;
      // The informer has not yet shown a write to the node (often this controller's own, a moment
      // ago): once more from the node as stored, as Kubernetes retries its node updates with a GET.
      let fresh: Node;
      try {
        fresh = await this.client.get<Node>('nodes', undefined, name);
      } catch (e) {
        if (isApiError(e, 'NotFound')) return;
        throw e;
      }
      await this.syncNode(name, fresh);
    }
  }

  private async syncNode(name: string, node: Node): Promise<void> {
    const now = this.clock.nowMs();
    let next = FOREVER;
    let current = node;

    const { probeMs, graceMs } = this.observeHealth(node, now);
    const dueMs = probeMs + graceMs;
    const h = this.health.get(name)!;
    if (now >= dueMs) {
      const before = node.status?.conditions ?? [];
      current = await this.markUnknown(current, now);
      if (current !== node && readyCondition(node)?.status !== 'Unknown') h.beforeUnknown = { conditions: before, atMs: now };
      // Our own write is not a heartbeat (it may fill in a Ready condition the node never posted).
      h.heartbeat = readyCondition(current)?.lastHeartbeatTime;
    } else {
      next = dueMs;
      current = await this.restoreIfBack(current, h, now);
    }

    // As Kubernetes: reported once when Ready stops being True, whether we wrote Unknown or the agent reported False.
    const readyStatus = readyCondition(current)?.status;
    if (h.readyStatus === 'True' && readyStatus !== 'True') this.recorder.event(current, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    h.readyStatus = readyStatus;

    const tainted = await this.reconcileTaints(current, now);
    current = tainted.node;
    next = Math.min(next, tainted.retryAtMs);
    await this.markPodsNotReady(current, now);
    next = Math.min(next, await this.evictPods(current, now));
    if (next !== FOREVER) this.enqueueAfter(name, Math.max(1, next - this.clock.nowMs()));
  }

  /**
   * When this controller last saw the node's Lease or Ready heartbeat move (its own clock), and the
   * node's grace period: the controller's, or its Lease's duration when longer (up to MAX_LEASE_GRACE_MS).
   */
  private observeHealth(node: Node, now: number): { probeMs: number; graceMs: number } {
    const name = node.metadata!.name!;
    const lease = this.leases.store.get(NODE_LEASE_NAMESPACE, name);
    const heartbeat = readyCondition(node)?.lastHeartbeatTime;
    const renewTime = lease?.spec?.renewTime;
    const leaseMs = Math.min(MAX_LEASE_GRACE_MS, (lease?.spec?.leaseDurationSeconds ?? 0) * 1000);
    const monitorMs = readyCondition(node) === undefined ? Math.max(this.nodeMonitorGracePeriodMs, this.nodeStartupGracePeriodMs) : this.nodeMonitorGracePeriodMs;
    const graceMs = Math.max(monitorMs, leaseMs);
    const saved = this.health.get(name);
    if (saved === undefined) {
      // First sight (a new node, or this controller just took over): a full grace period.
      this.health.set(name, { probeMs: now, heartbeat, renewTime });
      return { probeMs: now, graceMs };
    }
    if (saved.heartbeat !== heartbeat || (renewTime !== undefined && saved.renewTime !== renewTime)) {
      saved.probeMs = now;
      saved.heartbeat = heartbeat;
      saved.renewTime = renewTime;
    }
    return { probeMs: saved.probeMs, graceMs };
  }

  /** Sets Ready (and the other kubelet conditions) to Unknown; returns the node as written. */
  private async markUnknown(node: Node, now: number): Promise<Node> {
    const at = formatTimeMs(now);
    const conditions = (node.status?.conditions ?? []).map((c) => ({ ...c }));
    let changed = false;
    for (const c of conditions) {
      if (!PROBED_CONDITIONS.includes(c.type ?? '') || c.status === 'Unknown') continue;
      Object.assign(c, { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: at });
      changed = true;
    }
    for (const type of PROBED_CONDITIONS) {
      if (conditions.some((c) => c.type === type)) continue;
      conditions.push({ type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: node.metadata?.creationTimestamp, lastTransitionTime: at } as NodeCondition);
      changed = true;
    }
    if (!changed) return node;
    const written = await this.client.patch<Node>('nodes', undefined, node.metadata!.name!, 'merge', { metadata: { resourceVersion: node.metadata?.resourceVersion }, status: { conditions } }, { subresource: 'status' });
    return written;
  }

  /**
   * The node's Lease moves again while its conditions are still the Unknown we wrote: the agent is
   * back (a late renewal, a network blip) but has not re-posted its status. Its conditions return
   * to what it last reported, so a blip does not cost its pods. (Kubernetes waits for the kubelet,
   * which re-posts within 10 s; an agent that does so overwrites this.) Not after a failover: a new
   * leader never saw the earlier report, and waits for the node.
   */
  private async restoreIfBack(node: Node, h: NodeHealth, now: number): Promise<Node> {
    const ready = readyCondition(node);
    const saved = h.beforeUnknown;
    if (saved === undefined) return node;
    if (ready?.status !== 'Unknown' || ready.reason !== 'NodeStatusUnknown') {
      h.beforeUnknown = undefined;
      return node;
    }
    if (h.probeMs <= saved.atMs) return node;
    const at = formatTimeMs(now);
    const byType = new Map(saved.conditions.map((c) => [c.type, c]));
    const conditions = (node.status?.conditions ?? []).map((c) => {
      const was = byType.get(c.type);
      if (was === undefined || c.status !== 'Unknown' || c.reason !== 'NodeStatusUnknown') return c;
      return { ...was, lastHeartbeatTime: c.lastHeartbeatTime, lastTransitionTime: at };
    });
    const written = await this.client.patch<Node>('nodes', undefined, node.metadata!.name!, 'merge', { metadata: { resourceVersion: node.metadata?.resourceVersion }, status: { conditions } }, { subresource: 'status' });
    h.beforeUnknown = undefined;
    if (readyCondition(written)?.status === 'True') this.recorder.event(written, 'Normal', 'NodeReady', `Node ${node.metadata!.name} status is now: NodeReady`);
    return written;
  }

  /**
   * Makes the managed taints match the Ready condition: none when True, not-ready when False,
   * unreachable when Unknown (or absent). NoSchedule at once; a new NoExecute only with a token of
   * the zone's limiter, and none at all while every node is down. Also a NoSchedule taint per
   * pressure condition that is True and for a cordoned node (spec.unschedulable).
   */
  private async reconcileTaints(node: Node, now: number): Promise<{ node: Node; retryAtMs: number }> {
    const name = node.metadata!.name!;
    const status = readyCondition(node)?.status ?? 'Unknown';
    const key = status === 'True' ? undefined : status === 'False' ? TAINT_NOT_READY : TAINT_UNREACHABLE;
    const have = node.spec?.taints ?? [];
    const want: Taint[] = have.filter((t) => !isManagedTaint(t));
    let retryAtMs = FOREVER;
    if (key !== undefined) {
      const keep = (effect: string) => have.find((t) => t.key === key && t.effect === effect) ?? { key, effect, timeAdded: formatTimeMs(now) };
      want.push(keep(NO_SCHEDULE));
      const hadNoExecute = have.find((t) => isManagedTaint(t) && t.effect === NO_EXECUTE);
      const d = this.disruption(node, now);
      if (d.othersUp === 0) {
        // Every node unreachable at once: more likely our view than the nodes; evict nothing. Look
        // again: when the others come back, nothing else would make this node's sync run.
        retryAtMs = now + this.nodeMonitorPeriodMs;
      } else if (hadNoExecute) {
        // Swapping not-ready for unreachable (or keeping it) is not a new eviction.
        want.push(hadNoExecute.key === key ? hadNoExecute : { key, effect: NO_EXECUTE, timeAdded: formatTimeMs(now) });
      } else {
        const waitMs = this.limiter.tryTake(zoneOf(node), this.limiter.qpsFor(d.zone));
        if (waitMs === 0) want.push({ key, effect: NO_EXECUTE, timeAdded: formatTimeMs(now) });
        else retryAtMs = now + Math.min(waitMs, this.nodeMonitorPeriodMs);
      }
    }
    // Kubernetes' NoSchedule tainting pass: pressure conditions, a network not ready, a cordoned node.
    const noSchedule = (taintKey: string) => have.find((t) => t.key === taintKey && t.effect === NO_SCHEDULE) ?? { key: taintKey, effect: NO_SCHEDULE, timeAdded: formatTimeMs(now) };
    for (const c of node.status?.conditions ?? []) {
      const taintKey = CONDITION_TAINTS[c.type ?? ''];
      if (taintKey !== undefined && c.status === 'True') want.push(noSchedule(taintKey));
    }
    if (node.spec?.unschedulable) want.push(noSchedule(TAINT_UNSCHEDULABLE));
    const same = want.length === have.length && want.every((t) => have.some((h) => sameTaint(h, t)));
    if (same) return { node, retryAtMs };
    const written = await this.client.patch<Node>('nodes', undefined, name, 'merge', { metadata: { resourceVersion: node.metadata?.resourceVersion }, spec: { taints: want } });
    return { node: written, retryAtMs };
  }

  /**
   * A node that is not Ready cannot vouch for its pods: their Ready condition goes False (so
   * Services and Deployments stop counting them), as Kubernetes' MarkPodsNotReady. A pod that
   * turned Ready after the node went down was reported by a live agent and is left alone.
   */
  private async markPodsNotReady(node: Node, now: number): Promise<void> {
    const cond = readyCondition(node);
    if (cond?.status === 'True') return;
    const nodeSinceMs = parseTimeMs(cond?.lastTransitionTime) ?? 0;
    for (const pod of this.pods.store.byIndex(POD_NODE_INDEX, node.metadata!.name!)) {
      if (pod.metadata?.deletionTimestamp) continue;
      const podReady = pod.status?.conditions?.find((c) => c.type === 'Ready');
      if (podReady?.status !== 'True' || (parseTimeMs(podReady.lastTransitionTime) ?? 0) > nodeSinceMs) continue;
      const conditions = (pod.status?.conditions ?? []).map((c) => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: formatTimeMs(now) } : c));
      const m = pod.metadata!;
      try {
        await this.client.patch<Pod>('pods', m.namespace, m.name!, 'merge', { metadata: { resourceVersion: m.resourceVersion }, status: { conditions } }, { subresource: 'status' });
      } catch (err) {
        if (isApiError(err, 'NotFound')) continue;
        throw err;
      }
      this.recorder.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
    }
  }

  /**
   * Deletes the pods on the node whose toleration of its NoExecute taints has run out; returns when
   * the next one will (FOREVER if none).
   */
  private async evictPods(node: Node, now: number): Promise<number> {
    const name = node.metadata!.name!;
    const taints = this.noExecuteTaints(node, now);
    if (taints.length === 0) return FOREVER;
    let next = FOREVER;
    for (const pod of this.pods.store.byIndex(POD_NODE_INDEX, name)) {
      if (pod.metadata?.deletionTimestamp) continue;
      const at = evictionAtMs(pod, taints, this.defaultTolerationSeconds);
      if (at > now) {
        next = Math.min(next, at);
        continue;
      }
      const m = pod.metadata!;
      this.recorder.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${m.namespace}/${m.name}`);
      try {
        await markDisruptionTarget(this.client, pod, 'DeletionByTaintManager', 'Taint manager: deleting due to NoExecute taint', now);
        await this.client.delete('pods', m.namespace, m.name!, { preconditions: { uid: m.uid } });
        this.evictions?.inc();
      } catch (err) {
        // Gone already, or replaced by a new pod of the same name: nothing to evict.
        if (!isApiError(err, 'NotFound') && !isApiError(err, 'Conflict')) throw err;
      }
    }
    return next;
  }

  /** The node's NoExecute taints with when each was first seen (ours: when we added it). */
  private noExecuteTaints(node: Node, now: number): Array<{ taint: Taint; sinceMs: number }> {
    const name = node.metadata!.name!;
    const seen = this.taintSince.get(name) ?? new Map<string, number>();
    const out: Array<{ taint: Taint; sinceMs: number }> = [];
    const present = new Set<string>();
    for (const taint of node.spec?.taints ?? []) {
      if (taint.effect !== NO_EXECUTE) continue;
      const k = `${taint.key ?? ''}:${taint.effect}`;
      present.add(k);
      let since = seen.get(k);
      if (since === undefined) {
        // Not-ready swapped for unreachable (or back) is the same outage: its pods' clock goes on,
        // as Kubernetes keeps a pod's scheduled eviction while it tolerates the new taint as long.
        const other = taint.key === TAINT_NOT_READY ? TAINT_UNREACHABLE : taint.key === TAINT_UNREACHABLE ? TAINT_NOT_READY : undefined;
        const swappedFrom = other === undefined ? undefined : seen.get(`${other}:${NO_EXECUTE}`);
        // A taint we did not see appear: trust its timeAdded unless that lies in our future.
        since = swappedFrom ?? Math.min(now, parseTimeMs(taint.timeAdded) ?? now);
        seen.set(k, since);
      }
      out.push({ taint, sinceMs: since });
    }
    for (const k of [...seen.keys()]) if (!present.has(k)) seen.delete(k);
    if (seen.size > 0) this.taintSince.set(name, seen);
    else this.taintSince.delete(name);
    return out;
  }

  /**
   * Whether a node counts as up for the disruption arithmetic: Ready, and (for another node) its
   * heartbeat not overdue, so nodes that stopped together are seen down together even before
   * their syncs have written Unknown (Kubernetes updates every node's health before it looks at zones).
   */
  private isUp(n: Node, now: number): boolean {
    if (!isNodeReady(n)) return false;
    const h = this.health.get(n.metadata?.name ?? '');
    return h === undefined || now < h.probeMs + this.nodeMonitorGracePeriodMs;
  }

  /** Every node's zone and state, recomputed at most every ZONE_SNAPSHOT_MS: one pass over all nodes, not one per sync. */
  private zoneSnapshot(now: number): ZoneSnapshot {
    if (this.snapshot !== undefined && now - this.snapshot.atMs < ZONE_SNAPSHOT_MS) return this.snapshot;
    const snap: ZoneSnapshot = { atMs: now, nodes: new Map(), zones: new Map(), up: 0 };
    for (const n of this.nodes.store.list()) {
      const zone = zoneOf(n);
      const up = this.isUp(n, now);
      snap.nodes.set(n.metadata?.name ?? '', { zone, up });
      const c = snap.zones.get(zone) ?? { ready: 0, notReady: 0 };
      if (up) c.ready++;
      else c.notReady++;
      snap.zones.set(zone, c);
      if (up) snap.up++;
    }
    this.snapshot = snap;
    return snap;
  }

  /** The node's zone counts and the number of other nodes up, with the node itself as now known. */
  private disruption(node: Node, now: number): { zone: ZoneCounts; othersUp: number } {
    const snap = this.zoneSnapshot(now);
    const name = node.metadata?.name ?? '';
    const zone = zoneOf(node);
    const counts = { ...(snap.zones.get(zone) ?? { ready: 0, notReady: 0 }) };
    const seen = snap.nodes.get(name);
    if (seen !== undefined && seen.zone === zone) {
      if (seen.up) counts.ready--;
      else counts.notReady--;
    }
    if (isNodeReady(node)) counts.ready++;
    else counts.notReady++;
    return { zone: counts, othersUp: snap.up - (seen?.up ? 1 : 0) };
  }
}

function readyCondition(node: Node): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready');
}
