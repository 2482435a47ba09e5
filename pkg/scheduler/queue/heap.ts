// A binary heap keyed by string, with removal and in-place update by key (client-go's
// cache.Heap): the active and backoff queues need "the best pod" and "this pod changed".

export class KeyedHeap<T> {
  private readonly items: T[] = [];
  private readonly keys: string[] = [];
  private readonly index = new Map<string, number>();

  /** `less(a, b)`: a comes out before b. */
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  get(key: string): T | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.items[i];
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** Adds an item, or replaces the one with the same key and restores the order. */
  set(key: string, item: T): void {
    const i = this.index.get(key);
    if (i !== undefined) {
      this.items[i] = item;
      this.fix(i);
      return;
    }
    this.items.push(item);
    this.keys.push(key);
    this.index.set(key, this.items.length - 1);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    if (this.items.length === 0) return undefined;
    return this.removeAt(0);
  }

  delete(key: string): T | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.removeAt(i);
  }

  values(): IterableIterator<T> {
    return this.items.values();
  }

  private removeAt(i: number): T {
    const item = this.items[i];
    this.index.delete(this.keys[i]);
    const last = this.items.length - 1;
    if (i !== last) {
      this.items[i] = this.items[last];
      this.keys[i] = this.keys[last];
      this.index.set(this.keys[i], i);
    }
    this.items.pop();
    this.keys.pop();
    if (i < this.items.length) this.fix(i);
    return item;
  }

  private fix(i: number): void {
    if (!this.down(i)) this.up(i);
  }

  private swap(i: number, j: number): void {
    const it = this.items[i];
    this.items[i] = this.items[j];
    this.items[j] = it;
    const k = this.keys[i];
    this.keys[i] = this.keys[j];
    this.keys[j] = k;
    this.index.set(this.keys[i], i);
    this.index.set(this.keys[j], j);
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(this.items[i], this.items[parent])) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** True if the item moved. */
  private down(i0: number): boolean {
    let i = i0;
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(this.items[r], this.items[l]) ? r : l;
      if (!this.less(this.items[c], this.items[i])) break;
      this.swap(i, c);
      i = c;
    }
    return i > i0;
  }
}
