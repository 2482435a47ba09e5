import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bridgeConflist, pluginConfig, validateConflist } from './conflist.js';

test('the default chain is bridge with host-local over the podCIDR, then portmap, then loopback', () => {
  const list = bridgeConflist({ podCIDR: '198.18.7.0/24', ipamDataDir: '/var/lib/navarch/cni/ipam' });
  assert.equal(list.name, 'navarch');
  assert.deepEqual(list.plugins.map((p) => p.type), ['bridge', 'portmap', 'loopback']);
  const bridge = list.plugins[0];
  assert.equal(bridge.bridge, 'navarch0');
  assert.equal(bridge.isGateway, true);
  assert.equal(bridge.ipMasq, false);
  assert.deepEqual((bridge.ipam as { ranges: unknown }).ranges, [[{ subnet: '198.18.7.0/24' }]]);
  assert.deepEqual((bridge.ipam as { routes: unknown }).routes, [{ dst: '0.0.0.0/0' }]);
  const inCluster = bridgeConflist({ podCIDR: '198.18.7.0/24', ipamDataDir: '/tmp/ipam', routes: ['198.18.0.0/15'] });
  assert.deepEqual((inCluster.plugins[0].ipam as { routes: unknown }).routes, [{ dst: '198.18.0.0/15' }]);
});

test('bad bridge options are refused naming the field', () => {
  const ipamDataDir = '/tmp/ipam';
  assert.throws(() => bridgeConflist({ podCIDR: '198.18.7.0/24', ipamDataDir, bridgeName: 'a-bridge-name-too-long' }), /^TypeError: bridgeName: expected 1 to 15 characters/);
  assert.throws(() => bridgeConflist({ podCIDR: '198.18.7.1/24', ipamDataDir }), /^TypeError: podCIDR: "198.18.7.1\/24" has host bits set/);
  assert.throws(() => bridgeConflist({ podCIDR: '198.18.7.0/31', ipamDataDir }), /^RangeError: podCIDR: "198.18.7.0\/31" is too small/);
  assert.throws(() => bridgeConflist({ podCIDR: '198.18.7.0/24', ipamDataDir, routes: ['0.0.0.0/0', 'default'] }), /^TypeError: routes\[1\]: expected an IPv4 CIDR/);
  assert.throws(() => validateConflist({ cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'bridge' }, { type: '../evil' }] }), { message: 'conflist.plugins[1].type: expected a plugin binary name, got "../evil"' });
  assert.throws(() => validateConflist({ cniVersion: '1.0.0', name: 'n', plugins: [] }), { message: 'conflist.plugins: expected at least one plugin' });
});

test('a plugin gets runtimeConfig only for the capabilities it declares, and the previous result', () => {
  const list = bridgeConflist({ podCIDR: '198.18.7.0/24', ipamDataDir: '/tmp/ipam' });
  const runtime = { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] };
  const prev = { cniVersion: '1.0.0', ips: [] };
  const portmap = pluginConfig(list, list.plugins[1], runtime, prev);
  assert.deepEqual(portmap.runtimeConfig, runtime);
  assert.equal(portmap.name, 'navarch');
  assert.equal(portmap.cniVersion, '1.0.0');
  assert.deepEqual(portmap.prevResult, prev);
  const bridge = pluginConfig(list, list.plugins[0], runtime, undefined);
  assert.equal(bridge.runtimeConfig, undefined);
  assert.equal('prevResult' in bridge, false);
});
