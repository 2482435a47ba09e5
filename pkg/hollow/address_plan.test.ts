import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressPlan, parseCidr } from './address_plan.js';

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
    assert.throws(() => parseCidr('198.18.0.0', '--cidr'), /expected an IPv4 network/);
    assert.throws(() => parseCidr('300.18.0.0/15'), /expected an IPv4 network/);
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
