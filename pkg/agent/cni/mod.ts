// Pod networking through the standard CNI plugins: a network namespace per pod on the node's
// bridge, an address from the node's podCIDR, hostPorts through portmap.
//
//   const podCIDR = await waitForPodCidr(client, nodeName, { clock });  // given by the masters' node IPAM controller
//   const net = await CniNetwork.open({ dataDir: join(agentDataDir, 'cni'), podCIDR });
//   const { netnsPath, ip } = await net.setUp({ podUid, podName, podNamespace, portMappings: [] });
//   ...
//   await net.tearDown(podUid);

export type { PodNetwork, PodNetworkRequest, PodNetworkStatus } from './pod_network.js';
export { CniNetwork, podIp, type CniNetworkOptions } from './cni_network.js';
export { bridgeConflist, validateConflist, DEFAULT_BRIDGE, DEFAULT_NETWORK_NAME, type BridgeNetworkOptions, type NetConfList, type PluginConf } from './conflist.js';
export { CniPluginError, runPlugin, type CniCommand } from './plugin_exec.js';
export { createNetns, deleteNetns, netnsMounted } from './netns.js';
export { waitForPodCidr, type WaitForPodCidrOptions } from './node_pod_cidr.js';
