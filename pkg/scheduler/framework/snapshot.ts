// The scheduler's view of the cluster: every node with its pods, plus the namespace labels that
// namespaceSelectors read. The caller keeps it current (nodes and pods from watches, and pods it
// has just placed, "assumed", before their binding is confirmed); a scheduling cycle only reads it.
// It also keeps the indexes that make inter-pod affinity and spreading cheap per cycle.

import type { Node, Pod } from "../../api/registry.js";
import { sameLabels, type Labels } from "../../api/labels.js";
import { NodeInfo } from "./node_info.js";
import { PodCountCache, type PodCountQuery, type PodCountTable } from "./pod_count_cache.js";
import { PodInfo } from "./pod_info.js";
import { TermIndex, type TermGroup } from "./term_index.js";

/** Kubernetes' zone key: region and zone labels (or their beta forms); "" when neither is set. */
export function zoneKey(labels: Readonly<Record<string, string>>): string {
  const zone = labels["topology.kubernetes.io/zone"] ?? labels["failure-domain.beta.kubernetes.io/zone"] ?? "";
  const region = labels["topology.kubernetes.io/region"] ?? labels["failure-domain.beta.kubernetes.io/region"] ?? "";
  return region === "" && zone === "" ? "" : `${region}:\u0000:${zone}`;
}

export class Snapshot {
  /** Nodes interleaved across zones, rebuilt when `zones` changes shape. */
  private list: NodeInfo[] = [];
  private listDirty = false;
  /** Nodes by zone key, zones in the order first seen (Kubernetes' nodeTree). */
  private readonly zones = new Map<string, NodeInfo[]>();
  private readonly byName = new Map<string, NodeInfo>();
  /** Where each pod is, by PodInfo.key. */
  private readonly podNode = new Map<string, string>();
  /** Pods whose node is not (yet) known, by node name: attached when the node arrives. */
  private readonly waiting = new Map<string, Map<string, PodInfo>>();
  private readonly nsLabels = new Map<string, Readonly<Record<string, string>>>();
  private readonly withAffinity = new Set<NodeInfo>();
  private readonly withRequiredAntiAffinity = new Set<NodeInfo>();
  private readonly withScoringAffinity = new Set<NodeInfo>();
  /** Nodes with a PreferNoSchedule taint: without any, TaintToleration scores every node alike. */
  private readonly withPreferNoSchedule = new Set<NodeInfo>();
  /** Nodes with a NoSchedule or NoExecute taint, and cordoned ones: without any, their filters pass every node. */
  private readonly withHardTaints = new Set<NodeInfo>();
  private readonly cordoned = new Set<NodeInfo>();
  private readonly antiAffinity = new TermIndex("filtering");
  private readonly scoringTerms = new TermIndex("scoring");
  /** Pods that preempted others and wait for room on a node, by node then pod key. */
  private readonly nominatedByNode = new Map<string, Map<string, PodInfo>>();
  private readonly nominatedNode = new Map<string, string>();
  private readonly podCounts = new PodCountCache();
  /** NodeInfo ids: the next unused one, and those of removed nodes. */
  private nextNodeId = 0;
  private readonly freeNodeIds: number[] = [];

  /**
   * Nodes in the order filters walk them: one from each zone in turn, as Kubernetes' nodeTree, so
   * that a search that stops early still looks at every zone.
   */
  get nodeInfos(): readonly NodeInfo[] {
    if (this.listDirty) this.rebuildList();
    return this.list;
  }

  get numNodes(): number {
    return this.byName.size;
  }

  private rebuildList(): void {
    const out: NodeInfo[] = [];
    const zones = [...this.zones.values()];
    const longest = Math.max(0, ...zones.map((z) => z.length));
    for (let i = 0; i < longest; i++) {
      for (const z of zones) if (i < z.length) out.push(z[i]);
    }
    this.list = out;
    this.listDirty = false;
  }

  get numPods(): number {
    return this.podNode.size;
  }

  get(name: string): NodeInfo | undefined {
    return this.byName.get(name);
  }

  /** The nodes hosting a pod with any pod (anti-)affinity. */
  nodesWithAffinityPods(): ReadonlySet<NodeInfo> {
    return this.withAffinity;
  }

  /** The nodes hosting a pod with required pod anti-affinity. */
  nodesWithRequiredAntiAffinityPods(): ReadonlySet<NodeInfo> {
    return this.withRequiredAntiAffinity;
  }

  /** The nodes hosting a pod whose terms change other pods' scores (required affinity, preferred terms). */
  nodesWithScoringAffinityPods(): ReadonlySet<NodeInfo> {
    return this.withScoringAffinity;
  }

  /** The placed pods' required anti-affinity terms, one group per distinct term. */
  requiredAntiAffinityTerms(): IterableIterator<TermGroup> {
    return this.antiAffinity.values();
  }

  /** The placed pods' terms that score other pods (required affinity, preferred terms), one group per distinct term. */
  scoringAffinityTerms(): IterableIterator<TermGroup> {
    return this.scoringTerms.values();
  }

