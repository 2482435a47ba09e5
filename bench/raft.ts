// make bench-raft: three Navarch member processes on 127.0.0.1 with fsync on,
// and (when Debian's etcd-server is installed) three etcd processes in the same
// run. A closed-loop Node client writes 128-byte values at 1, 16, 64 and 256
// in flight. Prints ops/s, p50/p99 latency, Navarch's leader syncs/s and
// entries per sync, and the Navarch/etcd ratio per level.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalKvCluster } from '../pkg/localcluster/kv_cluster.js';
import { RaftKvClient } from '../pkg/raftkv/client.js';
import { EtcdPutClient, etcdAvailable, startEtcd } from './etcd_peer.js';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const LEVELS = (process.env.BENCH_INFLIGHT ?? '1,16,64,256').split(',').map(Number);
const KEYS = 20000;
const VALUE = new Uint8Array(128).fill(97);

interface Result {
  opsPerSec: number;
  p50: number;
  p99: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `inflight` workers each issuing puts back to back for DURATION_MS. */
async function closedLoop(inflight: number, put: (key: string) => Promise<unknown>): Promise<Result> {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + DURATION_MS;
  let key = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t = performance.now();
      await put(`k${key++ % KEYS}`);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  const secs = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { opsPerSec: latencies.length / secs, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function benchNavarch(dir: string): Promise<Map<number, Result & { syncsPerSec: number; entriesPerSync: number }>> {
  const cluster = await LocalKvCluster.create({ dir: join(dir, 'navarch'), members: 3 });
  cluster.startAll();
  const client = new RaftKvClient(cluster.endpoints, { clientId: 'bench' });
  const out = new Map<number, Result & { syncsPerSec: number; entriesPerSync: number }>();
  try {
    const leader = await cluster.waitForLeader(client, 60000);
    for (let i = 0; i < 200; i++) await client.put(`warm${i}`, VALUE);
    for (const inflight of LEVELS) {
      const before = await client.status(leader);
      const t = performance.now();
      const r = await closedLoop(inflight, (k) => client.put(k, VALUE));
      const secs = (performance.now() - t) / 1000;
      const after = await client.status(leader);
      const syncs = after.syncs - before.syncs;
      out.set(inflight, { ...r, syncsPerSec: syncs / secs, entriesPerSync: (after.entriesSynced - before.entriesSynced) / Math.max(1, syncs) });
      process.stderr.write(`navarch ${inflight} in flight: ${r.opsPerSec.toFixed(0)} ops/s\n`);
    }
  } finally {
    client.close();
    await cluster.stopAll('SIGKILL');
  }
  return out;
}

async function benchEtcd(dir: string): Promise<Map<number, Result>> {
  const etcd = await startEtcd(join(dir, 'etcd'));
  const client = new EtcdPutClient(etcd.endpoints);
  const out = new Map<number, Result>();
  try {
    await client.ready();
    for (let i = 0; i < 200; i++) await client.put(`warm${i}`, VALUE);
    for (const inflight of LEVELS) {
      const r = await closedLoop(inflight, (k) => client.put(k, VALUE));
      out.set(inflight, r);
      process.stderr.write(`etcd ${inflight} in flight: ${r.opsPerSec.toFixed(0)} ops/s\n`);
    }
  } finally {
    client.close();
    await etcd.stop();
  }
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-bench-raft-'));
  try {
    const nav = await benchNavarch(dir);
    const etcd = etcdAvailable() ? await benchEtcd(dir) : undefined;
    const lines = [
      `Puts, 3 members on 127.0.0.1, fsync on, 128-byte values, ${KEYS} keys, ${DURATION_MS} ms per level, one Node client`,
      '| in flight | Navarch ops/s | p50 ms | p99 ms | leader syncs/s | entries/sync | etcd ops/s | etcd p50 ms | etcd p99 ms | ops ratio N/etcd |',
      '|---|---|---|---|---|---|---|---|---|---|',
    ];
    for (const inflight of LEVELS) {
      const n = nav.get(inflight)!;
      const e = etcd?.get(inflight);
      lines.push(
        `| ${inflight} | ${n.opsPerSec.toFixed(0)} | ${n.p50.toFixed(1)} | ${n.p99.toFixed(1)} | ${n.syncsPerSec.toFixed(0)} | ${n.entriesPerSync.toFixed(1)} | ` +
          (e ? `${e.opsPerSec.toFixed(0)} | ${e.p50.toFixed(1)} | ${e.p99.toFixed(1)} | ${(n.opsPerSec / e.opsPerSec).toFixed(2)} |` : 'n/a | n/a | n/a | n/a |'),
      );
    }
    if (!etcd) lines.push('etcd is not installed (apt-get install etcd-server): no peer figures in this run');
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
