// PodTopologySpread: pods matching a constraint's labelSelector must stay spread over the values
// of its topologyKey. DoNotSchedule constraints filter: placing the pod in a domain may not make
// that domain exceed the least populated one by more than maxSkew (the least is taken as 0 while
// fewer than minDomains domains exist). ScheduleAnyway constraints score: fewer matching pods in
// the node's domains is better. Counting happens once per cycle, in PreFilter and PreScore.

import type { TopologySpreadConstraint } from "../../../gen/navarch/api/v1/core.js";
import { type Requirement, Selector, selectorFromLabelSelector } from "../../api/labels.js";
import type { CycleState } from "../framework/cycle_state.js";
import { MAX_NODE_SCORE, type FilterPlugin, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from "../framework/interface.js";
import type { NodeInfo } from "../framework/node_info.js";
import type { PodInfo } from "../framework/pod_info.js";
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
    if ((c.whenUnsatisfiable ?? "") !== action) return;
    let selector: Selector;
    try {
      selector = selectorFromLabelSelector(c.labelSelector);
    } catch (e) {
      throw new RangeError(`Cannot use spec.topologySpreadConstraints[${i}].labelSelector: ${(e as Error).message}`);
    }
    const extra: Requirement[] = [];
    for (const key of c.matchLabelKeys ?? []) {
      const v = pod.labels[key];
      if (v !== undefined) extra.push({ key, operator: "in", values: [v] });
    }
    if (extra.length > 0 && !selector.isNothing()) selector = Selector.of([...selector.requirements, ...extra]);
    out.push({ maxSkew: c.maxSkew ?? 1, topologyKey: c.topologyKey ?? "", selector, minDomains: c.minDomains ?? 1 });
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

/** Matching pods per domain of each topology key, zero-count domains included, with the minimum per key. */
class DomainCounts {
  private readonly byKey = new Map<string, Map<string, number>>();
  private readonly minByKey = new Map<string, number>();

  init(key: string): void {
    if (!this.byKey.has(key)) this.byKey.set(key, new Map());
  }

  add(key: string, value: string, delta: number): void {
    const m = this.byKey.get(key);
    if (m === undefined) return;
    m.set(value, (m.get(value) ?? 0) + delta);
    this.minByKey.delete(key);
  }

  get(key: string, value: string): number {
    return this.byKey.get(key)?.get(value) ?? 0;
  }

  domains(key: string): number {
    return this.byKey.get(key)?.size ?? 0;
  }

  min(key: string): number {
    let min = this.minByKey.get(key);
    if (min !== undefined) return min;
    min = Infinity;
    for (const n of this.byKey.get(key)?.values() ?? []) if (n < min) min = n;
    if (min === Infinity) min = 0;
    this.minByKey.set(key, min);
    return min;
  }

  clone(): DomainCounts {
    const c = new DomainCounts();
    for (const [k, m] of this.byKey) c.byKey.set(k, new Map(m));
    return c;
  }
}

class PreFilterState {
  constructor(
    readonly constraints: readonly SpreadConstraint[],
    readonly counts: DomainCounts,
  ) {}

  clone(): PreFilterState {
    return new PreFilterState(this.constraints, this.counts.clone());
  }
}

interface PreScoreState {
  constraints: readonly SpreadConstraint[];
  /** Matching pods per domain for the non-hostname constraints, over the domains of the feasible nodes. */
  counts: Map<string, Map<string, number>>;
  /** Feasible nodes missing a topology key: scored 0. */
  ignored: Set<string>;
  /** log(domains + 2) per constraint, so that keys with many domains do not dominate. */
  weights: number[];
}

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = POD_TOPOLOGY_SPREAD;

  preFilter(state: CycleState, pod: PodInfo): Status | null {
    let constraints: SpreadConstraint[];
    try {
      constraints = spreadConstraints(pod, "DoNotSchedule");
    } catch (e) {
      return new Status("UnschedulableAndUnresolvable", [(e as Error).message], POD_TOPOLOGY_SPREAD);
    }
    if (constraints.length === 0) return Status.skip();
    const counts = new DomainCounts();
    for (const c of constraints) counts.init(c.topologyKey);
    const affinity = pod.requiredNodeAffinity;
    const checkAffinity = !affinity.isEmpty();
    for (const node of state.snapshot.nodeInfos) {
      const labels = node.labels;
      if (!hasAllKeys(labels, constraints)) continue;
      // Spreading counts only the nodes the pod could be placed on (nodeAffinityPolicy Honor).
      if (checkAffinity && !affinity.matches(node)) continue;
      for (const c of constraints) counts.add(c.topologyKey, labels[c.topologyKey], countMatching(node.pods, c.selector, pod.namespace));
    }
    state.write(PRE_FILTER_KEY, new PreFilterState(constraints, counts));
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
    for (const c of s.constraints) {
      if (!c.selector.isEverything() && c.selector.matches(other.labels)) s.counts.add(c.topologyKey, node.labels[c.topologyKey], delta);
    }
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const s = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (s === undefined) return Status.error(`cycle state has no ${PRE_FILTER_KEY}`);
    const labels = node.labels;
    for (const c of s.constraints) {
      const key = c.topologyKey;
      if (!Object.prototype.hasOwnProperty.call(labels, key)) return REJECT_LABEL;
      const min = s.counts.domains(key) < c.minDomains ? 0 : s.counts.min(key);
      const self = c.selector.matches(pod.labels) ? 1 : 0;
      if (s.counts.get(key, labels[key]) + self - min > c.maxSkew) return REJECT_SKEW;
    }
    return null;
  }

  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | null {
    let constraints: SpreadConstraint[];
    try {
      constraints = spreadConstraints(pod, "ScheduleAnyway");
    } catch (e) {
      return Status.error((e as Error).message);
    }
    if (constraints.length === 0 || nodes.length === 0) return Status.skip();
    const counts = new Map<string, Map<string, number>>();
    const ignored = new Set<string>();
    const domains = new Array<number>(constraints.length).fill(0);
    for (const node of nodes) {
      if (!hasAllKeys(node.labels, constraints)) {
        ignored.add(node.name);
        continue;
      }
      constraints.forEach((c, i) => {
        if (c.topologyKey === HOSTNAME_LABEL) return;
        let m = counts.get(c.topologyKey);
        if (m === undefined) counts.set(c.topologyKey, (m = new Map()));
        const v = node.labels[c.topologyKey];
        if (!m.has(v)) {
          m.set(v, 0);
          domains[i]++;
        }
      });
    }
    const weights = constraints.map((c, i) =>
      Math.log((c.topologyKey === HOSTNAME_LABEL ? nodes.length - ignored.size : domains[i]) + 2),
    );
    const affinity = pod.requiredNodeAffinity;
    const checkAffinity = !affinity.isEmpty();
    const needsCounts = constraints.some((c) => c.topologyKey !== HOSTNAME_LABEL);
    if (needsCounts) {
      for (const node of state.snapshot.nodeInfos) {
        if (!hasAllKeys(node.labels, constraints)) continue;
        if (checkAffinity && !affinity.matches(node)) continue;
        for (const c of constraints) {
          if (c.topologyKey === HOSTNAME_LABEL) continue;
          const m = counts.get(c.topologyKey);
          const v = node.labels[c.topologyKey];
          const prev = m?.get(v);
          if (m === undefined || prev === undefined) continue;
          m.set(v, prev + countMatching(node.pods, c.selector, pod.namespace));
        }
      }
    }
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
      const n = c.topologyKey === HOSTNAME_LABEL ? countMatching(node.pods, c.selector, pod.namespace) : (s.counts.get(c.topologyKey)?.get(v) ?? 0);
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
