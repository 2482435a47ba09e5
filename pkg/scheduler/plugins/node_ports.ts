// NodePorts: a pod asking for host ports goes only to a node where none of them is taken, as
// Kubernetes' plugin of that name. Pods on the host network ask for their container ports (the
// API server defaults hostPort from containerPort for them).

import { type ClusterEvent, type EnqueueExtensions } from "../framework/cluster_event.js";
import type { CycleState } from "../framework/cycle_state.js";
import type { FilterPlugin, PreFilterPlugin } from "../framework/interface.js";
import type { NodeInfo } from "../framework/node_info.js";
import type { PodInfo } from "../framework/pod_info.js";
import { Status } from "../framework/status.js";

export const NODE_PORTS = "NodePorts";
export const ERR_REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";

const REJECT = new Status("Unschedulable", [ERR_REASON_PORTS], NODE_PORTS);

export class NodePorts implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = NODE_PORTS;

  eventsToRegister(): readonly ClusterEvent[] {
    return [
      { resource: "Pod", actions: ["Delete"] },
      { resource: "Node", actions: ["Add", "UpdateNodeAllocatable", "UpdateNodeLabel", "UpdateNodeTaint"] },
    ];
  }

  preFilter(_state: CycleState, pod: PodInfo): Status | null {
    return pod.hostPorts.length === 0 ? Status.skip() : null;
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    if (node.usedPorts.isEmpty) return null;
    for (const p of pod.hostPorts) if (node.usedPorts.conflicts(p)) return REJECT;
    return null;
  }
}
