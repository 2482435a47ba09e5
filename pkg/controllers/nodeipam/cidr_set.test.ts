import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CidrSet } from './cidr_set.js';

test('a cluster CIDR is cut into node ranges handed out in order until none is left', () => {
  const s = new CidrSet('198.18.0.0/22', 24);
  assert.equal(s.capacity, 4);
  assert.deepEqual([s.allocateNext(), s.allocateNext(), s.allocateNext(), s.allocateNext()], ['198.18.0.0/24', '198.18.1.0/24', '198.18.2.0/24', '198.18.3.0/24']);
  assert.equal(s.allocateNext(), undefined);
  assert.equal(s.free, 0);
});

test('a freed range is handed out again only after the ranges not used since', () => {
  const s = new CidrSet('198.18.0.0/22', 24);
  s.allocateNext();
  s.allocateNext();
  s.release('198.18.0.0/24');
  assert.equal(s.allocateNext(), '198.18.2.0/24');
  assert.equal(s.allocateNext(), '198.18.3.0/24');
  assert.equal(s.allocateNext(), '198.18.0.0/24');
});

test('ranges that nodes already hold are skipped, whatever their size; ranges outside the cluster CIDR take nothing', () => {
  const s = new CidrSet('198.18.0.0/16', 24);
  assert.ok(s.occupy('198.18.0.0/24'));
  assert.ok(s.occupy('198.18.1.64/26'), 'a smaller range takes the node range around it');
  assert.ok(s.occupy('198.18.2.0/23'), 'a larger range takes every node range inside it');
  assert.equal(s.allocateNext(), '198.18.4.0/24');
  assert.equal(s.occupy('198.19.0.0/24'), false, 'outside the cluster CIDR');
  assert.equal(s.occupy('bogus'), false);
  assert.equal(s.free, 256 - 5);
});

test('a node range shared by several smaller ranges is free only when the last of them is released', () => {
  const s = new CidrSet('198.18.0.0/23', 24);
  s.occupy('198.18.0.0/26');
  s.occupy('198.18.0.64/26');
  s.release('198.18.0.0/26');
  assert.ok(s.isTaken('198.18.0.0/24'));
  s.release('198.18.0.64/26');
  assert.ok(!s.isTaken('198.18.0.0/24'));
  assert.equal(s.free, 2);
});

test('a mask outside the cluster CIDR or too fine is refused naming the setting', () => {
  assert.throws(() => new CidrSet('198.18.0.0/16', 15), { message: 'nodeCIDRMaskSize: expected an integer from 16 (the cluster CIDR\'s) to 30, got 15' });
  assert.throws(() => new CidrSet('10.0.0.0/8', 26), /nodeCIDRMaskSize: \/26 cuts 10.0.0.0\/8 into more than 2\^16 node ranges/);
  assert.throws(() => new CidrSet('198.18.0.0', 24), /^TypeError: clusterCIDR: expected an IPv4 CIDR/);
});
