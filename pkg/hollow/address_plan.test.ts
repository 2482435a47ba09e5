import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressPlan, DEFAULT_HOLLOW_POD_CIDR_V6, formatAddress, formatCidr, hollowAddressPlan, parseCidr } from './address_plan.js';

describe('AddressPlan', () => {
  it('gives each node a host IP and a /24 pod CIDR inside 198.18.0.0/15 when they fit', () => {
    const plan = AddressPlan.forNodes(parseCidr('198.18.0.0/15'), 50);
    assert.equal(plan.hostIP(0), '198.18.0.1');
    assert.equal(plan.hostIP(49), '198.18.0.50');
    assert.equal(plan.podCidr(0), '198.18.1.0/24');
    assert.equal(plan.podCidr(49), '198.18.50.0/24');
    assert.equal(plan.podsPerNode, 254);
  });

  it('shrinks the pod CIDRs so that 5,000 nodes fit, with no overlap between nodes or with host IPs', () => {
    const plan = AddressPlan.forNodes(parseCidr('198.18.0.0/15'), 5000);
    assert.equal(plan.podCidr(0), '198.18.32.0/28');
    assert.equal(plan.podsPerNode, 14);
    assert.equal(plan.hostIP(4999), '198.18.19.136');
    const last = plan.podCidr(4999);
    assert.equal(last, '198.19.88.112/28', 'the last block ends inside the /15');
  });

  it('says when the range is too small, and names a bad CIDR', () => {
    assert.throws(() => AddressPlan.forNodes(parseCidr('198.18.0.0/24'), 100), /Cannot fit 100 nodes in 198\.18\.0\.0\/24/);
    assert.throws(() => parseCidr('198.18.0.1/15', '--cidr'), /Invalid --cidr "198\.18\.0\.1\/15": host bits are set; the network is 198\.18\.0\.0\/15/);
    assert.throws(() => parseCidr('198.18.0.0', '--cidr'), /expected an IPv4 or IPv6 network/);
    assert.throws(() => parseCidr('300.18.0.0/15'), /expected an IPv4 or IPv6 network/);
    assert.throws(() => parseCidr('198.18.0.0/33'), /expected an IPv4 or IPv6 network/);
    assert.throws(() => parseCidr('2001:2::1/48', '--pod-cidr'), /Invalid --pod-cidr "2001:2::1\/48": host bits are set; the network is 2001:2::\/48/);
    assert.throws(() => parseCidr('2001:2::/129'), /expected an IPv4 or IPv6 network/);
  });

  it('cuts pod CIDRs from an IPv6 range of their own, host IPs staying in the IPv4 one', () => {
    const plan = AddressPlan.forNodes(parseCidr('198.18.0.0/15'), 5000, parseCidr('2001:2::/48'));
    assert.equal(plan.hostIP(0), '198.18.0.1');
    assert.equal(plan.podCidr(0), '2001:2::/120');
    assert.equal(plan.podCidr(1), '2001:2::100/120');
    assert.equal(plan.podCidr(4999), '2001:2::13:8700/120');
    assert.equal(plan.podsPerNode, 254);
    const ips = plan.allocator(1);
    assert.equal(ips.allocate('a'), '2001:2::101');
    assert.equal(ips.reserve('2001:2::1fe', 'b'), true, 'the last slot');
    assert.equal(ips.reserve('2001:2::1ff', 'c'), false, 'past the last slot');
    assert.equal(ips.reserve('2001:2::201', 'c'), false, "the next node's");
    assert.equal(ips.reserve('198.18.1.1', 'c'), false, 'the other family');
    assert.throws(() => AddressPlan.forNodes(parseCidr('198.18.0.0/15'), 5000, parseCidr('2001:2::/116')), /Cannot fit 5000 nodes in 2001:2::\/116: each needs a pod CIDR/);
  });
});

