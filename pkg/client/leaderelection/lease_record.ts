// The leader election record as a coordination.k8s.io/v1 Lease: who holds it, for how long, since
// when, and how many times it changed hands.

import type { Lease } from '../../api/registry.js';

export interface LeaderElectionRecord {
  /** "" when nobody holds the lease (released). */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string;
  renewTime: string;
  leaseTransitions: number;
}

/** metav1.MicroTime text: RFC 3339 in UTC with microseconds, as Kubernetes writes lease times. */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function recordOf(lease: Lease): LeaderElectionRecord {
  const s = lease.spec;
  return {
    holderIdentity: s?.holderIdentity ?? '',
    leaseDurationSeconds: s?.leaseDurationSeconds ?? 0,
    acquireTime: s?.acquireTime ?? '',
    renewTime: s?.renewTime ?? '',
    leaseTransitions: s?.leaseTransitions ?? 0,
  };
}

export function sameRecord(a: LeaderElectionRecord, b: LeaderElectionRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

/** `lease` (or a new Lease namespace/name) carrying `r`, keeping its metadata (resourceVersion). */
export function leaseWith(namespace: string, name: string, r: LeaderElectionRecord, lease?: Lease): Lease {
  const spec = {
    ...lease?.spec,
    holderIdentity: r.holderIdentity,
    leaseDurationSeconds: r.leaseDurationSeconds,
    acquireTime: r.acquireTime || undefined,
    renewTime: r.renewTime || undefined,
    leaseTransitions: r.leaseTransitions,
  };
  if (lease) return { ...lease, spec };
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, labels: {}, annotations: {}, ownerReferences: [], finalizers: [] },
    spec,
  };
}
