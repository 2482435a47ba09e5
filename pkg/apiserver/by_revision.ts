// What a handler made of a stored object, kept while the object stays at the revision it was made
// from: checks that read the same few objects on every create (the namespace, the PriorityClasses)
// decode each only when it changes. Bounded: when full the table starts over.

import type { KeyValue } from '../store/mod.js';

export class ByRevision<T> {
  private table = new Map<string, { modRevision: number; value: T }>();

  constructor(private readonly maxEntries: number) {}

  /** The value kept for `key` if `kv` is still the version it was made from; else `make()`'s, kept. */
  get(key: string, kv: KeyValue, make: () => T): T {
    const known = this.table.get(key);
    if (known?.modRevision === kv.modRevision) return known.value;
    const value = make();
    if (this.table.size >= this.maxEntries) this.table = new Map();
    this.table.set(key, { modRevision: kv.modRevision, value });
    return value;
  }
}