describe('hollowAddressPlan', () => {
  it("keeps pods in the IPv4 range while each node gets its pod capacity there, else moves them to 2001:2::/48", () => {
    const small = hollowAddressPlan(100, 110);
    assert.equal(formatCidr(small.pods), '198.18.0.0/15');
    assert.equal(small.podCidr(0), '198.18.1.0/24');
    const large = hollowAddressPlan(5000, 110);
    assert.equal(formatCidr(large.pods), DEFAULT_HOLLOW_POD_CIDR_V6);
    assert.equal(large.hostIP(4999), '198.18.19.136');
    assert.ok(large.podsPerNode >= 110);
    assert.equal(formatCidr(hollowAddressPlan(5000, 14).pods), '198.18.0.0/15', 'a /28 holds 14');
    assert.equal(formatCidr(hollowAddressPlan(100_000, 110).pods), DEFAULT_HOLLOW_POD_CIDR_V6, 'more nodes than the /15 has pod blocks for');
  });

  it('takes the pod range it is given, and names the flag of a bad one', () => {
    assert.equal(hollowAddressPlan(10, 110, '198.18.0.0/24', '198.19.0.0/16').podCidr(2), '198.19.2.0/24');
    assert.throws(() => hollowAddressPlan(10, 110, '198.18.0.0/24', 'fd00::1/64'), /--pod-cidr "fd00::1\/64": host bits are set/);
    assert.throws(() => hollowAddressPlan(10, 110, '198.18.0.0/29'), /Cannot fit 10 nodes' host IPs in 198\.18\.0\.0\/29/);
  });
});

describe('PodIpAllocator', () => {
  it('never hands out an address in use, and reuses a freed one last', () => {
    const ips = AddressPlan.forNodes(parseCidr('10.0.0.0/26'), 2).allocator(0);
    assert.equal(ips.cidr, '10.0.0.16/28');
    const got = Array.from({ length: 14 }, (_, i) => ips.allocate(`p${i}`));
    assert.equal(new Set(got).size, 14);
    assert.equal(got[0], '10.0.0.17');
    assert.equal(got[13], '10.0.0.30');
    assert.equal(ips.allocate('p14'), undefined, 'full');
    assert.equal(ips.allocate('p3'), got[3], 'an owner keeps its address');
    ips.release('p3');
    ips.release('p5');
    assert.equal(ips.allocate('q1'), got[3]);
    assert.equal(ips.allocate('q2'), got[5]);
  });

  it('writes every address of a block as formatAddress does (IPv4, IPv6 with and without zero runs)', () => {
    const cases: Array<[hosts: string, pods: string, nodes: number, node: number]> = [
      ['198.18.0.0/15', '198.18.0.0/15', 5000, 4999],
      ['198.18.0.0/15', DEFAULT_HOLLOW_POD_CIDR_V6, 5000, 0],
      ['198.18.0.0/15', DEFAULT_HOLLOW_POD_CIDR_V6, 5000, 4999],
      ['198.18.0.0/15', '2001:db8:0:0:1::/80', 300, 255],
      ['198.18.0.0/15', 'fd00::/112', 10, 9],
    ];
    for (const [hosts, pods, nodes, node] of cases) {
      const plan = AddressPlan.forNodes(parseCidr(hosts), nodes, parseCidr(pods));
      const ips = plan.allocator(node);
      const block = parseCidr(ips.cidr);
      for (let slot = 0; slot < ips.capacity; slot++) {
        assert.equal(ips.allocate(`p${slot}`), formatAddress(block.family, block.base + 1n + BigInt(slot)), `${ips.cidr} slot ${slot}`);
      }
    }
  });

  it('reserves the address a pod already holds, unless another pod holds it or it is outside the CIDR', () => {
    const ips = AddressPlan.forNodes(parseCidr('10.0.0.0/26'), 2).allocator(0);
    assert.equal(ips.reserve('10.0.0.20', 'a'), true);
    assert.equal(ips.reserve('10.0.0.20', 'b'), false);
    assert.equal(ips.reserve('10.0.0.40', 'b'), false);
    assert.equal(ips.reserve('10.0.0.16', 'b'), false, 'the network address');
    for (let i = 0; i < 13; i++) assert.notEqual(ips.allocate(`p${i}`), '10.0.0.20');
    assert.equal(ips.inUse, 14);
  });
});
