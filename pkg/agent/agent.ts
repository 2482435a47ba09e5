// The node agent: the kubelet of this system. It serves logs and exec, registers its Node with the
// machine's capacity, renews the node Lease, waits for the podCIDR the masters give the Node, builds
// the pod bridge on it, and runs the pods bound to the node through the container runtime.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from '../../gen/navarch/api/v1/core.js';
import type { Clock } from '../../raft/node/ports.js';
import type { NavarchClient } from '../client/client.js';
import { CniNetwork } from './cni/cni_network.js';
import { waitForPodCidr } from './cni/node_pod_cidr.js';
import { machineCapacity, machineSystemInfo } from './machine_info.js';
import { AGENT_NODE_LEASE_DURATION_SECONDS, NodeLease, nodeLeaseRenewIntervalMs } from './node_lease.js';
import { registerNode, type NodeRegistrationSpec, type NodeResources } from './node_registration.js';
import { NodeStatusReporter } from './node_status.js';
import { Periodic } from './periodic.js';
import { PodSource } from './pod_source.js';
import { FsLogDirs } from './pods/log_dirs.js';
import { PodWorkers } from './pods/pod_workers.js';
import type { ContainerRuntime } from './runtime/runtime.js';
import { StatusManager } from './status_manager.js';
import { hostProc } from './stats/proc.js';
import { StatsSampler } from './stats/sampler.js';
import { addNodeStats } from './stats/server.js';
import { startStreamServer, type StreamServer } from './stream/server.js';
import { ProbeManager } from './probes/probe_manager.js';
import { VolumeManager } from './volumes/volume_manager.js';

export interface AgentLogger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

export interface AgentOptions {
  client: NavarchClient;
  runtime: ContainerRuntime;
  clock: Clock;
  nodeName: string;
  /** The address the masters reach this node on; the stream server listens there. */
  nodeIP: string;
  /** Pods, volumes, logs and CNI state live under it. */
  dataDir: string;
  /** Logs and exec; 0: any free port. @default 10250 */
  streamPort?: number;
  /** The pod bridge. @default "navarch0" */
  bridgeName?: string;
  /** Where pod network namespaces are mounted. @default "/run/netns" */
  netnsDir?: string;
  /** @default read from the machine */
  capacity?: NodeResources;
  labels?: Record<string, string>;
  /**
   * How often pods with configMap, secret or downwardAPI volumes are synced, so that their files
   * follow the objects (the kubelet's sync period plays this part). @default 10000
   */
  volumeSyncPeriodMs?: number;
  /**
   * The node Lease's duration, renewed every quarter of it; keep it within the masters' node
   * monitor grace period. @default AGENT_NODE_LEASE_DURATION_SECONDS (10)
   */
  nodeLeaseDurationSeconds?: number;
  /** How long to wait for the masters to give the Node a podCIDR. @default 60000 */
  podCidrTimeoutMs?: number;
  log: AgentLogger;
}

export class Agent {
  private constructor(
    readonly streams: StreamServer,
    readonly podCIDR: string,
    readonly workers: PodWorkers,
    private readonly parts: { stop(): void }[],
    private readonly pods: { runtime: ContainerRuntime; network: CniNetwork; volumes: VolumeManager },
  ) {}

