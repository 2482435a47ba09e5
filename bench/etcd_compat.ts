// A quick like-for-like check of the etcd-compatible facade: 3 Debian etcd
// members and 3 navarch masters on this machine, the same closed-loop load
// of puts and linearizable gets (128-byte values) through the same raw etcd
// v3 gRPC client. Both clusters run at once and each load level runs on one
// then the other, so the machine's changing load (it is shared) hits both
// alike. Requests are spread over every member's endpoint, or all sent to
// one member (--target leader|follower). Prints each system's figures, the
// Navarch/etcd ratios, and every member's RSS after the run.
// Usage: npx tsx bench/etcd_compat.ts [--seconds 3] [--inflight 1,16,64,256]
//   [--ops put,get] [--target spread|leader|follower] [--only navarch|etcd] [--cpu-prof DIR]
//   [--snapshot-entries N] (the masters' --snapshot-entries)
//   [--baseline DIR]: also run the masters of another checkout (with its node_modules and gen/) as 'base'

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdRawClient } from '../pkg/etcdserver/raw_client.js';
import { LocalMasterCluster } from '../pkg/localcluster/master_cluster.js';
import { etcdAvailable, etcdStatus, startEtcd } from './etcd_peer.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const SECONDS = Number(arg('seconds', '3'));
const INFLIGHT = arg('inflight', '1,16,64,256').split(',').map(Number);
const OPS = arg('ops', 'put,get').split(',') as Array<'put' | 'get'>;
const TARGET = arg('target', 'spread');
const ONLY = arg('only', '');
const CPU_PROF = arg('cpu-prof', '');
const BASELINE = arg('baseline', '');
const SNAPSHOT_ENTRIES = arg('snapshot-entries', '');
const VALUE = Buffer.alloc(128, 'v');
const KEYS = 1000;

if (!['spread', 'leader', 'follower'].includes(TARGET)) throw new Error(`Invalid --target "${TARGET}": expected spread, leader or follower`);
for (const op of OPS) if (op !== 'put' && op !== 'get') throw new Error(`Invalid --ops entry "${op}": expected put or get`);

