// The agent's parts that do not touch a container runtime, shared by the real agent and hollow
// nodes: Node registration, the node Lease heartbeat, the pods bound to the node, pod admission
// and the pod status writer.
//
//   const node = await registerNode(client, { nodeName, capacity, internalIP }, clock);
//   new NodeLease({ client, clock, nodeName, nodeUid: () => node.metadata?.uid }).start();
//   const pods = PodSource.forNode(client, nodeName, { clock });
//   pods.handle(nodeName, { onPod: (p) => worker.sync(p), onPodGone: (p) => worker.forget(p) });
//   pods.start();
//   const status = new StatusManager({ client, clock });  // status.setPodStatus(pod, s), status.deletePod(pod)

export { registerNode, buildNode, nodeStatus, nodeLabels, defaultArch, type NodeRegistrationSpec, type NodeResources } from './node_registration.js';
export { NodeStatusReporter, type NodeStatusReporterOptions } from './node_status.js';
export { Periodic, type PeriodicOptions } from './periodic.js';
export { NodeLease, NODE_LEASE_NAMESPACE, type NodeLeaseOptions, type NodeLeaseStats } from './node_lease.js';
export { PodSource, NODE_INDEX, BOUND_PODS_SELECTOR, podsOnNodeSelector, type NodePodHandler, type PodSourceOptions } from './pod_source.js';
export { StatusManager, mergePodStatus, sameStatus, type StatusManagerOptions, type StatusManagerStats } from './status_manager.js';
export { admit, podRequests, allocatableAmounts, rejectedStatus, type Admission, type ResourceAmounts } from './admission.js';
export { retryOnConflict } from './retry.js';
export { rfc3339, microTime } from './timestamps.js';
