// The runner's elections: pkg/client/leaderelection's LeaderElector over a Lease in kube-system.

import type { Registry } from 'prom-client';
import type { Clock } from '../../../raft/node/ports.js';
import { LeaderElector, type LeaseClient } from '../../client/leaderelection/mod.js';
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
