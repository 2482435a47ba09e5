// The parked pods, grouped by the set of plugins that rejected them. A cluster event is checked
// once per group rather than once per pod: with thousands of parked pods and thousands of pods
// being bound a second (each one an event), that is the difference between a few map lookups and
// millions of plugin checks per second.

export interface Parked {
  readonly unschedulablePlugins: ReadonlySet<string>;
}

interface Group<T> {
  signature: string;
  plugins: ReadonlySet<string>;
  pods: Map<string, T>;
}

export class UnschedulablePods<T extends Parked> {
  private readonly byKey = new Map<string, { item: T; group: Group<T> }>();
  private readonly groups = new Map<string, Group<T>>();

  get size(): number {
    return this.byKey.size;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  get(key: string): T | undefined {
    return this.byKey.get(key)?.item;
  }

  set(key: string, item: T): void {
    this.delete(key);
    const signature = [...item.unschedulablePlugins].sort().join(",");
    let g = this.groups.get(signature);
    if (g === undefined) this.groups.set(signature, (g = { signature, plugins: item.unschedulablePlugins, pods: new Map() }));
    g.pods.set(key, item);
    this.byKey.set(key, { item, group: g });
  }

  delete(key: string): boolean {
    const e = this.byKey.get(key);
    if (e === undefined) return false;
    this.byKey.delete(key);
    e.group.pods.delete(key);
    if (e.group.pods.size === 0) this.groups.delete(e.group.signature);
    return true;
  }

  entries(): IterableIterator<[string, T]> {
    return [...this.byKey].map(([k, e]) => [k, e.item] as [string, T]).values();
  }

  /** Removes and returns, in the groups `groupHelps` says yes to, the pods `podHelps` says yes to. */
  takeEachWhere(groupHelps: (plugins: ReadonlySet<string>) => boolean, podHelps: (item: T) => boolean): Array<[string, T]> {
    const out: Array<[string, T]> = [];
    for (const [signature, g] of this.groups) {
      if (!groupHelps(g.plugins)) continue;
      for (const [key, item] of g.pods) {
        if (!podHelps(item)) continue;
        out.push([key, item]);
        this.byKey.delete(key);
        g.pods.delete(key);
      }
      if (g.pods.size === 0) this.groups.delete(signature);
    }
    return out;
  }

  /** Removes and returns the pods of every group `helps` says yes to (asked once per group). */
  takeWhere(helps: (plugins: ReadonlySet<string>) => boolean): Array<[string, T]> {
    const out: Array<[string, T]> = [];
    for (const [signature, g] of this.groups) {
      if (!helps(g.plugins)) continue;
      for (const [key, item] of g.pods) {
        out.push([key, item]);
        this.byKey.delete(key);
      }
      this.groups.delete(signature);
    }
    return out;
  }
}
