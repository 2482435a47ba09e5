// `navarch up [--masters N] [--dir D]`: a local cluster on one machine, like minikube or kind.
// N `navarch master` processes on 127.0.0.1, detached so they outlive this command, with their data
// and logs under D. Waits until they agree on a leader, records them in D/cluster.json and
// D/navctl.yaml, runs the demo and prints how to use the cluster. After `navarch down`, the same
// command brings the same cluster back (same data, same ports).

import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { LocalMasterCluster, type MasterAddresses } from '../../pkg/localcluster/master_cluster.js';
import { clusterFilePath, isLegacyKvFile, isOurHollow, isOurMaster, moveClusterFileAside, navctlConfigPath, readClusterFile, stoppedFilePath, writeClusterFile, writeNavctlConfig, type ClusterFile, mastersText } from './cluster_file.js';
import { runDemo } from './demo.js';
import { stopHollow, stopMasters } from './down.js';
import { parseHollowNodes, startHollow, waitHollowReady } from './hollow.js';
import { startNode } from './node.js';

export interface UpFlags {
  dir: string;
  /** Default: as many as the cluster recorded in D had, else 3. */
  masters?: string;
  /** How long the masters get to agree on a leader. @default 60000 */
  leaderTimeoutMs?: number;
  /** Also run a `navarch hollow` process with this many nodes (default: as many as the cluster in D had). */
  hollowNodes?: string;
  /** Run this machine's agent (with containerd and the local registry). @default true */
  agent?: boolean;
}

export const MAX_MASTERS = 7;
const DEFAULT_MASTERS = 3;
const LOG_TAIL_LINES = 15;

type Out = (line: string) => void;

export function parseMasters(v: string): number {
  const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_MASTERS) {
    throw new Error(`--masters: expected an integer from 1 to ${MAX_MASTERS} (1 is a single-master cluster), got "${v}"`);
  }
  return n;
}

/**
 * The cluster D recorded before, if any: cluster.json whose masters are all gone (a crash, a
 * reboot), or cluster.json.stopped from `navarch down`. Refuses while any recorded master still runs.
 */
function previousCluster(dir: string, out: Out): ClusterFile | undefined {
  const file = clusterFilePath(dir);
  if (existsSync(file)) {
    const record = readClusterFile(file);
    const alive = record.masters.filter((m) => isOurMaster(m.pid, m.dataDir));
    if (alive.length > 0) {
      const list = alive.map((m) => `${m.name} pid ${m.pid}`).join(', ');
      throw new Error(`A cluster is already running from ${dir} (${list}): use it, or stop it first with "navarch down --dir ${dir}" (make down)`);
    }
    out(`${file} records a cluster whose processes are all gone (pids ${record.masters.map((m) => m.pid).join(', ')}): replacing it`);
    return record;
  }
  const stopped = stoppedFilePath(dir);
  if (!existsSync(stopped)) return undefined;
  // The older key-value cluster's record holds no master ports to reuse.
  if (isLegacyKvFile(JSON.parse(readFileSync(stopped, 'utf8')))) return undefined;
  return readClusterFile(stopped);
}

/** master-<n> directories with something in them: data of an earlier run. */
function dataDirsIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^master-\d+$/.test(e.name) && readdirSync(join(dir, e.name)).length > 0)
    .map((e) => e.name)
    .sort();
}

function checkPortFree(address: string, what: string): Promise<void> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(`${what} was on ${address} last time, and that port is now ${e.code === 'EADDRINUSE' ? 'used by another process' : `unusable (${e.message})`}; stop that process, or start afresh with "navarch down --purge" (deletes the data)`)),
    );
    s.listen(port, host, () => s.close(() => resolvePort()));
  });
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
  } catch (e) {
    return `(cannot read: ${(e as Error).message})`;
  }
}

function toRecord(dir: string, cluster: LocalMasterCluster): ClusterFile {
  return {
    createdAt: new Date().toISOString(),
    dir,
    masters: cluster.members.map((m) => ({ id: m.id, name: m.name, pid: m.pid!, raft: m.peerAddress, client: m.clientAddress, metrics: m.metricsAddress, dataDir: m.dataDir, log: m.logFile })),
  };
}

