// `navarch controllers`: the controller manager (ReplicaSet, Deployment, garbage collector,
// namespace and node lifecycle controllers) against remote masters, active while it holds the
// kube-system/kube-controller-manager Lease. Every master also runs one (unless --no-controllers);
// this process competes with them for the same Lease. `navarch scheduler` runs through here too.

import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { NavarchClient } from '../pkg/client/mod.js';
import { ControlPlane, newIdentity } from '../pkg/controllers/manager/control_plane.js';
import { parseElectionFlags, parseNodeIpamFlags, parseNodeLifecycleFlags, type ElectionFlags, type NodeIpamFlags, type NodeLifecycleFlags } from '../pkg/controllers/manager/flags.js';
import { serveMetrics } from '../pkg/controllers/manager/metrics_server.js';
import { PING, type HealthCheck } from '../pkg/healthz/healthz.js';
import { parseServerList, resolveFromProcess } from './navctl/config.js';

export interface ComponentFlags extends ElectionFlags, NodeLifecycleFlags, NodeIpamFlags {
  server?: string;
  name?: string;
  metricsPort?: string;
}

/** host:port[,host:port...], else a navctl config file; absent: where navctl would look. */
export function endpointsFrom(server: string | undefined): string[] {
  if (server === undefined) return resolveFromProcess({}).endpoints;
  const looksLikeEndpoints = server.split(',').every((p) => /^[^/]+:\d+$/.test(p.trim()));
  if (looksLikeEndpoints && !existsSync(server)) return parseServerList('--server', server);
  return resolveFromProcess({ config: server }).endpoints;
}

/** Runs the scheduler or the controller manager until SIGTERM/SIGINT, then releases its Lease. */
export async function runComponent(which: 'scheduler' | 'controllers', flags: ComponentFlags): Promise<void> {
  const election = parseElectionFlags(flags);
  const lifecycle = { ...parseNodeLifecycleFlags(flags), ...parseNodeIpamFlags(flags) };
  let metricsPort: number | undefined;
  if (flags.metricsPort !== undefined) {
    metricsPort = /^\d+$/.test(flags.metricsPort) ? Number(flags.metricsPort) : NaN;
    if (!(metricsPort >= 0 && metricsPort <= 65535)) throw new Error(`--metrics-port: expected a port from 0 to 65535, got "${flags.metricsPort}"`);
  }
  const endpoints = endpointsFrom(flags.server);
  const identity = newIdentity(flags.name);
  const component = which === 'scheduler' ? 'scheduler' : 'controller-manager';
  const log = pino({ name: component }).child({ identity });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const client = new NavarchClient({ endpoints });
  const plane = new ControlPlane({
    client,
    identity,
    scheduler: which === 'scheduler',
    controllers: which === 'controllers',
    registry,
    election,
    controllerManager: lifecycle,
    logger: { info: (m) => log.info(m), warn: (m) => log.warn(m) },
  });
  let stopping = false;
  // As kube-scheduler's and kube-controller-manager's: /healthz with the leader-election check.
  const live = [PING, ...plane.healthChecks()];
  const notStopping: HealthCheck = { name: 'shutdown', check: () => (stopping ? 'process is shutting down' : undefined) };
  const health = { healthz: live, livez: live, readyz: [...live, notStopping] };
  const metrics = metricsPort === undefined ? undefined : await serveMetrics(registry, metricsPort, '127.0.0.1', () => health);
  plane.start();
  log.info({ endpoints, election, metrics: metrics && `http://127.0.0.1:${metrics.port}/metrics` }, `${component}: competing for its lease`);
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info(`${component}: stopping on ${signal}; releasing the lease`);
    await plane.stop();
    client.close();
    await metrics?.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

export const runControllers = (flags: ComponentFlags): Promise<void> => runComponent('controllers', flags);
