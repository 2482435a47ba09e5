// The required anti-affinity terms of the placed pods, grouped by identical term, with how many
// pods carry each term per value of its topology key. Every incoming pod must be checked against
// all of them; grouping makes that one match per distinct term instead of one per pod.

import type { NodeInfo } from "./node_info.js";
import type { AffinityTerm, PodInfo } from "./pod_info.js";

export interface AntiAffinityTermGroup {
  readonly term: AffinityTerm;
  /** Topology value → pods with this term on nodes with that value; do not change. */
  readonly counts: Map<string, number>;
  /** Pods carrying the term, including those on nodes without the topology key. */
  pods: number;
}

export class AntiAffinityIndex {
  private readonly groups = new Map<string, AntiAffinityTermGroup>();

  values(): IterableIterator<AntiAffinityTermGroup> {
    return this.groups.values();
  }

  get size(): number {
    return this.groups.size;
  }

  update(pod: PodInfo, node: NodeInfo, sign: 1 | -1): void {
    if (!pod.hasRequiredAntiAffinity) return;
    for (const term of pod.requiredAntiAffinityTerms) {
      let g = this.groups.get(term.signature);
      if (g === undefined) {
        if (sign < 0) continue;
        g = { term, counts: new Map(), pods: 0 };
        this.groups.set(term.signature, g);
      }
      g.pods += sign;
      const labels = node.labels;
      const v = labels[term.topologyKey];
      if (v !== undefined && Object.prototype.hasOwnProperty.call(labels, term.topologyKey)) {
        const next = (g.counts.get(v) ?? 0) + sign;
        if (next <= 0) g.counts.delete(v);
        else g.counts.set(v, next);
      }
      if (g.pods <= 0) this.groups.delete(term.signature);
    }
  }
}
