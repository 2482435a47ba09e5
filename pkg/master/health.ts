// A master's health endpoints, as a load balancer or a supervisor expects of kube-apiserver:
// /livez (the process answers), /readyz (also: a Raft leader is known, so reads and writes can be
// served; not shutting down) and /healthz (the readiness checks but shutdown, and the hosted
// scheduler's and controller manager's leader-election checks, as their own /healthz has them; not
// in /livez or /readyz, where a stuck election would restart the API or take it out of service).

import { PING, type HealthCheck, type HealthEndpoints } from '../healthz/healthz.js';

export interface MasterHealthSource {
  /** The Raft leader this member knows (0: none). */
  leaderId(): number;
  stopping(): boolean;
  /** The hosted components' leader-election checks (ControlPlane.healthChecks). */
  components: readonly HealthCheck[];
}

export function masterHealth(s: MasterHealthSource): HealthEndpoints {
  const raft: HealthCheck = { name: 'raft', check: () => (s.leaderId() === 0 ? 'no Raft leader known to this member: it cannot serve reads or writes' : undefined) };
  const shutdown: HealthCheck = { name: 'shutdown', check: () => (s.stopping() ? 'process is shutting down' : undefined) };
  return {
    livez: [PING],
    readyz: [PING, raft, shutdown],
    healthz: [PING, raft, ...s.components],
  };
}
