// Counts of the placed pods that match a query, per value of a topology key, kept current as pods
// come and go. Inter-pod affinity and topology spreading ask the same questions for every pod
// of a Deployment ("how many app=web pods per zone?"): the first asks walks every pod once, and
// later ones read the answer. A change to the nodes' labels or the set of nodes drops every entry;
// the number of entries is bounded, least recently used first out.

import type { NodeInfo } from "./node_info.js";
import type { PodInfo } from "./pod_info.js";

export interface PodCountQuery {
  /** Equal for queries that count the same pods on the same nodes by the same key. */
  readonly key: string;
  readonly topologyKey: string;
  matches(pod: PodInfo): boolean;
  /** Which nodes count; every node with the topology key when absent. */
  nodeFilter?(node: NodeInfo): boolean;
  /** List every eligible domain, with 0 when no pod matches there (topology spread needs them). */
  readonly includeEmptyDomains: boolean;
}

interface Entry {
  query: PodCountQuery;
  counts: Map<string, number>;
}

/** Entries kept at most: each costs one match per pod added or removed. */
export const MAX_POD_COUNT_QUERIES = 256;

export class PodCountCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries = MAX_POD_COUNT_QUERIES) {}

  get size(): number {
    return this.entries.size;
  }

  /** Matching pods per topology value; do not change the map. */
  counts(query: PodCountQuery, nodes: readonly NodeInfo[]): ReadonlyMap<string, number> {
    const hit = this.entries.get(query.key);
    if (hit !== undefined) {
      // Move to the back: most recently used.
      this.entries.delete(query.key);
      this.entries.set(query.key, hit);
      return hit.counts;
    }
    const counts = new Map<string, number>();
    const key = query.topologyKey;
    for (const node of nodes) {
      const v = node.labels[key];
      if (v === undefined || !Object.prototype.hasOwnProperty.call(node.labels, key)) continue;
      if (query.nodeFilter !== undefined && !query.nodeFilter(node)) continue;
      let n = 0;
      const pods = node.pods;
      for (let i = 0; i < pods.length; i++) if (query.matches(pods[i])) n++;
      if (n > 0 || query.includeEmptyDomains) counts.set(v, (counts.get(v) ?? 0) + n);
    }
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(query.key, { query, counts });
    return counts;
  }

  /** A pod was placed on (sign 1) or removed from (-1) the node. */
  update(pod: PodInfo, node: NodeInfo, sign: 1 | -1): void {
    for (const e of this.entries.values()) {
      const q = e.query;
      const v = node.labels[q.topologyKey];
      if (v === undefined || !Object.prototype.hasOwnProperty.call(node.labels, q.topologyKey)) continue;
      if (!q.matches(pod)) continue;
      if (q.nodeFilter !== undefined && !q.nodeFilter(node)) continue;
      const next = (e.counts.get(v) ?? 0) + sign;
      if (next === 0 && !q.includeEmptyDomains) e.counts.delete(v);
      else e.counts.set(v, next);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
