// A pod's quality-of-service class, as Kubernetes computes it when the pod is created (its
// status.qosClass, which `kubectl describe pod` shows): from the cpu and memory requests and limits
// of all its containers, init containers included, each summed over the containers.
//  - BestEffort: no container requests or limits any cpu or memory;
//  - Guaranteed: every container limits both, and the summed requests equal the summed limits;
//  - Burstable: anything else.
// A request left out counts as its limit, as Kubernetes' defaulting fills it in before this runs.

import type { PodSpec } from '../../gen/navarch/api/v1/core.js';
import { quantityToMilli } from './quantity.js';

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const QOS_RESOURCES = ['cpu', 'memory'] as const;

/** The milli value of a positive quantity; 0 for a missing, zero or unparsable one (validation reports those). */
function positiveMilli(text: string | undefined): number {
  if (text === undefined) return 0;
  try {
    return Math.max(0, quantityToMilli(text));
  } catch {
    return 0;
  }
}

export function podQosClass(spec: PodSpec | undefined): QosClass {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    let limited = 0;
    for (const r of QOS_RESOURCES) {
      const limit = positiveMilli(c.resources?.limits?.[r]);
      const request = c.resources?.requests?.[r] === undefined ? limit : positiveMilli(c.resources.requests[r]);
      if (request > 0) requests.set(r, (requests.get(r) ?? 0) + request);
      if (limit > 0) {
        limits.set(r, (limits.get(r) ?? 0) + limit);
        limited++;
      }
    }
    if (limited < QOS_RESOURCES.length) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed && requests.size === limits.size && [...requests].every(([r, v]) => limits.get(r) === v)) return 'Guaranteed';
  return 'Burstable';
}
