// In-process micro benchmark of pkg/store: no Raft, no network (the last case writes a snapshot file).
// Puts go through the full apply path (encode a command, decode it, run the
// txn, notify watchers), as every member does for every committed entry.
// Prints puts/s, reads/s, memory and snapshot figures.
//
//   node --expose-gc --import tsx bench/store_mvcc.ts
//   BENCH_KEYS=150000 node --expose-gc --import tsx bench/store_mvcc.ts

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import type { Entry } from '../raft/core/types.js';
import { RocksDbStorage } from '../raft/storage/rocksdb_storage.js';
import { encodeCommand } from '../pkg/store/command.js';
import { prefixEnd } from '../pkg/store/keys.js';
import { StoreStateMachine } from '../pkg/store/state_machine.js';
import { Store } from '../pkg/store/store.js';

const KEYS = Number(process.env.BENCH_KEYS ?? 100_000);
const VALUE = new Uint8Array(128).fill(97);
const gc = (globalThis as { gc?: () => void }).gc;

function mib(n: number): string {
  return (n / 1024 / 1024).toFixed(1) + ' MiB';
}

function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

function key(i: number): string {
  return `/registry/pods/ns${i % 50}/pod-${String(i).padStart(7, '0')}`;
}

function rate(n: number, ms: number): string {
  return `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;
}

let index = 0;
function entry(i: number, nowMs: number): Entry {
  return { term: 1, index: ++index, type: 'normal', data: encodeCommand({ type: 'txn', nowMs, txn: { success: [{ type: 'put', key: key(i), value: VALUE }] } }) };
}

const heap0 = heap();
const store = new Store({ compactRetainRevisions: 100_000, compactRetainMs: 300_000 });
const sm = new StoreStateMachine(store);
const watcher = store.watch({ key: '/registry/pods/ns7/', rangeEnd: prefixEnd('/registry/pods/ns7/'), watchBufferEvents: 1_000_000 });
let now = 1_700_000_000_000;

// 1. Creates: KEYS distinct keys.
let t0 = performance.now();
for (let i = 0; i < KEYS; i++) sm.apply(entry(i, now++));
const createMs = performance.now() - t0;
let drained = 0;
for (let r = watcher.poll(); r; r = watcher.poll()) drained += r.events.length;

// 2. Updates: KEYS more puts over the same keys (history grows, compaction by count runs).
t0 = performance.now();
for (let i = 0; i < KEYS; i++) sm.apply(entry((i * 7919) % KEYS, now++));
const updateMs = performance.now() - t0;
for (let r = watcher.poll(); r; r = watcher.poll()) drained += r.events.length;
const heapLoaded = heap();

// 3. Point reads at the current revision.
const READS = 200_000;
t0 = performance.now();
let found = 0;
for (let i = 0; i < READS; i++) found += store.range({ key: key((i * 104729) % KEYS) }).kvs.length;
const readMs = performance.now() - t0;

// 4. Point reads at an old revision (through history).
const oldRev = store.revision - 50_000;
t0 = performance.now();
for (let i = 0; i < READS; i++) store.range({ key: key((i * 104729) % KEYS), revision: oldRev });
const oldReadMs = performance.now() - t0;

// 5. Paged list of every key, 500 per page, at one revision (what an apiserver list does).
t0 = performance.now();
let listed = 0;
let pages = 0;
const listRev = store.revision;
for (let k = '/registry/pods/'; ; pages++) {
  const r = store.range({ key: k, rangeEnd: prefixEnd('/registry/pods/'), limit: 500, revision: listRev });
  listed += r.kvs.length;
  if (!r.more) break;
  k = r.kvs[r.kvs.length - 1].key + '\0';
}
const listMs = performance.now() - t0;

// 6. Direct txn without the command codec, for comparison.
t0 = performance.now();
for (let i = 0; i < KEYS; i++) store.txn({ success: [{ type: 'put', key: key(i), value: VALUE }] }, now++);
const directMs = performance.now() - t0;

// 7. Snapshot and restore.
t0 = performance.now();
const snap = store.snapshot();
const snapMs = performance.now() - t0;
t0 = performance.now();
const restored = new Store();
restored.restore(snap);
const restoreMs = performance.now() - t0;

// 8. Watch fan-out: 1,000 watchers on one prefix, 2,000 puts, every watcher drained.
const fan = Array.from({ length: 1000 }, () => store.watch({ key: '/fan/', rangeEnd: prefixEnd('/fan/'), watchBufferEvents: 10_000 }));
t0 = performance.now();
for (let i = 0; i < 2000; i++) store.txn({ success: [{ type: 'put', key: `/fan/${i % 100}`, value: VALUE }] }, now++);
let fanEvents = 0;
for (const w of fan) for (let r = w.poll(); r; r = w.poll()) fanEvents += r.events.length;
const fanMs = performance.now() - t0;
for (const w of fan) w.cancel();

// 9. Updates as the API server writes them, applied as every member applies them: each put guarded
// by its key's modRevision, 700-byte values (a pod), a prevKv watch over the prefix (each master's
// watch cache), compaction running. The entries are encoded before the clock starts.
const casStore = new Store({ compactRetainRevisions: KEYS, compactRetainMs: 300_000 });
const casSm = new StoreStateMachine(casStore);
const casWatch = casStore.watch({ key: '/registry/pods/', rangeEnd: prefixEnd('/registry/pods/'), prevKv: true, watchBufferEvents: 1_000_000 });
const POD_VALUE = new Uint8Array(700).fill(97);
const modRevisions = new Map<string, number>();
const casEntry = (k: string): Entry => {
  const rev = modRevisions.get(k);
  const compare = [rev === undefined ? { key: k, target: 'createRevision' as const, result: '=' as const, number: 0 } : { key: k, target: 'modRevision' as const, result: '=' as const, number: rev }];
  return { term: 1, index: ++index, type: 'normal', data: encodeCommand({ type: 'txn', nowMs: now++, txn: { compare, success: [{ type: 'put', key: k, value: POD_VALUE }] } }) };
};
const casRounds: number[] = [];
for (let round = 0; round < 3; round++) {
  const keys = Array.from({ length: KEYS }, (_, i) => key((i * 7919) % KEYS));
  const entries = keys.map(casEntry);
  t0 = performance.now();
  for (let i = 0; i < KEYS; i++) {
    casSm.apply(entries[i]);
    modRevisions.set(keys[i], casStore.revision);
  }
  casRounds.push(performance.now() - t0);
  for (let r = casWatch.poll(); r; r = casWatch.poll());
}

// 10. The guarded store's snapshot written to disk as a member writes it: in pieces, each written
// to the snapshot file before the next is encoded. Young-generation collections during it are
// counted: V8 forces one whenever young objects hold 32 MiB of buffers.
const young = { count: 0, ms: 0 };
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if ((e as { detail?: { kind?: number } }).detail?.kind !== constants.NODE_PERFORMANCE_GC_MINOR) continue;
    young.count++;
    young.ms += e.duration;
  }
});
gcObserver.observe({ entryTypes: ['gc'] });
const snapDir = mkdtempSync(join(tmpdir(), 'navarch-bench-store-snapshot-'));
const snapRounds: string[] = [];
try {
  const storage = await RocksDbStorage.open(snapDir);
  for (let round = 1; round <= 3; round++) {
    const before = { ...young };
    const cpu = process.cpuUsage();
    t0 = performance.now();
    const writer = storage.writeSnapshot(round);
    const bytes = await casSm.snapshotTo(new Uint8Array(0), (piece) => writer.write(piece));
    await writer.finish();
    const ms = performance.now() - t0;
    const used = process.cpuUsage(cpu);
    // The observer hears of collections a turn later.
    await new Promise((r) => setImmediate(r));
    snapRounds.push(`${mib(bytes)} in ${ms.toFixed(0)} ms (CPU ${((used.user + used.system) / 1000).toFixed(0)} ms, ${young.count - before.count} young collections)`);
  }
  await storage.close();
} finally {
  gcObserver.disconnect();
  rmSync(snapDir, { recursive: true, force: true });
}

// 11. History as a busy member holds it: each key written four times, three revisions a
// millisecond, nothing compacted. What each retained version costs on the heap: its value, its
// key, its record and its revision's time.
// Measured as what the heap loses when the store goes, so garbage of the cases before does not count.
const HISTORY_KEYS = KEYS / 4;
function historyHeapPerVersion(): number {
  let historySm: StoreStateMachine | undefined = new StoreStateMachine(new Store({ compactRetainRevisions: Infinity, compactRetainMs: Infinity }));
  for (let n = 0; n < 4 * HISTORY_KEYS; n++) {
    const txn = { success: [{ type: 'put' as const, key: key(n % HISTORY_KEYS), value: POD_VALUE }] };
    historySm.apply({ term: 1, index: ++index, type: 'normal', data: encodeCommand({ type: 'txn', nowMs: now + Math.floor(n / 3), txn }) });
  }
  const withStore = heap();
  const versions = historySm.store.status().retainedVersions;
  historySm = undefined;
  return (withStore - heap()) / versions;
}
const historyBytesPerVersion = historyHeapPerVersion();

const st = store.status();
console.log(`pkg/store in-process benchmark: ${KEYS.toLocaleString('en-US')} keys, 128-byte values, node ${process.version}${gc ? '' : ' (run with --expose-gc for exact heap figures)'}`);
console.log(`  creates via apply (decode + txn + watch):  ${rate(KEYS, createMs)}`);
console.log(`  updates via apply (history + compaction):  ${rate(KEYS, updateMs)}`);
console.log(`  guarded 700-byte updates, prevKv watch:     ${casRounds.map((ms) => rate(KEYS, ms)).join(' / ')} (creates, then two rounds of updates; apply only)`);
console.log(`  puts via store.txn directly:               ${rate(KEYS, directMs)}`);
console.log(`  point reads, current revision:             ${rate(READS, readMs)} (${found} found)`);
console.log(`  point reads, revision 50,000 back:         ${rate(READS, oldReadMs)}`);
console.log(`  full list in pages of 500:                 ${listMs.toFixed(0)} ms for ${listed.toLocaleString('en-US')} keys, ${pages + 1} pages`);
console.log(`  watch events delivered to one prefix watch: ${drained.toLocaleString('en-US')}`);
console.log(`  watch fan-out, 1,000 watchers x 2,000 puts:  ${rate(fanEvents, fanMs)} events delivered (${fanEvents.toLocaleString('en-US')} in ${fanMs.toFixed(0)} ms)`);
console.log(`  revision ${st.revision}, compacted at ${st.compactRevision}, ${st.retainedVersions.toLocaleString('en-US')} retained versions`);
console.log(`  heap used by the store: ${mib(heapLoaded - heap0)} (store's own estimate sizeBytes ${mib(st.sizeBytes)}), process RSS ${mib(process.memoryUsage().rss)}`);
console.log(`  history (each of ${HISTORY_KEYS.toLocaleString('en-US')} keys written 4 times, 3 revisions a ms, 700-byte values, all retained): ${historyBytesPerVersion.toFixed(0)} bytes of heap per version`);
console.log(`  snapshot: ${mib(snap.byteLength)} encoded in ${snapMs.toFixed(0)} ms, restored in ${restoreMs.toFixed(0)} ms`);
console.log(`  snapshot of the guarded store to a file, as a member writes it: ${snapRounds.join(' / ')}`);
