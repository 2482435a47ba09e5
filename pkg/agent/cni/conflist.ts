// The network configuration list the agent attaches pods with, and its checks. The default chain:
// bridge (the node's bridge as the pods' gateway, no masquerade: pod traffic is not NATed off the
// machine) with host-local IPAM over the node's podCIDR, portmap for hostPorts, and loopback to
// bring up "lo" inside the pod's namespace (it passes the previous result through).

import { parseIpv4Cidr } from '../../api/cidr.js';

export interface PluginConf {
  type: string;
  /** Runtime settings the plugin accepts in runtimeConfig ("portMappings"). */
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface NetConfList {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}

export interface BridgeNetworkOptions {
  /** The node's pod range; host-local hands out addresses from it (the first is the bridge's). */
  podCIDR: string;
  /** Linux bridge name (at most 15 characters). @default "navarch0" */
  bridgeName?: string;
  /** The network's name: host-local keeps its allocations under ipamDataDir/<name>. @default "navarch" */
  networkName?: string;
  /** Where host-local records which address each pod holds. */
  ipamDataDir: string;
  /**
   * Destinations pods reach through the bridge gateway (the node). Without masquerading, replies
   * from outside the machine never come back; a list of the cluster's own ranges (pods and
   * Services, e.g. ["198.18.0.0/15"]) also keeps the packets themselves from being forwarded out.
   * @default ["0.0.0.0/0"]
   */
  routes?: string[];
  /** @default "1.0.0" (replaced by what the installed plugins support when the network opens) */
  cniVersion?: string;
}

export const DEFAULT_BRIDGE = 'navarch0';
export const DEFAULT_NETWORK_NAME = 'navarch';
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function bridgeConflist(o: BridgeNetworkOptions): NetConfList {
  const bridge = o.bridgeName ?? DEFAULT_BRIDGE;
  if (!IFNAME.test(bridge)) throw new TypeError(`bridgeName: expected 1 to 15 characters of letters, digits, "_", "." or "-", got "${bridge}"`);
  const cidr = parseIpv4Cidr(o.podCIDR, 'podCIDR');
  if (cidr.prefixBits > 30) throw new RangeError(`podCIDR: "${o.podCIDR}" is too small for a gateway and a pod; give a /30 or larger`);
  if (!o.ipamDataDir) throw new TypeError('ipamDataDir: Required value');
  const routes = o.routes ?? ['0.0.0.0/0'];
  routes.forEach((r, i) => parseIpv4Cidr(r, `routes[${i}]`));
  const list: NetConfList = {
    cniVersion: o.cniVersion ?? '1.0.0',
    name: o.networkName ?? DEFAULT_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: o.podCIDR }]], routes: routes.map((dst) => ({ dst })), dataDir: o.ipamDataDir },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      { type: 'loopback' },
    ],
  };
  validateConflist(list);
  return list;
}

/** Checks the shape the runner relies on, naming the field at fault. */
export function validateConflist(list: NetConfList): void {
  if (list === null || typeof list !== 'object') throw new TypeError('conflist: expected an object');
  if (typeof list.cniVersion !== 'string' || !/^\d+\.\d+\.\d+$/.test(list.cniVersion)) throw new TypeError(`conflist.cniVersion: expected a version such as "1.0.0", got ${JSON.stringify(list.cniVersion)}`);
  if (typeof list.name !== 'string' || !NAME.test(list.name)) throw new TypeError(`conflist.name: expected letters, digits, "_", "." or "-", got ${JSON.stringify(list.name)}`);
  if (!Array.isArray(list.plugins) || list.plugins.length === 0) throw new TypeError('conflist.plugins: expected at least one plugin');
  list.plugins.forEach((p, i) => {
    if (p === null || typeof p !== 'object') throw new TypeError(`conflist.plugins[${i}]: expected an object`);
    if (typeof p.type !== 'string' || !NAME.test(p.type)) throw new TypeError(`conflist.plugins[${i}].type: expected a plugin binary name, got ${JSON.stringify(p.type)}`);
  });
}

/**
 * The configuration one plugin of the list gets on stdin: the list's name and version, the
 * plugin's own settings, the runtime settings it declared a capability for, and the previous
 * plugin's result.
 */
export function pluginConfig(list: NetConfList, plugin: PluginConf, runtime: Record<string, unknown>, prevResult: unknown): Record<string, unknown> {
  const { capabilities, ...own } = plugin;
  const conf: Record<string, unknown> = { ...own, cniVersion: list.cniVersion, name: list.name };
  if (capabilities !== undefined) conf.capabilities = capabilities;
  const runtimeConfig: Record<string, unknown> = {};
  for (const [key, on] of Object.entries(capabilities ?? {})) if (on && runtime[key] !== undefined) runtimeConfig[key] = runtime[key];
  if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
  if (prevResult !== undefined) conf.prevResult = prevResult;
  return conf;
}
