// A scratchpad for one scheduling attempt: what PreFilter and PreScore computed for the pod,
// read back by Filter and Score on every node. Preemption clones it per node it tries.

import type { Snapshot } from "./snapshot.js";

/** A value a plugin keeps in the cycle state; one that preemption's what-ifs change has a clone(). */
export type StateData = object;

interface Cloneable {
  clone(): StateData;
}

function isCloneable(v: StateData): v is Cloneable {
  return typeof (v as Partial<Cloneable>).clone === "function";
}

export class CycleState {
  private readonly data = new Map<string, StateData>();
  /** Plugins whose PreFilter said Skip: their Filter is not called this cycle. */
  readonly skipFilterPlugins = new Set<string>();
  /** Plugins whose PreScore said Skip: their Score is not called this cycle. */
  readonly skipScorePlugins = new Set<string>();
  /**
   * The framework's Filter plugins less the skipped ones, worked out at the first Filter of the
   * cycle (with the framework's list and the skip set's size then) instead of a set lookup per
   * plugin and node. PreFilter only adds to the skip set, before any Filter.
   */
  filtersToRun: { from: readonly object[]; plugins: readonly object[]; skipped: number } | undefined;

  constructor(readonly snapshot: Snapshot) {}

  read<T extends StateData>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  write(key: string, value: StateData): void {
    this.data.set(key, value);
  }

  clone(): CycleState {
    const c = new CycleState(this.snapshot);
    for (const [k, v] of this.data) c.data.set(k, isCloneable(v) ? v.clone() : v);
    for (const p of this.skipFilterPlugins) c.skipFilterPlugins.add(p);
    for (const p of this.skipScorePlugins) c.skipScorePlugins.add(p);
    c.filtersToRun = this.filtersToRun;
    return c;
  }
}
