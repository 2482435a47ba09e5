// A FIFO queue over an array with a moving head: O(1) amortized push and
// shift, indexed access, and binary search when the items are sorted. The
// dead prefix is dropped once it is half the array, so memory follows size.

export class Deque<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /** The i-th item from the front. */
  at(i: number): T {
    return this.items[this.head + i];
  }

  front(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  back(): T | undefined {
    return this.head < this.items.length ? this.items[this.items.length - 1] : undefined;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** Puts item in the last one's place (there must be one). */
  replaceBack(item: T): void {
    if (this.head >= this.items.length) throw new RangeError('Deque.replaceBack: the deque is empty');
    this.items[this.items.length - 1] = item;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    (this.items as Array<T | undefined>)[this.head] = undefined;
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Index of the first item for which `before(item)` is false; the items must be partitioned (all true, then all false). */
  partitionPoint(before: (item: T) => boolean): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(this.items[this.head + mid])) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  toArray(): T[] {
    return this.items.slice(this.head);
  }
}
