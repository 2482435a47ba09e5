// NodeUnschedulable: a cordoned node (spec.unschedulable) takes only pods that tolerate the
// node.kubernetes.io/unschedulable:NoSchedule taint.

import { type ClusterEvent, type EnqueueExtensions } from "../framework/cluster_event.js";
import type { CycleState } from "../framework/cycle_state.js";
import type { FilterPlugin, PreFilterPlugin } from "../framework/interface.js";
import type { NodeInfo } from "../framework/node_info.js";
import type { PodInfo } from "../framework/pod_info.js";
import { Status } from "../framework/status.js";
import { toleratesAny } from "../framework/tolerations.js";

export const NODE_UNSCHEDULABLE = "NodeUnschedulable";
export const ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable";
export const TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";

const REJECT = new Status("UnschedulableAndUnresolvable", [ERR_REASON_UNSCHEDULABLE], NODE_UNSCHEDULABLE);
const TAINT = { key: TAINT_NODE_UNSCHEDULABLE, effect: "NoSchedule" };

export class NodeUnschedulable implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = NODE_UNSCHEDULABLE;

  eventsToRegister(): readonly ClusterEvent[] {
    return [{ resource: "Node", actions: ["Add", "UpdateNodeTaint"] }];
  }

  /** No node is cordoned (most of the time): no node's Filter call is needed. */
  preFilter(state: CycleState): Status | null {
    return state.snapshot.hasUnschedulableNodes() ? null : Status.skip();
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    if (!node.unschedulable) return null;
    return toleratesAny(pod.pod.spec?.tolerations ?? [], TAINT) ? null : REJECT;
  }
}
