// NodeResourcesFit: the pod's requests must fit in what the node has left (allocatable minus the
// requests of the pods already there), for cpu, memory and the pod count.

import { type ClusterEvent, type EnqueueExtensions } from "../framework/cluster_event.js";
import type { CycleState } from "../framework/cycle_state.js";
import type { FilterPlugin } from "../framework/interface.js";
import type { NodeInfo } from "../framework/node_info.js";
import type { PodInfo } from "../framework/pod_info.js";
import { Status } from "../framework/status.js";

export const NODE_RESOURCES_FIT = "NodeResourcesFit";

export interface InsufficientResource {
  resource: "cpu" | "memory" | "pods";
  reason: string;
  requested: number;
  used: number;
  capacity: number;
  /** The node could not fit the pod even if it were empty: preemption will not help. */
  unresolvable: boolean;
}

/** Every resource the pod does not fit on the node for, in Kubernetes' order (pods, cpu, memory). */
export function insufficientResources(pod: PodInfo, node: NodeInfo): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const a = node.allocatable;
  if (node.pods.length + 1 > a.pods) {
    out.push({ resource: "pods", reason: "Too many pods", requested: 1, used: node.pods.length, capacity: a.pods, unresolvable: a.pods < 1 });
  }
  const r = pod.requests;
  if (r.milliCpu === 0 && r.memoryBytes === 0) return out;
  if (r.milliCpu > 0 && r.milliCpu > a.milliCpu - node.requestedMilliCpu) {
    out.push({
      resource: "cpu",
      reason: "Insufficient cpu",
      requested: r.milliCpu,
      used: node.requestedMilliCpu,
      capacity: a.milliCpu,
      unresolvable: r.milliCpu > a.milliCpu,
    });
  }
  if (r.memoryBytes > 0 && r.memoryBytes > a.memoryBytes - node.requestedMemoryBytes) {
    out.push({
      resource: "memory",
      reason: "Insufficient memory",
      requested: r.memoryBytes,
      used: node.requestedMemoryBytes,
      capacity: a.memoryBytes,
      unresolvable: r.memoryBytes > a.memoryBytes,
    });
  }
  return out;
}

export class NodeResourcesFit implements FilterPlugin, EnqueueExtensions {
  readonly name = NODE_RESOURCES_FIT;

  eventsToRegister(): readonly ClusterEvent[] {
    return [
      { resource: "Pod", actions: ["Delete", "UpdatePodScaleDown"] },
      { resource: "Node", actions: ["Add", "UpdateNodeAllocatable"] },
    ];
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    // The common case, checked without allocating.
    const a = node.allocatable;
    const r = pod.requests;
    if (
      node.pods.length + 1 <= a.pods &&
      r.milliCpu <= a.milliCpu - node.requestedMilliCpu &&
      r.memoryBytes <= a.memoryBytes - node.requestedMemoryBytes
    ) {
      return null;
    }
    const missing = insufficientResources(pod, node);
    if (missing.length === 0) return null;
    const unresolvable = missing.some((m) => m.unresolvable);
    return new Status(
      unresolvable ? "UnschedulableAndUnresolvable" : "Unschedulable",
      missing.map((m) => m.reason),
      NODE_RESOURCES_FIT,
    );
  }
}
