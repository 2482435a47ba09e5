// What the pod worker needs from pod networking. ./cni_network.ts implements it with the standard
// CNI plugins; a fake serves unit tests.

export interface PodNetworkRequest {
  podUid: string;
  podName: string;
  podNamespace: string;
  /** hostPort mappings, done by the portmap plugin. */
  portMappings: { hostPort: number; containerPort: number; protocol: 'tcp' | 'udp'; hostIP?: string }[];
}

export interface PodNetworkStatus {
  /** The network namespace every container of the pod joins. */
  netnsPath: string;
  /** The pod's IPv4 address on the node's bridge (inside the node's podCIDR). */
  ip: string;
}

export interface PodNetwork {
  /** Creates the pod's namespace and attaches it; idempotent: a pod already set up gets its status back. */
  setUp(req: PodNetworkRequest): Promise<PodNetworkStatus>;
  /** Detaches and removes the namespace, freeing the IP; a pod never set up is not an error. */
  tearDown(podUid: string): Promise<void>;
  /** The status of a pod set up earlier, also after an agent restart; undefined when there is none. */
  status(podUid: string): Promise<PodNetworkStatus | undefined>;
  /** Pod uids with a namespace on this node (for cleaning up orphans after a restart). */
  list(): Promise<string[]>;
}
