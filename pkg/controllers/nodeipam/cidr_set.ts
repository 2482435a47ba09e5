// The cluster CIDR cut into equal node ranges, and which of them are taken (Kubernetes'
// cidrset). Ranges are handed out round-robin from after the last one given, so a range freed by
// a deleted node is the last to be reused: stale routes or pods of the old node have time to go.

import { formatIpv4Cidr, type Ipv4Cidr, parseIpv4Cidr, rangeSize } from '../../api/cidr.js';

/** At most 2^16 node ranges (Kubernetes' limit too): the bitmap stays at 8 KiB. */
const MAX_RANGE_BITS = 16;

export class CidrSet {
  readonly cluster: Ipv4Cidr;
  readonly nodeMaskBits: number;
  /** How many node ranges the cluster CIDR holds. */
  readonly capacity: number;
  /**
   * Per node range, how many held ranges cover it: one for a range given out, more when nodes
   * show smaller ranges of their own inside it (hollow nodes' /26s), each counted once.
   */
  private readonly holds: Uint16Array;
  private usedCount = 0;
  private next = 0;

  constructor(clusterCIDR: string, nodeMaskBits: number) {
    this.cluster = parseIpv4Cidr(clusterCIDR, 'clusterCIDR');
    if (!Number.isInteger(nodeMaskBits) || nodeMaskBits < this.cluster.prefixBits || nodeMaskBits > 30) throw new RangeError(`nodeCIDRMaskSize: expected an integer from ${this.cluster.prefixBits} (the cluster CIDR's) to 30, got ${nodeMaskBits}`);
    if (nodeMaskBits - this.cluster.prefixBits > MAX_RANGE_BITS) throw new RangeError(`nodeCIDRMaskSize: /${nodeMaskBits} cuts ${clusterCIDR} into more than 2^${MAX_RANGE_BITS} node ranges; use a mask of at most /${this.cluster.prefixBits + MAX_RANGE_BITS}`);
    this.nodeMaskBits = nodeMaskBits;
    this.capacity = 2 ** (nodeMaskBits - this.cluster.prefixBits);
    this.holds = new Uint16Array(this.capacity);
  }

  get free(): number {
    return this.capacity - this.usedCount;
  }

  /** The next free range, now taken; undefined when every range is taken. */
  allocateNext(): string | undefined {
    for (let i = 0; i < this.capacity; i++) {
      const index = (this.next + i) % this.capacity;
      if (this.holds[index] !== 0) continue;
      this.add(index, 1);
      this.next = (index + 1) % this.capacity;
      return formatIpv4Cidr({ base: this.cluster.base + index * rangeSize(this.nodeMaskBits), prefixBits: this.nodeMaskBits });
    }
    return undefined;
  }

  /**
   * Marks the node ranges that `cidr` (a range a node already holds, of any size) overlaps as
   * taken. Returns false when it overlaps none (outside the cluster CIDR, or not a CIDR).
   * Each occupy must be matched by one release of the same range.
   */
  occupy(cidr: string): boolean {
    const span = this.span(cidr);
    for (let i = span.first; i < span.end; i++) this.add(i, 1);
    return span.end > span.first;
  }

  release(cidr: string): void {
    const span = this.span(cidr);
    for (let i = span.first; i < span.end; i++) if (this.holds[i] > 0) this.add(i, -1);
  }

  isTaken(cidr: string): boolean {
    const span = this.span(cidr);
    for (let i = span.first; i < span.end; i++) if (this.holds[i] !== 0) return true;
    return false;
  }

  /** The node ranges [first, end) that cidr overlaps. */
  private span(cidr: string): { first: number; end: number } {
    let c: Ipv4Cidr;
    try {
      c = parseIpv4Cidr(cidr, 'podCIDR');
    } catch {
      return { first: 0, end: 0 };
    }
    const lo = Math.max(c.base, this.cluster.base);
    const hi = Math.min(c.base + rangeSize(c.prefixBits), this.cluster.base + rangeSize(this.cluster.prefixBits));
    if (lo >= hi) return { first: 0, end: 0 };
    const size = rangeSize(this.nodeMaskBits);
    return { first: Math.floor((lo - this.cluster.base) / size), end: Math.ceil((hi - this.cluster.base) / size) };
  }

  private add(index: number, delta: 1 | -1): void {
    const before = this.holds[index];
    if (delta === 1 && before === 0xffff) return;
    this.holds[index] = before + delta;
    if (before === 0) this.usedCount++;
    else if (this.holds[index] === 0) this.usedCount--;
  }
}
