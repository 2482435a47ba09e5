// The runner's elections: pkg/client/leaderelection's LeaderElector over a Lease in kube-system.

import type { Registry } from 'prom-client';
import type { Clock } from '../../../raft/node/ports.js';
import { checkElectorOptions, LeaderElector, type LeaseClient } from '../../client/leaderelection/mod.js';
import type { KubeObject } from '../../api/registry.js';
import { isApiError, type NavarchClient } from '../../client/mod.js';
import type { ElectorFactory } from './leader_run.js';
import { deepCopy } from '../../api/deep_copy.js';

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
 * Reads the lease from the member's own copy (serializable) rather than through a Raft round trip,
 * so a renewal costs one proposal instead of a read round trip and a proposal: what decides whether
 * it lands within the renew deadline on a busy cluster. A member that lags may still show an older
 * lease than this process last wrote or read; then the newest one known is used (as client-go's
 * leader renews from its cached lease). Stale reads are safe: the update carries the
 * resourceVersion it read and fails with Conflict if the lease moved on (and the cache is dropped).
 */
export function localReads(client: LeaseClient & { get: NavarchClient['get'] }): LeaseClient {
  const newest = new Map<string, KubeObject>();
  const keyOf = (o: KubeObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  const rv = (o: KubeObject | undefined): number => Number(o?.metadata?.resourceVersion ?? 0) || 0;
  const remember = <T extends KubeObject>(o: T): T => {
    if (rv(o) >= rv(newest.get(keyOf(o)))) newest.set(keyOf(o), o);
    return o;
  };
  return {
    async get<T extends KubeObject = KubeObject>(resource: string, namespace: string | undefined, name: string): Promise<T> {
      const local = await client.get<T>(resource, namespace, name, { serializable: true });
      const known = newest.get(`${namespace ?? ''}/${name}`) as T | undefined;
      return known && rv(known) > rv(local) ? deepCopy(known) : remember(local);
    },
    create: async (object) => remember(await client.create(object)),
    async update(object) {
      try {
        return remember(await client.update(object));
      } catch (e) {
        if (isApiError(e, 'Conflict')) newest.delete(keyOf(object));
        throw e;
      }
    },
  };
}

/**
 * How long a candidate lets the others take an expired lease first. NO_DEFERRAL: not at all.
 * DEFER_AS_RAFT_LEADER: a retry period (the member leads Raft; the other candidates read the lease
 * more often than that, so one of them goes first). DEFER_COLD: a lease duration more. Its caches
 * are cold, so its term would list every object before doing anything (about 20 s at 150,000 pods),
 * and a warm candidate whose member lags or is busy can take longer than a retry period to see the
 * lease expire: in one failover run a master that had led Raft all along (so kept no standby) took
 * the scheduler's lease and bound its first pod 21 s later. With no warm candidate alive, the cold
 * one still takes it, a lease duration later.
 */
export const NO_DEFERRAL = 0;
export const DEFER_AS_RAFT_LEADER = 1;
export const DEFER_COLD = 2;
export type TakeoverDeferral = typeof NO_DEFERRAL | typeof DEFER_AS_RAFT_LEADER | typeof DEFER_COLD;

/** The wait past a lease's expiry for a deferral (see TakeoverDeferral). */
export function takeoverDelayMs(deferral: TakeoverDeferral, timings: { leaseDurationMs: number; retryPeriodMs: number }): number {
  if (deferral === DEFER_COLD) return timings.leaseDurationMs + timings.retryPeriodMs;
  return deferral === DEFER_AS_RAFT_LEADER ? timings.retryPeriodMs : 0;
}

export function leaseElector(o: {
  name: string;
  identity: string;
  client: LeaseClient;
  clock: Clock;
  registry?: Registry;
  timings?: ElectionTimings;
  /** How long an expired lease is left to the other candidates first (TakeoverDeferral; LeaderElectorOptions.takeoverDelayMs). */
  deferTakeover?: () => TakeoverDeferral;
  onError?: (err: unknown) => void;
}): ElectorFactory {
  const timings = checkElectorOptions({ ...o.timings, leaseNamespace: LEASE_NAMESPACE, leaseName: o.name, identity: o.identity });
  const defer = o.deferTakeover;
  return (callbacks) =>
    new LeaderElector({
      client: o.client,
      clock: o.clock,
      leaseNamespace: LEASE_NAMESPACE,
      leaseName: o.name,
      identity: o.identity,
      ...o.timings,
      registry: o.registry,
      takeoverDelayMs: defer && (() => takeoverDelayMs(defer(), timings)),
      onError: o.onError,
      callbacks,
    });
}
