// Runs one plugin's extension points the way schedulePod does, for table-driven plugin tests.

import type { Pod } from "../../api/registry.js";
import { CycleState } from "../framework/cycle_state.js";
import { isFilter, isPreFilter, isPreScore, isScore, type Plugin, PreFilterResult } from "../framework/interface.js";
import { PodInfo } from "../framework/pod_info.js";
import type { Snapshot } from "../framework/snapshot.js";
import { Code, type Status } from "../framework/status.js";

export interface FilterOutcome {
  /** The PreFilter status when it rejected the pod (then no Filter ran). */
  preFilter: Status | null;
  /** Node name → Filter status (null: passes). */
  nodes: Map<string, Status | null>;
  /** The node names a PreFilterResult narrowed the search to. */
  narrowedTo: ReadonlySet<string> | undefined;
}

/** PreFilter then Filter on every node; a Skip from PreFilter means every node passes. */
export function runFilter(plugin: Plugin, pod: Pod | PodInfo, snapshot: Snapshot): FilterOutcome {
  const info = pod instanceof PodInfo ? pod : new PodInfo(pod);
  const state = new CycleState(snapshot);
  const nodes = new Map<string, Status | null>();
  let narrowedTo: ReadonlySet<string> | undefined;
  if (isPreFilter(plugin)) {
    const r = plugin.preFilter(state, info);
    if (r instanceof PreFilterResult) narrowedTo = r.nodeNames;
    else if (r !== null && r.code === Code.Skip) state.skipFilterPlugins.add(plugin.name);
    else if (r !== null && r.code !== Code.Success) return { preFilter: r, nodes, narrowedTo };
  }
  for (const n of snapshot.nodeInfos) {
    const skip = state.skipFilterPlugins.has(plugin.name) || !isFilter(plugin);
    nodes.set(n.name, skip ? null : plugin.filter(state, info, n));
  }
  return { preFilter: null, nodes, narrowedTo };
}

/** The names of the nodes that pass, in snapshot order. */
export function passing(outcome: FilterOutcome): string[] {
  return [...outcome.nodes].filter(([, s]) => s === null).map(([n]) => n);
}

/** PreScore, Score and NormalizeScore over the given nodes (all, by default): node name → score. */
export function runScore(plugin: Plugin, pod: Pod | PodInfo, snapshot: Snapshot, nodeNames?: readonly string[]): Map<string, number> {
  const info = pod instanceof PodInfo ? pod : new PodInfo(pod);
  const state = new CycleState(snapshot);
  const nodes = nodeNames === undefined ? [...snapshot.nodeInfos] : nodeNames.map((n) => snapshot.get(n)!);
  const out = new Map<string, number>();
  if (isPreScore(plugin)) {
    const s = plugin.preScore(state, info, nodes);
    if (s !== null && s.code === Code.Skip) {
      for (const n of nodes) out.set(n.name, 0);
      return out;
    }
    if (s !== null && s.code !== Code.Success) throw new Error(`PreScore failed: ${s.message()}`);
  }
  if (!isScore(plugin)) throw new TypeError(`Plugin ${plugin.name} does not score`);
  const scores = new Float64Array(nodes.length);
  nodes.forEach((n, i) => (scores[i] = plugin.score(state, info, n)));
  plugin.normalizeScore?.(state, info, nodes, scores);
  nodes.forEach((n, i) => out.set(n.name, scores[i]));
  return out;
}
