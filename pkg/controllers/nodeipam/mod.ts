// The node IPAM controller: a podCIDR for every Node that has none, cut from the cluster CIDR.
//
//   const c = new NodeIpamController({ client, factory, recorder, clock, clusterCIDR: '198.18.0.0/16' });
//   factory.start();
//   c.start();
//   ...
//   await c.stop();

export { NodeIpamController, DEFAULT_CLUSTER_CIDR, DEFAULT_NODE_CIDR_MASK_SIZE, type NodeIpamOptions } from './controller.js';
export { CidrSet } from './cidr_set.js';
