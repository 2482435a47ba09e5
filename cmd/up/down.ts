// `navarch down [--dir D] [--purge]`: stops the masters recorded in D/cluster.json. SIGTERM first
// (each master hands leadership over and exits), SIGKILL for any still there at the deadline. The
// data stays and cluster.json becomes cluster.json.stopped, so `navarch up` brings the same cluster
// back; --purge deletes D instead.

import { stopNode } from './node.js';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { clusterFilePath, isLegacyKvFile, isOurHollow, isOurMaster, moveClusterFileAside, readClusterFile, stoppedFilePath, type HollowRecord, type MasterRecord, mastersText } from './cluster_file.js';

export interface DownFlags {
  dir: string;
  purge?: boolean;
  /** How long masters get to exit after SIGTERM. @default 15000 */
  termTimeoutMs?: number;
}

const KILL_TIMEOUT_MS = 5000;

type Stoppable = Pick<MasterRecord, 'name' | 'pid' | 'dataDir'>;

async function waitGone<T extends Stoppable>(masters: T[], timeoutMs: number, ours: (m: T) => boolean): Promise<T[]> {
  const deadline = performance.now() + timeoutMs;
  let left = masters;
  while ((left = left.filter(ours)).length > 0 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return left;
}

function signal(pid: number, s: NodeJS.Signals): void {
  try {
    process.kill(pid, s);
  } catch {
    // Exited between the check and the signal.
  }
}

/** Stops every recorded master that is still ours; returns how many were running. */
export async function stopMasters(
  masters: Stoppable[],
  out: (line: string) => void,
  o: { termTimeoutMs?: number; ours?: (m: Stoppable) => boolean; count?: (n: number) => string } = {},
): Promise<number> {
  const { termTimeoutMs = 15_000, ours = (m: Stoppable) => isOurMaster(m.pid, m.dataDir), count = mastersText } = o;
  const running = masters.filter(ours);
  for (const m of masters) if (!running.includes(m)) out(`  ${m.name} (pid ${m.pid}) was not running`);
  const t0 = performance.now();
  for (const m of running) signal(m.pid, 'SIGTERM');
  const stragglers = await waitGone(running, termTimeoutMs, ours);
  for (const m of stragglers) {
    out(`  ${m.name} (pid ${m.pid}) did not exit within ${termTimeoutMs} ms of SIGTERM: sending SIGKILL`);
    signal(m.pid, 'SIGKILL');
  }
  const left = await waitGone(stragglers, KILL_TIMEOUT_MS, ours);
  if (left.length > 0) throw new Error(`Still running after SIGKILL: ${left.map((m) => `${m.name} (pid ${m.pid})`).join(', ')}`);
  if (running.length > 0) out(`  ${count(running.length)} stopped in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return running.length;
}

/** Stops the `navarch hollow` process `up --hollow-nodes` started, if it still runs. */
export function stopHollow(h: HollowRecord, out: (line: string) => void): Promise<number> {
  return stopMasters([{ name: 'hollow', pid: h.pid, dataDir: '' }], out, { ours: () => isOurHollow(h.pid, h.server), count: () => `the hollow process (${h.nodes} nodes)` });
}

/** Only a directory `navarch up` made is deleted: one with a cluster record in it. */
function purge(dir: string, out: (line: string) => void): void {
  if (!existsSync(dir)) return;
  if (!existsSync(clusterFilePath(dir)) && !existsSync(stoppedFilePath(dir))) {
    throw new Error(`--purge: "${dir}" has no cluster.json or cluster.json.stopped, so it does not look like a navarch up directory; not deleting it`);
  }
  rmSync(dir, { recursive: true, force: true });
  out(`deleted ${dir} (data, logs and records)`);
}

export async function runDown(flags: DownFlags, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<void> {
  const dir = resolve(flags.dir);
  const file = clusterFilePath(dir);
  if (!existsSync(file)) {
    out(`no running cluster recorded in ${file}`);
    if (flags.purge) purge(dir, out);
    return;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`Cannot read ${file}: ${(e as Error).message}`);
  }
  if (isLegacyKvFile(raw)) {
    // A cluster started before `up` ran masters: its key-value members are stopped the same way.
    const members = raw.members.filter((m) => m.pid).map((m) => ({ name: `member-${m.id}`, pid: m.pid!, dataDir: m.dataDir }));
    out(`stopping the ${members.length} key-value member(s) recorded in ${file} (the older kind of local cluster)`);
    await stopMasters(members, out, { termTimeoutMs: flags.termTimeoutMs, ours: (m) => isOurMaster(m.pid, m.dataDir, 'kv-member'), count: (n) => `${n} key-value member(s)` });
    if (flags.purge) purge(dir, out);
    else moveClusterFileAside(dir);
    return;
  }
  const record = readClusterFile(file);
  if (record.node) {
    out(`stopping node ${record.node.nodeName}: its agent (which removes the pods' containers), containerd and the local registry`);
    await stopNode(dir, record.node, out);
  }
  if (record.hollow) {
    out(`stopping the hollow nodes' process recorded in ${file}`);
    await stopHollow(record.hollow, out);
  }
  out(`stopping ${mastersText(record.masters.length)} recorded in ${file}`);
  await stopMasters(record.masters, out, { termTimeoutMs: flags.termTimeoutMs });
  if (flags.purge) {
    purge(dir, out);
    return;
  }
  moveClusterFileAside(dir);
  const kept = readdirSync(dir).filter((f) => record.masters.some((m) => m.dataDir === resolve(dir, f)));
  out(`data kept in ${dir} (${kept.join(', ')}); "make up" brings the same cluster back with its data, "navarch down --purge" deletes it`);
}