  static async start(o: AgentOptions): Promise<Agent> {
    const podsDir = join(o.dataDir, 'pods');
    mkdirSync(podsDir, { recursive: true });
    const logs = new FsLogDirs(podsDir);
    // The workers exist before the stream server can ask them; the lookup waits for them.
    let workers: PodWorkers | undefined;
    const sampler = new StatsSampler({ runtime: o.runtime, proc: hostProc, clock: o.clock, onError: (e) => o.log.warn({ err: String(e) }, 'stats sampling failed') });
    const streams = await startStreamServer(`${o.nodeIP}:${o.streamPort ?? 10250}`, {
      runtime: o.runtime,
      clock: o.clock,
      lookup: (ref) => workers?.lookup(ref),
      register: (server) => addNodeStats(server, sampler),
    });
    const parts: { stop(): void }[] = [];
    try {
      sampler.start();
      parts.push(sampler);
      const spec: NodeRegistrationSpec = {
        nodeName: o.nodeName,
        capacity: o.capacity ?? machineCapacity(o.dataDir),
        internalIP: o.nodeIP,
        labels: o.labels,
        kubeletPort: streams.port,
        nodeInfo: machineSystemInfo(await o.runtime.version()),
      };
      const node = await registerNode(o.client, spec, o.clock);
      o.log.info({ node: o.nodeName, streamPort: streams.port }, 'node registered');
      const leaseDurationSeconds = o.nodeLeaseDurationSeconds ?? AGENT_NODE_LEASE_DURATION_SECONDS;
      const lease = new NodeLease({ client: o.client, clock: o.clock, nodeName: o.nodeName, leaseDurationSeconds, renewIntervalMs: nodeLeaseRenewIntervalMs(leaseDurationSeconds), nodeUid: () => node.metadata?.uid });
      lease.start();
      parts.push(lease);
      const reporter = new NodeStatusReporter({ client: o.client, clock: o.clock, spec, onError: (e) => o.log.warn({ err: String(e) }, 'node status update failed') });
      reporter.start();
      parts.push(reporter);

      const podCIDR = await waitForPodCidr(o.client, o.nodeName, { clock: o.clock, timeoutMs: o.podCidrTimeoutMs });
      const network = await CniNetwork.open({ dataDir: join(o.dataDir, 'cni'), podCIDR, bridgeName: o.bridgeName, netnsDir: o.netnsDir });
      o.log.info({ podCIDR, bridge: network.conflist.name }, 'pod network ready');

      const status = new StatusManager({ client: o.client, clock: o.clock });
      parts.push(status);
      const volumes = new VolumeManager({ podsDir, client: o.client, clock: o.clock, onWarning: (uid, message) => o.log.warn({ pod: uid }, message) });
      const pods = PodSource.forNode(o.client, o.nodeName, { clock: o.clock, resyncPeriodMs: 60_000, logger: { warn: (m) => o.log.warn({}, m) } });
      const probes = new ProbeManager({
        clock: o.clock,
        onRestart: (uid, container, reason, p) => {
          workers?.restartContainer(uid, container, reason, { gracePeriodSeconds: p.terminationGracePeriodSeconds }).catch((e) => o.log.warn({ pod: uid, container, err: String(e) }, 'restart after a failed probe failed'));
        },
        onChange: (uid) => workers?.requestSync(uid),
      });
      workers = new PodWorkers({
        nodeName: o.nodeName,
        hostIP: o.nodeIP,
        runtime: o.runtime,
        network,
        status,
        client: o.client,
        clock: o.clock,
        volumes,
        logs,
        readiness: probes,
        observer: probes,
        allocatable: spec.capacity,
        onError: (what, e) => o.log.warn({ err: e instanceof Error ? e.message : String(e) }, what),
        onWarning: (message) => o.log.warn({}, message),
      });
      const w = workers;
      pods.handle(o.nodeName, { onPod: (p: Pod) => w.onPod(p), onPodGone: (p: Pod) => w.onPodGone(p) });
      pods.start();
      parts.push(pods);
      await pods.waitForSync();
      await w.start(pods.informer.store.list());
      parts.push(probes, w);
      // A pod syncs on its own events; a ConfigMap or Secret it mounts changes without one.
      const volumeSync = new Periodic('the sync of pods with API-data volumes', { clock: o.clock, intervalMs: o.volumeSyncPeriodMs ?? 10_000, initialDelayMs: o.volumeSyncPeriodMs ?? 10_000 }, async () => {
        for (const p of pods.informer.store.list()) {
          if (p.metadata?.uid && p.spec?.volumes?.some((v) => v.configMap || v.secret || v.downwardAPI)) w.requestSync(p.metadata.uid);
        }
      });
      volumeSync.start();
      parts.push(volumeSync);
      o.log.info({ pods: w.podCount }, 'agent running');
      return new Agent(streams, podCIDR, w, parts, { runtime: o.runtime, network, volumes });
    } catch (e) {
      for (const p of parts.reverse()) p.stop();
      await streams.stop();
      throw e;
    }
  }

  /**
   * Stops watching and reporting. The pods keep running (a restarted agent adopts them) unless
   * `stopPods`: then their containers are killed and removed and their networks and volumes torn
   * down, as when a local cluster is shut down; the pod objects stay, and a restarted agent starts
   * them again.
   */
  async stop(o: { stopPods?: boolean } = {}): Promise<void> {
    for (const p of [...this.parts].reverse()) p.stop();
    await this.streams.stop();
    if (!o.stopPods) return;
    const { runtime, network, volumes } = this.pods;
    const uids = new Set<string>();
    for (const c of await runtime.listContainers()) {
      uids.add(c.podUid);
      await runtime.signalContainer(c.id, 'SIGKILL');
      await runtime.removeContainer(c.id);
    }
    for (const uid of await network.list()) {
      uids.add(uid);
      await network.tearDown(uid);
    }
    for (const uid of uids) await volumes.tearDown(uid);
  }
}
