// An ordered map from string keys to values: a B+tree with linked leaves.
// Keys compare with `<` on JS strings, which for the store's latin1 byte
// strings is byte order. Insert, delete and seek are O(log n); iterating a
// range walks the leaf chain. The tree holds only the keys; the values are in a
// hash map beside it, which answers lookups and replacements without a walk:
// the store's keys share long prefixes ("/registry/pods/<namespace>/"), so a
// walk compares a dozen or more keys over those prefixes, and every write a
// member applies looks its key up (and compaction replaces its versions).

/** Keys only: the values are the point map's (see BTreeMap). */
class Leaf {
  keys: string[] = [];
  next: Leaf | null = null;
}

class Inner {
  /** keys[i] separates children[i] (keys < keys[i]) from children[i+1] (keys >= keys[i]). */
  keys: string[] = [];
  children: Node[] = [];
}

type Node = Leaf | Inner;

/** Index of the first element of sorted `keys` that is >= key. */
function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the child of an inner node that may hold key: the number of separators <= key. */
function childIndex(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A position in the tree; invalid once the tree is modified. */
export class BTreeCursor<V> {
  constructor(
    private leaf: Leaf | null,
    private i: number,
    private readonly points: ReadonlyMap<string, V>,
  ) {
    this.skipEmpty();
  }

  /** Whether the cursor is on an entry (false past the last one). */
  get valid(): boolean {
    return this.leaf !== null;
  }

  get key(): string {
    return this.leaf!.keys[this.i];
  }

  get value(): V {
    return this.points.get(this.leaf!.keys[this.i])!;
  }

  next(): void {
    this.i++;
    this.skipEmpty();
  }

  private skipEmpty(): void {
    while (this.leaf && this.i >= this.leaf.keys.length) {
      this.leaf = this.leaf.next;
      this.i = 0;
    }
  }
}

export interface BTreeOptions {
  /** Entries (leaves) or children (inner nodes) per node before it splits. @default 64 */
  maxNodeKeys?: number;
}

export class BTreeMap<V> {
  /** The keys in order. */
  private root: Node = new Leaf();
  private readonly max: number;
  private readonly min: number;
  /** Every entry: the tree orders the keys, this finds one and holds its value. */
  private readonly points = new Map<string, V>();

  constructor(options: BTreeOptions = {}) {
    const max = options.maxNodeKeys ?? 64;
    if (!Number.isInteger(max) || max < 4) throw new RangeError(`Invalid maxNodeKeys "${max}": expected an integer >= 4`);
    this.max = max;
    this.min = max >>> 1;
  }

  get size(): number {
    return this.points.size;
  }

  get(key: string): V | undefined {
    return this.points.get(key);
  }

  has(key: string): boolean {
    return this.points.has(key);
  }

  /** Sets key to value; returns true when the key is new. */
  set(key: string, value: V): boolean {
    const isNew = !this.points.has(key);
    this.points.set(key, value);
    if (!isNew) return false;
    const split = this.insert(this.root, key);
    if (split) {
      const r = new Inner();
      r.keys = [split.sep];
      r.children = [this.root, split.right];
      this.root = r;
    }
    return true;
  }

  /** Removes key; returns true when it was present. */
  delete(key: string): boolean {
    if (!this.points.delete(key)) return false;
    this.remove(this.root, key);
    if (this.root instanceof Inner && this.root.children.length === 1) this.root = this.root.children[0];
    return true;
  }

  clear(): void {
    this.points.clear();
    this.root = new Leaf();
  }

  /** A cursor on the first entry with a key >= key (all entries when key is ''). */
  seek(key: string): BTreeCursor<V> {
    let n = this.root;
    while (n instanceof Inner) n = n.children[childIndex(n.keys, key)];
    return new BTreeCursor(n, lowerBound(n.keys, key), this.points);
  }

  /**
   * Calls fn for each entry with from <= key < to (to undefined: no upper
   * bound), in key order, until fn returns false. The tree must not be
   * modified during the walk.
   */
  forRange(from: string, to: string | undefined, fn: (key: string, value: V) => boolean | void): void {
    let n = this.root;
    while (n instanceof Inner) n = n.children[childIndex(n.keys, from)];
    let leaf: Leaf | null = n;
    let i = lowerBound(leaf.keys, from);
    const points = this.points;
    while (leaf) {
      const keys = leaf.keys;
      // Compare with `to` only in the leaf where the range ends.
      if (to === undefined || (keys.length > 0 && keys[keys.length - 1] < to)) {
        for (; i < keys.length; i++) if (fn(keys[i], points.get(keys[i])!) === false) return;
      } else {
        for (; i < keys.length; i++) {
          if (keys[i] >= to) return;
          if (fn(keys[i], points.get(keys[i])!) === false) return;
        }
      }
      leaf = leaf.next;
      i = 0;
    }
  }

  *entries(from = ''): IterableIterator<[string, V]> {
    for (const c = this.seek(from); c.valid; c.next()) yield [c.key, c.value];
  }

  /** Adds a key the tree does not hold. */
  private insert(n: Node, key: string): { sep: string; right: Node } | undefined {
    if (n instanceof Leaf) {
      n.keys.splice(lowerBound(n.keys, key), 0, key);
      if (n.keys.length <= this.max) return undefined;
      const right = new Leaf();
      const half = n.keys.length >>> 1;
      right.keys = n.keys.splice(half);
      right.next = n.next;
      n.next = right;
      return { sep: right.keys[0], right };
    }
    const ci = childIndex(n.keys, key);
    const split = this.insert(n.children[ci], key);
    if (!split) return undefined;
    n.keys.splice(ci, 0, split.sep);
    n.children.splice(ci + 1, 0, split.right);
    if (n.children.length <= this.max) return undefined;
    const right = new Inner();
    const half = n.children.length >>> 1;
    right.children = n.children.splice(half);
    // keys[half-1] moves up; the right node keeps the separators after it.
    right.keys = n.keys.splice(half);
    const sep = n.keys.pop()!;
    return { sep, right };
  }

  private remove(n: Node, key: string): boolean {
    if (n instanceof Leaf) {
      const i = lowerBound(n.keys, key);
      if (i >= n.keys.length || n.keys[i] !== key) return false;
      n.keys.splice(i, 1);
      return true;
    }
    const ci = childIndex(n.keys, key);
    const child = n.children[ci];
    if (!this.remove(child, key)) return false;
    const size = child instanceof Leaf ? child.keys.length : child.children.length;
    if (size < this.min) this.rebalance(n, ci);
    return true;
  }

  /** Fixes an underfull child of `parent` by borrowing from or merging with a sibling. */
  private rebalance(parent: Inner, ci: number): void {
    const child = parent.children[ci];
    const left = ci > 0 ? parent.children[ci - 1] : undefined;
    const right = ci + 1 < parent.children.length ? parent.children[ci + 1] : undefined;
    if (child instanceof Leaf) {
      const l = left as Leaf | undefined;
      const r = right as Leaf | undefined;
      if (l && l.keys.length > this.min) {
        child.keys.unshift(l.keys.pop()!);
        parent.keys[ci - 1] = child.keys[0];
      } else if (r && r.keys.length > this.min) {
        child.keys.push(r.keys.shift()!);
        parent.keys[ci] = r.keys[0];
      } else if (l) {
        l.keys.push(...child.keys);
        l.next = child.next;
        parent.keys.splice(ci - 1, 1);
        parent.children.splice(ci, 1);
      } else if (r) {
        child.keys.push(...r.keys);
        child.next = r.next;
        parent.keys.splice(ci, 1);
        parent.children.splice(ci + 1, 1);
      }
      return;
    }
    const l = left as Inner | undefined;
    const r = right as Inner | undefined;
    if (l && l.children.length > this.min) {
      child.keys.unshift(parent.keys[ci - 1]);
      child.children.unshift(l.children.pop()!);
      parent.keys[ci - 1] = l.keys.pop()!;
    } else if (r && r.children.length > this.min) {
      child.keys.push(parent.keys[ci]);
      child.children.push(r.children.shift()!);
      parent.keys[ci] = r.keys.shift()!;
    } else if (l) {
      l.keys.push(parent.keys[ci - 1], ...child.keys);
      l.children.push(...child.children);
      parent.keys.splice(ci - 1, 1);
      parent.children.splice(ci, 1);
    } else if (r) {
      child.keys.push(parent.keys[ci], ...r.keys);
      child.children.push(...r.children);
      parent.keys.splice(ci, 1);
      parent.children.splice(ci + 1, 1);
    }
  }

  /** Checks the tree's invariants; for tests. Throws on the first violation. */
  checkInvariants(): void {
    let leaves = 0;
    const walk = (n: Node, lo: string | undefined, hi: string | undefined, depth: number, isRoot: boolean): number => {
      if (n instanceof Leaf) {
        leaves += n.keys.length;
        if (!isRoot && n.keys.length < this.min) throw new Error(`leaf underfull: ${n.keys.length}`);
        if (n.keys.length > this.max) throw new Error(`leaf overfull: ${n.keys.length}`);
        for (let i = 0; i < n.keys.length; i++) {
          if (i > 0 && !(n.keys[i - 1] < n.keys[i])) throw new Error('leaf keys out of order');
          if (lo !== undefined && n.keys[i] < lo) throw new Error('leaf key below separator');
          if (hi !== undefined && n.keys[i] >= hi) throw new Error('leaf key at or above separator');
        }
        return depth;
      }
      if (n.keys.length !== n.children.length - 1) throw new Error('inner keys/children mismatch');
      if (!isRoot && n.children.length < this.min) throw new Error(`inner underfull: ${n.children.length}`);
      if (n.children.length > this.max) throw new Error(`inner overfull: ${n.children.length}`);
      let d = -1;
      for (let i = 0; i < n.children.length; i++) {
        const cd = walk(n.children[i], i === 0 ? lo : n.keys[i - 1], i === n.keys.length ? hi : n.keys[i], depth + 1, false);
        if (d !== -1 && cd !== d) throw new Error('leaves at different depths');
        d = cd;
      }
      return d;
    };
    walk(this.root, undefined, undefined, 0, true);
    if (leaves !== this.points.size) throw new Error(`size ${this.points.size} but leaves hold ${leaves}`);
    for (const c = this.seek(''); c.valid; c.next()) if (!this.points.has(c.key)) throw new Error(`the tree holds ${JSON.stringify(c.key)}, the point map does not`);
  }
}
