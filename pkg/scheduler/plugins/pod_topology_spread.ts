// PodTopologySpread: pods matching a constraint's labelSelector must stay spread over the values
// of its topologyKey. DoNotSchedule constraints filter: placing the pod in a domain may not make
// that domain exceed the least populated one by more than maxSkew (the least is taken as 0 while
// fewer than minDomains domains exist). ScheduleAnyway constraints score: fewer matching pods in
// the node's domains is better. Counting happens once per cycle, in PreFilter and PreScore.

import type { TopologySpreadConstraint } from "../../../gen/navarch/api/v1/core.js";
import { type Requirement, Selector, selectorFromLabelSelector } from "../../api/labels.js";
import { type ClusterEvent, type EnqueueExtensions } from "../framework/cluster_event.js";
import type { CycleState } from "../framework/cycle_state.js";
import { MAX_NODE_SCORE, type FilterPlugin, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from "../framework/interface.js";
import type { NodeInfo } from "../framework/node_info.js";
import type { PodInfo } from "../framework/pod_info.js";
import type { Snapshot } from "../framework/snapshot.js";
import type { PodCountQuery, PodCountTable } from "../framework/pod_count_cache.js";
import { Status } from "../framework/status.js";

export const POD_TOPOLOGY_SPREAD = "PodTopologySpread";
export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)";
export const HOSTNAME_LABEL = "kubernetes.io/hostname";

const PRE_FILTER_KEY = "PreFilter" + POD_TOPOLOGY_SPREAD;
const PRE_SCORE_KEY = "PreScore" + POD_TOPOLOGY_SPREAD;
const REJECT_SKEW = new Status("Unschedulable", [ERR_REASON_CONSTRAINTS_NOT_MATCH], POD_TOPOLOGY_SPREAD);
const REJECT_LABEL = new Status("UnschedulableAndUnresolvable", [ERR_REASON_NODE_LABEL_NOT_MATCH], POD_TOPOLOGY_SPREAD);

export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  selector: Selector;
  minDomains: number;
}

/** The pod's constraints with this whenUnsatisfiable, selectors compiled (matchLabelKeys merged in). */
export function spreadConstraints(pod: PodInfo, action: "DoNotSchedule" | "ScheduleAnyway"): SpreadConstraint[] {
  const out: SpreadConstraint[] = [];
  const list: readonly TopologySpreadConstraint[] = pod.pod.spec?.topologySpreadConstraints ?? [];
  list.forEach((c, i) => {
    const path = `spec.topologySpreadConstraints[${i}]`;
    const when = c.whenUnsatisfiable ?? "";
    if (when !== "DoNotSchedule" && when !== "ScheduleAnyway") {
      throw new RangeError(`Cannot use ${path}.whenUnsatisfiable ${JSON.stringify(when)}: expected "DoNotSchedule" or "ScheduleAnyway"`);
    }
    if (when !== action) return;
    if (!Number.isInteger(c.maxSkew) || (c.maxSkew ?? 0) < 1) {
      throw new RangeError(`Cannot use ${path}.maxSkew ${JSON.stringify(c.maxSkew ?? null)}: expected an integer greater than 0`);
    }
    if (!c.topologyKey) throw new RangeError(`Cannot use ${path}.topologyKey: it is empty`);
    if (c.minDomains !== undefined && (!Number.isInteger(c.minDomains) || c.minDomains < 1)) {
      throw new RangeError(`Cannot use ${path}.minDomains ${JSON.stringify(c.minDomains)}: expected an integer greater than 0`);
    }
    let selector: Selector;
    try {
      selector = selectorFromLabelSelector(c.labelSelector);
    } catch (e) {
      throw new RangeError(`Cannot use ${path}.labelSelector: ${(e as Error).message}`);
    }
    const extra: Requirement[] = [];
    for (const key of c.matchLabelKeys ?? []) {
      const v = pod.labels[key];
      if (v !== undefined) extra.push({ key, operator: "in", values: [v] });
    }
    if (extra.length > 0 && !selector.isNothing()) selector = Selector.of([...selector.requirements, ...extra]);
    out.push({ maxSkew: c.maxSkew!, topologyKey: c.topologyKey, selector, minDomains: c.minDomains ?? 1 });
  });
  return out;
}

