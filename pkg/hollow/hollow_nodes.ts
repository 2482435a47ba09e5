// N simulated agents in one process, in the manner of kubemark's hollow nodes, built from the
// real agent's parts: each registers its Node (registerNode) and keeps its Lease (NodeLease),
// and runs pods on a FakeRuntime. They share one client, one StatusManager and one PodSource (a
// single watch of every bound pod, indexed by node: 5,000 nodes cannot each hold a watch). Lease
// renewals are spread evenly over the renew interval (node i first renews i/N of the way into
// it), so N nodes make a smooth N/interval writes per second instead of bursts.

import type { Clock } from '../../raft/node/ports.js';
import { NODE_LEASE_NAMESPACE, NodeLease } from '../agent/node_lease.js';
import { registerNode, type NodeRegistrationSpec, type NodeResources } from '../agent/node_registration.js';
import { NodeStatusReporter } from '../agent/node_status.js';
import type { PodSource } from '../agent/pod_source.js';
import { StatusManager, type StatusManagerStats } from '../agent/status_manager.js';
import { isApiError } from '../apiserver/api_error.js';
import type { ObjectClient } from '../controllers/client.js';
import { type AddressPlan, formatCidr, hollowAddressPlan } from './address_plan.js';
import { FakeRuntime } from './fake_runtime.js';
import { Limiter } from './limiter.js';

export const HOLLOW_LABEL = 'navarch.io/hollow';

export const DEFAULT_CAPACITY: NodeResources = { cpu: '4', memory: '16Gi', pods: '110', ephemeralStorage: '100Gi' };

export interface HollowLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface HollowNodesOptions {
  client: ObjectClient;
  /** The pods of every node here (PodSource.forAllNodes); started by start(). */
  pods: PodSource;
  clock: Clock;
  nodes: number;
  /** Node i is named `${namePrefix}${i}`. @default "hollow-" */
  namePrefix?: string;
  /** @default DEFAULT_CAPACITY */
  capacity?: NodeResources;
  /** Host IPs come from here, and pod IPs too unless podCidr says otherwise (hollowAddressPlan). @default "198.18.0.0/15" */
  cidr?: string;
  /** Pod CIDRs are cut from here (IPv4 or IPv6). @default the rest of cidr while it gives each node its pod capacity, else "2001:2::/48" */
  podCidr?: string;
  /** @default 10000 */
  renewIntervalMs?: number;
  /** @default 40 */
  leaseDurationSeconds?: number;
  /** Node registrations in flight at once. @default 32 */
  registerConcurrency?: number;
  /** Each node rewrites its Node status (heartbeat) this often, spread over the interval. @default 300000 */
  nodeStatusReportIntervalMs?: number;
  /** Lease reads and writes in flight at once, over all nodes (5,000 nodes renewing every 10 s need ~500/s). @default 256 */
  maxInflightLeaseWrites?: number;
  /**
   * Pod status writes in flight at once, over all nodes. Each kubelet writes its own pods' status as
   * they start; with 32 here, 5,000 nodes reported pods Running 12 s late on a loaded cluster (80%
   * of them after the last binding). @default 256
   */
  statusConcurrency?: number;
  /** Pods with a status write waiting, at most. @default 50000 */
  maxPendingPods?: number;
  logger?: HollowLogger;
}

export interface HollowStats {
  nodes: number;
  registered: number;
  podsRunning: number;
  podsWaitingForIp: number;
  leaseRenewals: number;
  leaseCreates: number;
  leaseFailures: number;
  registerFailures: number;
  status: Readonly<StatusManagerStats>;
  statusPending: number;
}

interface HollowNode {
  name: string;
  runtime: FakeRuntime;
  lease: NodeLease;
  reporter: NodeStatusReporter;
  /** Set once registered (only the uid is kept: 5,000 whole Nodes are memory for nothing). */
  nodeUid: string | undefined;
}

const REGISTER_RETRY_INITIAL_MS = 200;
const REGISTER_RETRY_MAX_MS = 7000;

const quiet: HollowLogger = { info: () => {}, warn: () => {} };

export class HollowNodes {
  readonly plan: AddressPlan;
  readonly status: StatusManager;
  private readonly members: HollowNode[] = [];
  private readonly logger: HollowLogger;
  private stopped = false;
  private registerFailures = 0;

  constructor(private readonly o: HollowNodesOptions) {
    this.logger = o.logger ?? quiet;
    this.plan = hollowAddressPlan(o.nodes, Number((o.capacity ?? DEFAULT_CAPACITY).pods), o.cidr, o.podCidr);
    this.status = new StatusManager({
      client: o.client,
      clock: o.clock,
      concurrency: o.statusConcurrency ?? 256,
      maxPendingPods: o.maxPendingPods ?? 50_000,
      onError: (what, err) => this.logger.warn(`hollow: ${what}: ${(err as Error).message}`),
    });
    const prefix = o.namePrefix ?? 'hollow-';
    const renewIntervalMs = o.renewIntervalMs ?? 10_000;
    const leaseWrites = new Limiter(o.maxInflightLeaseWrites ?? 256);
    for (let i = 0; i < o.nodes; i++) {
      const name = `${prefix}${i}`;
      const runtime = new FakeRuntime({ nodeName: name, hostIP: this.plan.hostIP(i), ips: this.plan.allocator(i), clock: o.clock, status: this.status, allocatable: o.capacity ?? DEFAULT_CAPACITY, listPods: () => o.pods.podsOn(name) });
      const member: HollowNode = { name, runtime, nodeUid: undefined, lease: undefined!, reporter: undefined! };
      member.lease = new NodeLease({
        client: o.client,
        clock: o.clock,
        nodeName: name,
        renewIntervalMs,
        leaseDurationSeconds: o.leaseDurationSeconds,
        initialDelayMs: Math.floor((i * renewIntervalMs) / o.nodes),
        nodeUid: () => member.nodeUid,
        onError: (err) => this.logger.warn(`hollow: lease of ${name}: ${(err as Error).message}`),
        gate: (attempt) => leaseWrites.run(attempt),
      });
      const reportIntervalMs = o.nodeStatusReportIntervalMs ?? 300_000;
      member.reporter = new NodeStatusReporter({
        client: o.client,
        clock: o.clock,
        spec: this.registrationSpec(i, name),
        reportIntervalMs,
        initialDelayMs: Math.floor(((i + 1) * reportIntervalMs) / o.nodes),
        gate: (report) => leaseWrites.run(report),
        onError: (err) => this.logger.warn(`hollow: status of ${name}: ${(err as Error).message}`),
      });
      this.members.push(member);
      o.pods.handle(name, runtime);
    }
  }

