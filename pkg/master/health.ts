// A master's health endpoints: /livez (the process answers; its scheduler and controller manager
// are not stuck leading on a lapsed lease), /readyz (also: a Raft leader is known, so reads and
// writes can be served; not shutting down) and /healthz (all of those but shutdown), as a
// load balancer or a supervisor expects of kube-apiserver and the components it hosts.

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
    livez: [PING, ...s.components],
    readyz: [PING, raft, ...s.components, shutdown],
    healthz: [PING, raft, ...s.components],
  };
}
