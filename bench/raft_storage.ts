// Synced saves/s and entries/s of RocksDbStorage for batches of 128-byte
// entries, with snapshots and compaction as the node driver makes them
// (their time is counted too). Run: npx tsx bench/raft_storage.ts [--seconds N]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../raft/core/types.js';
import { RocksDbStorage } from '../raft/storage/rocksdb_storage.js';

const BATCH_SIZES = [1, 16, 64, 256];
const ENTRY_BYTES = 128;
const SNAPSHOT_ENTRIES = 10_000;
const CATCH_UP_ENTRIES = 1_000;
const snapshotData = new Uint8Array(64 * 1024);
const secondsArg = process.argv.indexOf('--seconds');
const SECONDS_PER_SIZE = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 3;
if (!(SECONDS_PER_SIZE > 0)) throw new Error(`Invalid --seconds ${JSON.stringify(process.argv[secondsArg + 1])}: expected a positive number`);

async function run(batchSize: number): Promise<{ savesPerSec: number; entriesPerSec: number; p50Ms: number; p99Ms: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-bench-storage-'));
  const s = await RocksDbStorage.open(dir);
  try {
    const data = new Uint8Array(ENTRY_BYTES).fill(7);
    let next = 1;
    const batch = (): Entry[] => Array.from({ length: batchSize }, () => ({ term: 1, index: next++, type: 'normal' as const, data }));
    for (let i = 0; i < 50; i++) await s.save({ entries: batch(), hardState: { term: 1, vote: 1, commit: next - 1 } });
    const latencies: number[] = [];
    const start = performance.now();
    const end = start + SECONDS_PER_SIZE * 1000;
    let saves = 0;
    while (performance.now() < end) {
      const t = performance.now();
      await s.save({ entries: batch(), hardState: { term: 1, vote: 1, commit: next - 1 } });
      latencies.push(performance.now() - t);
      saves++;
      // As the node driver does: snapshot every SNAPSHOT_ENTRIES, keep CATCH_UP_ENTRIES for followers.
      if (next - 1 - s.snapshot().metadata.index >= SNAPSHOT_ENTRIES) {
        await s.createSnapshot(next - 1, { voters: [1], learners: [] }, snapshotData);
        await s.compact(next - 1 - CATCH_UP_ENTRIES);
      }
    }
    const sec = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      savesPerSec: saves / sec,
      entriesPerSec: (saves * batchSize) / sec,
      p50Ms: latencies[Math.floor(latencies.length * 0.5)],
      p99Ms: latencies[Math.floor(latencies.length * 0.99)],
    };
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`RocksDbStorage.save, synced, ${ENTRY_BYTES}-byte entries + hard state, ${SECONDS_PER_SIZE} s per size`);
console.log('batch  saves/s  entries/s  p50 ms  p99 ms');
for (const size of BATCH_SIZES) {
  const r = await run(size);
  console.log(
    `${String(size).padStart(5)}  ${r.savesPerSec.toFixed(0).padStart(7)}  ${r.entriesPerSec.toFixed(0).padStart(9)}  ${r.p50Ms.toFixed(3).padStart(6)}  ${r.p99Ms.toFixed(3).padStart(6)}`,
  );
}
