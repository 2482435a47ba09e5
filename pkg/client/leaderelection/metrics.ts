// leader_election_master_status{name}: 1 while this process leads the named lease, as client-go
// reports it. One gauge per Registry, shared by every elector that reports there.

import { Gauge, type Registry } from 'prom-client';

const NAME = 'leader_election_master_status';

export function leaderElectionStatus(registry: Registry): Gauge<'name'> {
  const existing = registry.getSingleMetric(NAME);
  if (existing) return existing as Gauge<'name'>;
  return new Gauge({ name: NAME, help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. \'name\' is the string used to identify the lease.', labelNames: ['name'] as const, registers: [registry] });
}
