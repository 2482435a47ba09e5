// The runner's elections: pkg/client/leaderelection's LeaderElector over a Lease in kube-system.

import type { Registry } from 'prom-client';
import type { Clock } from '../../../raft/node/ports.js';
import { LeaderElector, type LeaseClient } from '../../client/leaderelection/mod.js';
import type { NavarchClient } from '../../client/mod.js';
import type { ElectorFactory } from './leader_run.js';

/** Where the scheduler's and the controller manager's leases live, as in Kubernetes. */
export const LEASE_NAMESPACE = 'kube-system';

export interface ElectionTimings {
  /** @default 3000 */
  leaseDurationMs?: number;
  /** @default 2000 */
  renewDeadlineMs?: number;
  /** @default 1000 */
  retryPeriodMs?: number;
}

/**
 * Reads the lease from the member's own copy (serializable) rather than through a Raft round trip:
 * a renewal then costs one proposal instead of two, which is what decides whether it lands within
 * the renew deadline on a busy cluster. A stale read is safe: the update that follows carries the
 * resourceVersion it read and fails with Conflict if the lease moved on.
 */
export function localReads(client: LeaseClient & { get: NavarchClient['get'] }): LeaseClient {
  return {
    get: (resource, namespace, name) => client.get(resource, namespace, name, { serializable: true }),
    create: (object) => client.create(object),
    update: (object) => client.update(object),
  };
}

export function leaseElector(o: {
  name: string;
  identity: string;
  client: LeaseClient;
  clock: Clock;
  registry?: Registry;
  timings?: ElectionTimings;
  onError?: (err: unknown) => void;
}): ElectorFactory {
  return (callbacks) =>
    new LeaderElector({
      client: o.client,
      clock: o.clock,
      leaseNamespace: LEASE_NAMESPACE,
      leaseName: o.name,
      identity: o.identity,
      ...o.timings,
      registry: o.registry,
      onError: o.onError,
      callbacks,
    });
}
