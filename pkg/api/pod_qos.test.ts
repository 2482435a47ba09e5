import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PodSpec } from '../../gen/navarch/api/v1/core.js';
import { podQosClass, type QosClass } from './pod_qos.js';

type R = { requests?: Record<string, string>; limits?: Record<string, string> };
const spec = (containers: R[], initContainers: R[] = []): PodSpec => ({ containers: containers.map((resources, i) => ({ name: `c${i}`, resources })), initContainers: initContainers.map((resources, i) => ({ name: `i${i}`, resources })) }) as unknown as PodSpec;

const cases: Array<[string, PodSpec | undefined, QosClass]> = [
  ['no resources at all', spec([{}]), 'BestEffort'],
  ['no spec', undefined, 'BestEffort'],
  ['only resources QoS ignores (ephemeral-storage)', spec([{ requests: { 'ephemeral-storage': '1Gi' }, limits: { 'ephemeral-storage': '1Gi' } }]), 'BestEffort'],
  ['zero requests count as none', spec([{ requests: { cpu: '0', memory: '0' } }]), 'BestEffort'],
  ['a cpu request only', spec([{ requests: { cpu: '100m' } }]), 'Burstable'],
  ['limits equal to requests for cpu and memory', spec([{ requests: { cpu: '500m', memory: '128Mi' }, limits: { cpu: '0.5', memory: '128Mi' } }]), 'Guaranteed'],
  ['limits only (requests default to them)', spec([{ limits: { cpu: '1', memory: '1Gi' } }]), 'Guaranteed'],
  ['a request below its limit', spec([{ requests: { cpu: '250m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }]), 'Burstable'],
  ['a memory limit only', spec([{ limits: { memory: '1Gi' } }]), 'Burstable'],
  ['one container guaranteed, the other best-effort', spec([{ limits: { cpu: '1', memory: '1Gi' } }, {}]), 'Burstable'],
  ['two guaranteed containers', spec([{ limits: { cpu: '1', memory: '1Gi' } }, { requests: { cpu: '200m', memory: '64Mi' }, limits: { cpu: '200m', memory: '64Mi' } }]), 'Guaranteed'],
  ['requests and limits that differ below a milli (1n and 1m)', spec([{ requests: { cpu: '1n', memory: '1Gi' }, limits: { cpu: '1m', memory: '1Gi' } }]), 'Burstable'],
  ['the same amount written two ways (0.5 and 500m, 1Gi and 1073741824)', spec([{ requests: { cpu: '0.5', memory: '1073741824' }, limits: { cpu: '500m', memory: '1Gi' } }]), 'Guaranteed'],
  ['an unparsable limit counts as none', spec([{ limits: { cpu: 'lots', memory: '1Gi' } }]), 'Burstable'],
  ['an init container without limits', spec([{ limits: { cpu: '1', memory: '1Gi' } }], [{ requests: { cpu: '100m' } }]), 'Burstable'],
];

for (const [name, s, want] of cases) {
  test(`pod QoS class: ${name} → ${want}`, () => assert.equal(podQosClass(s), want));
}
