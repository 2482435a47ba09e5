// Counts of the placed pods that match a query, per value of a topology key, kept current as pods
// come and go. Inter-pod affinity and topology spreading ask the same questions for every pod
// of a Deployment ("how many app=web pods per zone?"): the first asks walks every pod once, and
// later ones read the answer. A change to the nodes' labels or the set of nodes drops every entry;
// the number of entries is bounded, least recently used first out. A table (for topology
// spreading's filter, which asks once per node of a long search) also gives each node's domain as
// an index by NodeInfo.id, and the counts by that index: two array reads instead of a label lookup
// and a map lookup per node.

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

/** A query's counts, with the same numbers by domain index. */
export interface PodCountTable {
  /** Matching pods per topology value, as PodCountCache.counts gives them. */
  readonly counts: ReadonlyMap<string, number>;
  /** Each node's domain index, by NodeInfo.id: -1 where the node has no such label. */
  readonly domainOfNode: Int32Array;
  /** Matching pods per domain index: 0 for a domain that counts() leaves out. */
  readonly perDomain: Int32Array;
  /** The smallest of counts' numbers (0 when it has none): topology spreading's skew is taken against it, for every pod. */
  readonly min: number;
}

/** A table kept current: how many domains hold each count, so the minimum follows without a walk over every domain. */
class CountTable implements PodCountTable {
  min = 0;
  /** Domains by count: withCount[c] domains of counts hold c pods. */
  private readonly withCount: number[] = [];

  constructor(
    readonly counts: Map<string, number>,
    readonly domainOfNode: Int32Array,
    readonly perDomain: Int32Array,
  ) {
    for (const n of counts.values()) this.withCount[n] = (this.withCount[n] ?? 0) + 1;
    this.min = this.lowestFrom(0);
  }

  /** One domain's count went from `from` to `to` (undefined: not in counts). */
  moved(from: number | undefined, to: number | undefined): void {
    if (from !== undefined) this.withCount[from]--;
    if (to !== undefined) {
      this.withCount[to] = (this.withCount[to] ?? 0) + 1;
      if (to < this.min || this.counts.size === 1) this.min = to;
    }
    if (this.counts.size === 0) this.min = 0;
    else if (!(this.withCount[this.min] > 0)) this.min = this.lowestFrom(this.min);
  }

  private lowestFrom(c: number): number {
    for (; c < this.withCount.length; c++) if (this.withCount[c] > 0) return c;
    return 0;
  }
}

/** The domains of one topology key: an index per value, and each node's. */
interface KeyDomains {
  index: Map<string, number>;
  ofNode: Int32Array;
}

interface Entry {
  query: PodCountQuery;
  counts: Map<string, number>;
  /** Made on the first table() of the entry, then kept current with counts. */
  table: CountTable | undefined;
}

/** The node's own value for a topology key (not one its labels object inherits); undefined if it has none. */
function topologyValue(node: NodeInfo, key: string): string | undefined {
  const v = node.labels[key];
  return v !== undefined && Object.prototype.hasOwnProperty.call(node.labels, key) ? v : undefined;
}

/** Entries kept at most: each costs one match per pod added or removed. */
export const MAX_POD_COUNT_QUERIES = 256;

export class PodCountCache {
  private readonly entries = new Map<string, Entry>();
  /** By topology key, for the tables; dropped with the entries (the nodes or their labels changed). */
  private readonly domains = new Map<string, KeyDomains>();

  constructor(private readonly maxEntries = MAX_POD_COUNT_QUERIES) {}

  get size(): number {
    return this.entries.size;
  }

  /** Matching pods per topology value; do not change the map. */
  counts(query: PodCountQuery, nodes: readonly NodeInfo[]): ReadonlyMap<string, number> {
    return this.entry(query, nodes).counts;
  }

  /**
   * counts() by domain index too. The nodes must carry their snapshot's ids (NodeInfo.id), and be
   * the same list on every call until clear(): each key's domains are worked out once.
   */
  table(query: PodCountQuery, nodes: readonly NodeInfo[]): PodCountTable {
    const e = this.entry(query, nodes);
    if (e.table === undefined) {
      const d = this.domainsOf(query.topologyKey, nodes);
      const perDomain = new Int32Array(d.index.size);
      for (const [v, n] of e.counts) perDomain[d.index.get(v)!] = n;
      e.table = new CountTable(e.counts, d.ofNode, perDomain);
    }
    return e.table;
  }

  private domainsOf(key: string, nodes: readonly NodeInfo[]): KeyDomains {
    let d = this.domains.get(key);
    if (d !== undefined) return d;
    let maxId = -1;
    for (const node of nodes) if (node.id > maxId) maxId = node.id;
    d = { index: new Map(), ofNode: new Int32Array(maxId + 1).fill(-1) };
    for (const node of nodes) {
      const v = topologyValue(node, key);
      if (node.id < 0 || v === undefined) continue;
      let i = d.index.get(v);
      if (i === undefined) d.index.set(v, (i = d.index.size));
      d.ofNode[node.id] = i;
    }
    this.domains.set(key, d);
    return d;
  }

  private entry(query: PodCountQuery, nodes: readonly NodeInfo[]): Entry {
    const hit = this.entries.get(query.key);
    if (hit !== undefined) {
      // Move to the back: most recently used.
      this.entries.delete(query.key);
      this.entries.set(query.key, hit);
      return hit;
    }
    const counts = new Map<string, number>();
    const key = query.topologyKey;
    for (const node of nodes) {
      const v = topologyValue(node, key);
      if (v === undefined) continue;
      if (query.nodeFilter !== undefined && !query.nodeFilter(node)) continue;
      let n = 0;
      const pods = node.pods;
      for (let i = 0; i < pods.length; i++) if (query.matches(pods[i])) n++;
      if (n > 0 || query.includeEmptyDomains) counts.set(v, (counts.get(v) ?? 0) + n);
    }
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const e: Entry = { query, counts, table: undefined };
    this.entries.set(query.key, e);
    return e;
  }

  /** A pod was placed on (sign 1) or removed from (-1) the node. */
  update(pod: PodInfo, node: NodeInfo, sign: 1 | -1): void {
    for (const e of this.entries.values()) {
      const q = e.query;
      const v = topologyValue(node, q.topologyKey);
      if (v === undefined) continue;
      if (!q.matches(pod)) continue;
      if (q.nodeFilter !== undefined && !q.nodeFilter(node)) continue;
      const prev = e.counts.get(v);
      const next = (prev ?? 0) + sign;
      const gone = next === 0 && !q.includeEmptyDomains;
      if (gone) e.counts.delete(v);
      else e.counts.set(v, next);
      if (e.table !== undefined) {
        const d = e.table.domainOfNode[node.id];
        if (d >= 0) e.table.perDomain[d] = next;
        e.table.moved(prev, gone ? undefined : next);
      }
    }
  }

  clear(): void {
    this.entries.clear();
    this.domains.clear();
  }
}
