// Builders for the pods and nodes that scheduler tests and benchmarks need, with the defaults a
// test rarely cares about (a 4-cpu, 32Gi, 110-pod node labelled with its hostname).

import {
  type Affinity,
  type Container,
  type DeepPartial,
  Node as NodeCodec,
  Pod as PodCodec,
  type Taint,
  type Toleration,
  type TopologySpreadConstraint,
} from "../../../gen/navarch/api/v1/core.js";
import type { Node, Pod } from "../../api/registry.js";
import { Snapshot } from "../framework/snapshot.js";

export const HOSTNAME_LABEL = "kubernetes.io/hostname";
export const ZONE_LABEL = "topology.kubernetes.io/zone";

export interface PodOptions {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  /** One container's requests; use `containers` for more. */
  cpu?: string;
  memory?: string;
  containers?: DeepPartial<Container>[];
  initContainers?: DeepPartial<Container>[];
  overhead?: Record<string, string>;
  priority?: number;
  preemptionPolicy?: string;
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  affinity?: DeepPartial<Affinity>;
  tolerations?: DeepPartial<Toleration>[];
  topologySpreadConstraints?: DeepPartial<TopologySpreadConstraint>[];
  startTime?: string;
  nominatedNodeName?: string;
  deletionTimestamp?: string;
}

export function makePod(o: PodOptions): Pod {
  const requests: Record<string, string> = {};
  if (o.cpu !== undefined) requests.cpu = o.cpu;
  if (o.memory !== undefined) requests.memory = o.memory;
  const containers = o.containers ?? [{ name: "c", image: "pause", resources: { requests } }];
  const pod: DeepPartial<Pod> = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: o.name,
      namespace: o.namespace ?? "default",
      uid: o.uid ?? `uid-${o.namespace ?? "default"}-${o.name}`,
      labels: o.labels ?? {},
      deletionTimestamp: o.deletionTimestamp,
    },
    spec: {
      containers,
      initContainers: o.initContainers ?? [],
      overhead: o.overhead ?? {},
      priority: o.priority,
      preemptionPolicy: o.preemptionPolicy,
      nodeName: o.nodeName,
      nodeSelector: o.nodeSelector ?? {},
      affinity: o.affinity,
      tolerations: o.tolerations ?? [],
      topologySpreadConstraints: o.topologySpreadConstraints ?? [],
    },
    status: { startTime: o.startTime, nominatedNodeName: o.nominatedNodeName },
  };
  return PodCodec.fromPartial(pod);
}

export interface NodeOptions {
  name: string;
  /** Extra labels; kubernetes.io/hostname is always set to the name. */
  labels?: Record<string, string>;
  cpu?: string;
  memory?: string;
  pods?: string;
  taints?: DeepPartial<Taint>[];
  unschedulable?: boolean;
  /** Other resources it offers: { "nvidia.com/gpu": "2", "ephemeral-storage": "100Gi" }. */
  extra?: Record<string, string>;
}

export function makeNode(o: NodeOptions): Node {
  const allocatable = { cpu: o.cpu ?? "4", memory: o.memory ?? "32Gi", pods: o.pods ?? "110", ...o.extra };
  const node: DeepPartial<Node> = {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: o.name, labels: { [HOSTNAME_LABEL]: o.name, ...o.labels } },
    spec: { taints: o.taints ?? [], unschedulable: o.unschedulable },
    status: { capacity: allocatable, allocatable },
  };
  return NodeCodec.fromPartial(node);
}

/** A snapshot holding these nodes and pods (each pod on its spec.nodeName). */
export function makeSnapshot(nodes: readonly Node[], pods: readonly Pod[] = []): Snapshot {
  const s = new Snapshot();
  for (const n of nodes) s.setNode(n);
  for (const p of pods) s.addPod(p);
  return s;
}
