// Counts per topology pair (label key, label value), as nested maps so that a lookup allocates
// nothing. A pair whose count returns to zero is removed: `pairs` counts the non-zero ones.

export class TopologyCounts {
  private readonly byKey = new Map<string, Map<string, number>>();
  /** Pairs with a non-zero count. */
  pairs = 0;
  /** The sum of all counts. */
  sum = 0;

  get(key: string, value: string): number {
    return this.byKey.get(key)?.get(value) ?? 0;
  }

  add(key: string, value: string, delta: number): void {
    if (delta === 0) return;
    let m = this.byKey.get(key);
    if (m === undefined) this.byKey.set(key, (m = new Map()));
    const prev = m.get(value) ?? 0;
    const next = prev + delta;
    this.sum += delta;
    if (prev === 0) this.pairs++;
    if (next === 0) {
      m.delete(value);
      this.pairs--;
    } else {
      m.set(value, next);
    }
  }

  /** Adds delta for the node's value of `key`, if the node has that label. */
  addForNode(key: string, labels: Readonly<Record<string, string>>, delta: number): void {
    const v = labels[key];
    if (v !== undefined && Object.prototype.hasOwnProperty.call(labels, key)) this.add(key, v, delta);
  }

  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  values(key: string): ReadonlyMap<string, number> | undefined {
    return this.byKey.get(key);
  }

  clone(): TopologyCounts {
    const c = new TopologyCounts();
    for (const [k, m] of this.byKey) c.byKey.set(k, new Map(m));
    c.pairs = this.pairs;
    c.sum = this.sum;
    return c;
  }
}
