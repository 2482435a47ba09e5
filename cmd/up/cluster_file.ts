// The files `navarch up` leaves in its directory D: D/cluster.json (every master's PID and
// addresses; moved to D/cluster.json.stopped by `navarch down`, so the next `up` reuses the
// ports) and D/navctl.yaml (navctl's endpoints). Also the check that a recorded PID is still
// one of our masters, so that a PID the kernel has since given to another process is never signalled.

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';

export interface MasterRecord {
  id: number;
  name: string;
  pid: number;
  /** Raft peer address. */
  raft: string;
  /** gRPC: the object API and the etcd-compatible API. */
  client: string;
  /** http://<metrics>/metrics */
  metrics: string;
  dataDir: string;
  log: string;
}

/** The `navarch hollow` process `up --hollow-nodes N` started. */
export interface HollowRecord {
  pid: number;
  nodes: number;
  /** The --server it was given (also how `down` recognises it). */
  server: string;
  log: string;
}

/** This machine as a node: the agent `up` started and the containerd it drives. */
export interface NodeRecord {
  nodeName: string;
  agentPid: number;
  agentDataDir: string;
  agentLog: string;
  containerdPid: number;
  containerdDir: string;
}

export interface ClusterFile {
  createdAt: string;
  /** Absolute. */
  dir: string;
  masters: MasterRecord[];
  hollow?: HollowRecord;
  node?: NodeRecord;
}

/** "1 master", "3 masters". */
export const mastersText = (n: number): string => `${n} master${n === 1 ? '' : 's'}`;

export const clusterFilePath = (dir: string): string => join(dir, 'cluster.json');
export const stoppedFilePath = (dir: string): string => join(dir, 'cluster.json.stopped');
export const navctlConfigPath = (dir: string): string => join(dir, 'navctl.yaml');

const ADDRESS = /^127\.0\.0\.1:\d{1,5}$/;

/** Reads and checks a cluster file; a damaged one is an error naming the file and the field. */
export function readClusterFile(file: string): ClusterFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`Cannot read ${file}: ${(e as Error).message}`);
  }
  const bad = (what: string): Error => new Error(`${file} is damaged: ${what}; move it away and run "navarch up" again`);
  const f = raw as Partial<ClusterFile> | null;
  if (isLegacyKvFile(raw)) throw new Error(`${file} records a cluster of the older Raft key-value members, not masters: stop it first with "navarch down --dir ${dirname(file)}"`);
  if (typeof f !== 'object' || f === null || !Array.isArray(f.masters) || f.masters.length === 0) throw bad('expected an object with a non-empty "masters" list');
  f.masters.forEach((m, i) => {
    const at = `masters[${i}]`;
    if (m?.id !== i + 1) throw bad(`${at}.id must be ${i + 1}`);
    if (typeof m.name !== 'string' || m.name === '') throw bad(`${at}.name must be a non-empty string`);
    if (!Number.isSafeInteger(m.pid) || m.pid <= 0) throw bad(`${at}.pid must be a positive integer`);
    for (const k of ['raft', 'client', 'metrics'] as const) if (typeof m[k] !== 'string' || !ADDRESS.test(m[k])) throw bad(`${at}.${k} must be 127.0.0.1:<port>`);
    for (const k of ['dataDir', 'log'] as const) if (typeof m[k] !== 'string' || m[k] === '') throw bad(`${at}.${k} must be a path`);
  });
  const h = f.hollow;
  if (h !== undefined) {
    if (typeof h !== 'object' || h === null) throw bad('hollow must be an object');
    if (!Number.isSafeInteger(h.pid) || h.pid <= 0) throw bad('hollow.pid must be a positive integer');
    if (!Number.isSafeInteger(h.nodes) || h.nodes <= 0) throw bad('hollow.nodes must be a positive integer');
    if (typeof h.server !== 'string' || h.server === '') throw bad('hollow.server must be the masters\' addresses');
    if (typeof h.log !== 'string' || h.log === '') throw bad('hollow.log must be a path');
  }
  const n = f.node;
  if (n !== undefined) {
    if (typeof n !== 'object' || n === null) throw bad('node must be an object');
    for (const k of ['agentPid', 'containerdPid'] as const) if (!Number.isSafeInteger(n[k]) || n[k] <= 0) throw bad(`node.${k} must be a positive integer`);
    for (const k of ['nodeName', 'agentDataDir', 'agentLog', 'containerdDir'] as const) if (typeof n[k] !== 'string' || n[k] === '') throw bad(`node.${k} must be a non-empty string`);
  }
  return f as ClusterFile;
}

/** What `navarch up` wrote before it started masters: { members: [{ id, pid, dataDir }] } for `navarch kv-member` processes. */
export interface LegacyKvFile {
  members: Array<{ id: number; pid?: number; dataDir: string }>;
}

export function isLegacyKvFile(raw: unknown): raw is LegacyKvFile {
  const f = raw as { members?: unknown; masters?: unknown } | null;
  return typeof f === 'object' && f !== null && f.masters === undefined && Array.isArray(f.members);
}

/** Written whole to a temporary file and renamed, so a reader never sees half a file. */
function writeAtomically(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

export function writeClusterFile(record: ClusterFile): void {
  writeAtomically(clusterFilePath(record.dir), `${JSON.stringify(record, null, 2)}\n`);
}

export function writeNavctlConfig(dir: string, endpoints: readonly string[]): void {
  const config = { apiVersion: 'navctl.navarch.io/v1', kind: 'Config', cluster: 'local', endpoints: [...endpoints], namespace: 'default' };
  writeAtomically(navctlConfigPath(dir), stringify(config));
}

/** cluster.json → cluster.json.stopped (the record of the ports for the next `up`). */
export function moveClusterFileAside(dir: string): void {
  if (existsSync(clusterFilePath(dir))) renameSync(clusterFilePath(dir), stoppedFilePath(dir));
}

/**
 * True when pid is a live `navarch <command>` process started with `flag value`. Reads
 * /proc/<pid>/cmdline: a PID reused by another program, another cluster's process or a zombie
 * (empty cmdline) is not ours.
 */
function isOurProcess(pid: number, command: string, flag: string, value: string): boolean {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return false;
  }
  const args = cmdline.split('\0');
  const at = args.indexOf(flag);
  return args.some((a) => a.includes('navarch')) && args.includes(command) && at >= 0 && args[at + 1] === value;
}

/** True when pid is a live `navarch hollow` process started with --server `server` (not a reused PID). */
export function isOurHollow(pid: number, server: string): boolean {
  return isOurProcess(pid, 'hollow', '--server', server);
}

/** True when pid is a live `navarch agent` process with --data-dir `dataDir` (not a reused PID). */
export function isOurAgent(pid: number, dataDir: string): boolean {
  return isOurProcess(pid, 'agent', '--data-dir', dataDir);
}

/**
 * True when pid is a live `navarch master` process serving dataDir (not a reused PID).
 * `command` 'kv-member' checks for the older key-value members instead.
 */
export function isOurMaster(pid: number, dataDir: string, command: 'master' | 'kv-member' = 'master'): boolean {
  return isOurProcess(pid, command, '--data-dir', dataDir);
}