/** How to use the cluster: a table of the masters, then navctl, etcdctl, metrics, logs, down. */
export function usage(record: ClusterFile, leaderId: number): string[] {
  const show = (p: string): string => {
    const r = relative(process.cwd(), p);
    return r && !r.startsWith('..') ? r : p;
  };
  const dir = show(record.dir);
  const endpoints = record.masters.map((m) => m.client).join(',');
  const defaultDir = resolve('.navarch') === record.dir;
  const rows = [
    ['NAME', 'ROLE', 'PID', 'CLIENT (objects + etcd API)', 'RAFT', 'METRICS', 'LOG'],
    ...record.masters.map((m) => [m.name, m.id === leaderId ? 'leader' : 'follower', String(m.pid), m.client, m.raft, `http://${m.metrics}/metrics`, show(m.log)]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const navctl = './bin/navctl.js';
  const etcdctl = `ETCDCTL_API=3 etcdctl --endpoints=${endpoints}`;
  const commands = (header: string, lines: Array<[string, string?]>): string[] => {
    const w = Math.max(...lines.map(([c]) => c.length));
    return [header, ...lines.map(([c, why]) => `  ${why ? `${c.padEnd(w)}  # ${why}` : c}`)];
  };
  return [
    '',
    `cluster: ${dir}/cluster.json, navctl config: ${dir}/navctl.yaml`,
    ...rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()}`),
    '',
    ...commands(defaultDir ? 'navctl (finds its endpoints in .navarch/navctl.yaml):' : `navctl: first  export NAVCTL_CONFIG=${show(navctlConfigPath(record.dir))}`, [
      [`${navctl} get deployments -n demo`, "the demo's Deployment"],
      [`${navctl} get deployment web -n demo -o yaml`],
      [`${navctl} describe service web -n demo`],
      [`${navctl} apply -f app.yaml`, 'files, directories or - (stdin); creates or updates'],
      [`${navctl} label configmap web-content -n demo tier=frontend`],
      [`${navctl} get configmaps -A -w`, 'watch'],
      [`${navctl} delete -f app.yaml`],
      [`${navctl} cluster status`, 'members, leader, term, revision'],
      [`${navctl} snapshot save backup.db`, 'a backup of the whole store'],
    ]),
    ...commands('etcdctl (Debian etcd-client; the same port speaks the etcd v3 API):', [
      [`${etcdctl} endpoint status -w table`],
      [`${etcdctl} member list -w table`],
      [`${etcdctl} get /registry/ --prefix --keys-only`, 'where the objects are kept'],
    ]),
    ...commands('metrics (Prometheus text; one endpoint per master, in the table above):', [
      [`curl -s http://${record.masters[0].metrics}/metrics | grep -E '^(apiserver_request_total|navarch_raft_(term|commit_index|leader_changes))'`],
    ]),
    ...(record.node
      ? commands(`node ${record.node.nodeName} (navarch agent pid ${record.node.agentPid}, containerd pid ${record.node.containerdPid}):`, [
          [`${navctl} get pods -n demo -o wide`, 'pod IPs and the node'],
          [`${navctl} logs -n demo <pod> [-f]`],
          [`${navctl} exec -n demo <pod> -- cat /etc/hostname`],
          [`tail -f ${show(record.node.agentLog)}`],
        ])
      : []),
    ...(record.hollow ? commands(`hollow nodes (${record.hollow.nodes}, navarch hollow pid ${record.hollow.pid}):`, [[`${navctl} get nodes`], [`tail -f ${show(record.hollow.log)}`]]) : []),
    ...commands('logs (JSON lines):', [[`tail -f ${dir}/master-*.log`]]),
    ...commands('stop:', [
      defaultDir ? ['make down', 'keeps the data: make up brings the same cluster back'] : [`./bin/navarch.js down --dir ${dir}`, `keeps the data: navarch up --dir ${dir} brings it back`],
      [`./bin/navarch.js down --purge${defaultDir ? '' : ` --dir ${dir}`}`, `stops it and deletes ${dir}`],
    ]),
  ];
}

export async function runUp(flags: UpFlags, out: Out = (l) => process.stdout.write(`${l}\n`)): Promise<void> {
  const requested = flags.masters === undefined ? undefined : parseMasters(flags.masters);
  const hollowRequested = flags.hollowNodes === undefined ? undefined : parseHollowNodes(flags.hollowNodes);
  const dir = resolve(flags.dir);
  mkdirSync(dir, { recursive: true });
  const previous = previousCluster(dir, out);
  const dataDirs = dataDirsIn(dir);
  const had = previous?.masters.length ?? (dataDirs.length ? Math.max(...dataDirs.map((d) => Number(d.slice('master-'.length)))) : undefined);
  const missing = dataDirs.length > 0 ? Array.from({ length: had! }, (_, i) => `master-${i + 1}`).filter((d) => !dataDirs.includes(d)) : [];
  if (missing.length > 0) {
    // A member started empty could win an election and discard the others' data: refuse.
    throw new Error(`${dir} holds data for ${dataDirs.join(', ')} but none for ${missing.join(', ')} of that ${had}-master cluster; put the missing data back, or start afresh with "navarch down --purge --dir ${dir}" (deletes it all)`);
  }
  const n = requested ?? had ?? DEFAULT_MASTERS;
  if (dataDirs.length > 0 && had !== n) {
    throw new Error(`--masters: ${dir} holds the data of a ${had}-master cluster (${dataDirs.join(', ')}), not ${n}; leave --masters out to bring that cluster back, or delete its data first with "navarch down --purge --dir ${dir}"`);
  }
  let addresses: MasterAddresses[] | undefined;
  if (previous && previous.masters.length === n) {
    addresses = previous.masters.map((m) => ({ id: m.id, name: m.name, peerAddress: m.raft, clientAddress: m.client, metricsAddress: m.metrics }));
    for (const m of previous.masters) {
      for (const [what, address] of [['raft', m.raft], ['client', m.client], ['metrics', m.metrics]] as const) await checkPortFree(address, `${m.name}'s ${what} port`);
    }
  }
  const restart = dataDirs.length > 0;
  const cluster = await LocalMasterCluster.create({ dir, masters: n, addresses, detached: true });
  const t0 = performance.now();
  try {
    cluster.startAll();
  } catch (e) {
    await cluster.stopAll('SIGKILL');
    throw new Error(`Cannot start the masters: ${(e as Error).message}`);
  }
  // Recorded before anything can fail, so `navarch down` can always find what was started.
  const record = toRecord(dir, cluster);
  writeClusterFile(record);
  writeNavctlConfig(dir, record.masters.map((m) => m.client));
  out(
    restart
      ? `starting ${mastersText(n)} from the data in ${dir}${addresses ? ' on the ports they had' : ' (no record of their ports: new ones)'}`
      : `starting ${mastersText(n)} on 127.0.0.1, data in ${dir}`,
  );
  let leaderId: number;
  try {
    leaderId = await cluster.waitForLeader(flags.leaderTimeoutMs ?? 60_000);
    const exited = cluster.members.filter((m) => !cluster.isRunning(m.id));
    if (exited.length > 0) throw new Error(`${exited.map((m) => m.name).join(', ')} exited while starting`);
  } catch (e) {
    for (const m of record.masters) out(`--- ${m.log} (last ${LOG_TAIL_LINES} lines)\n${logTail(m.log)}`);
    out('stopping the masters that were started');
    await stopMasters(record.masters, out);
    moveClusterFileAside(dir);
    throw new Error(`The cluster did not come up: ${(e as Error).message}; the logs above and in ${dir} say why`);
  }
  // A hollow process left from a run whose masters died would register the same nodes twice.
  if (previous?.hollow && isOurHollow(previous.hollow.pid, previous.hollow.server)) await stopHollow(previous.hollow, out);
  const hollowNodes = hollowRequested ?? previous?.hollow?.nodes;
  if (hollowNodes !== undefined) {
    const { logOffset, ...hollow } = startHollow(dir, record.masters.map((m) => m.client), hollowNodes);
    record.hollow = hollow;
    writeClusterFile(record);
    out(`starting ${hollowNodes} hollow nodes (navarch hollow, pid ${record.hollow.pid}, log ${record.hollow.log})`);
    try {
      await waitHollowReady(record.hollow, logOffset, 60_000 + hollowNodes * 20);
    } catch (e) {
      await stopHollow(record.hollow, out);
      throw new Error(`${(e as Error).message}\nThe masters are still running: stop them with "navarch down --dir ${dir}"`);
    }
    out(`${hollowNodes} hollow nodes registered`);
  }
  if (flags.agent !== false) {
    try {
      record.node = await startNode(dir, record.masters.map((m) => m.client).join(','), previous?.node, out);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nThe masters are still running: stop them with "navarch down --dir ${dir}"`);
    } finally {
      writeClusterFile(record);
    }
  }
  const leader = record.masters.find((m) => m.id === leaderId)!;
  out(`${mastersText(n)} up in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${leader.name} leads${n === 1 ? ' (a single-master cluster)' : ''}`);
  if (restart) out('this is the cluster from before, brought back with its data (the objects below were kept)');
  try {
    await runDemo(record.masters, leaderId, out, { pods: record.node !== undefined });
  } catch (e) {
    throw new Error(`The demo failed: ${(e as Error).message}. The masters are still running: see their logs in ${dir}, stop them with "navarch down --dir ${dir}"`);
  }
  for (const line of usage(record, leaderId)) out(line);
}
