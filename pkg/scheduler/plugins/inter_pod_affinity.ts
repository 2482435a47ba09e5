// InterPodAffinity: required pod affinity and anti-affinity (the incoming pod's terms, and the
// anti-affinity of pods already placed against the incoming pod), counted per topology pair in
// PreFilter so that Filter is a few map lookups per node; preferred terms score nodes.

import { type ClusterEvent, type EnqueueExtensions } from "../framework/cluster_event.js";
import type { CycleState } from "../framework/cycle_state.js";
import type { FilterPlugin, PreFilterPlugin, PreScorePlugin, ScorePlugin } from "../framework/interface.js";
import { MAX_NODE_SCORE } from "../framework/interface.js";
import type { NodeInfo } from "../framework/node_info.js";
import { type AffinityTerm, type PodInfo, termMatches } from "../framework/pod_info.js";
import { Status } from "../framework/status.js";
import { type CountLayer, LayeredCounts } from "../framework/layered_counts.js";
import type { Snapshot } from "../framework/snapshot.js";
import type { Labels } from "../../api/labels.js";

export const INTER_POD_AFFINITY = "InterPodAffinity";
export const ERR_REASON_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules";
export const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules";

const PRE_FILTER_KEY = "PreFilter" + INTER_POD_AFFINITY;
const PRE_SCORE_KEY = "PreScore" + INTER_POD_AFFINITY;

const REJECT_AFFINITY = new Status("UnschedulableAndUnresolvable", [ERR_REASON_AFFINITY_RULES_NOT_MATCH], INTER_POD_AFFINITY);
const REJECT_ANTI_AFFINITY = new Status("Unschedulable", [ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH], INTER_POD_AFFINITY);
const REJECT_EXISTING_ANTI_AFFINITY = new Status("Unschedulable", [ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH], INTER_POD_AFFINITY);

export interface InterPodAffinityArgs {
  /** The score weight of an existing pod's required affinity that the incoming pod matches (Kubernetes: 1). */
  hardPodAffinityWeight?: number;
}

class PreFilterState {
  constructor(
    /** Pairs where a placed pod's required anti-affinity term matches the incoming pod. */
    readonly existingAntiAffinityCounts: LayeredCounts,
    /** Pairs hosting pods that match all of the incoming pod's required affinity terms. */
    readonly affinityCounts: LayeredCounts,
    /** Pairs hosting pods that match one of the incoming pod's required anti-affinity terms. */
    readonly antiAffinityCounts: LayeredCounts,
    readonly namespaceLabels: Labels,
  ) {}

  clone(): PreFilterState {
    return new PreFilterState(
      this.existingAntiAffinityCounts.clone(),
      this.affinityCounts.clone(),
      this.antiAffinityCounts.clone(),
      this.namespaceLabels,
    );
  }
}

function matchesAll(terms: readonly AffinityTerm[], pod: PodInfo, nsLabels: Labels): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!termMatches(t, pod, nsLabels)) return false;
  return true;
}

/** The incoming pod's state as if `other` were added (sign 1) to or removed (-1) from `node`. */
function update(s: PreFilterState, pod: PodInfo, other: PodInfo, node: NodeInfo, sign: 1 | -1, snapshot: Snapshot): void {
  const labels = node.labels;
  for (const t of other.requiredAntiAffinityTerms) {
    if (termMatches(t, pod, s.namespaceLabels)) s.existingAntiAffinityCounts.delta.addForNode(t.topologyKey, labels, sign);
  }
  const otherNs = snapshot.namespaceLabels(other.namespace);
  if (matchesAll(pod.requiredAffinityTerms, other, otherNs)) {
    for (const t of pod.requiredAffinityTerms) s.affinityCounts.delta.addForNode(t.topologyKey, labels, sign);
  }
  for (const t of pod.requiredAntiAffinityTerms) {
    if (termMatches(t, other, otherNs)) s.antiAffinityCounts.delta.addForNode(t.topologyKey, labels, sign);
  }
}

/** Placed pods matching all the terms, per value of each of their topology keys (cached in the snapshot). */
function affinityLayers(snapshot: Snapshot, terms: readonly AffinityTerm[]): CountLayer[] {
  if (terms.length === 0) return [];
  const signature = terms.map((t) => t.signature).join("&");
  const matches = (p: PodInfo): boolean => matchesAll(terms, p, snapshot.namespaceLabels(p.namespace));
  return [...new Set(terms.map((t) => t.topologyKey))].map((key) => ({
    key,
    counts: snapshot.podCountsFor({ key: `affinity|${key}|${signature}`, topologyKey: key, matches, includeEmptyDomains: false }),
  }));
}

/** Placed pods matching a term, per value of its topology key (cached in the snapshot). */
function termCounts(snapshot: Snapshot, t: AffinityTerm): ReadonlyMap<string, number> {
  return snapshot.podCountsFor({
    key: `term|${t.signature}`,
    topologyKey: t.topologyKey,
    matches: (p) => termMatches(t, p, snapshot.namespaceLabels(p.namespace)),
    includeEmptyDomains: false,
  });
}

function antiAffinityLayers(snapshot: Snapshot, terms: readonly AffinityTerm[]): CountLayer[] {
  return terms.map((t) => ({ key: t.topologyKey, counts: termCounts(snapshot, t) }));
}

interface WeightedLayer {
  key: string;
  weight: number;
  counts: ReadonlyMap<string, number>;
}

interface PreScoreState {
  layers: readonly WeightedLayer[];
}

