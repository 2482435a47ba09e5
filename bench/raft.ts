// make bench-raft: three member processes on 127.0.0.1 with fsync on; a
// closed-loop client writes 128-byte values at 1, 16, 64 and 256 in flight.
// Prints ops/s, p50/p99 latency, and the leader's syncs/s and entries per sync.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalKvCluster } from '../pkg/localcluster/kv_cluster.js';
import { RaftKvClient } from '../pkg/raftkv/client.js';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const LEVELS = (process.env.BENCH_INFLIGHT ?? '1,16,64,256').split(',').map(Number);
const KEYS = 20000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-bench-raft-'));
  const cluster = await LocalKvCluster.create({ dir, members: 3 });
  cluster.startAll();
  const client = new RaftKvClient(cluster.endpoints, { clientId: 'bench' });
  const value = new Uint8Array(128).fill(97);
  const rows: string[] = [];
  try {
    const leader = await cluster.waitForLeader(client, 60000);
    // Warm up connections and the JIT.
    for (let i = 0; i < 200; i++) await client.put(`warm${i}`, value);
    for (const inflight of LEVELS) {
      const latencies: number[] = [];
      const before = await client.status(leader);
      const start = performance.now();
      const end = start + DURATION_MS;
      let key = 0;
      const worker = async (): Promise<void> => {
        while (performance.now() < end) {
          const t = performance.now();
          await client.put(`k${key++ % KEYS}`, value);
          latencies.push(performance.now() - t);
        }
      };
      await Promise.all(Array.from({ length: inflight }, worker));
      const secs = (performance.now() - start) / 1000;
      const after = await client.status(leader);
      latencies.sort((a, b) => a - b);
      const syncs = after.syncs - before.syncs;
      const entries = after.entriesSynced - before.entriesSynced;
      rows.push(
        `| put | ${inflight} | ${(latencies.length / secs).toFixed(0)} | ${percentile(latencies, 50).toFixed(1)} | ${percentile(latencies, 99).toFixed(1)} | ${(syncs / secs).toFixed(0)} | ${(entries / Math.max(1, syncs)).toFixed(1)} |`,
      );
      process.stderr.write(`${rows[rows.length - 1]}\n`);
    }
  } finally {
    client.close();
    await cluster.stopAll('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    [
      `Navarch Raft KV, 3 members on 127.0.0.1, fsync on, 128-byte values, ${DURATION_MS} ms per level, one Node client`,
      '| op | in flight | ops/s | p50 ms | p99 ms | leader syncs/s | entries per sync |',
      '|---|---|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
}

await main();
