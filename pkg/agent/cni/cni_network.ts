// PodNetwork over the standard CNI plugins (Debian's containernetworking-plugins in /usr/lib/cni).
// Each pod gets a network namespace <netnsDir>/navarch-<uid>, attached by running the
// configuration list as a chain: ADD through the plugins in order, each given the previous one's
// result; DEL in reverse order with the stored result; CHECK likewise in order. A failed ADD is
// undone (DEL, namespace removed) before the error is raised. Operations on one pod are serialised.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type BridgeNetworkOptions, bridgeConflist, type NetConfList, pluginConfig, validateConflist } from './conflist.js';
import { createNetns, deleteNetns, netnsMounted } from './netns.js';
import type { PodNetwork, PodNetworkRequest, PodNetworkStatus } from './pod_network.js';
import { type PodRecord, PodRecords } from './pod_records.js';
import { type CniCommand, CniPluginError, runPlugin } from './plugin_exec.js';

export interface CniNetworkOptions extends Omit<BridgeNetworkOptions, 'ipamDataDir'> {
  /** The agent's CNI state: host-local allocations under ipam/, per-pod records under pods/. */
  dataDir: string;
  /** Where pod namespaces are mounted. @default "/run/netns" (seen by `ip netns`) */
  netnsDir?: string;
  /** CNI_PATH. @default ["/usr/lib/cni", "/opt/cni/bin"] */
  binDirs?: string[];
  /** Each plugin run is killed after this long. @default 30000 */
  pluginTimeoutMs?: number;
  /** A configuration list to use instead of the default bridge chain (its cniVersion is kept as given). */
  conflist?: NetConfList;
}

