// IPv4 addresses and CIDR ranges as plain numbers: the node podCIDR allocator carves a cluster
// range into per-node ranges, and the agent checks the podCIDR it is given. IPv6 addresses as
// bigints, for ranges too large for IPv4 (the hollow nodes' pod IPs at scale).

export interface Ipv4Cidr {
  /** The network address as an unsigned 32-bit number (host bits zero). */
  base: number;
  prefixBits: number;
}

/** Parses "a.b.c.d" to an unsigned 32-bit number; undefined when it is not a dotted IPv4 address. */
export function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (m === null) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255 || (m[i].length > 1 && m[i].startsWith('0'))) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * Parses "a.b.c.d/n". Throws a TypeError naming `field` when it is not an IPv4 CIDR or when host
 * bits are set ("198.18.0.1/16" is refused: the caller meant a range, not an address).
 */
export function parseIpv4Cidr(s: string, field: string): Ipv4Cidr {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(String(s));
  const base = m ? parseIpv4(m[1]) : undefined;
  const prefixBits = m ? Number(m[2]) : NaN;
  if (base === undefined || !(prefixBits >= 0 && prefixBits <= 32)) throw new TypeError(`${field}: expected an IPv4 CIDR such as "198.18.0.0/16", got "${s}"`);
  if (base % rangeSize(prefixBits) !== 0) throw new TypeError(`${field}: "${s}" has host bits set; the range is "${formatIpv4Cidr({ base: base - (base % rangeSize(prefixBits)), prefixBits })}"`);
  return { base, prefixBits };
}

export function formatIpv4Cidr(c: Ipv4Cidr): string {
  return `${formatIpv4(c.base)}/${c.prefixBits}`;
}

/** How many addresses a range of this prefix length holds. */
export function rangeSize(prefixBits: number): number {
  return 2 ** (32 - prefixBits);
}

export function cidrContains(c: Ipv4Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + rangeSize(c.prefixBits);
}

const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses IPv6 text ("2001:2::1", "::", "fe80:0:0:0:0:0:0:1") to a 128-bit bigint; undefined otherwise. No zone, no dotted IPv4 tail. */
export function parseIpv6(s: string): bigint | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): string[] | undefined => {
    if (h === '') return [];
    const g = h.split(':');
    return g.every((x) => IPV6_GROUP.test(x)) ? g : undefined;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === undefined || tail === undefined) return undefined;
  const given = head.length + tail.length;
  if (halves.length === 2 ? given > 7 : given !== 8) return undefined;
  const all = [...head, ...Array<string>(8 - given).fill('0'), ...tail];
  let n = 0n;
  for (const g of all) n = (n << 16n) | BigInt(parseInt(g, 16));
  return n;
}

/** RFC 5952's text form: lowercase, no leading zeros, the longest run of two or more zero groups (the first of equals) as "::". */
export function formatIpv6(n: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((n >> BigInt(16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}