export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = INTER_POD_AFFINITY;

  eventsToRegister(): readonly ClusterEvent[] {
    return [
      { resource: "Pod", actions: ["Add", "UpdatePodLabel", "Delete"] },
      { resource: "Node", actions: ["Add", "UpdateNodeLabel"] },
    ];
  }
  private readonly hardPodAffinityWeight: number;

  constructor(args: InterPodAffinityArgs = {}) {
    this.hardPodAffinityWeight = args.hardPodAffinityWeight ?? 1;
  }

  preFilter(state: CycleState, pod: PodInfo): Status | null {
    const snapshot = state.snapshot;
    const nsLabels = snapshot.namespaceLabels(pod.namespace);
    const existing: CountLayer[] = [];
    for (const g of snapshot.requiredAntiAffinityTerms()) {
      if (termMatches(g.term, pod, nsLabels)) existing.push({ key: g.term.topologyKey, counts: g.counts });
    }
    const aff = pod.requiredAffinityTerms;
    const antiTerms = pod.requiredAntiAffinityTerms;
    if (existing.length === 0 && aff.length === 0 && antiTerms.length === 0) return Status.skip();
    state.write(
      PRE_FILTER_KEY,
      new PreFilterState(
        new LayeredCounts(existing),
        new LayeredCounts(affinityLayers(snapshot, aff)),
        new LayeredCounts(antiAffinityLayers(snapshot, antiTerms)),
        nsLabels,
      ),
    );
    return null;
  }

  addPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): void {
    const s = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (s !== undefined) update(s, pod, added, node, 1, state.snapshot);
  }

  removePod(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo): void {
    const s = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (s !== undefined) update(s, pod, removed, node, -1, state.snapshot);
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const s = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (s === undefined) return Status.error(`cycle state has no ${PRE_FILTER_KEY}`);
    const labels = node.labels;
    if (!satisfiesAffinity(s, pod, labels)) return REJECT_AFFINITY;
    for (const t of pod.requiredAntiAffinityTerms) {
      const v = labels[t.topologyKey];
      if (v !== undefined && s.antiAffinityCounts.get(t.topologyKey, v) > 0) return REJECT_ANTI_AFFINITY;
    }
    const existing = s.existingAntiAffinityCounts;
    for (const key of existing.layerKeys) {
      const v = labels[key];
      if (v !== undefined && existing.get(key, v) > 0) return REJECT_EXISTING_ANTI_AFFINITY;
    }
    if (existing.delta.pairs > 0) {
      for (const key of existing.delta.keys()) {
        const v = labels[key];
        if (v !== undefined && existing.get(key, v) > 0) return REJECT_EXISTING_ANTI_AFFINITY;
      }
    }
    return null;
  }

  preScore(state: CycleState, pod: PodInfo): Status | null {
    const snapshot = state.snapshot;
    // Most pods: no preferences of their own, and no placed pod's term to match.
    if (pod.preferredAffinityTerms.length === 0 && pod.preferredAntiAffinityTerms.length === 0 && !snapshot.hasScoringAffinityTerms()) return Status.skip();
    const layers: WeightedLayer[] = [];
    const push = (key: string, weight: number, counts: ReadonlyMap<string, number>): void => {
      if (weight !== 0 && counts.size > 0) layers.push({ key, weight, counts });
    };
    // The incoming pod's preferences: placed pods matching each term, per topology value.
    for (const t of pod.preferredAffinityTerms) push(t.topologyKey, t.weight, termCounts(snapshot, t));
    for (const t of pod.preferredAntiAffinityTerms) push(t.topologyKey, -t.weight, termCounts(snapshot, t));
    // The placed pods' terms that the incoming pod matches.
    const nsLabels = snapshot.namespaceLabels(pod.namespace);
    for (const g of snapshot.scoringAffinityTerms()) {
      if (!termMatches(g.term, pod, nsLabels)) continue;
      const weight =
        g.kind === "requiredAffinity" ? this.hardPodAffinityWeight : g.kind === "preferredAffinity" ? g.weight : g.kind === "preferredAntiAffinity" ? -g.weight : 0;
      push(g.term.topologyKey, weight, g.counts);
    }
    if (layers.length === 0) return Status.skip();
    state.write(PRE_SCORE_KEY, { layers } satisfies PreScoreState);
    return null;
  }

  /** The weighted count of related pods in the node's domains (negative for anti-affinity). */
  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const layers = state.read<PreScoreState>(PRE_SCORE_KEY)?.layers;
    if (layers === undefined) return 0;
    const labels = node.labels;
    let s = 0;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i];
      const v = labels[l.key];
      if (v !== undefined) s += l.weight * (l.counts.get(v) ?? 0);
    }
    return s;
  }

  /** Min-max scaling to 0..100, as Kubernetes (raw scores may be negative). */
  normalizeScore(_state: CycleState, _pod: PodInfo, _nodes: readonly NodeInfo[], scores: Float64Array): void {
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      if (s < min) min = s;
      if (s > max) max = s;
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) {
      scores[i] = diff > 0 ? Math.trunc((MAX_NODE_SCORE * (scores[i] - min)) / diff) : 0;
    }
  }
}

function satisfiesAffinity(s: PreFilterState, pod: PodInfo, labels: Readonly<Record<string, string>>): boolean {
  const terms = pod.requiredAffinityTerms;
  if (terms.length === 0) return true;
  let podsExist = true;
  for (const t of terms) {
    const v = labels[t.topologyKey];
    // Every topology key must exist on the node.
    if (v === undefined) return false;
    if (s.affinityCounts.get(t.topologyKey, v) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  // The first pod of a group with affinity to itself: allowed when no pod matches yet and it matches its own terms.
  return s.affinityCounts.isEmpty() && matchesAll(terms, pod, s.namespaceLabels);
}
