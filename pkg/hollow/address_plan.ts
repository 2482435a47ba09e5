// Where hollow nodes' addresses come from. Host IPs: the first block of one range (default
// 198.18.0.0/15, reserved for network tests, so nothing here can collide with a real network;
// node i: base + 1 + i). Pod IPs: equal, aligned pod CIDRs, one per node, as large as fit (at most
// 256 addresses), cut from the rest of that range or from a range of their own. 5,000 nodes leave
// each a /28 of the /15, 14 pods; then the pods take 2001:2::/48 (RFC 5180's IPv6 benchmarking
// range) instead. Each node hands out its pod IPs from its own CIDR and never gives out an address
// a running pod holds.

import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../api/cidr.js';

export type IpFamily = 4 | 6;

export interface Cidr {
  family: IpFamily;
  /** The network address. */
  base: bigint;
  prefix: number;
}

const bitsOf = (family: IpFamily): number => (family === 4 ? 32 : 128);

export function parseAddress(text: string): { family: IpFamily; n: bigint } | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: 4, n: BigInt(v4) };
  const v6 = text.includes(':') ? parseIpv6(text) : undefined;
  return v6 === undefined ? undefined : { family: 6, n: v6 };
}

export function formatAddress(family: IpFamily, n: bigint): string {
  return family === 4 ? formatIpv4(Number(n)) : formatIpv6(n);
}

/** Where hollow nodes' host IPs come from unless told otherwise (RFC 2544's benchmarking range). */
export const DEFAULT_HOLLOW_CIDR = '198.18.0.0/15';
/** Where their pod IPs come from when the IPv4 range cannot give each node as many as it accepts pods (RFC 5180's). */
export const DEFAULT_HOLLOW_POD_CIDR_V6 = '2001:2::/48';

/** "198.18.0.0/15" or "2001:2::/48"; the address must be the network's first (no host bits set). */
export function parseCidr(text: string, what = 'CIDR'): Cidr {
  const [ip, bits, ...rest] = text.split('/');
  const addr = parseAddress(ip ?? '');
  const prefix = /^\d{1,3}$/.test(bits ?? '') ? Number(bits) : NaN;
  if (rest.length > 0 || addr === undefined || !(prefix >= 0 && prefix <= bitsOf(addr.family)))
    throw new RangeError(`Invalid ${what} "${text}": expected an IPv4 or IPv6 network such as 198.18.0.0/15 or 2001:2::/48`);
  const size = 1n << BigInt(bitsOf(addr.family) - prefix);
  if (addr.n % size !== 0n) throw new RangeError(`Invalid ${what} "${text}": host bits are set; the network is ${formatAddress(addr.family, addr.n - (addr.n % size))}/${prefix}`);
  return { family: addr.family, base: addr.n, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatAddress(c.family, c.base)}/${c.prefix}`;
}

const rangeSize = (c: Cidr): bigint => 1n << BigInt(bitsOf(c.family) - c.prefix);

const MAX_POD_BLOCK = 256;
const MIN_POD_BLOCK = 4;

const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

export class AddressPlan {
  private constructor(
    readonly hosts: Cidr,
    readonly nodes: number,
    /** Where the pod CIDRs are cut from: `hosts` past its host block, or a range of their own. */
    readonly pods: Cidr,
    private readonly podAreaStart: bigint,
    /** Addresses in each node's pod CIDR. */
    readonly podBlockSize: number,
  ) {}

  /** The layout for `nodes` nodes: host IPs from `hosts`, pod CIDRs from `pods` if given, else from the rest of `hosts`. A range too small says so. */
  static forNodes(hosts: Cidr, nodes: number, pods?: Cidr): AddressPlan {
    if (!(Number.isSafeInteger(nodes) && nodes >= 1)) throw new RangeError(`Cannot plan addresses: the node count must be an integer >= 1, got ${nodes}`);
    const hostBlock = nextPow2(nodes + 2);
    if (BigInt(hostBlock) > rangeSize(hosts)) throw new RangeError(`Cannot fit ${nodes} nodes' host IPs in ${formatCidr(hosts)}; give a larger range`);
    const area = pods ?? hosts;
    for (let block = MAX_POD_BLOCK; block >= MIN_POD_BLOCK; block /= 2) {
      const start = pods === undefined ? Math.ceil(hostBlock / block) * block : 0;
      if (BigInt(start + nodes * block) <= rangeSize(area)) return new AddressPlan(hosts, nodes, area, BigInt(start), block);
    }
    const need = pods === undefined ? 'a host IP and a pod CIDR' : 'a pod CIDR';
    throw new RangeError(`Cannot fit ${nodes} nodes in ${formatCidr(area)}: each needs ${need} of at least ${MIN_POD_BLOCK} addresses; give a larger range`);
  }

  /** Pod IPs each node can hand out (its CIDR less the network and broadcast addresses). */
  get podsPerNode(): number {
    return this.podBlockSize - 2;
  }

  hostIP(i: number): string {
    this.check(i);
    return formatAddress(this.hosts.family, this.hosts.base + 1n + BigInt(i));
  }

  podCidr(i: number): string {
    this.check(i);
    return formatCidr({ family: this.pods.family, base: this.podNetwork(i), prefix: bitsOf(this.pods.family) - Math.log2(this.podBlockSize) });
  }

  /** A fresh allocator over node i's pod CIDR. */
  allocator(i: number): PodIpAllocator {
    this.check(i);
    return new PodIpAllocator(this.pods.family, this.podNetwork(i), this.podBlockSize, this.podCidr(i));
  }

  private podNetwork(i: number): bigint {
    return this.pods.base + this.podAreaStart + BigInt(i * this.podBlockSize);
  }

  private check(i: number): void {
    if (!(Number.isSafeInteger(i) && i >= 0 && i < this.nodes)) throw new RangeError(`No node ${i} in a plan of ${this.nodes}`);
  }
}

