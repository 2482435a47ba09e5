// A node with the pods placed on it and the sums the filters compare against, kept up to date
// as pods are added and removed (kube-scheduler's NodeInfo).

import type { Node } from "../../api/registry.js";
import type { Taint } from "../../../gen/navarch/api/v1/core.js";
import type { PodInfo } from "./pod_info.js";
import { type Allocatable, nodeAllocatable } from "./resources.js";
import { UsedPorts } from "./host_ports.js";

const EMPTY_LABELS: Readonly<Record<string, string>> = Object.freeze({});

export class NodeInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly unschedulable: boolean;
  readonly allocatable: Allocatable;
  /**
   * The node's small-integer id in its snapshot (a replacement object keeps it; a removed node's
   * goes to the next new one), for per-node arrays; -1 outside a snapshot.
   */
  id = -1;
  pods: PodInfo[] = [];
  /** Sum of the pods' requests, as the fit filter compares them. */
  requestedMilliCpu = 0;
  requestedMemoryBytes = 0;
  /** The same with Kubernetes' defaults for containers that name no request, for scoring. */
  nonZeroRequestedMilliCpu = 0;
  nonZeroRequestedMemoryBytes = 0;
  /** Pods with any pod (anti-)affinity, and with required anti-affinity. */
  podsWithAffinity = 0;
  podsWithRequiredAntiAffinity = 0;
  /** Pods with terms that affect other pods' scores: required affinity or any preferred term. */
  podsWithScoringAffinity = 0;
  /** Host ports the pods hold (NodePorts). */
  usedPorts = new UsedPorts();
  /** Sum of the pods' requests of other resources (ephemeral-storage, extended resources). */
  requestedScalar = new Map<string, number>();

  constructor(readonly node: Node) {
    this.name = node.metadata?.name ?? "";
    this.labels = node.metadata?.labels ?? EMPTY_LABELS;
    this.taints = node.spec?.taints ?? [];
    this.unschedulable = node.spec?.unschedulable === true;
    this.allocatable = nodeAllocatable(node);
  }

  addPod(p: PodInfo): void {
    this.pods.push(p);
    this.account(p, 1);
  }

  /** Puts `p` where the pod with its key is, with no sums changed (its requests and ports must be the same); false if that pod is not here. */
  replacePod(p: PodInfo): boolean {
    const pods = this.pods;
    for (let i = 0; i < pods.length; i++) {
      if (pods[i].key !== p.key) continue;
      pods[i] = p;
      return true;
    }
    return false;
  }

  /** Removes the pod with this key and returns it; undefined if it is not here. */
  removePod(key: string): PodInfo | undefined {
    const pods = this.pods;
    for (let i = 0; i < pods.length; i++) {
      if (pods[i].key !== key) continue;
      const p = pods[i];
      pods[i] = pods[pods.length - 1];
      pods.pop();
      this.account(p, -1);
      return p;
    }
    return undefined;
  }

  private account(p: PodInfo, sign: 1 | -1): void {
    this.requestedMilliCpu += sign * p.requests.milliCpu;
    this.requestedMemoryBytes += sign * p.requests.memoryBytes;
    this.nonZeroRequestedMilliCpu += sign * p.nonZeroRequests.milliCpu;
    this.nonZeroRequestedMemoryBytes += sign * p.nonZeroRequests.memoryBytes;
    if (p.hasAffinity) this.podsWithAffinity += sign;
    if (p.hasRequiredAntiAffinity) this.podsWithRequiredAntiAffinity += sign;
    if (p.hasScoringAffinity) this.podsWithScoringAffinity += sign;
    if (p.hostPorts.length > 0) this.usedPorts.add(p.hostPorts, sign);
    if (p.requests.scalar !== undefined) {
      for (const [k, v] of p.requests.scalar) {
        const n = (this.requestedScalar.get(k) ?? 0) + sign * v;
        if (n !== 0) this.requestedScalar.set(k, n);
        else this.requestedScalar.delete(k);
      }
    }
  }

  /** A copy whose pod list can change without touching this one (preemption's dry runs). */
  clone(): NodeInfo {
    const c = new NodeInfo(this.node);
    c.id = this.id;
    c.pods = this.pods.slice();
    c.requestedMilliCpu = this.requestedMilliCpu;
    c.requestedMemoryBytes = this.requestedMemoryBytes;
    c.nonZeroRequestedMilliCpu = this.nonZeroRequestedMilliCpu;
    c.nonZeroRequestedMemoryBytes = this.nonZeroRequestedMemoryBytes;
    c.podsWithAffinity = this.podsWithAffinity;
    c.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity;
    c.podsWithScoringAffinity = this.podsWithScoringAffinity;
    c.usedPorts = this.usedPorts.clone();
    c.requestedScalar = new Map(this.requestedScalar);
    return c;
  }
}
