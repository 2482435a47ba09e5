// An informer's local store, as client-go's Indexer: objects by key ("namespace/name") plus named
// indexes, each an IndexFunc from an object to the values it is found under (pods by
// spec.nodeName, objects by namespace). Objects handed out are the store's own: read them, never
// mutate them (copy first). JS runs one thing at a time, so a reader always sees a whole update.

import type { KubeObject } from '../../api/registry.js';
import { namespacedKey, objectKey } from './keys.js';

/** The values an object is indexed under ([] for none). */
export type IndexFunc<T> = (obj: T) => readonly string[];

export const NAMESPACE_INDEX = 'byNamespace';

export const byNamespace: IndexFunc<KubeObject> = (o) => [o.metadata?.namespace ?? ''];

/** What listers and handlers may use: reads only. */
export interface ReadonlyIndexer<T extends KubeObject> {
  readonly size: number;
  /** byNamespace and the indexes added. */
  readonly indexNames: string[];
  get(namespace: string | undefined, name: string): T | undefined;
  getByKey(key: string): T | undefined;
  list(): T[];
  listKeys(): string[];
  /** Objects whose index function returned `value`; throws for an index that does not exist. */
  byIndex(indexName: string, value: string): T[];
  indexKeys(indexName: string, value: string): string[];
  /** The values present in an index. */
  indexValues(indexName: string): string[];
}

export interface ReplaceDiff<T> {
  added: T[];
  /** [old, new] for keys in both whose resourceVersion changed. */
  updated: Array<[T, T]>;
  deleted: T[];
}

export class Indexer<T extends KubeObject = KubeObject> implements ReadonlyIndexer<T> {
  private readonly items = new Map<string, T>();
  private readonly funcs = new Map<string, IndexFunc<T>>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  /** byNamespace is always present; `onIndexError` hears of an index function that threw (the object is then not in that index). */
  constructor(
    indexers: Readonly<Record<string, IndexFunc<T>>> = {},
    private readonly onIndexError: (indexName: string, key: string, err: unknown) => void = () => {},
  ) {
    this.addIndexers({ [NAMESPACE_INDEX]: byNamespace as IndexFunc<T>, ...indexers });
  }

  /** Adds indexes, filled from the objects already stored. */
  addIndexers(indexers: Readonly<Record<string, IndexFunc<T>>>): void {
    for (const name of Object.keys(indexers)) if (this.funcs.has(name)) throw new Error(`Cannot add index "${name}": an index with that name exists`);
    for (const [name, f] of Object.entries(indexers)) {
      this.funcs.set(name, f);
      this.indices.set(name, new Map());
      for (const [key, o] of this.items) this.indexOne(name, f, key, o);
    }
  }

  get size(): number {
    return this.items.size;
  }

  get indexNames(): string[] {
    return [...this.funcs.keys()];
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.items.get(namespacedKey(namespace, name));
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  listKeys(): string[] {
    return [...this.items.keys()];
  }

  byIndex(indexName: string, value: string): T[] {
    return this.indexKeys(indexName, value).map((k) => this.items.get(k)!);
  }

  indexKeys(indexName: string, value: string): string[] {
    const keys = this.index(indexName).get(value);
    return keys ? [...keys] : [];
  }

  indexValues(indexName: string): string[] {
    return [...this.index(indexName).keys()];
  }

  /** Stores the object; returns the one it replaced. */
  upsert(o: T): T | undefined {
    const key = objectKey(o);
    const old = this.items.get(key);
    this.items.set(key, o);
    if (old === undefined) {
      for (const [name, f] of this.funcs) this.indexOne(name, f, key, o);
      return old;
    }
    // Most updates (a status, a heartbeat) leave every index value as it was: nothing to move.
    for (const [name, f] of this.funcs) {
      const was = this.values(name, f, key, old);
      const now = this.values(name, f, key, o);
      if (sameValues(was, now)) continue;
      const idx = this.indices.get(name)!;
      this.removeKey(idx, was, key);
      this.addKey(idx, now, key);
    }
    return old;
  }

  /** Removes the object with this key; returns it. */
  remove(key: string): T | undefined {
    const old = this.items.get(key);
    if (old === undefined) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  /** Makes the store hold exactly `items`, and says what changed. */
  replace(items: readonly T[]): ReplaceDiff<T> {
    const diff: ReplaceDiff<T> = { added: [], updated: [], deleted: [] };
    const seen = new Set<string>();
    for (const o of items) {
      const key = objectKey(o);
      seen.add(key);
      const held = this.items.get(key);
      // Same revision, same content: keep the held object and its index entries.
      if (held !== undefined && held.metadata?.resourceVersion === o.metadata?.resourceVersion && held.metadata?.resourceVersion) continue;
      const old = this.upsert(o);
      if (old === undefined) diff.added.push(o);
      else diff.updated.push([old, o]);
    }
    for (const key of [...this.items.keys()]) {
      if (!seen.has(key)) diff.deleted.push(this.remove(key)!);
    }
    return diff;
  }

  private index(indexName: string): Map<string, Set<string>> {
    const idx = this.indices.get(indexName);
    if (idx === undefined) throw new Error(`Cannot read index "${indexName}": no such index (have: ${[...this.indices.keys()].map((n) => `"${n}"`).join(', ')})`);
    return idx;
  }

  private values(name: string, f: IndexFunc<T>, key: string, o: T): readonly string[] {
    try {
      return f(o);
    } catch (err) {
      this.onIndexError(name, key, err);
      return [];
    }
  }

  private indexOne(name: string, f: IndexFunc<T>, key: string, o: T): void {
    this.addKey(this.indices.get(name)!, this.values(name, f, key, o), key);
  }

  private unindex(key: string, o: T): void {
    // Index functions must be pure: the old object yields the values it was stored under.
    for (const [name, f] of this.funcs) this.removeKey(this.indices.get(name)!, this.values(name, f, key, o), key);
  }

  private addKey(idx: Map<string, Set<string>>, values: readonly string[], key: string): void {
    for (const v of values) {
      let keys = idx.get(v);
      if (keys === undefined) idx.set(v, (keys = new Set()));
      keys.add(key);
    }
  }

  private removeKey(idx: Map<string, Set<string>>, values: readonly string[], key: string): void {
    for (const v of values) {
      const keys = idx.get(v);
      if (keys === undefined) continue;
      keys.delete(key);
      if (keys.size === 0) idx.delete(v);
    }
  }
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
