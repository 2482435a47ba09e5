// A quick like-for-like check of the etcd-compatible facade: 3 Debian etcd
// members and 3 navarch masters on this machine, the same closed-loop load
// of puts and linearizable gets (128-byte values) through the same raw etcd
// v3 gRPC client, requests spread over every member's endpoint.
// Usage: npx tsx bench/etcd_compat.ts [--seconds 3] [--inflight 1,16,64]

import { mkdtempSync, rmSync } from 'node:fs';
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
const INFLIGHT = arg('inflight', '1,16,64').split(',').map(Number);
const VALUE = Buffer.alloc(128, 'v');

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
  const end = performance.now() + SECONDS * 1000;
  const worker = async (w: number): Promise<void> => {
    while (performance.now() < end) {
      const c = clients[n++ % clients.length];
      const key = Buffer.from(`bench/${w}/${n % 1000}`);
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
  lat.sort((a, b) => a - b);
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  return { ops: lat.length / SECONDS, p50: q(0.5), p99: q(0.99), errors };
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

async function run(name: string, endpoints: string[]): Promise<Map<string, Result>> {
  const clients = endpoints.map((e) => new EtcdRawClient(e));
  const out = new Map<string, Result>();
  try {
    await waitReady(clients);
    for (const op of ['put', 'get'] as const) {
      for (const inflight of INFLIGHT) {
        const r = await load(clients, op, inflight);
        out.set(`${op} x${inflight}`, r);
        process.stderr.write(`${name} ${op} x${inflight}: ${r.ops.toFixed(0)} ops/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms${r.errors ? ` (${r.errors} errors)` : ''}\n`);
      }
    }
  } finally {
    for (const c of clients) c.close();
  }
  return out;
}

async function main(): Promise<void> {
  if (!etcdAvailable()) throw new Error('etcd not found: apt-get install etcd-server (make bench-deps)');
  const dir = mkdtempSync(join(tmpdir(), 'navarch-bench-compat-'));
  try {
    const etcd = await startEtcd(join(dir, 'etcd'));
    let etcdRes: Map<string, Result>;
    try {
      for (const e of etcd.endpoints) await etcdStatus(e, 5000).catch(() => undefined);
      etcdRes = await run('etcd', etcd.endpoints.map((e) => e.replace(/^http:\/\//, '')));
    } finally {
      await etcd.stop();
    }
    const cluster = await LocalMasterCluster.create({ dir: join(dir, 'navarch'), masters: 3 });
    let navRes: Map<string, Result>;
    try {
      cluster.startAll();
      await cluster.waitForLeader(60_000);
      navRes = await run('navarch', cluster.members.map((m) => m.clientAddress));
    } finally {
      await cluster.stopAll('SIGTERM');
    }
    console.log('| load | etcd ops/s | navarch ops/s | ratio | etcd p50/p99 ms | navarch p50/p99 ms |');
    console.log('|---|---|---|---|---|---|');
    for (const [k, e] of etcdRes) {
      const n = navRes.get(k)!;
      console.log(`| ${k} | ${e.ops.toFixed(0)} | ${n.ops.toFixed(0)} | ${(n.ops / e.ops).toFixed(2)} | ${e.p50.toFixed(2)} / ${e.p99.toFixed(2)} | ${n.p50.toFixed(2)} / ${n.p99.toFixed(2)} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