/** CNI versions whose result and error formats this runner reads, preferred first. */
const SUPPORTED_VERSIONS = ['1.0.0', '0.4.0'];
const IFNAME = 'eth0';
const UID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export class CniNetwork implements PodNetwork {
  readonly conflist: NetConfList;
  readonly netnsDir: string;
  readonly binDirs: string[];
  readonly pluginTimeoutMs: number;
  private readonly records: PodRecords;
  /** The operation in flight per pod uid; an entry lives only while one runs. */
  private readonly busy = new Map<string, Promise<unknown>>();

  private constructor(o: CniNetworkOptions, conflist: NetConfList) {
    this.conflist = conflist;
    this.netnsDir = o.netnsDir ?? '/run/netns';
    this.binDirs = o.binDirs ?? ['/usr/lib/cni', '/opt/cni/bin'];
    this.pluginTimeoutMs = o.pluginTimeoutMs ?? 30_000;
    this.records = new PodRecords(join(o.dataDir, 'pods'));
  }

  /**
   * Checks the options, creates the data directories, and asks every plugin of the list which CNI
   * versions it speaks (VERSION): the default list uses the newest one all of them and this runner
   * support.
   */
  static async open(o: CniNetworkOptions): Promise<CniNetwork> {
    if (!o.dataDir) throw new TypeError('dataDir: Required value');
    if (o.pluginTimeoutMs !== undefined && !(o.pluginTimeoutMs > 0)) throw new RangeError(`pluginTimeoutMs: expected > 0, got ${o.pluginTimeoutMs}`);
    const given = o.conflist;
    let conflist = given ?? bridgeConflist({ ...o, ipamDataDir: join(o.dataDir, 'ipam') });
    validateConflist(conflist);
    const net = new CniNetwork(o, conflist);
    await mkdir(join(o.dataDir, 'pods'), { recursive: true, mode: 0o700 });
    await mkdir(net.netnsDir, { recursive: true });
    const versions = await net.pluginVersions();
    const usable = SUPPORTED_VERSIONS.filter((v) => [...versions.values()].every((supported) => supported.includes(v)));
    if (given === undefined) {
      if (usable.length === 0) throw new Error(`Cannot open the pod network: no CNI version among ${SUPPORTED_VERSIONS.join(', ')} is supported by every plugin (${[...versions].map(([t, v]) => `${t}: ${v.join(', ')}`).join('; ')})`);
      conflist = { ...conflist, cniVersion: usable[0] };
    } else {
      for (const [type, supported] of versions) if (!supported.includes(conflist.cniVersion)) throw new Error(`Cannot open the pod network: plugin "${type}" does not support cniVersion ${conflist.cniVersion} (it supports ${supported.join(', ')})`);
    }
    return new CniNetwork(o, conflist);
  }

  /** Each plugin type of the list with the versions its VERSION command reports. */
  private async pluginVersions(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const type of new Set(this.conflist.plugins.map((p) => p.type))) {
      const r = await runPlugin({ type, command: 'VERSION', binDirs: this.binDirs, config: { cniVersion: this.conflist.cniVersion }, timeoutMs: this.pluginTimeoutMs, subject: 'Cannot open the pod network' });
      const supported = r?.supportedVersions;
      if (!Array.isArray(supported)) throw new CniPluginError(`Cannot open the pod network: CNI plugin "${type}" VERSION printed no supportedVersions`, type, 'VERSION', undefined, 'no supportedVersions', undefined);
      out.set(type, supported.map(String));
    }
    return out;
  }

  setUp(req: PodNetworkRequest): Promise<PodNetworkStatus> {
    checkRequest(req);
    return this.serial(req.podUid, () => this.doSetUp(req));
  }

  tearDown(podUid: string): Promise<void> {
    checkUid(podUid);
    return this.serial(podUid, () => this.doTearDown(podUid));
  }

  async status(podUid: string): Promise<PodNetworkStatus | undefined> {
    checkUid(podUid);
    const r = await this.records.get(podUid);
    if (r?.ip === undefined || !(await netnsMounted(r.netnsPath))) return undefined;
    return { netnsPath: r.netnsPath, ip: r.ip };
  }

  list(): Promise<string[]> {
    return this.records.uids();
  }

  /** Runs the chain's CHECK on a pod set up earlier; throws naming the plugin that found it broken. */
  check(podUid: string): Promise<void> {
    checkUid(podUid);
    return this.serial(podUid, async () => {
      const r = await this.records.get(podUid);
      if (r?.result === undefined) throw new Error(`Cannot check the network of pod uid ${podUid}: it is not set up`);
      for (const plugin of r.conflist.plugins) await this.exec('CHECK', r, plugin, r.result);
    });
  }

  private async doSetUp(req: PodNetworkRequest): Promise<PodNetworkStatus> {
    const existing = await this.records.get(req.podUid);
    if (existing?.ip !== undefined && (await netnsMounted(existing.netnsPath))) return { netnsPath: existing.netnsPath, ip: existing.ip };
    // Half set up (a crash during ADD) or its namespace gone: undo what is there, then start over.
    if (existing !== undefined) await this.doTearDown(req.podUid);

    const record: PodRecord = {
      podUid: req.podUid,
      podName: req.podName,
      podNamespace: req.podNamespace,
      containerId: req.podUid,
      netnsPath: join(this.netnsDir, `navarch-${req.podUid}`),
      ifName: IFNAME,
      portMappings: req.portMappings.map((m) => ({ ...m })),
      conflist: req.portMappings.length > 0 ? this.conflist : withoutPortMapPlugins(this.conflist),
    };
    await this.records.put(record);
    try {
      await createNetns(record.netnsPath);
      let result: Record<string, unknown> | undefined;
      for (const plugin of record.conflist.plugins) result = (await this.exec('ADD', record, plugin, result)) ?? result;
      const ip = podIp(result, IFNAME);
      if (ip === undefined) throw new Error(`${subject(record)}: the CNI chain's result has no IPv4 address for ${IFNAME}: ${JSON.stringify(result)}`);
      record.result = result;
      record.ip = ip;
      await this.records.put(record);
      return { netnsPath: record.netnsPath, ip };
    } catch (err) {
      // The spec asks the runtime to DEL after a failed ADD, so no address or rule is left behind.
      await this.doTearDown(req.podUid).catch(() => {});
      throw err;
    }
  }

  private async doTearDown(podUid: string): Promise<void> {
    const r = await this.records.get(podUid);
    if (r === undefined) {
      await deleteNetns(join(this.netnsDir, `navarch-${podUid}`));
      return;
    }
    const mounted = await netnsMounted(r.netnsPath);
    // DEL runs the plugins in reverse order with the ADD result; without a namespace the plugins
    // still release what lives outside it (the address, the port mappings).
    const view = mounted ? r : { ...r, netnsPath: '' };
    // Every plugin gets its DEL even when one before it failed: each frees its own part.
    const errors: Error[] = [];
    for (const plugin of [...r.conflist.plugins].reverse()) await this.exec('DEL', view, plugin, r.result).catch((e: Error) => errors.push(e));
    await deleteNetns(r.netnsPath);
    // A failed DEL keeps the record, so the next tearDown (or orphan cleanup) tries again.
    if (errors.length > 0) throw errors[0];
    await this.records.remove(podUid);
  }

  private exec(command: CniCommand, r: PodRecord, plugin: NetConfList['plugins'][number], prevResult: unknown): Promise<Record<string, unknown> | undefined> {
    const runtime = { portMappings: r.portMappings.map((m) => ({ hostPort: m.hostPort, containerPort: m.containerPort, protocol: m.protocol, ...(m.hostIP ? { hostIP: m.hostIP } : {}) })) };
    return runPlugin({
      type: plugin.type,
      command,
      binDirs: this.binDirs,
      config: pluginConfig(r.conflist, plugin, runtime, prevResult),
      containerId: r.containerId,
      netnsPath: r.netnsPath,
      ifName: r.ifName,
      args: { K8S_POD_NAMESPACE: r.podNamespace, K8S_POD_NAME: r.podName, K8S_POD_UID: r.podUid, K8S_POD_INFRA_CONTAINER_ID: r.containerId },
      timeoutMs: this.pluginTimeoutMs,
      subject: `${command === 'DEL' ? 'Cannot tear down' : command === 'CHECK' ? 'Check failed for' : 'Cannot set up'} the network of ${subject(r)}`,
    });
  }

  private async serial<T>(podUid: string, f: () => Promise<T>): Promise<T> {
    for (let prev = this.busy.get(podUid); prev !== undefined; prev = this.busy.get(podUid)) await prev.catch(() => {});
    const p = f();
    this.busy.set(podUid, p);
    try {
      return await p;
    } finally {
      if (this.busy.get(podUid) === p) this.busy.delete(podUid);
    }
  }
}