function hasAllKeys(labels: Readonly<Record<string, string>>, constraints: readonly SpreadConstraint[]): boolean {
  for (const c of constraints) if (!Object.prototype.hasOwnProperty.call(labels, c.topologyKey)) return false;
  return true;
}

/** Pods on the node in the namespace that the selector matches; terminating pods and empty selectors count nothing (as Kubernetes). */
export function countMatching(pods: readonly PodInfo[], selector: Selector, namespace: string): number {
  if (selector.isEverything()) return 0;
  let n = 0;
  for (let i = 0; i < pods.length; i++) {
    const p = pods[i];
    if (p.terminating || p.namespace !== namespace) continue;
    if (selector.matches(p.labels)) n++;
  }
  return n;
}

/**
 * Matching pods per domain for each constraint, zero-count domains included: a shared cached table
 * plus a private delta for preemption's what-ifs, with the minimum computed once.
 */
class DomainCounts {
  private readonly mins: (number | undefined)[];

  constructor(
    private readonly base: readonly PodCountTable[],
    private readonly delta: Map<string, number>[] = base.map(() => new Map()),
  ) {
    this.mins = base.map(() => undefined);
  }

  add(i: number, value: string, n: number): void {
    const d = this.delta[i];
    d.set(value, (d.get(value) ?? 0) + n);
    this.mins[i] = undefined;
  }

  /** Matching pods in the node's domain of constraint i (key: its topologyKey); -1 when the node has no such label. */
  atNode(i: number, node: NodeInfo, key: string): number {
    const t = this.base[i];
    const d = this.delta[i];
    const id = node.id;
    // The filter asks this of most nodes in a long search: by the node's id when no what-if applies.
    if (d.size === 0 && id >= 0 && id < t.domainOfNode.length) {
      const domain = t.domainOfNode[id];
      return domain < 0 ? -1 : t.perDomain[domain];
    }
    const labels = node.labels;
    if (!Object.prototype.hasOwnProperty.call(labels, key)) return -1;
    const value = labels[key];
    const n = t.counts.get(value) ?? 0;
    return d.size === 0 ? n : n + (d.get(value) ?? 0);
  }

  domains(i: number): number {
    return this.base[i].counts.size;
  }

  min(i: number): number {
    let min = this.mins[i];
    if (min !== undefined) return min;
    const d = this.delta[i];
    if (d.size === 0) return (this.mins[i] = this.base[i].min);
    min = Infinity;
    // A what-if (preemption) changed some counts: walk them all.
    for (const [v, n] of this.base[i].counts) {
      const c = n + (d.get(v) ?? 0);
      if (c < min) min = c;
    }
    if (min === Infinity) min = 0;
    this.mins[i] = min;
    return min;
  }

  clone(): DomainCounts {
    return new DomainCounts(
      this.base,
      this.delta.map((d) => new Map(d)),
    );
  }
}

class PreFilterState {
  constructor(
    readonly constraints: readonly SpreadConstraint[],
    readonly counts: DomainCounts,
    /** 1 where the incoming pod matches the constraint's own selector: placing it adds to the count. */
    readonly selfMatch: readonly number[],
  ) {}

  clone(): PreFilterState {
    return new PreFilterState(this.constraints, this.counts.clone(), this.selfMatch);
  }
}

/**
 * Matching pods per domain of each constraint over the nodes that count (all constraint keys
 * present, and the pod's required node affinity met), from the snapshot's cache.
 */
function cachedCounts(
  snapshot: Snapshot,
  pod: PodInfo,
  constraints: readonly SpreadConstraint[],
  includeEmptyDomains: boolean,
  requireAllKeys = true,
): ReadonlyMap<string, number>[] {
  return countQueries(pod, constraints, includeEmptyDomains, requireAllKeys).map((q) => snapshot.podCountsFor(q));
}

