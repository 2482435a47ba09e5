// Registering the agent's Node, as the kubelet does: create it with capacity, addresses, the
// well-known labels, conditions and nodeInfo; if a Node of that name exists (the agent restarted,
// or the node was registered before), adopt it: put our labels on it (keeping the others), give
// it a podCIDR if it has none, and replace its status with ours, keeping each condition's
// lastTransitionTime while its status is unchanged.

import type { Node, NodeCondition, NodeStatus, NodeSystemInfo } from '../../gen/navarch/api/v1/core.js';
import type { Clock } from '../../raft/node/ports.js';
import { isApiError } from '../apiserver/api_error.js';
import type { ObjectClient } from '../controllers/client.js';
import { retryOnConflict } from './retry.js';
import { rfc3339 } from './timestamps.js';

/** Quantities as the API writes them ("4", "16Gi", "110"). */
export interface NodeResources {
  cpu: string;
  memory: string;
  pods: string;
  ephemeralStorage: string;
}

export interface NodeRegistrationSpec {
  nodeName: string;
  capacity: NodeResources;
  /** @default capacity */
  allocatable?: NodeResources;
  /** The address other nodes and the masters reach this node on. */
  internalIP: string;
  /** @default nodeName */
  hostname?: string;
  /** GOARCH-style: amd64, arm64. @default this process's */
  arch?: string;
  /** Besides kubernetes.io/hostname, kubernetes.io/os, kubernetes.io/arch (and their beta. forms). */
  labels?: Readonly<Record<string, string>>;
  /** Set on a Node that has none (spec.podCIDR and spec.podCIDRs). */
  podCIDR?: string;
  nodeInfo?: Partial<NodeSystemInfo>;
  /** The port the agent serves logs and exec on (status.daemonEndpoints.kubeletEndpoint.Port), for the masters' proxy. */
  kubeletPort?: number;
  /** How many times a lost update race is retried. @default 5 */
  maxConflictRetries?: number;
}

const GO_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function defaultArch(): string {
  return GO_ARCH[process.arch] ?? process.arch;
}

/** The labels the kubelet sets on its Node. */
export function nodeLabels(spec: NodeRegistrationSpec): Record<string, string> {
  const arch = spec.arch ?? defaultArch();
  return {
    ...spec.labels,
    'kubernetes.io/hostname': spec.hostname ?? spec.nodeName,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': arch,
  };
}

function resources(r: NodeResources): Record<string, string> {
  return { cpu: r.cpu, memory: r.memory, pods: r.pods, 'ephemeral-storage': r.ephemeralStorage };
}

const HEALTHY: ReadonlyArray<Pick<NodeCondition, 'type' | 'status' | 'reason' | 'message'>> = [
  { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
  { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
  { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
  { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
];

/** The status the agent reports now; `previous` keeps lastTransitionTime of conditions whose status did not change. */
export function nodeStatus(spec: NodeRegistrationSpec, nowMs: number, previous?: NodeStatus): NodeStatus {
  const now = rfc3339(nowMs);
  const conditions = HEALTHY.map((c) => {
    const before = previous?.conditions.find((p) => p.type === c.type);
    const lastTransitionTime = before !== undefined && before.status === c.status && before.lastTransitionTime ? before.lastTransitionTime : now;
    return { ...c, lastHeartbeatTime: now, lastTransitionTime };
  });
  return {
    capacity: resources(spec.capacity),
    allocatable: resources(spec.allocatable ?? spec.capacity),
    conditions,
    addresses: [
      { type: 'InternalIP', address: spec.internalIP },
      { type: 'Hostname', address: spec.hostname ?? spec.nodeName },
    ],
    daemonEndpoints: spec.kubeletPort !== undefined ? { kubeletEndpoint: { Port: spec.kubeletPort } } : previous?.daemonEndpoints,
    nodeInfo: {
      operatingSystem: 'linux',
      architecture: spec.arch ?? defaultArch(),
      kubeletVersion: 'navarch-agent',
      kubeProxyVersion: 'navarch-agent',
      ...spec.nodeInfo,
    },
    images: previous?.images ?? [],
    volumesInUse: previous?.volumesInUse ?? [],
  };
}

export function buildNode(spec: NodeRegistrationSpec, nowMs: number): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: spec.nodeName, labels: nodeLabels(spec), annotations: {}, ownerReferences: [], finalizers: [] },
    spec: { podCIDR: spec.podCIDR, podCIDRs: spec.podCIDR ? [spec.podCIDR] : [], taints: [] },
    status: nodeStatus(spec, nowMs),
  };
}

/** Creates the Node, or adopts the existing one of that name; resolves with the Node as stored. */
export async function registerNode(client: ObjectClient, spec: NodeRegistrationSpec, clock: Clock): Promise<Node> {
  try {
    return await client.create(buildNode(spec, clock.nowMs()));
  } catch (err) {
    if (!isApiError(err, 'AlreadyExists')) throw err;
  }
  const attempts = spec.maxConflictRetries ?? 5;
  const wanted = nodeLabels(spec);
  let node = await retryOnConflict(attempts, async () => {
    const cur = await client.get<Node>('nodes', undefined, spec.nodeName);
    const labels = { ...cur.metadata?.labels, ...wanted };
    const needsLabels = Object.entries(wanted).some(([k, v]) => cur.metadata?.labels[k] !== v);
    const needsCidr = spec.podCIDR !== undefined && !cur.spec?.podCIDR;
    if (!needsLabels && !needsCidr) return cur;
    const next: Node = { ...cur, metadata: { ...cur.metadata!, labels } };
    if (needsCidr) next.spec = { ...cur.spec!, podCIDR: spec.podCIDR, podCIDRs: [spec.podCIDR!] };
    return client.update(next);
  });
  node = await retryOnConflict(attempts, async (n) => {
    const cur = n === 1 ? node : await client.get<Node>('nodes', undefined, spec.nodeName);
    return client.updateStatus({ ...cur, status: nodeStatus(spec, clock.nowMs(), cur.status) });
  });
  return node;
}