function subject(r: Pick<PodRecord, 'podNamespace' | 'podName' | 'podUid'>): string {
  return `pod ${r.podNamespace}/${r.podName} (uid ${r.podUid})`;
}

function checkUid(podUid: string): void {
  if (typeof podUid !== 'string' || !UID.test(podUid)) throw new TypeError(`podUid: expected up to 128 letters, digits, "_", "." or "-", got ${JSON.stringify(podUid)}`);
}

function checkRequest(req: PodNetworkRequest): void {
  checkUid(req.podUid);
  if (!req.podName) throw new TypeError('podName: Required value');
  if (!req.podNamespace) throw new TypeError('podNamespace: Required value');
  (req.portMappings ?? []).forEach((m, i) => {
    const port = (v: number) => Number.isInteger(v) && v >= 1 && v <= 65535;
    if (!port(m.hostPort)) throw new RangeError(`portMappings[${i}].hostPort: expected 1-65535, got ${m.hostPort}`);
    if (!port(m.containerPort)) throw new RangeError(`portMappings[${i}].containerPort: expected 1-65535, got ${m.containerPort}`);
    if (m.protocol !== 'tcp' && m.protocol !== 'udp') throw new TypeError(`portMappings[${i}].protocol: expected "tcp" or "udp", got ${JSON.stringify(m.protocol)}`);
  });
}

/** The first IPv4 address on the pod's interface (inside the namespace) in a CNI 0.4/1.0 result. */
export function podIp(result: Record<string, unknown> | undefined, ifName: string): string | undefined {
  const interfaces = Array.isArray(result?.interfaces) ? (result.interfaces as Array<{ name?: string; sandbox?: string }>) : [];
  const ips = Array.isArray(result?.ips) ? (result.ips as Array<{ address?: string; interface?: number }>) : [];
  const v4 = ips.filter((i) => typeof i.address === 'string' && /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(i.address));
  const onPod = v4.find((i) => i.interface !== undefined && interfaces[i.interface]?.name === ifName && interfaces[i.interface]?.sandbox);
  return (onPod ?? v4[0])?.address?.split('/')[0];
}

/**
 * The chain for a pod without hostPorts: plugins that act only on port mappings (portmap) have
 * nothing to do for it, and each plugin run is a process started from the agent (ADD and DEL).
 * The pod's record keeps the chain it was set up with, so its DEL runs the same plugins.
 */
function withoutPortMapPlugins(list: NetConfList): NetConfList {
  const plugins = list.plugins.filter((p) => !(p.capabilities?.portMappings === true && Object.keys(p.capabilities).length === 1 && p.type === 'portmap'));
  return plugins.length === list.plugins.length ? list : { ...list, plugins };
}
