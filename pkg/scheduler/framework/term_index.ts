// The placed pods' inter-pod (anti-)affinity terms, grouped by identical term, with how many pods
// carry each term per value of its topology key. Every incoming pod is checked against all of
// them (placed pods' anti-affinity in filtering, their affinity and preferences in scoring);
// grouping makes that one match per distinct term instead of one per pod.

import type { NodeInfo } from "./node_info.js";
import type { AffinityTerm, PodInfo } from "./pod_info.js";

/**
 * What a term is to the pod that carries it: required anti-affinity (filters), required affinity
 * (scores with the plugin's hard weight), preferred affinity or anti-affinity (scores with its weight).
 */
export type TermKind = "requiredAntiAffinity" | "requiredAffinity" | "preferredAffinity" | "preferredAntiAffinity";

export interface TermGroup {
  readonly kind: TermKind;
  readonly term: AffinityTerm;
  /** The term's weight for preferred terms, else 0. */
  readonly weight: number;
  /** Topology value → pods with this term on nodes with that value; do not change. */
  readonly counts: Map<string, number>;
  /** Pods carrying the term, including those on nodes without the topology key. */
  pods: number;
}

function* scoringTerms(pod: PodInfo): Generator<{ kind: TermKind; term: AffinityTerm; weight: number }> {
  for (const term of pod.requiredAffinityTerms) yield { kind: "requiredAffinity", term, weight: 0 };
  for (const term of pod.preferredAffinityTerms) yield { kind: "preferredAffinity", term, weight: term.weight };
  for (const term of pod.preferredAntiAffinityTerms) yield { kind: "preferredAntiAffinity", term, weight: term.weight };
}

export class TermIndex {
  private readonly groups = new Map<string, TermGroup>();

  constructor(private readonly which: "filtering" | "scoring") {}

  values(): IterableIterator<TermGroup> {
    return this.groups.values();
  }

  get size(): number {
    return this.groups.size;
  }

  update(pod: PodInfo, node: NodeInfo, sign: 1 | -1): void {
    if (this.which === "filtering") {
      if (!pod.hasRequiredAntiAffinity) return;
      for (const term of pod.requiredAntiAffinityTerms) this.add("requiredAntiAffinity", term, 0, node, sign);
    } else {
      if (!pod.hasScoringAffinity) return;
      for (const t of scoringTerms(pod)) this.add(t.kind, t.term, t.weight, node, sign);
    }
  }

  private add(kind: TermKind, term: AffinityTerm, weight: number, node: NodeInfo, sign: 1 | -1): void {
    const key = `${kind}|${weight}|${term.signature}`;
    let g = this.groups.get(key);
    if (g === undefined) {
      if (sign < 0) return;
      g = { kind, term, weight, counts: new Map(), pods: 0 };
      this.groups.set(key, g);
    }
    g.pods += sign;
    const labels = node.labels;
    const v = labels[term.topologyKey];
    if (v !== undefined && Object.prototype.hasOwnProperty.call(labels, term.topologyKey)) {
      const next = (g.counts.get(v) ?? 0) + sign;
      if (next <= 0) g.counts.delete(v);
      else g.counts.set(v, next);
    }
    if (g.pods <= 0) this.groups.delete(key);
  }
}
