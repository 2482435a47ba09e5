// Pod admission on the node, as the kubelet's resource check: a pod bound to this node (by the
// scheduler or pinned with nodeName) starts only if its requests fit in the node's allocatable
// beside the pods already admitted; otherwise it fails at once with reason OutOf<resource> and
// never runs. A pod's request is what it holds while running: the larger of its containers' sum
// and its largest init container, per resource.

import type { Container, Pod, PodStatus } from '../../gen/navarch/api/v1/core.js';
import { Quantity } from '../api/quantity.js';
import type { NodeResources } from './node_registration.js';

/** cpu in millicores, memory and ephemeral-storage in bytes, pods as a count. */
export interface ResourceAmounts {
  cpu: number;
  memory: number;
  ephemeralStorage: number;
  pods: number;
}

const ZERO: ResourceAmounts = { cpu: 0, memory: 0, ephemeralStorage: 0, pods: 0 };

function amount(text: string | undefined, milli: boolean): number {
  if (text === undefined) return 0;
  const q = Quantity.tryParse(text);
  if (q === undefined) return 0;
  return milli ? q.milliValue() : q.value();
}

function containerRequests(c: Container): ResourceAmounts {
  const r = c.resources?.requests ?? {};
  return { cpu: amount(r.cpu, true), memory: amount(r.memory, false), ephemeralStorage: amount(r['ephemeral-storage'], false), pods: 0 };
}

/** What the pod holds while it runs. */
export function podRequests(pod: Pod): ResourceAmounts {
  const sum = { ...ZERO, pods: 1 };
  for (const c of pod.spec?.containers ?? []) {
    const r = containerRequests(c);
    sum.cpu += r.cpu;
    sum.memory += r.memory;
    sum.ephemeralStorage += r.ephemeralStorage;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    const r = containerRequests(c);
    sum.cpu = Math.max(sum.cpu, r.cpu);
    sum.memory = Math.max(sum.memory, r.memory);
    sum.ephemeralStorage = Math.max(sum.ephemeralStorage, r.ephemeralStorage);
  }
  return sum;
}

export function allocatableAmounts(r: NodeResources): ResourceAmounts {
  return { cpu: amount(r.cpu, true), memory: amount(r.memory, false), ephemeralStorage: amount(r.ephemeralStorage, false), pods: amount(r.pods, false) };
}

export function addAmounts(a: ResourceAmounts, b: ResourceAmounts, sign: 1 | -1 = 1): ResourceAmounts {
  return { cpu: a.cpu + sign * b.cpu, memory: a.memory + sign * b.memory, ephemeralStorage: a.ephemeralStorage + sign * b.ephemeralStorage, pods: a.pods + sign * b.pods };
}

export type Admission = { admit: true } | { admit: false; reason: string; message: string };

const NAMES: ReadonlyArray<[keyof ResourceAmounts, string]> = [
  ['pods', 'pods'],
  ['cpu', 'cpu'],
  ['memory', 'memory'],
  ['ephemeralStorage', 'ephemeral-storage'],
];

/** Whether a pod requesting `requested` fits beside `used` in `allocatable`. */
export function admit(requested: ResourceAmounts, used: ResourceAmounts, allocatable: ResourceAmounts): Admission {
  for (const [k, name] of NAMES) {
    if (requested[k] > 0 && used[k] + requested[k] > allocatable[k]) {
      return {
        admit: false,
        reason: `OutOf${name}`,
        message: `Pod was rejected: Node didn't have enough resource: ${name}, requested: ${requested[k]}, used: ${used[k]}, capacity: ${allocatable[k]}`,
      };
    }
  }
  return { admit: true };
}

/** The status of a pod the node refused: Failed, with the reason, no container ever started. */
export function rejectedStatus(reason: string, message: string): PodStatus {
  return { phase: 'Failed', reason, message, conditions: [], hostIPs: [], podIPs: [], initContainerStatuses: [], containerStatuses: [] };
}