interface Result {
  ops: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(clients: EtcdRawClient[], op: 'put' | 'get', inflight: number): Promise<Result> {
  const lat: number[] = [];
  let errors = 0;
  let n = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  const worker = async (w: number): Promise<void> => {
    while (performance.now() < end) {
      const c = clients[n++ % clients.length];
      const key = Buffer.from(`bench/${w}/${n % KEYS}`);
      const t0 = performance.now();
      try {
        if (op === 'put') await c.call('KV', 'Put', { key, value: VALUE });
        else await c.call('KV', 'Range', { key });
        lat.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: inflight }, (_, w) => worker(w)));
  const secs = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  return { ops: lat.length / secs, p50: q(0.5), p99: q(0.99), errors };
}

async function waitReady(clients: EtcdRawClient[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      for (const c of clients) await c.call('KV', 'Put', { key: Buffer.from('bench/ready'), value: VALUE }, 2000);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The endpoints the load goes to: all of them, or the leader's, or one follower's. */
async function targets(endpoints: string[]): Promise<string[]> {
  if (TARGET === 'spread') return endpoints;
  const c = new EtcdRawClient(endpoints[0]);
  try {
    const leader = String((await c.call('Maintenance', 'Status', {})).leader);
    for (const e of endpoints) {
      const m = new EtcdRawClient(e);
      try {
        const id = String((await m.call('Maintenance', 'Status', {})).header.member_id);
        if ((id === leader) === (TARGET === 'leader')) return [e];
      } finally {
        m.close();
      }
    }
  } finally {
    c.close();
  }
  throw new Error(`No ${TARGET} found among ${endpoints.join(', ')}`);
}

interface System {
  name: string;
  all: EtcdRawClient[];
  clients: EtcdRawClient[];
  results: Map<string, Result>;
}

async function connect(name: string, endpoints: string[]): Promise<System> {
  const all = endpoints.map((e) => new EtcdRawClient(e));
  await waitReady(all);
  const chosen = await targets(endpoints);
  return { name, all, clients: all.filter((c) => chosen.includes(c.address)), results: new Map() };
}

/** Each level runs on every system back to back, so a change in the machine's load hits both alike. */
async function runAll(systems: System[]): Promise<void> {
  for (const op of OPS) {
    for (const inflight of INFLIGHT) {
      for (const s of systems) {
        const r = await load(s.clients, op, inflight);
        s.results.set(`${op} x${inflight}`, r);
        process.stderr.write(`${s.name} ${op} x${inflight}: ${r.ops.toFixed(0)} ops/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms${r.errors ? ` (${r.errors} errors)` : ''}\n`);
      }
    }
  }
}

/** Resident set size in MB of every process whose command line contains `marker`. */
function rssOf(marker: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) continue;
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) out.push(Math.round(Number(m[1]) / 1024));
    } catch {
      // The process ended meanwhile.
    }
  }
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-bench-compat-'));
  const stops: Array<() => Promise<void>> = [];
  const systems: System[] = [];
  try {
    if (ONLY !== 'navarch') {
      if (!etcdAvailable()) throw new Error('etcd not found: apt-get install etcd-server (make bench-deps)');
      const etcd = await startEtcd(join(dir, 'etcd'));
      stops.push(() => etcd.stop());
      for (const e of etcd.endpoints) await etcdStatus(e, 5000).catch(() => undefined);
      systems.push(await connect('etcd', etcd.endpoints.map((e) => e.replace(/^http:\/\//, ''))));
    }
    if (ONLY !== 'etcd') {
      const nodeArgs = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : undefined;
      const cluster = await LocalMasterCluster.create({ dir: join(dir, 'navarch'), masters: 3, nodeArgs, snapshotEntries: SNAPSHOT_ENTRIES ? Number(SNAPSHOT_ENTRIES) : undefined });
      stops.push(() => cluster.stopAll('SIGTERM'));
      cluster.startAll();
      await cluster.waitForLeader(60_000);
      systems.push(await connect('navarch', cluster.members.map((m) => m.clientAddress)));
    }
    if (BASELINE) {
      const mod = (await import(join(BASELINE, 'pkg/localcluster/master_cluster.ts'))) as { LocalMasterCluster: typeof LocalMasterCluster };
      const base = await mod.LocalMasterCluster.create({ dir: join(dir, 'base'), masters: 3 });
      stops.push(() => base.stopAll('SIGTERM'));
      base.startAll();
      await base.waitForLeader(60_000);
      systems.push(await connect('base', base.members.map((m) => m.clientAddress)));
    }
    await runAll(systems);
    for (const s of systems) process.stderr.write(`${s.name} RSS MB: ${rssOf(join(dir, s.name)).join(', ')}\n`);
    const etcdRes = systems.find((s) => s.name === 'etcd')?.results ?? new Map<string, Result>();
    const navRes = systems.find((s) => s.name === 'navarch')?.results ?? new Map<string, Result>();
    const baseRes = systems.find((s) => s.name === 'base')?.results;
    console.log(`target: ${TARGET}, ${SECONDS} s per level, 128-byte values`);
    console.log(`| load | etcd ops/s | navarch ops/s | ratio | etcd p50/p99 ms | navarch p50/p99 ms |${baseRes ? ' base ops/s | base ratio | base p50/p99 ms |' : ''}`);
    console.log(`|---|---|---|---|---|---|${baseRes ? '---|---|---|' : ''}`);
    for (const k of new Set([...etcdRes.keys(), ...navRes.keys()])) {
      const e = etcdRes.get(k);
      const n = navRes.get(k);
      const f = (r: Result | undefined, g: (r: Result) => string): string => (r ? g(r) : '-');
      console.log(
        `| ${k} | ${f(e, (r) => r.ops.toFixed(0))} | ${f(n, (r) => r.ops.toFixed(0))} | ${e && n ? (n.ops / e.ops).toFixed(2) : '-'} | ${f(e, (r) => `${r.p50.toFixed(2)} / ${r.p99.toFixed(2)}`)} | ${f(n, (r) => `${r.p50.toFixed(2)} / ${r.p99.toFixed(2)}`)} |` +
          (baseRes ? ` ${f(baseRes.get(k), (r) => r.ops.toFixed(0))} | ${e && baseRes.get(k) ? (baseRes.get(k)!.ops / e.ops).toFixed(2) : '-'} | ${f(baseRes.get(k), (r) => `${r.p50.toFixed(2)} / ${r.p99.toFixed(2)}`)} |` : ''),
      );
    }
  } finally {
    for (const s of systems) for (const c of s.all) c.close();
    for (const stop of stops) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
