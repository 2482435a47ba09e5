// The scheduler's view of the cluster: every node with its pods, plus the namespace labels that
// namespaceSelectors read. The caller keeps it current (nodes and pods from watches, and pods it
// has just placed, "assumed", before their binding is confirmed); a scheduling cycle only reads it.

import type { Node, Pod } from "../../api/registry.js";
import type { Labels } from "../../api/labels.js";
import { NodeInfo } from "./node_info.js";
import { PodInfo } from "./pod_info.js";

export class Snapshot {
  private readonly list: NodeInfo[] = [];
  private readonly byName = new Map<string, NodeInfo>();
  /** Where each pod is, by PodInfo.key. */
  private readonly podNode = new Map<string, string>();
  /** Pods whose node is not (yet) known, by node name: attached when the node arrives. */
  private readonly waiting = new Map<string, Map<string, PodInfo>>();
  private readonly nsLabels = new Map<string, Readonly<Record<string, string>>>();
  private readonly withAffinity = new Set<NodeInfo>();
  private readonly withRequiredAntiAffinity = new Set<NodeInfo>();
  /** Bumped by every change to the set of nodes or to a node's labels, taints or capacity. */
  nodesGeneration = 0;
  /** Bumped by every pod added or removed. */
  podsGeneration = 0;

  /** Nodes in a stable order: the order filters walk them in. */
  get nodeInfos(): readonly NodeInfo[] {
    return this.list;
  }

  get numNodes(): number {
    return this.list.length;
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

  namespaceLabels(namespace: string): Labels {
    return this.nsLabels.get(namespace);
  }

  setNamespaceLabels(namespace: string, labels: Readonly<Record<string, string>>): void {
    this.nsLabels.set(namespace, labels);
  }

  removeNamespace(namespace: string): void {
    this.nsLabels.delete(namespace);
  }

  /** Adds a node or replaces its object, keeping the pods already placed on it. */
  setNode(node: Node): NodeInfo {
    const name = node.metadata?.name ?? "";
    if (name === "") throw new RangeError("Cannot add a node to the snapshot: metadata.name is empty");
    const next = new NodeInfo(node);
    const prev = this.byName.get(name);
    if (prev !== undefined) {
      for (const p of prev.pods) next.addPod(p);
      this.list[this.list.indexOf(prev)] = next;
      this.withAffinity.delete(prev);
      this.withRequiredAntiAffinity.delete(prev);
    } else {
      this.list.push(next);
      const waiting = this.waiting.get(name);
      if (waiting !== undefined) {
        this.waiting.delete(name);
        for (const p of waiting.values()) next.addPod(p);
      }
    }
    this.byName.set(name, next);
    this.track(next);
    this.nodesGeneration++;
    return next;
  }

  /** Removes a node; its pods are forgotten too (their deletions follow from the watch). */
  removeNode(name: string): boolean {
    const info = this.byName.get(name);
    if (info === undefined) return false;
    this.byName.delete(name);
    const i = this.list.indexOf(info);
    this.list.splice(i, 1);
    for (const p of info.pods) this.podNode.delete(p.key);
    this.withAffinity.delete(info);
    this.withRequiredAntiAffinity.delete(info);
    this.nodesGeneration++;
    this.podsGeneration++;
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
    this.podNode.set(info.key, target);
    this.podsGeneration++;
    const node = this.byName.get(target);
    if (node === undefined) {
      let m = this.waiting.get(target);
      if (m === undefined) this.waiting.set(target, (m = new Map()));
      m.set(info.key, info);
      return info;
    }
    node.addPod(info);
    this.track(node);
    return info;
  }

  /** Removes a pod by its PodInfo.key (uid, or namespace/name); false if it is not here. */
  removePod(key: string): boolean {
    const nodeName = this.podNode.get(key);
    if (nodeName === undefined) return false;
    this.podNode.delete(key);
    this.podsGeneration++;
    const node = this.byName.get(nodeName);
    if (node === undefined) {
      this.waiting.get(nodeName)?.delete(key);
      return true;
    }
    node.removePod(key);
    this.track(node);
    return true;
  }

  /** The node a pod is placed on, if any. */
  nodeOf(key: string): string | undefined {
    return this.podNode.get(key);
  }

  private track(n: NodeInfo): void {
    if (n.podsWithAffinity > 0) this.withAffinity.add(n);
    else this.withAffinity.delete(n);
    if (n.podsWithRequiredAntiAffinity > 0) this.withRequiredAntiAffinity.add(n);
    else this.withRequiredAntiAffinity.delete(n);
  }
}
