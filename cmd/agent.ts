// `navarch agent`: the node agent. Registers this machine as a Node with the masters in --server,
// runs the pods bound to it through containerd (its own containerd namespace) on a CNI bridge, and
// serves their logs and exec. Stopping the agent leaves the pods running; a restarted agent adopts them.

import { hostname } from 'node:os';
import { isIPv4 } from 'node:net';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { realClock } from '../raft/node/ports.js';
import { Agent } from '../pkg/agent/agent.js';
import { ContainerdRuntime } from '../pkg/agent/runtime/containerd/containerd_runtime.js';
import { NavarchClient } from '../pkg/client/client.js';
import { serveMetrics } from '../pkg/controllers/manager/metrics_server.js';
import { hollowEndpoints } from './hollow.js';

export interface AgentFlags {
  server?: string;
  nodeName?: string;
  nodeIp: string;
  dataDir: string;
  containerdSocket: string;
  containerdNamespace: string;
  streamPort: string;
  nodeLeaseDurationSeconds?: string;
  bridge: string;
  netnsDir?: string;
  metricsPort?: string;
  stopPodsOnExit?: boolean;
  /** Output FIFOs of the containers; kept across agent restarts. */
  runtimeStateDir?: string;
  cgroupParent?: string;
  /** runc's state dir; a private containerd wants its own rather than /run/containerd/runc. */
  runcRoot?: string;
}

function port(flag: string, v: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 0 && n <= 65_535)) throw new Error(`${flag}: expected a port from 0 to 65535, got "${v}"`);
  return n;
}

export async function runAgent(flags: AgentFlags): Promise<void> {
  const nodeName = (flags.nodeName ?? hostname()).toLowerCase();
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(nodeName)) throw new Error(`--node-name: "${nodeName}" is not a valid node name (lowercase letters, digits, "-" and ".")`);
  if (!isIPv4(flags.nodeIp)) throw new Error(`--node-ip: expected an IPv4 address, got "${flags.nodeIp}"`);
  const streamPort = port('--stream-port', flags.streamPort);
  const metricsPort = flags.metricsPort === undefined ? undefined : port('--metrics-port', flags.metricsPort);
  const leaseS = flags.nodeLeaseDurationSeconds;
  if (leaseS !== undefined && !(/^\d+$/.test(leaseS) && Number(leaseS) >= 1 && Number(leaseS) <= 3600)) throw new Error(`--node-lease-duration-seconds: expected whole seconds from 1 to 3600, got "${leaseS}"`);
  if (flags.cgroupParent !== undefined && !/^\/[A-Za-z0-9_.\/-]*$/.test(flags.cgroupParent)) throw new Error(`--cgroup-parent: expected an absolute cgroup path such as /navarch, got "${flags.cgroupParent}"`);
  const log = pino({ name: 'agent' });
  const runtime = await ContainerdRuntime.connect({
    socketPath: flags.containerdSocket,
    namespace: flags.containerdNamespace,
    stateDir: flags.runtimeStateDir && resolve(flags.runtimeStateDir),
    cgroupParent: flags.cgroupParent,
    runcRoot: flags.runcRoot && resolve(flags.runcRoot),
    onError: (e) => log.warn({ err: e.message }, 'containerd'),
  });
  const client = new NavarchClient({ endpoints: hollowEndpoints(flags.server) });
  const agent = await Agent.start({
    client,
    runtime,
    clock: realClock,
    nodeName,
    nodeIP: flags.nodeIp,
    dataDir: resolve(flags.dataDir),
    streamPort,
    nodeLeaseDurationSeconds: leaseS === undefined ? undefined : Number(leaseS),
    bridgeName: flags.bridge,
    netnsDir: flags.netnsDir,
    log: { info: (f, m) => log.info(f, m), warn: (f, m) => log.warn(f, m) },
  });
  let metrics: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  if (metricsPort !== undefined) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    new Gauge({ name: 'navarch_agent_pods', help: 'Pods the agent tracks (running, waiting, terminating)', registers: [registry], collect() {
      this.set(agent.workers.podCount);
    } });
    for (const [name, help, key] of [
      ['navarch_agent_pod_syncs_total', 'Pod worker syncs', 'syncs'],
      ['navarch_agent_pod_sync_errors_total', 'Pod worker syncs that failed', 'syncErrors'],
      ['navarch_agent_containers_started_total', 'Containers started', 'containersStarted'],
    ] as const) {
      new Gauge({ name, help, registers: [registry], collect() {
        this.set(agent.workers.stats[key]);
      } });
    }
    metrics = await serveMetrics(registry, metricsPort);
  }
  log.info({ node: nodeName, podCIDR: agent.podCIDR, streams: `${flags.nodeIp}:${agent.streams.port}`, metrics: metrics && `http://127.0.0.1:${metrics.port}/metrics` }, 'agent: ready');
  // For scripts and tests that wait for this line on stdout.
  process.stdout.write(`agent: node ${nodeName} ready\n`);
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({}, `agent: stopping on ${signal}; ${flags.stopPodsOnExit ? 'stopping its pods too' : 'pods keep running'}`);
    try {
      await agent.stop({ stopPods: flags.stopPodsOnExit });
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'agent: stopping the pods failed');
    }
    await runtime.close();
    client.close();
    await metrics?.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