function countQueries(pod: PodInfo, constraints: readonly SpreadConstraint[], includeEmptyDomains: boolean, requireAllKeys = true): PodCountQuery[] {
  const affinity = pod.requiredNodeAffinity;
  const checkAffinity = !affinity.isEmpty();
  const keys = requireAllKeys ? constraints.map((c) => c.topologyKey).sort().join(",") : "*";
  const nodeFilter = (node: NodeInfo): boolean =>
    (!requireAllKeys || hasAllKeys(node.labels, constraints)) && (!checkAffinity || affinity.matches(node));
  const ns = pod.namespace;
  return constraints.map((c) => {
    const selector = c.selector;
    const everything = selector.isEverything();
    const selectorText = selector.isNothing() ? "<nothing>" : selector.toString();
    return {
      key: `spread|${includeEmptyDomains ? "all" : "some"}|${ns}|${selectorText}|${c.topologyKey}|${keys}|${pod.requiredNodeAffinityKey}`,
      topologyKey: c.topologyKey,
      matches: (p) => !everything && !p.terminating && p.namespace === ns && selector.matches(p.labels),
      nodeFilter,
      includeEmptyDomains,
    };
  });
}

interface PreScoreState {
  constraints: readonly SpreadConstraint[];
  /** Matching pods per domain, per constraint; undefined for hostname constraints (counted per node in Score). */
  counts: (ReadonlyMap<string, number> | undefined)[];
  /** Feasible nodes missing a topology key: scored 0. */
  ignored: Set<string>;
  /** log(domains + 2) per constraint, so that keys with many domains do not dominate. */
  weights: number[];
}

/** Kubernetes' system default constraints (both ScheduleAnyway). */
export const SYSTEM_DEFAULT_CONSTRAINTS: readonly { maxSkew: number; topologyKey: string }[] = [
  { maxSkew: 3, topologyKey: HOSTNAME_LABEL },
  { maxSkew: 5, topologyKey: "topology.kubernetes.io/zone" },
];

