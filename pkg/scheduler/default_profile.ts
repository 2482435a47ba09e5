// The default-scheduler profile: Kubernetes' default plugins in its order, with its score weights
// (TaintToleration 3; NodeAffinity, PodTopologySpread and InterPodAffinity 2; the resource scores 1).

import type { Selector } from "../api/labels.js";
import { Framework, type ProfileConfig } from "./framework/framework.js";
import type { PodInfo } from "./framework/pod_info.js";
import { DefaultPreemption, type PdbLister } from "./plugins/default_preemption.js";
import { InterPodAffinity } from "./plugins/inter_pod_affinity.js";
import { NodeAffinity } from "./plugins/node_affinity.js";
import { NodeName } from "./plugins/node_name.js";
import { NodePorts } from "./plugins/node_ports.js";
import { NodeResourcesBalancedAllocation } from "./plugins/node_resources_balanced_allocation.js";
import { NodeResourcesFit } from "./plugins/node_resources_fit.js";
import { NodeResourcesLeastAllocated } from "./plugins/node_resources_least_allocated.js";
import { NodeUnschedulable } from "./plugins/node_unschedulable.js";
import { PodTopologySpread } from "./plugins/pod_topology_spread.js";
import { TaintToleration } from "./plugins/taint_toleration.js";

export const DEFAULT_SCHEDULER_NAME = "default-scheduler";

export interface DefaultProfileOptions {
  /** @default "default-scheduler" */
  schedulerName?: string;
  /** @default 0 (Kubernetes' adaptive percentage) */
  percentageOfNodesToScore?: number;
  /**
   * The selector of a pod's siblings (its Services', ReplicaSets' and StatefulSets' selectors), for
   * Kubernetes' system default spreading of pods without constraints. @default none: no default spreading
   */
  defaultSpreadSelector?: (pod: PodInfo) => Selector | undefined;
  /** The PodDisruptionBudgets of a namespace, which preemption tries not to break. @default none: no budget is considered */
  pdbLister?: PdbLister;
}

export function defaultProfile(options: DefaultProfileOptions = {}): ProfileConfig {
  return {
    schedulerName: options.schedulerName ?? DEFAULT_SCHEDULER_NAME,
    percentageOfNodesToScore: options.percentageOfNodesToScore ?? 0,
    plugins: [
      { plugin: new NodeUnschedulable() },
      { plugin: new NodeName() },
      { plugin: new TaintToleration(), weight: 3 },
      { plugin: new NodeAffinity(), weight: 2 },
      { plugin: new NodePorts() },
      { plugin: new NodeResourcesFit() },
      { plugin: new PodTopologySpread({ defaultSelector: options.defaultSpreadSelector }), weight: 2 },
      { plugin: new InterPodAffinity(), weight: 2 },
      { plugin: new DefaultPreemption({ pdbLister: options.pdbLister }) },
      { plugin: new NodeResourcesLeastAllocated(), weight: 1 },
      { plugin: new NodeResourcesBalancedAllocation(), weight: 1 },
    ],
  };
}

/** A framework running the default profile; it holds the rotating filter start, so keep one per scheduler. */
export function newDefaultFramework(options: DefaultProfileOptions = {}): Framework {
  return new Framework(defaultProfile(options));
}
