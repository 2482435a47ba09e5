// NodeResourcesFit: the pod's requests must fit in what the node has left (allocatable minus the
// requests of the pods already there), for cpu, memory, the pod count, and every other resource it
// asks for (ephemeral-storage, extended resources such as nvidia.com/gpu: "Insufficient <name>").

import { type ClusterEvent, type EnqueueExtensions } from "../framework/cluster_event.js";
import type { CycleState } from "../framework/cycle_state.js";
import type { FilterPlugin } from "../framework/interface.js";
import type { NodeInfo } from "../framework/node_info.js";
import type { PodInfo } from "../framework/pod_info.js";
import { Status } from "../framework/status.js";

export const NODE_RESOURCES_FIT = "NodeResourcesFit";

export interface InsufficientResource {
  /** cpu, memory, pods, or another resource's name. */
  resource: string;
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
  for (const s of insufficientScalars(pod, node)) out.push(s);
  return out;
}

/** The other resources (ephemeral-storage first, then by name) the pod asks for more of than the node has left. */
function insufficientScalars(pod: PodInfo, node: NodeInfo): InsufficientResource[] {
  const wanted = pod.requests.scalar;
  if (wanted === undefined) return [];
  const out: InsufficientResource[] = [];
  const names = [...wanted.keys()].sort((x, y) => (x === EPHEMERAL ? -1 : y === EPHEMERAL ? 1 : x < y ? -1 : x > y ? 1 : 0));
  for (const name of names) {
    const requested = wanted.get(name)!;
    if (requested <= 0) continue;
    const capacity = node.allocatable.scalar.get(name) ?? 0;
    const used = node.requestedScalar.get(name) ?? 0;
    if (requested > capacity - used) out.push({ resource: name, reason: `Insufficient ${name}`, requested, used, capacity, unresolvable: requested > capacity });
  }
  return out;
}

const EPHEMERAL = "ephemeral-storage";

const REASONS = ["Too many pods", "Insufficient cpu", "Insufficient memory"] as const;

/** Every combination of reasons, built once: a full cluster rejects thousands of nodes per cycle. */
const STATUSES: Status[][] = [0, 1].map((unresolvable) =>
  Array.from({ length: 8 }, (_, mask) =>
    new Status(
      unresolvable ? "UnschedulableAndUnresolvable" : "Unschedulable",
      REASONS.filter((_, bit) => (mask & (1 << bit)) !== 0),
      NODE_RESOURCES_FIT,
    ),
  ),
);

export class NodeResourcesFit implements FilterPlugin, EnqueueExtensions {
  readonly name = NODE_RESOURCES_FIT;

  eventsToRegister(): readonly ClusterEvent[] {
    return [
      { resource: "Pod", actions: ["Delete", "UpdatePodScaleDown"] },
      { resource: "Node", actions: ["Add", "UpdateNodeAllocatable"] },
    ];
  }

  /** The same verdict as insufficientResources(), without allocating. */
  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const a = node.allocatable;
    const r = pod.requests;
    let mask = 0;
    let unresolvable = 0;
    if (node.pods.length + 1 > a.pods) {
      mask |= 1;
      if (a.pods < 1) unresolvable = 1;
    }
    if (r.milliCpu > 0 && r.milliCpu > a.milliCpu - node.requestedMilliCpu) {
      mask |= 2;
      if (r.milliCpu > a.milliCpu) unresolvable = 1;
    }
    if (r.memoryBytes > 0 && r.memoryBytes > a.memoryBytes - node.requestedMemoryBytes) {
      mask |= 4;
      if (r.memoryBytes > a.memoryBytes) unresolvable = 1;
    }
    if (r.scalar !== undefined) {
      // Rare (a GPU pod, an ephemeral-storage request): a status built for the occasion.
      const more = insufficientScalars(pod, node);
      if (more.length > 0) {
        const reasons = [...REASONS.filter((_, bit) => (mask & (1 << bit)) !== 0), ...more.map((m) => m.reason)];
        const worst = unresolvable === 1 || more.some((m) => m.unresolvable);
        return new Status(worst ? "UnschedulableAndUnresolvable" : "Unschedulable", reasons, NODE_RESOURCES_FIT);
      }
    }
    return mask === 0 ? null : STATUSES[unresolvable][mask];
  }
}
