// The extension points, each its own small interface (kube-scheduler's framework/interface.go).
// A plugin implements only the points it needs; calls return null for Success.

import type { Random } from "../../../raft/core/random.js";
import type { CycleState } from "./cycle_state.js";
import type { NodeInfo } from "./node_info.js";
import type { PodInfo } from "./pod_info.js";
import type { Status } from "./status.js";

/** The highest score a Score plugin may give a node after normalizing. */
export const MAX_NODE_SCORE = 100;

export interface Plugin {
  readonly name: string;
}

/** PreFilter may narrow the nodes worth filtering (e.g. a node affinity on metadata.name). */
export class PreFilterResult {
  constructor(readonly nodeNames: ReadonlySet<string>) {}
}

export interface PreFilterPlugin extends Plugin {
  /** Computes per-pod state once; Skip means this plugin's Filter has nothing to check. */
  preFilter(state: CycleState, pod: PodInfo): PreFilterResult | Status | null;
  /** Updates that state as if `added` were on `node` (preemption's what-ifs). */
  addPod?(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): void;
  /** Updates that state as if `removed` were gone from `node`. */
  removePod?(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo): void;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null;
}

/** Statuses of the nodes that failed filtering; nodes missing from `statuses` have `absent`. */
export interface NodeStatuses {
  readonly statuses: ReadonlyMap<string, Status>;
  readonly absent: Status | undefined;
}

export interface PostFilterResult {
  /** Where the pod should go once the victims are gone. */
  nominatedNodeName: string;
  /** Pods to evict, most important first. */
  victims: readonly PodInfo[];
  /** Lower-priority pods nominated to the same node: their nominations no longer hold and should be cleared. */
  lowerPriorityNominatedPods: readonly PodInfo[];
}

/** What PostFilter plugins may ask of the framework. */
export interface FrameworkHandle {
  runFilterPlugins(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null;
  /** Filters with the node's nominated pods of equal or higher priority counted in, then without them. */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null;
  runPreFilterAddPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): void;
  runPreFilterRemovePod(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo): void;
}

export interface PostFilterPlugin extends Plugin {
  /** Runs when no node fits; may find room by nominating a node and victims. */
  postFilter(
    state: CycleState,
    pod: PodInfo,
    nodes: NodeStatuses,
    handle: FrameworkHandle,
    random: Random,
  ): { result: PostFilterResult | undefined; status: Status | null };
}

export interface PreScorePlugin extends Plugin {
  /** Computes per-pod scoring state over the feasible nodes; Skip means Score is not needed. */
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | null;
}

export interface ScorePlugin extends Plugin {
  /** A raw score; within 0..MAX_NODE_SCORE unless normalizeScore maps it there. */
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  /** Rewrites the raw scores (one per node, same order) into 0..MAX_NODE_SCORE. */
  normalizeScore?(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], scores: Float64Array): void;
}

export function isPreFilter(p: Plugin): p is PreFilterPlugin {
  return typeof (p as PreFilterPlugin).preFilter === "function";
}
export function isFilter(p: Plugin): p is FilterPlugin {
  return typeof (p as FilterPlugin).filter === "function";
}
export function isPostFilter(p: Plugin): p is PostFilterPlugin {
  return typeof (p as PostFilterPlugin).postFilter === "function";
}
export function isPreScore(p: Plugin): p is PreScorePlugin {
  return typeof (p as PreScorePlugin).preScore === "function";
}
export function isScore(p: Plugin): p is ScorePlugin {
  return typeof (p as ScorePlugin).score === "function";
}
