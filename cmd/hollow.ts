// `navarch hollow --nodes N`: N simulated agents in this process (kubemark's hollow nodes), for
// scale tests: each registers a Node, renews its Lease and runs the pods bound to it on a fake
// runtime. Masters from --server: host:port[,host:port...] or a navctl config file (default: as
// navctl finds them). Nodes stay registered when the process stops, as a stopped agent's do.

import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { realClock } from '../raft/node/ports.js';
import { PodSource } from '../pkg/agent/pod_source.js';
import { Quantity } from '../pkg/api/quantity.js';
import { formatCidr, hollowAddressPlan } from '../pkg/hollow/address_plan.js';
import { NavarchClient } from '../pkg/client/client.js';
import { DEFAULT_CAPACITY, HollowNodes } from '../pkg/hollow/hollow_nodes.js';
import { HollowMetrics } from '../pkg/hollow/metrics.js';
import { parseServerList, resolveFromProcess } from './navctl/config.js';

export interface HollowFlags {
  server?: string;
  nodes: string;
  namePrefix?: string;
  cpu?: string;
  memory?: string;
  pods?: string;
  ephemeralStorage?: string;
  cidr?: string;
  podCidr?: string;
  metricsPort?: string;
  renewIntervalMs?: string;
  maxInflightLeaseWrites?: string;
  maxInflightStatusWrites?: string;
}

const MAX_NODES = 100_000;

function integer(flag: string, v: string, min: number, max: number): number {
  const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`${flag}: expected an integer from ${min} to ${max}, got "${v}"`);
  return n;
}

function quantity(flag: string, v: string): string {
  const q = Quantity.tryParse(v);
  if (q === undefined || q.sign() <= 0) throw new Error(`${flag}: expected a positive quantity such as 4, 500m, 16Gi, got "${v}"`);
  return v;
}

/** host:port[,host:port...], else a navctl config file; absent: where navctl would look. */
export function hollowEndpoints(server: string | undefined): string[] {
  if (server === undefined) return resolveFromProcess({}).endpoints;
  const looksLikeEndpoints = server.split(',').every((p) => /^[^/]+:\d+$/.test(p.trim()));
  if (looksLikeEndpoints && !existsSync(server)) return parseServerList('--server', server);
  return resolveFromProcess({ config: server }).endpoints;
}

export async function runHollow(flags: HollowFlags): Promise<void> {
  const nodes = integer('--nodes', flags.nodes, 1, MAX_NODES);
  const capacity = {
    cpu: quantity('--cpu', flags.cpu ?? DEFAULT_CAPACITY.cpu),
    memory: quantity('--memory', flags.memory ?? DEFAULT_CAPACITY.memory),
    pods: String(integer('--pods', flags.pods ?? DEFAULT_CAPACITY.pods, 1, 100_000)),
    ephemeralStorage: quantity('--ephemeral-storage', flags.ephemeralStorage ?? DEFAULT_CAPACITY.ephemeralStorage),
  };
  const namePrefix = flags.namePrefix ?? 'hollow-';
  if (!/^[a-z0-9]([-a-z0-9.]*)?$/.test(namePrefix)) throw new Error(`--name-prefix: "${namePrefix}" cannot start a node name (lowercase letters, digits, "-" and ".")`);
  const metricsPort = flags.metricsPort === undefined ? undefined : integer('--metrics-port', flags.metricsPort, 0, 65535);
  const renewIntervalMs = flags.renewIntervalMs === undefined ? undefined : integer('--renew-interval-ms', flags.renewIntervalMs, 100, 3_600_000);
  const maxInflightStatusWrites = flags.maxInflightStatusWrites === undefined ? undefined : integer('--max-inflight-status-writes', flags.maxInflightStatusWrites, 1, 10_000);
  const maxInflightLeaseWrites = flags.maxInflightLeaseWrites === undefined ? undefined : integer('--max-inflight-lease-writes', flags.maxInflightLeaseWrites, 1, 10_000);
  // A range that is malformed or too small fails here, naming its flag, before any connection.
  hollowAddressPlan(nodes, Number(capacity.pods), flags.cidr, flags.podCidr);
  const endpoints = hollowEndpoints(flags.server);
  const log = pino({ name: 'hollow' });
  const client = new NavarchClient({ endpoints });
  const pods = PodSource.forAllNodes(client, {
    clock: realClock,
    // Level-triggered repair of status work the bounded queue refused or gave up on.
    resyncPeriodMs: 60_000,
    logger: { warn: (m) => log.warn(m) },
  });
  const hollow = new HollowNodes({
    client,
    pods,
    clock: realClock,
    nodes,
    namePrefix,
    capacity,
    cidr: flags.cidr,
    podCidr: flags.podCidr,
    renewIntervalMs,
    maxInflightLeaseWrites,
    statusConcurrency: maxInflightStatusWrites,
    logger: { info: (m) => log.info(m), warn: (m) => log.warn(m) },
  });
  let metrics: HollowMetrics | undefined;
  if (metricsPort !== undefined) {
    metrics = new HollowMetrics(hollow);
    const port = await metrics.listen(metricsPort);
    log.info({ metrics: `http://127.0.0.1:${port}/metrics` }, 'hollow: serving metrics');
  }
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ ...hollow.stats(), status: undefined }, `hollow: stopping on ${signal}`);
    hollow.stop();
    client.close();
    await metrics?.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  const t0 = performance.now();
  log.info({ nodes, namePrefix, endpoints, podCidrSize: hollow.plan.podBlockSize, podRange: formatCidr(hollow.plan.pods) }, 'hollow: registering nodes');
  await hollow.start();
  log.info({ nodes, seconds: Number(((performance.now() - t0) / 1000).toFixed(1)), firstPodCidr: hollow.plan.podCidr(0) }, 'hollow: nodes registered and following their pods');
  // For scripts and tests that wait for this line on stdout.
  process.stdout.write(`hollow: ${nodes} nodes ready\n`);
}
