// A profile's plugins sorted by extension point, with the loops that run each point. It also
// keeps where the next filter search starts, which rotates so that successive pods do not all
// look at the same first nodes.

import type { CycleState } from "./cycle_state.js";
import {
  type FilterPlugin,
  type FrameworkHandle,
  isFilter,
  isPostFilter,
  isPreFilter,
  isPreScore,
  isScore,
  type Plugin,
  type PostFilterPlugin,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
} from "./interface.js";
import type { NodeInfo } from "./node_info.js";
import type { PodInfo } from "./pod_info.js";
import { Code, type Status } from "./status.js";

export interface PluginEntry {
  plugin: Plugin;
  /** The weight of its score; 1 when not given. */
  weight?: number;
}

export interface ProfileConfig {
  /** Pods with this spec.schedulerName are scheduled by this profile. */
  schedulerName: string;
  /** Plugins in the order each extension point runs them; a plugin takes part in every point it implements. */
  plugins: readonly PluginEntry[];
  /**
   * The share of nodes to find feasible before scoring, 1..100; 0 or undefined means Kubernetes'
   * adaptive default (50% minus 1% per 125 nodes, at least 5%, at least 100 nodes).
   */
  percentageOfNodesToScore?: number;
}

export interface WeightedScorePlugin {
  plugin: ScorePlugin;
  weight: number;
}

export class Framework implements FrameworkHandle {
  readonly schedulerName: string;
  readonly percentageOfNodesToScore: number;
  readonly preFilterPlugins: readonly PreFilterPlugin[];
  readonly filterPlugins: readonly FilterPlugin[];
  readonly postFilterPlugins: readonly PostFilterPlugin[];
  readonly preScorePlugins: readonly PreScorePlugin[];
  readonly scorePlugins: readonly WeightedScorePlugin[];
  /** Where the next filter search begins, as an index into the snapshot's node list. */
  nextStartNodeIndex = 0;
  private readonly byName: ReadonlyMap<string, Plugin>;

  constructor(config: ProfileConfig) {
    const pct = config.percentageOfNodesToScore ?? 0;
    if (!Number.isInteger(pct) || pct < 0 || pct > 100) {
      throw new RangeError(`Cannot use percentageOfNodesToScore ${JSON.stringify(pct)}: expected an integer from 0 to 100`);
    }
    const seen = new Set<string>();
    config.plugins.forEach((e, i) => {
      const name = e.plugin.name;
      if (!name) throw new RangeError(`Cannot use plugins[${i}]: its name is empty`);
      if (seen.has(name)) throw new RangeError(`Cannot use plugins[${i}]: plugin ${JSON.stringify(name)} is listed twice`);
      seen.add(name);
      const w = e.weight ?? 1;
      if (!Number.isInteger(w) || w < 1 || w > 100) {
        throw new RangeError(`Cannot use plugins[${i}].weight ${JSON.stringify(w)}: expected an integer from 1 to 100`);
      }
    });
    this.schedulerName = config.schedulerName;
    this.percentageOfNodesToScore = pct;
    const plugins = config.plugins.map((e) => e.plugin);
    this.byName = new Map(plugins.map((p) => [p.name, p]));
    this.preFilterPlugins = plugins.filter(isPreFilter);
    this.filterPlugins = plugins.filter(isFilter);
    this.postFilterPlugins = plugins.filter(isPostFilter);
    this.preScorePlugins = plugins.filter(isPreScore);
    this.scorePlugins = config.plugins.filter((e) => isScore(e.plugin)).map((e) => ({ plugin: e.plugin as ScorePlugin, weight: e.weight ?? 1 }));
  }

  pluginByName(name: string): Plugin | undefined {
    return this.byName.get(name);
  }

  /** Runs the filters in order and returns the first rejection (with its plugin), or null. */
  runFilterPlugins(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const plugins = this.filtersToRun(state);
    for (let i = 0; i < plugins.length; i++) {
      const p = plugins[i];
      const s = p.filter(state, pod, node);
      if (s !== null && s.code !== Code.Success) return s.plugin === "" ? s.withPlugin(p.name) : s;
    }
    return null;
  }

  private filtersToRun(state: CycleState): readonly FilterPlugin[] {
    const cached = state.filtersToRun;
    if (cached !== undefined && cached.from === this.filterPlugins && cached.skipped === state.skipFilterPlugins.size) return cached.plugins as FilterPlugin[];
    return this.cacheFiltersToRun(state);
  }

  /**
   * Apart from filtersToRun, which runs for every node: a closure over a local there made V8
   * allocate that local's context on every call, 50 bytes per node and pod (a third of what the
   * scheduler allocated).
   */
  private cacheFiltersToRun(state: CycleState): readonly FilterPlugin[] {
    const skip = state.skipFilterPlugins;
    const plugins = skip.size === 0 ? this.filterPlugins : this.filterPlugins.filter((p) => !skip.has(p.name));
    state.filtersToRun = { from: this.filterPlugins, plugins, skipped: skip.size };
    return plugins;
  }

  /**
   * Filters as Kubernetes' RunFilterPluginsWithNominatedPods: when pods of equal or higher priority
   * are nominated to the node, the pod must fit both with them (so it does not take their room)
   * and without them (they may end up elsewhere, and affinity to them must not count yet).
   */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const nominated = state.snapshot.nominatedPods(node.name);
    if (nominated === undefined) return this.runFilterPlugins(state, pod, node);
    let withState: CycleState | undefined;
    let withNode: NodeInfo | undefined;
    for (const p of nominated.values()) {
      if (p.key === pod.key || p.priority < pod.priority) continue;
      if (withState === undefined || withNode === undefined) {
        withState = state.clone();
        withNode = node.clone();
      }
      withNode.addPod(p);
      this.runPreFilterAddPod(withState, pod, p, withNode);
    }
    if (withState !== undefined && withNode !== undefined) {
      const s = this.runFilterPlugins(withState, pod, withNode);
      if (s !== null) return s;
    }
    return this.runFilterPlugins(state, pod, node);
  }

  runPreFilterAddPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): void {
    for (const p of this.preFilterPlugins) {
      if (p.addPod !== undefined && !state.skipFilterPlugins.has(p.name)) p.addPod(state, pod, added, node);
    }
  }

  runPreFilterRemovePod(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo): void {
    for (const p of this.preFilterPlugins) {
      if (p.removePod !== undefined && !state.skipFilterPlugins.has(p.name)) p.removePod(state, pod, removed, node);
    }
  }
}