  get nodeNames(): string[] {
    return this.members.map((m) => m.name);
  }

  /** Registers every node (leases start as each is registered), then follows their pods. */
  async start(): Promise<void> {
    const capacity = this.o.capacity ?? DEFAULT_CAPACITY;
    const podsCapacity = Number(capacity.pods);
    if (this.plan.podsPerNode < podsCapacity) {
      this.logger.warn(
        `hollow: each node's pod CIDR holds ${this.plan.podsPerNode} pod IPs (${this.o.nodes} nodes in ${formatCidr(this.plan.pods)}) but a node accepts ${capacity.pods} pods: more pods than that on one node stay ContainerCreating; give a larger --pod-cidr for denser tests`,
      );
    }
    await this.ensureLeaseNamespace();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < this.members.length && !this.stopped) {
        const i = next++;
        const m = this.members[i];
        const spec = this.registrationSpec(i, m.name);
        // As the kubelet: a registration that fails (the API slow or away) is retried until it succeeds.
        for (let delayMs = REGISTER_RETRY_INITIAL_MS; !this.stopped; delayMs = Math.min(delayMs * 2, REGISTER_RETRY_MAX_MS)) {
          try {
            m.nodeUid = (await registerNode(this.o.client, spec, this.o.clock)).metadata?.uid ?? '';
            break;
          } catch (err) {
            // A Node the API refuses will not be accepted later either.
            if (isApiError(err, 'Invalid') || isApiError(err, 'Forbidden')) throw err;
            this.registerFailures++;
            this.logger.warn(`hollow: registering ${m.name} (retried in ${delayMs} ms): ${(err as Error).message}`);
            await new Promise<void>((r) => this.o.clock.setTimeout(r, delayMs));
          }
        }
        if (m.nodeUid !== undefined && !this.stopped) {
          m.lease.start();
          m.reporter.start();
        }
      }
    };
    const concurrency = Math.max(1, Math.min(this.o.registerConcurrency ?? 32, this.members.length));
    await Promise.all(Array.from({ length: concurrency }, worker));
    if (this.stopped) return;
    this.o.pods.start();
    // The informer retries its list until it succeeds (or stop()).
    await this.o.pods.waitForSync();
    for (const m of this.members) m.runtime.markReady(this.o.pods.podsOn(m.name));
  }

  stop(): void {
    this.stopped = true;
    for (const m of this.members) {
      m.lease.stop();
      m.reporter.stop();
    }
    this.o.pods.stop();
    this.status.stop();
  }

  stats(): HollowStats {
    const s: HollowStats = { nodes: this.members.length, registered: 0, podsRunning: 0, podsWaitingForIp: 0, leaseRenewals: 0, leaseCreates: 0, leaseFailures: 0, registerFailures: this.registerFailures, status: this.status.stats, statusPending: this.status.pendingCount };
    for (const m of this.members) {
      if (m.nodeUid !== undefined) s.registered++;
      const c = m.runtime.counts;
      s.podsRunning += c.running;
      s.podsWaitingForIp += c.waitingForIp;
      s.leaseRenewals += m.lease.stats.renewals;
      s.leaseCreates += m.lease.stats.creates;
      s.leaseFailures += m.lease.stats.failures;
    }
    return s;
  }

  private registrationSpec(i: number, nodeName: string): NodeRegistrationSpec {
    return {
      nodeName,
      capacity: this.o.capacity ?? DEFAULT_CAPACITY,
      internalIP: this.plan.hostIP(i),
      podCIDR: this.plan.podCidr(i),
      labels: { [HOLLOW_LABEL]: 'true' },
      nodeInfo: { kubeletVersion: 'navarch-hollow', kubeProxyVersion: 'navarch-hollow', containerRuntimeVersion: 'hollow://fake' },
    };
  }

  /** The masters create kube-node-lease; a cluster from before they did lacks it. */
  private async ensureLeaseNamespace(): Promise<void> {
    try {
      await this.o.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NODE_LEASE_NAMESPACE, labels: {}, annotations: {}, ownerReferences: [], finalizers: [] }, spec: { finalizers: [] } });
      this.logger.info(`hollow: created namespace ${NODE_LEASE_NAMESPACE}`);
    } catch (err) {
      if (!isApiError(err, 'AlreadyExists')) throw err;
    }
  }
}
