import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cidrContains, formatIpv4, formatIpv4Cidr, formatIpv6, parseIpv4, parseIpv4Cidr, parseIpv6 } from './cidr.js';

test('IPv4 addresses round-trip through numbers', () => {
  assert.equal(parseIpv4('198.18.3.4'), 198 * 2 ** 24 + 18 * 2 ** 16 + 3 * 256 + 4);
  assert.equal(formatIpv4(parseIpv4('255.255.255.255')!), '255.255.255.255');
  assert.equal(formatIpv4(parseIpv4('0.0.0.0')!), '0.0.0.0');
  for (const bad of ['198.18.3', '198.18.3.256', '198.18.03.4', 'a.b.c.d', '1.2.3.4 ']) assert.equal(parseIpv4(bad), undefined, bad);
});

test('a CIDR parses to its base and prefix and contains its own addresses only', () => {
  const c = parseIpv4Cidr('198.18.4.0/24', 'podCIDR');
  assert.equal(formatIpv4Cidr(c), '198.18.4.0/24');
  assert.ok(cidrContains(c, parseIpv4('198.18.4.255')!));
  assert.ok(!cidrContains(c, parseIpv4('198.18.5.0')!));
  assert.ok(!cidrContains(c, parseIpv4('198.18.3.255')!));
});

test('a malformed CIDR is refused naming the field', () => {
  assert.throws(() => parseIpv4Cidr('198.18.0.0', 'spec.podCIDR'), { message: 'spec.podCIDR: expected an IPv4 CIDR such as "198.18.0.0/16", got "198.18.0.0"' });
  assert.throws(() => parseIpv4Cidr('198.18.0.0/33', 'x'), /x: expected an IPv4 CIDR/);
  assert.throws(() => parseIpv4Cidr('198.18.0.1/16', 'clusterCIDR'), { message: 'clusterCIDR: "198.18.0.1/16" has host bits set; the range is "198.18.0.0/16"' });
});

test('IPv6 addresses round-trip through bigints in RFC 5952 form', () => {
  assert.equal(parseIpv6('2001:2::'), 0x20010002n << 96n);
  assert.equal(parseIpv6('::1'), 1n);
  assert.equal(parseIpv6('::'), 0n);
  assert.equal(parseIpv6('1:2:3:4:5:6:7:8'), 0x00010002000300040005000600070008n);
  for (const [text, canonical] of [
    ['2001:0002:0000:0000:0000:0000:0000:0001', '2001:2::1'],
    ['2001:DB8::AB', '2001:db8::ab'],
    ['2001:2:0:0:1:0:0:1', '2001:2::1:0:0:1'],
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
    ['::', '::'],
    ['2001:2::100', '2001:2::100'],
  ]) assert.equal(formatIpv6(parseIpv6(text)!), canonical, text);
  for (const bad of ['2001:2', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', '12345::', 'g::', '::ffff:1.2.3.4', '2001:2::/48', ''])
    assert.equal(parseIpv6(bad), undefined, bad);
});