  /** Whether any node has a NoSchedule or NoExecute taint. */
  hasHardTaints(): boolean {
    return this.withHardTaints.size > 0;
  }

  /** Whether any node is cordoned (spec.unschedulable). */
  hasUnschedulableNodes(): boolean {
    return this.cordoned.size > 0;
  }

  /** Whether any node has a PreferNoSchedule taint. */
  hasPreferNoScheduleTaints(): boolean {
    return this.withPreferNoSchedule.size > 0;
  }

  /** Whether any placed pod has a term that scores (scoringAffinityTerms is not empty). */
  hasScoringAffinityTerms(): boolean {
    return this.scoringTerms.size > 0;
  }

  /** Updates both term indexes for a pod entering (1) or leaving (-1) a node. */
  private indexTerms(p: PodInfo, node: NodeInfo, sign: 1 | -1): void {
    this.antiAffinity.update(p, node, sign);
    this.scoringTerms.update(p, node, sign);
  }

  /** Placed pods matching the query per topology value, cached across cycles; do not change the map. */
  podCountsFor(query: PodCountQuery): ReadonlyMap<string, number> {
    return this.podCounts.counts(query, this.nodeInfos);
  }

  /** podCountsFor with the counts also by domain index, and each node's domain by NodeInfo.id. */
  podCountTableFor(query: PodCountQuery): PodCountTable {
    return this.podCounts.table(query, this.nodeInfos);
  }

  namespaceLabels(namespace: string): Labels {
    return this.nsLabels.get(namespace);
  }

  setNamespaceLabels(namespace: string, labels: Readonly<Record<string, string>>): void {
    if (this.nsLabels.has(namespace) && sameLabels(this.nsLabels.get(namespace), labels)) return;
    this.nsLabels.set(namespace, labels);
    this.podCounts.clear();
  }

  removeNamespace(namespace: string): void {
    if (this.nsLabels.delete(namespace)) this.podCounts.clear();
  }

  /** Adds a node or replaces its object, keeping the pods already placed on it. */
  setNode(node: Node): NodeInfo {
    const name = node.metadata?.name ?? "";
    if (name === "") throw new RangeError("Cannot add a node to the snapshot: metadata.name is empty");
    const next = new NodeInfo(node);
    const prev = this.byName.get(name);
    next.id = prev !== undefined ? prev.id : (this.freeNodeIds.pop() ?? this.nextNodeId++);
    if (prev !== undefined) {
      const relabelled = !sameLabels(prev.labels, next.labels);
      for (const p of prev.pods) {
        next.addPod(p);
        if (relabelled) {
          this.indexTerms(p, prev, -1);
          this.indexTerms(p, next, 1);
        }
      }
      if (relabelled) this.podCounts.clear();
      const prevZone = zoneKey(prev.labels);
      const nextZone = zoneKey(next.labels);
      if (prevZone === nextZone) {
        const z = this.zones.get(prevZone)!;
        z[z.indexOf(prev)] = next;
        if (!this.listDirty) this.list[this.list.indexOf(prev)] = next;
      } else {
        this.removeFromZone(prev);
        this.addToZone(next);
      }
      this.untrack(prev);
    } else {
      this.addToZone(next);
      const waiting = this.waiting.get(name);
      if (waiting !== undefined) {
        this.waiting.delete(name);
        for (const p of waiting.values()) {
          next.addPod(p);
          this.indexTerms(p, next, 1);
        }
      }
      this.podCounts.clear();
    }
    this.byName.set(name, next);
    this.track(next);
    this.trackSpec(next);
    return next;
  }

  /** Removes a node; its pods are forgotten too (their deletions follow from the watch). */
  removeNode(name: string): boolean {
    const info = this.byName.get(name);
    if (info === undefined) return false;
    this.byName.delete(name);
    this.removeFromZone(info);
    for (const p of info.pods) {
      this.podNode.delete(p.key);
      this.indexTerms(p, info, -1);
    }
    this.untrack(info);
    this.podCounts.clear();
    this.freeNodeIds.push(info.id);
    return true;
  }

  /**
   * Places a pod on a node (spec.nodeName unless nodeName is given), replacing an earlier copy of
   * the same pod. A pod on a node not seen yet waits for it.
   */
  addPod(pod: Pod | PodInfo, nodeName?: string): PodInfo {
    const info = pod instanceof PodInfo ? pod : new PodInfo(pod);
    const target = nodeName ?? info.pod.spec?.nodeName ?? "";
    if (target === "") throw new RangeError(`Cannot add pod ${JSON.stringify(info.key)} to the snapshot: it names no node`);
    this.removePod(info.key);
    if (this.nominatedNode.size > 0) this.removeNomination(info.key);
    this.podNode.set(info.key, target);
    const node = this.byName.get(target);
    if (node === undefined) {
      let m = this.waiting.get(target);
      if (m === undefined) this.waiting.set(target, (m = new Map()));
      m.set(info.key, info);
      return info;
    }
    node.addPod(info);
    this.indexTerms(info, node, 1);
    this.podCounts.update(info, node, 1);
    this.track(node);
    return info;
  }

