// BalancedAllocation scoring: favours nodes whose cpu and memory would be used in similar
// proportions after placing the pod (1 - the standard deviation of the fractions, times 100).

import type { CycleState } from "../framework/cycle_state.js";
import { MAX_NODE_SCORE, type PreScorePlugin, type ScorePlugin } from "../framework/interface.js";
import type { NodeInfo } from "../framework/node_info.js";
import type { PodInfo } from "../framework/pod_info.js";
import { Status } from "../framework/status.js";

export const NODE_RESOURCES_BALANCED_ALLOCATION = "NodeResourcesBalancedAllocation";

/** Kubernetes' balancedResourceScorer for cpu and memory; a resource the node lacks is left out. */
export function balancedScore(cpuRequested: number, cpuAllocatable: number, memRequested: number, memAllocatable: number): number {
  let n = 0;
  let f0 = 0;
  let f1 = 0;
  if (cpuAllocatable > 0) {
    f0 = Math.min(1, cpuRequested / cpuAllocatable);
    n++;
  }
  if (memAllocatable > 0) {
    const f = Math.min(1, memRequested / memAllocatable);
    if (n === 0) f0 = f;
    else f1 = f;
    n++;
  }
  const std = n === 2 ? Math.abs((f0 - f1) / 2) : 0;
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

export class NodeResourcesBalancedAllocation implements PreScorePlugin, ScorePlugin {
  readonly name = NODE_RESOURCES_BALANCED_ALLOCATION;

  /** A pod that requests nothing would pile onto one node if balance decided: skip it (as Kubernetes 1.32). */
  preScore(_state: CycleState, pod: PodInfo): Status | null {
    return pod.requests.milliCpu === 0 && pod.requests.memoryBytes === 0 ? Status.skip() : null;
  }

  score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const a = node.allocatable;
    return balancedScore(
      node.requestedMilliCpu + pod.requests.milliCpu,
      a.milliCpu,
      node.requestedMemoryBytes + pod.requests.memoryBytes,
      a.memoryBytes,
    );
  }
}