export interface PodTopologySpreadArgs {
  /**
   * For a pod without constraints of its own: the selector of its siblings (the selectors of the
   * Services, ReplicaSets and StatefulSets that select or own it, merged), or undefined. When set,
   * such pods are spread by `defaultConstraints`, as Kubernetes' system defaulting does.
   */
  defaultSelector?: (pod: PodInfo) => Selector | undefined;
  /** @default SYSTEM_DEFAULT_CONSTRAINTS */
  defaultConstraints?: readonly { maxSkew: number; topologyKey: string }[];
}

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = POD_TOPOLOGY_SPREAD;
  private readonly defaultSelector: ((pod: PodInfo) => Selector | undefined) | undefined;
  private readonly defaultConstraints: readonly { maxSkew: number; topologyKey: string }[];

  constructor(args: PodTopologySpreadArgs = {}) {
    this.defaultSelector = args.defaultSelector;
    this.defaultConstraints = args.defaultConstraints ?? SYSTEM_DEFAULT_CONSTRAINTS;
  }

  /** The system default constraints for a pod that states none, when its siblings are known. */
  private systemDefaults(pod: PodInfo): SpreadConstraint[] {
    if (this.defaultSelector === undefined || (pod.pod.spec?.topologySpreadConstraints ?? []).length > 0) return [];
    const selector = this.defaultSelector(pod);
    if (selector === undefined || selector.isNothing() || selector.isEverything()) return [];
    return this.defaultConstraints.map((c) => ({ maxSkew: c.maxSkew, topologyKey: c.topologyKey, selector, minDomains: 1 }));
  }

  eventsToRegister(): readonly ClusterEvent[] {
    return [
      { resource: "Pod", actions: ["Add", "UpdatePodLabel", "Delete"] },
      { resource: "Node", actions: ["Add", "Delete", "UpdateNodeLabel", "UpdateNodeTaint"] },
    ];
  }

  preFilter(state: CycleState, pod: PodInfo): Status | null {
    let constraints: SpreadConstraint[];
    try {
      constraints = spreadConstraints(pod, "DoNotSchedule");
    } catch (e) {
      return new Status("UnschedulableAndUnresolvable", [(e as Error).message], POD_TOPOLOGY_SPREAD);
    }
    if (constraints.length === 0) return Status.skip();
    const counts = new DomainCounts(countQueries(pod, constraints, true).map((q) => state.snapshot.podCountTableFor(q)));
    const selfMatch = constraints.map((c) => (c.selector.matches(pod.labels) ? 1 : 0));
    state.write(PRE_FILTER_KEY, new PreFilterState(constraints, counts, selfMatch));
    return null;
  }

  addPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): void {
    this.update(state, pod, added, node, 1);
  }

  removePod(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo): void {
    this.update(state, pod, removed, node, -1);
  }

  private update(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, delta: number): void {
    const s = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (s === undefined || other.namespace !== pod.namespace || other.terminating) return;
    if (!hasAllKeys(node.labels, s.constraints) || !pod.requiredNodeAffinity.matches(node)) return;
    s.constraints.forEach((c, i) => {
      if (!c.selector.isEverything() && c.selector.matches(other.labels)) s.counts.add(i, node.labels[c.topologyKey], delta);
    });
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const s = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (s === undefined) return Status.error(`cycle state has no ${PRE_FILTER_KEY}`);
    const constraints = s.constraints;
    for (let i = 0; i < constraints.length; i++) {
      const c = constraints[i];
      const n = s.counts.atNode(i, node, c.topologyKey);
      if (n < 0) return REJECT_LABEL;
      const min = s.counts.domains(i) < c.minDomains ? 0 : s.counts.min(i);
      if (n + s.selfMatch[i] - min > c.maxSkew) return REJECT_SKEW;
    }
    return null;
  }

  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | null {
    let constraints: SpreadConstraint[];
    try {
      constraints = spreadConstraints(pod, "ScheduleAnyway");
    } catch {
      // PreFilter has already refused such a pod; nothing to score.
      return Status.skip();
    }
    // System defaults spread by hostname even on nodes without a zone: they do not require every key.
    let requireAllKeys = true;
    if (constraints.length === 0) {
      constraints = this.systemDefaults(pod);
      requireAllKeys = false;
    }
    if (constraints.length === 0 || nodes.length === 0) return Status.skip();
    const ignored = new Set<string>();
    const seen = constraints.map(() => new Set<string>());
    for (const node of nodes) {
      if (requireAllKeys && !hasAllKeys(node.labels, constraints)) {
        ignored.add(node.name);
        continue;
      }
      for (let i = 0; i < constraints.length; i++) seen[i].add(node.labels[constraints[i].topologyKey] ?? "");
    }
    const weights = constraints.map((c, i) => Math.log((c.topologyKey === HOSTNAME_LABEL ? nodes.length - ignored.size : seen[i].size) + 2));
    // Per-node (hostname) counts are taken in Score; the other keys from the snapshot's cache.
    const zoned = constraints.filter((c) => c.topologyKey !== HOSTNAME_LABEL);
    const cached = zoned.length === 0 ? [] : cachedCounts(state.snapshot, pod, constraints, false, requireAllKeys);
    const counts = constraints.map((c, i) => (c.topologyKey === HOSTNAME_LABEL ? undefined : cached[i]));
    state.write(PRE_SCORE_KEY, { constraints, counts, ignored, weights } satisfies PreScoreState);
    return null;
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (s === undefined || s.ignored.has(node.name)) return 0;
    let score = 0;
    s.constraints.forEach((c, i) => {
      const v = node.labels[c.topologyKey];
      if (v === undefined) return;
      const m = s.counts[i];
      const n = m === undefined ? countMatching(node.pods, c.selector, pod.namespace) : (m.get(v) ?? 0);
      score += n * s.weights[i] + (c.maxSkew - 1);
    });
    return Math.round(score);
  }

  /** Fewer matching pods is better: the node with the fewest gets 100; ignored nodes get 0. */
  normalizeScore(state: CycleState, _pod: PodInfo, nodes: readonly NodeInfo[], scores: Float64Array): void {
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (s === undefined) return;
    let min = Infinity;
    let max = 0;
    for (let i = 0; i < scores.length; i++) {
      if (s.ignored.has(nodes[i].name)) continue;
      if (scores[i] < min) min = scores[i];
      if (scores[i] > max) max = scores[i];
    }
    for (let i = 0; i < scores.length; i++) {
      if (s.ignored.has(nodes[i].name)) scores[i] = 0;
      else if (max === 0) scores[i] = MAX_NODE_SCORE;
      else scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - scores[i])) / max);
    }
  }
}
