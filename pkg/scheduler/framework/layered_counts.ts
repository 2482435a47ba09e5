// Counts per topology pair read from shared, cached maps (one per topology key and query) plus a
// private delta that preemption's what-ifs change. The shared maps are never written here, so a
// cycle costs no copying until preemption clones it.

import { TopologyCounts } from "./topology_counts.js";

export interface CountLayer {
  readonly key: string;
  readonly counts: ReadonlyMap<string, number>;
}

export class LayeredCounts {
  /** The distinct topology keys of the layers. */
  readonly layerKeys: readonly string[];
  private baseSum: number | undefined;

  constructor(
    private readonly layers: readonly CountLayer[],
    readonly delta = new TopologyCounts(),
  ) {
    this.layerKeys = [...new Set(layers.map((l) => l.key))];
  }

  get(key: string, value: string): number {
    let n = this.delta.pairs === 0 ? 0 : this.delta.get(key, value);
    const layers = this.layers;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i];
      if (l.key === key) n += l.counts.get(value) ?? 0;
    }
    return n;
  }

  /** Whether no pod is counted anywhere. */
  isEmpty(): boolean {
    if (this.baseSum === undefined) {
      let sum = 0;
      for (const l of this.layers) for (const n of l.counts.values()) sum += n;
      this.baseSum = sum;
    }
    return this.baseSum + this.delta.sum === 0;
  }

  clone(): LayeredCounts {
    const c = new LayeredCounts(this.layers, this.delta.clone());
    c.baseSum = this.baseSum;
    return c;
  }
}
