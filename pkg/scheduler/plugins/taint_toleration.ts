// TaintToleration: a node's NoSchedule and NoExecute taints keep off pods that do not tolerate
// them; PreferNoSchedule taints only lower the node's score.

import type { Toleration } from "../../../gen/navarch/api/v1/core.js";
import { type ClusterEvent, type EnqueueExtensions } from "../framework/cluster_event.js";
import type { CycleState } from "../framework/cycle_state.js";
import type { FilterPlugin, PreFilterPlugin, PreScorePlugin, ScorePlugin } from "../framework/interface.js";
import type { NodeInfo } from "../framework/node_info.js";
import { defaultNormalizeScore } from "../framework/normalize.js";
import type { PodInfo } from "../framework/pod_info.js";
import { Status } from "../framework/status.js";
import { toleratesAny } from "../framework/tolerations.js";

export const TAINT_TOLERATION = "TaintToleration";

const PRE_SCORE_KEY = "PreScore" + TAINT_TOLERATION;
const MAX_CACHED_TAINT_KEYS = 1024;

export function untoleratedTaintReason(key: string, value: string): string {
  return `node(s) had untolerated taint {${key}: ${value}}`;
}

interface PreScoreState {
  preferNoSchedule: readonly Toleration[];
}

export class TaintToleration implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = TAINT_TOLERATION;

  eventsToRegister(): readonly ClusterEvent[] {
    return [
      { resource: "Node", actions: ["Add", "UpdateNodeTaint"] },
      { resource: "Pod", actions: ["UpdatePodTolerations"] },
    ];
  }

  /** No node has a taint that filters (most clusters, most of the time): no node's Filter call is needed. */
  preFilter(state: CycleState): Status | null {
    return state.snapshot.hasHardTaints() ? null : Status.skip();
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const taints = node.taints;
    if (taints.length === 0) return null;
    const tolerations = pod.pod.spec?.tolerations ?? [];
    for (const taint of taints) {
      if (taint.effect !== "NoSchedule" && taint.effect !== "NoExecute") continue;
      if (!toleratesAny(tolerations, taint)) return this.rejection(taint.key ?? "", taint.value ?? "");
    }
    return null;
  }

  /** One status per distinct taint, reused: tainted nodes are rejected on every cycle. */
  private readonly rejections = new Map<string, Map<string, Status>>();

  private rejection(key: string, value: string): Status {
    let byValue = this.rejections.get(key);
    if (byValue === undefined) {
      if (this.rejections.size >= MAX_CACHED_TAINT_KEYS) this.rejections.clear();
      this.rejections.set(key, (byValue = new Map()));
    }
    let s = byValue.get(value);
    if (s === undefined) {
      if (byValue.size >= MAX_CACHED_TAINT_KEYS) byValue.clear();
      s = new Status("UnschedulableAndUnresolvable", [untoleratedTaintReason(key, value)], TAINT_TOLERATION);
      byValue.set(value, s);
    }
    return s;
  }

  preScore(state: CycleState, pod: PodInfo): Status | null {
    // No node has a PreferNoSchedule taint: every node would score the same (the top score, once
    // reversed), which adds the same to every node's total and changes no choice.
    if (!state.snapshot.hasPreferNoScheduleTaints()) return Status.skip();
    const preferNoSchedule = (pod.pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === "PreferNoSchedule");
    state.write(PRE_SCORE_KEY, { preferNoSchedule } satisfies PreScoreState);
    return null;
  }

  /** The number of PreferNoSchedule taints the pod does not tolerate. */
  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const taints = node.taints;
    if (taints.length === 0) return 0;
    const tolerations = state.read<PreScoreState>(PRE_SCORE_KEY)?.preferNoSchedule ?? [];
    let n = 0;
    for (const taint of taints) if (taint.effect === "PreferNoSchedule" && !toleratesAny(tolerations, taint)) n++;
    return n;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, _nodes: readonly NodeInfo[], scores: Float64Array): void {
    defaultNormalizeScore(scores, true);
  }
}