/**
 * navarch hollow's plan: pod CIDRs from `podCidr` if given; else from the rest of `cidr` while that
 * gives each node at least `podsPerNode` addresses (its pod capacity), else from 2001:2::/48.
 */
export function hollowAddressPlan(nodes: number, podsPerNode: number, cidr = DEFAULT_HOLLOW_CIDR, podCidr?: string): AddressPlan {
  const hosts = parseCidr(cidr, '--cidr');
  if (podCidr !== undefined) return AddressPlan.forNodes(hosts, nodes, parseCidr(podCidr, '--pod-cidr'));
  let shared: AddressPlan | undefined;
  try {
    shared = AddressPlan.forNodes(hosts, nodes);
  } catch {
    // Host IPs alone may still fit: forNodes below says if not.
  }
  if (shared !== undefined && shared.podsPerNode >= podsPerNode) return shared;
  return AddressPlan.forNodes(hosts, nodes, parseCidr(DEFAULT_HOLLOW_POD_CIDR_V6));
}

/** One node's pod IPs: next-fit, so a released address is the last to be handed out again. */
export class PodIpAllocator {
  private readonly owners: Array<string | undefined>;
  /** Each owner's slot and its address as text (formatted once: a pod's every status report asks). */
  private readonly byOwner = new Map<string, { slot: number; ip: string }>();
  private cursor = 0;

  constructor(
    private readonly family: IpFamily,
    private readonly network: bigint,
    blockSize: number,
    readonly cidr: string,
  ) {
    // Slots 1 .. blockSize-2: not the network or broadcast address (IPv6 has no broadcast; kept alike).
    this.owners = new Array<string | undefined>(blockSize - 2);
    this.fast = lastGroupFormat(family, network, this.owners.length, (slot) => this.slowFormat(slot));
  }

  /** Every address of this block differs in its last group only: that group's text on a fixed head. */
  private readonly fast: { head: string; first: number; radix: number } | undefined;

  get inUse(): number {
    return this.byOwner.size;
  }

  get capacity(): number {
    return this.owners.length;
  }

  ipOf(owner: string): string | undefined {
    return this.byOwner.get(owner)?.ip;
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
    const addr = parseAddress(ip);
    if (addr === undefined || addr.family !== this.family) return false;
    const offset = addr.n - this.network - 1n;
    if (!(offset >= 0n && offset < BigInt(this.owners.length))) return false;
    const slot = Number(offset);
    const holder = this.owners[slot];
    if (holder === owner) return true;
    if (holder !== undefined || this.byOwner.has(owner)) return false;
    this.take(slot, owner);
    return true;
  }

  release(owner: string): void {
    const held = this.byOwner.get(owner);
    if (held === undefined) return;
    this.owners[held.slot] = undefined;
    this.byOwner.delete(owner);
  }

  private take(slot: number, owner: string): string {
    const ip = this.format(slot);
    this.owners[slot] = owner;
    this.byOwner.set(owner, { slot, ip });
    return ip;
  }

  private format(slot: number): string {
    const f = this.fast;
    return f === undefined ? this.slowFormat(slot) : f.head + (f.first + slot).toString(f.radix);
  }

  private slowFormat(slot: number): string {
    return formatAddress(this.family, this.network + 1n + BigInt(slot));
  }
}

/**
 * The fixed head and first last-group value of a block of `slots` addresses after `network`, when
 * its addresses differ in their last group (octet or 16-bit group) only and every one of them is
 * written as head + that group's text: a hollow node formats a pod IP per pod, and the BigInt
 * arithmetic and IPv6 zero-run search of formatAddress were most of that. Undefined otherwise.
 */
function lastGroupFormat(family: IpFamily, network: bigint, slots: number, slow: (slot: number) => string): { head: string; first: number; radix: number } | undefined {
  if (slots <= 0) return undefined;
  const groupBits = family === 4 ? 8n : 16n;
  const radix = family === 4 ? 10 : 16;
  const first = Number(network & ((1n << groupBits) - 1n)) + 1;
  // The last group must not carry, nor be 0 (an IPv6 zero group could join a "::" run).
  if (first + slots - 1 >= 2 ** Number(groupBits)) return undefined;
  const text = slow(0);
  const sep = text.lastIndexOf(family === 4 ? '.' : ':');
  const f = { head: text.slice(0, sep + 1), first, radix };
  // Checked at both ends of the block: the head's text (its "::" run) is the same for all of them.
  if (text !== f.head + first.toString(radix) || slow(slots - 1) !== f.head + (first + slots - 1).toString(radix)) return undefined;
  return f;
}
