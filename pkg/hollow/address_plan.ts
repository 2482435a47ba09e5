// Where hollow nodes' addresses come from, all inside one range (default 198.18.0.0/15, reserved
// for network tests, so nothing here can collide with a real network): the first block holds the
// nodes' host IPs (node i: base + 1 + i), the rest is cut into equal, aligned pod CIDRs, one per
// node, as large as fits (at most a /24). Each node hands out its pod IPs from its own CIDR and
// never gives out an address a running pod holds.

export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIp(text: string): number | undefined {
  const m = IPV4.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function formatIp(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Where hollow nodes' host and pod IPs come from unless told otherwise (RFC 2544's benchmarking range). */
export const DEFAULT_HOLLOW_CIDR = '198.18.0.0/15';

/** "198.18.0.0/15"; the address must be the network's first (no host bits set). */
export function parseCidr(text: string, what = 'CIDR'): Cidr {
  const [ip, bits, ...rest] = text.split('/');
  const base = parseIp(ip ?? '');
  const prefix = /^\d{1,2}$/.test(bits ?? '') ? Number(bits) : NaN;
  if (rest.length > 0 || base === undefined || !(prefix >= 0 && prefix <= 32)) throw new RangeError(`Invalid ${what} "${text}": expected an IPv4 network such as 198.18.0.0/15`);
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) throw new RangeError(`Invalid ${what} "${text}": host bits are set; the network is ${formatIp(base - (base % size))}/${prefix}`);
  return { base, prefix };
}

const MAX_POD_BLOCK = 256;
const MIN_POD_BLOCK = 4;

const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

export class AddressPlan {
  private constructor(
    readonly cidr: Cidr,
    readonly nodes: number,
    private readonly podAreaStart: number,
    /** Addresses in each node's pod CIDR. */
    readonly podBlockSize: number,
  ) {}

  /** The layout for `nodes` nodes in `cidr`; a range too small says so. */
  static forNodes(cidr: Cidr, nodes: number): AddressPlan {
    if (!(Number.isSafeInteger(nodes) && nodes >= 1)) throw new RangeError(`Cannot plan addresses: the node count must be an integer >= 1, got ${nodes}`);
    const size = 2 ** (32 - cidr.prefix);
    const hostBlock = nextPow2(nodes + 2);
    for (let block = MAX_POD_BLOCK; block >= MIN_POD_BLOCK; block /= 2) {
      const start = Math.ceil(hostBlock / block) * block;
      if (start + nodes * block <= size) return new AddressPlan(cidr, nodes, start, block);
    }
    throw new RangeError(`Cannot fit ${nodes} nodes in ${formatIp(cidr.base)}/${cidr.prefix}: each needs a host IP and a pod CIDR of at least ${MIN_POD_BLOCK} addresses; give a larger range`);
  }

  /** Pod IPs each node can hand out (its CIDR less the network and broadcast addresses). */
  get podsPerNode(): number {
    return this.podBlockSize - 2;
  }

  hostIP(i: number): string {
    this.check(i);
    return formatIp(this.cidr.base + 1 + i);
  }

  podCidr(i: number): string {
    this.check(i);
    return `${formatIp(this.cidr.base + this.podAreaStart + i * this.podBlockSize)}/${32 - Math.log2(this.podBlockSize)}`;
  }

  /** A fresh allocator over node i's pod CIDR. */
  allocator(i: number): PodIpAllocator {
    this.check(i);
    return new PodIpAllocator(this.cidr.base + this.podAreaStart + i * this.podBlockSize, this.podBlockSize, this.podCidr(i));
  }

  private check(i: number): void {
    if (!(Number.isSafeInteger(i) && i >= 0 && i < this.nodes)) throw new RangeError(`No node ${i} in a plan of ${this.nodes}`);
  }
}

/** One node's pod IPs: next-fit, so a released address is the last to be handed out again. */
export class PodIpAllocator {
  private readonly owners: Array<string | undefined>;
  private readonly byOwner = new Map<string, number>();
  private cursor = 0;

  constructor(
    private readonly network: number,
    blockSize: number,
    readonly cidr: string,
  ) {
    // Slots 1 .. blockSize-2: not the network or broadcast address.
    this.owners = new Array<string | undefined>(blockSize - 2);
  }

  get inUse(): number {
    return this.byOwner.size;
  }

  get capacity(): number {
    return this.owners.length;
  }

  ipOf(owner: string): string | undefined {
    const slot = this.byOwner.get(owner);
    return slot === undefined ? undefined : formatIp(this.network + 1 + slot);
  }

  /** The owner's address (the one it has, else a free one); undefined when none is free. */
  allocate(owner: string): string | undefined {
    const have = this.ipOf(owner);
    if (have !== undefined) return have;
    for (let n = 0; n < this.owners.length; n++) {
      const slot = (this.cursor + n) % this.owners.length;
      if (this.owners[slot] !== undefined) continue;
      this.cursor = (slot + 1) % this.owners.length;
      return this.take(slot, owner);
    }
    return undefined;
  }

  /** Claims `ip` for `owner` (a pod that already has it, found on restart); false if outside this CIDR or held by another. */
  reserve(ip: string, owner: string): boolean {
    const n = parseIp(ip);
    if (n === undefined) return false;
    const slot = n - this.network - 1;
    if (!(slot >= 0 && slot < this.owners.length)) return false;
    const holder = this.owners[slot];
    if (holder === owner) return true;
    if (holder !== undefined || this.byOwner.has(owner)) return false;
    this.take(slot, owner);
    return true;
  }

  release(owner: string): void {
    const slot = this.byOwner.get(owner);
    if (slot === undefined) return;
    this.owners[slot] = undefined;
    this.byOwner.delete(owner);
  }

  private take(slot: number, owner: string): string {
    this.owners[slot] = owner;
    this.byOwner.set(owner, slot);
    return formatIp(this.network + 1 + slot);
  }
}
