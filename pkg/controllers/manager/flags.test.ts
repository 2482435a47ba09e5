import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseElectionFlags, parseNodeIpamFlags, parseNodeLifecycleFlags } from './flags.js';

test('election timings default to a 2 s lease renewed every 500 ms, given up after 10 s without a renewal', () => {
  assert.deepEqual(parseElectionFlags({}), { leaseDurationMs: 2000, renewDeadlineMs: 10000, retryPeriodMs: 500 });
  assert.deepEqual(parseElectionFlags({ leaseDurationMs: '15000' }), { leaseDurationMs: 15000, renewDeadlineMs: 17000, retryPeriodMs: 1000 });
});

test('a shorter lease scales the retry period down unless it is given', () => {
  assert.deepEqual(parseElectionFlags({ leaseDurationMs: '1500' }), { leaseDurationMs: 1500, renewDeadlineMs: 10000, retryPeriodMs: 375 });
  assert.deepEqual(parseElectionFlags({ leaseDurationMs: '15000', renewDeadlineMs: '10000', retryPeriodMs: '2000' }), { leaseDurationMs: 15000, renewDeadlineMs: 10000, retryPeriodMs: 2000 });
});

test('bad election timings are refused naming the flag', () => {
  assert.throws(() => parseElectionFlags({ leaseDurationMs: 'soon' }), { message: '--lease-duration-ms: expected an integer >= 100, got "soon"' });
  assert.throws(() => parseElectionFlags({ leaseDurationMs: '3000', retryPeriodMs: '3000' }), { message: '--retry-period-ms (3000) must be less than --lease-duration-ms (3000)' });
  assert.throws(() => parseElectionFlags({ leaseDurationMs: '4000', retryPeriodMs: '2500', renewDeadlineMs: '2000' }), { message: '--retry-period-ms (2500) must be less than --renew-deadline-ms (2000)' });
});

test('node lifecycle settings are integers, absent when not given', () => {
  assert.deepEqual(parseNodeLifecycleFlags({}), { nodeMonitorGracePeriodMs: undefined, defaultTolerationSeconds: undefined });
  assert.deepEqual(parseNodeLifecycleFlags({ nodeMonitorGracePeriodMs: '4000', defaultTolerationSeconds: '0' }), { nodeMonitorGracePeriodMs: 4000, defaultTolerationSeconds: 0 });
  assert.throws(() => parseNodeLifecycleFlags({ defaultTolerationSeconds: '-1' }), { message: '--default-toleration-seconds: expected an integer >= 0, got "-1"' });
});

test('node IPAM settings are checked together and named by flag', () => {
  assert.deepEqual(parseNodeIpamFlags({}), { clusterCIDR: undefined, nodeCIDRMaskSize: undefined });
  assert.deepEqual(parseNodeIpamFlags({ clusterCidr: '198.18.0.0/15', nodeCidrMaskSize: '25' }), { clusterCIDR: '198.18.0.0/15', nodeCIDRMaskSize: 25 });
  assert.throws(() => parseNodeIpamFlags({ clusterCidr: '198.18.0.1/16' }), { message: '--cluster-cidr: "198.18.0.1/16" has host bits set; the range is "198.18.0.0/16"' });
  assert.throws(() => parseNodeIpamFlags({ clusterCidr: '198.18.0.0/24', nodeCidrMaskSize: '16' }), /^Error: --node-cidr-mask-size: expected an integer from 24/);
  assert.throws(() => parseNodeIpamFlags({ nodeCidrMaskSize: 'wide' }), { message: '--node-cidr-mask-size: expected an integer >= 1, got "wide"' });
});
