// NodeAffinity: spec.nodeSelector and required node affinity filter nodes; preferred node
// affinity adds the weights of the terms a node matches to its score. Affinity to node names
// (matchFields metadata.name In) narrows the search to those nodes in PreFilter.

import { type ClusterEvent, type EnqueueExtensions } from "../framework/cluster_event.js";
import type { CycleState } from "../framework/cycle_state.js";
import { type FilterPlugin, PreFilterResult, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from "../framework/interface.js";
import type { NodeInfo } from "../framework/node_info.js";
import { OBJECT_NAME_FIELD, PreferredNodeAffinity } from "../framework/node_selector.js";
import { defaultNormalizeScore } from "../framework/normalize.js";
import type { PodInfo } from "../framework/pod_info.js";
import { Status } from "../framework/status.js";

export const NODE_AFFINITY = "NodeAffinity";
export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
export const ERR_REASON_CONFLICT = "pod affinity terms conflict";

const PRE_SCORE_KEY = "PreScore" + NODE_AFFINITY;
const REJECT = new Status("UnschedulableAndUnresolvable", [ERR_REASON_POD], NODE_AFFINITY);

interface PreScoreState {
  preferred: PreferredNodeAffinity;
}

/** The node names a pod's required terms are limited to, or undefined when some term allows any node. */
export function requiredNodeNames(pod: PodInfo): Set<string> | undefined {
  const terms = pod.pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (terms.length === 0) return undefined;
  let names: Set<string> | undefined;
  for (const t of terms) {
    let termNames: Set<string> | undefined;
    for (const r of t.matchFields ?? []) {
      if (r.key !== OBJECT_NAME_FIELD || r.operator !== "In") continue;
      const s = new Set(r.values ?? []);
      termNames = termNames === undefined ? s : new Set([...termNames].filter((n) => s.has(n)));
    }
    // Terms are ORed: one term without a name limit lets every node through.
    if (termNames === undefined) return undefined;
    names = names === undefined ? termNames : new Set([...names, ...termNames]);
  }
  return names;
}

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NODE_AFFINITY;

  eventsToRegister(): readonly ClusterEvent[] {
    return [{ resource: "Node", actions: ["Add", "UpdateNodeLabel"] }];
  }

  preFilter(_state: CycleState, pod: PodInfo): PreFilterResult | Status | null {
    if (pod.requiredNodeAffinity.isEmpty()) return Status.skip();
    const names = requiredNodeNames(pod);
    if (names === undefined) return null;
    if (names.size === 0) return new Status("UnschedulableAndUnresolvable", [ERR_REASON_CONFLICT], NODE_AFFINITY);
    return new PreFilterResult(names);
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    return pod.requiredNodeAffinity.matches(node) ? null : REJECT;
  }

  preScore(state: CycleState, pod: PodInfo): Status | null {
    const terms = pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    if (terms.length === 0) return Status.skip();
    state.write(PRE_SCORE_KEY, { preferred: PreferredNodeAffinity.of(terms) } satisfies PreScoreState);
    return null;
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    return state.read<PreScoreState>(PRE_SCORE_KEY)?.preferred.score(node) ?? 0;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, _nodes: readonly NodeInfo[], scores: Float64Array): void {
    defaultNormalizeScore(scores, false);
  }
}
