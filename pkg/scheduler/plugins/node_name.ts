// NodeName: a pod that names its node (spec.nodeName) fits only that node.

import { type ClusterEvent, type EnqueueExtensions, NODE_UPDATES } from "../framework/cluster_event.js";
import type { CycleState } from "../framework/cycle_state.js";
import type { FilterPlugin, PreFilterPlugin } from "../framework/interface.js";
import type { NodeInfo } from "../framework/node_info.js";
import type { PodInfo } from "../framework/pod_info.js";
import { Status } from "../framework/status.js";

export const NODE_NAME = "NodeName";
export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";

const REJECT = new Status("UnschedulableAndUnresolvable", [ERR_REASON_NODE_NAME], NODE_NAME);

export function fitsNodeName(pod: PodInfo, node: NodeInfo): boolean {
  const want = pod.pod.spec?.nodeName;
  return !want || want === node.name;
}

export class NodeName implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = NODE_NAME;

  /** Most pods name no node: then no node's Filter call is needed (each pod's filter runs on hundreds of nodes). */
  preFilter(_state: CycleState, pod: PodInfo): Status | null {
    return pod.pod.spec?.nodeName ? null : Status.skip();
  }

  eventsToRegister(): readonly ClusterEvent[] {
    return [{ resource: "Node", actions: ["Add", ...NODE_UPDATES] }];
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    return fitsNodeName(pod, node) ? null : REJECT;
  }
}
