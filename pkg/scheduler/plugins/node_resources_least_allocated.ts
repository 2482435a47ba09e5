// LeastAllocated scoring (NodeResourcesFit's default strategy): favours nodes with more of their
// cpu and memory free after placing the pod. Uses requests with Kubernetes' defaults for
// containers that name none, so pods without requests still spread.

import type { CycleState } from "../framework/cycle_state.js";
import { MAX_NODE_SCORE, type ScorePlugin } from "../framework/interface.js";
import type { NodeInfo } from "../framework/node_info.js";
import type { PodInfo } from "../framework/pod_info.js";

export const NODE_RESOURCES_LEAST_ALLOCATED = "NodeResourcesLeastAllocated";

export interface ResourceWeights {
  cpu: number;
  memory: number;
}

/** (capacity - requested) * 100 / capacity, in integers as Kubernetes; 0 when over capacity. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

export class NodeResourcesLeastAllocated implements ScorePlugin {
  readonly name = NODE_RESOURCES_LEAST_ALLOCATED;

  constructor(private readonly weights: ResourceWeights = { cpu: 1, memory: 1 }) {}

  score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const a = node.allocatable;
    let sum = 0;
    let weights = 0;
    if (a.milliCpu > 0) {
      sum += leastRequestedScore(node.nonZeroRequestedMilliCpu + pod.nonZeroRequests.milliCpu, a.milliCpu) * this.weights.cpu;
      weights += this.weights.cpu;
    }
    if (a.memoryBytes > 0) {
      sum += leastRequestedScore(node.nonZeroRequestedMemoryBytes + pod.nonZeroRequests.memoryBytes, a.memoryBytes) * this.weights.memory;
      weights += this.weights.memory;
    }
    return weights === 0 ? 0 : Math.trunc(sum / weights);
  }
}
