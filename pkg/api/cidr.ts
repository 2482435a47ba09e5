// IPv4 addresses and CIDR ranges as plain numbers: the node podCIDR allocator carves a cluster
// range into per-node ranges, and the agent checks the podCIDR it is given.

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
