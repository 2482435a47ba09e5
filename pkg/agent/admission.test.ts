import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../gen/navarch/api/v1/core.js';
import { obj } from '../apiserver/test_util.js';
import { admit, allocatableAmounts, podRequests } from './admission.js';

const withRequests = (containers: Array<Record<string, string>>, init: Array<Record<string, string>> = []): Pod =>
  obj<Pod>({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default' },
    spec: {
      containers: containers.map((requests, i) => ({ name: `c${i}`, image: 'busybox', resources: { requests } })),
      initContainers: init.map((requests, i) => ({ name: `i${i}`, image: 'busybox', resources: { requests } })),
    },
  });

describe('pod admission', () => {
  it('counts what a pod holds while running: its containers summed, or its largest init container if more', () => {
    assert.deepEqual(podRequests(withRequests([{ cpu: '250m', memory: '64Mi' }, { cpu: '1', memory: '1Gi' }])), { cpu: 1250, memory: 1024 ** 3 + 64 * 1024 ** 2, ephemeralStorage: 0, pods: 1 });
    assert.deepEqual(podRequests(withRequests([{ cpu: '100m' }], [{ cpu: '2', 'ephemeral-storage': '1G' }])), { cpu: 2000, memory: 0, ephemeralStorage: 1e9, pods: 1 });
  });

  it('refuses a pod that does not fit beside the admitted ones, naming the resource and the amounts', () => {
    const node = allocatableAmounts({ cpu: '4', memory: '16Gi', pods: '110', ephemeralStorage: '100Gi' });
    const used = { cpu: 3800, memory: 0, ephemeralStorage: 0, pods: 3 };
    assert.deepEqual(admit(podRequests(withRequests([{ cpu: '200m' }])), used, node), { admit: true });
    assert.deepEqual(admit(podRequests(withRequests([{ cpu: '500m' }])), used, node), {
      admit: false,
      reason: 'OutOfcpu',
      message: "Pod was rejected: Node didn't have enough resource: cpu, requested: 500, used: 3800, capacity: 4000",
    });
    const full = { cpu: 0, memory: 0, ephemeralStorage: 0, pods: 110 };
    const r = admit(podRequests(withRequests([{}])), full, node);
    assert.equal(r.admit ? '' : r.reason, 'OutOfpods');
  });
});
