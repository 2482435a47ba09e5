// leader_election_master_status{name}: 1 while this process leads the named lease, as client-go
// reports it, and 0 once its lease has gone a lease duration unrenewed (its fenced term may last
// until the renew deadline, but another may hold the lease by then); navarch_leader_election_ready{name}: 1 once this process could take it over at once. One gauge
// of each per Registry, shared by every elector that reports there.

import { Gauge, type Registry } from 'prom-client';

const NAME = 'leader_election_master_status';

export function leaderElectionStatus(registry: Registry): Gauge<'name'> {
  return sharedGauge(registry, NAME, 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. \'name\' is the string used to identify the lease.');
}

const READY = 'navarch_leader_election_ready';

/**
 * 1 once this process competes for the named lease with its caches filled, 0 while it is still
 * filling them or keeps none (a master leading Raft drops its standby): a restarted master at
 * 150,000 pods stands aside for a minute under load, and an operator (or a failover benchmark)
 * needs to know whether a standby could take over right now.
 */
export function leaderElectionReady(registry: Registry): Gauge<'name'> {
  return sharedGauge(registry, READY, "1 once this process competes for the named lease with its caches filled, 0 while it waits for them or keeps none (a master leading Raft drops its standby). 'name' is the lease's.");
}

/** The registry's gauge of that name, made on first use. */
function sharedGauge(registry: Registry, name: string, help: string): Gauge<'name'> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge<'name'>;
  return new Gauge({ name, help, labelNames: ['name'] as const, registers: [registry] });
}