  /** The placed (or waiting) pod with this key. */
  placedPod(key: string): PodInfo | undefined {
    const nodeName = this.podNode.get(key);
    if (nodeName === undefined) return undefined;
    const node = this.byName.get(nodeName);
    if (node === undefined) return this.waiting.get(nodeName)?.get(key);
    for (const p of node.pods) if (p.key === key) return p;
    return undefined;
  }

  /**
   * Swaps in a newer version of a placed pod made with PodInfo's `sameSpecAs` (only its status
   * changed): no sums, indexes or counts change. False if the pod is not placed.
   */
  replacePod(info: PodInfo): boolean {
    const nodeName = this.podNode.get(info.key);
    if (nodeName === undefined) return false;
    const node = this.byName.get(nodeName);
    if (node !== undefined) return node.replacePod(info);
    const waiting = this.waiting.get(nodeName);
    if (!waiting?.has(info.key)) return false;
    waiting.set(info.key, info);
    return true;
  }

  /** Removes a pod by its PodInfo.key (uid, or namespace/name); false if it is not here. */
  removePod(key: string): boolean {
    const nodeName = this.podNode.get(key);
    if (nodeName === undefined) return false;
    this.podNode.delete(key);
    const node = this.byName.get(nodeName);
    if (node === undefined) {
      this.waiting.get(nodeName)?.delete(key);
      return true;
    }
    const p = node.removePod(key);
    if (p !== undefined) {
      this.indexTerms(p, node, -1);
      this.podCounts.update(p, node, -1);
    }
    this.track(node);
    return true;
  }

  /**
   * Records that a pod will go to a node once its preemption victims are gone: filters treat it as
   * already there for pods of equal or lower priority, so they do not take the room made for it.
   */
  nominatePod(pod: Pod | PodInfo, nodeName: string): PodInfo {
    const info = pod instanceof PodInfo ? pod : new PodInfo(pod);
    this.removeNomination(info.key);
    let m = this.nominatedByNode.get(nodeName);
    if (m === undefined) this.nominatedByNode.set(nodeName, (m = new Map()));
    m.set(info.key, info);
    this.nominatedNode.set(info.key, nodeName);
    return info;
  }

  /** Forgets a pod's nomination; false if it had none. Placing the pod forgets it too. */
  removeNomination(key: string): boolean {
    const node = this.nominatedNode.get(key);
    if (node === undefined) return false;
    this.nominatedNode.delete(key);
    const m = this.nominatedByNode.get(node);
    m?.delete(key);
    if (m?.size === 0) this.nominatedByNode.delete(node);
    return true;
  }

  /** The pods nominated to a node, if any. */
  nominatedPods(nodeName: string): ReadonlyMap<string, PodInfo> | undefined {
    return this.nominatedNode.size === 0 ? undefined : this.nominatedByNode.get(nodeName);
  }

  /** The node a pod is placed on, if any. */
  nodeOf(key: string): string | undefined {
    return this.podNode.get(key);
  }

  private addToZone(n: NodeInfo): void {
    const key = zoneKey(n.labels);
    const z = this.zones.get(key);
    if (z === undefined) this.zones.set(key, [n]);
    else z.push(n);
    this.listDirty = true;
  }

  private removeFromZone(n: NodeInfo): void {
    const key = zoneKey(n.labels);
    const z = this.zones.get(key);
    if (z === undefined) return;
    z.splice(z.indexOf(n), 1);
    if (z.length === 0) this.zones.delete(key);
    this.listDirty = true;
  }

  private track(n: NodeInfo): void {
    if (n.podsWithAffinity > 0) this.withAffinity.add(n);
    else this.withAffinity.delete(n);
    if (n.podsWithRequiredAntiAffinity > 0) this.withRequiredAntiAffinity.add(n);
    else this.withRequiredAntiAffinity.delete(n);
    if (n.podsWithScoringAffinity > 0) this.withScoringAffinity.add(n);
    else this.withScoringAffinity.delete(n);
  }

  /** The sets a node's own spec puts it in (its taints, cordoned): set with the node, apart from track, which its pods change. */
  private trackSpec(n: NodeInfo): void {
    if (n.taints.some((t) => t.effect === "PreferNoSchedule")) this.withPreferNoSchedule.add(n);
    if (n.taints.some((t) => t.effect === "NoSchedule" || t.effect === "NoExecute")) this.withHardTaints.add(n);
    if (n.unschedulable) this.cordoned.add(n);
  }

  /** Takes the node out of every set (track's and trackSpec's). */
  private untrack(n: NodeInfo): void {
    this.withPreferNoSchedule.delete(n);
    this.withHardTaints.delete(n);
    this.cordoned.delete(n);
    this.withAffinity.delete(n);
    this.withRequiredAntiAffinity.delete(n);
    this.withScoringAffinity.delete(n);
  }
}
