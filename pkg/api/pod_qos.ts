// A pod's quality-of-service class, as Kubernetes computes it when the pod is created (its
// status.qosClass, which `kubectl describe pod` shows): from the cpu and memory requests and limits
// of all its containers, init containers included, each summed over the containers.
//  - BestEffort: no container requests or limits any cpu or memory;
//  - Guaranteed: every container limits both, and the summed requests equal the summed limits;
//  - Burstable: anything else.
// A request left out counts as its limit, as Kubernetes' defaulting fills it in before this runs.
// Sums and comparisons are exact (1n and 1m differ), as Kubernetes' are.

import type { PodSpec } from '../../gen/navarch/api/v1/core.js';
import { Quantity } from './quantity.js';

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const QOS_RESOURCES = ['cpu', 'memory'] as const;

/** A positive quantity; undefined for a missing, zero, negative or unparsable one (validation reports those). */
function positive(text: string | undefined): Quantity | undefined {
  const q = text === undefined ? undefined : Quantity.tryParse(text);
  return q !== undefined && q.sign() > 0 ? q : undefined;
}

function addTo(sums: Map<string, Quantity>, resource: string, q: Quantity): void {
  const sum = sums.get(resource);
  sums.set(resource, sum === undefined ? q : sum.add(q));
}

export function podQosClass(spec: PodSpec | undefined): QosClass {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    let limited = 0;
    for (const r of QOS_RESOURCES) {
      const limitText = c.resources?.limits?.[r];
      const requestText = c.resources?.requests?.[r] ?? limitText;
      const request = positive(requestText);
      const limit = positive(limitText);
      if (request) addTo(requests, r, request);
      if (limit) {
        addTo(limits, r, limit);
        limited++;
      }
    }
    if (limited < QOS_RESOURCES.length) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed && requests.size === limits.size && [...requests].every(([r, q]) => limits.get(r)?.cmp(q) === 0)) return 'Guaranteed';
  return 'Burstable';
}
