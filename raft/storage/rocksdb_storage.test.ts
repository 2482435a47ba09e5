import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry, Snapshot } from '../core/types.js';
import { CHUNK_KEYS_END, CHUNK_KEYS_START, chunkKey, encodeEntry, encodeSnapChunk, encodeSnapMeta, legacyChunkKey, SNAP_META_KEY, encodeHardState, entryKey, ENTRY_KEYS_END, ENTRY_KEYS_START, FORMAT_KEY, HARD_STATE_KEY } from './codec.js';
import { CorruptStorageError, StorageClosedError, StorageLockedError } from './errors.js';
import { type BatchOp, closeDb, forEachInRange, getValue, openDb, writeSynced } from './rocksdb_db.js';
import { RocksDbStorage } from './rocksdb_storage.js';
import rocksdb from 'rocksdb';
import { SNAPSHOT_DIR, snapshotFileName } from './snapshot_files.js';

const entry = (index: number, term = 1, fill = index & 0xff): Entry => ({ index, term, type: 'normal', data: new Uint8Array(128).fill(fill) });
const range = (lo: number, hi: number, term = 1): Entry[] => Array.from({ length: hi - lo + 1 }, (_, i) => entry(lo + i, term));
const hs = (term: number, commit: number) => ({ term, vote: 1, commit });

async function withDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-storage-'));
  try {
    await f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Opens the store as plain RocksDB, for inspecting and damaging it. */
async function raw<T>(dir: string, f: (db: Awaited<ReturnType<typeof openDb>>) => Promise<T>): Promise<T> {
  const db = await openDb(dir, false);
  try {
    return await f(db);
  } finally {
    await closeDb(db);
  }
}

async function rawWrite(dir: string, ops: BatchOp[]): Promise<void> {
  await raw(dir, (db) => writeSynced(db, ops));
}

async function storedEntryIndexes(dir: string): Promise<number[]> {
  return raw(dir, async (db) => {
    const out: number[] = [];
    await forEachInRange(db, ENTRY_KEYS_START, ENTRY_KEYS_END, (k) => out.push(k.readUInt32BE(5)));
    return out;
  });
}

/** The snapshot files, each as "index:chunks" (its length-prefixed records counted). */
function storedSnapshots(dir: string): string[] {
  const sd = join(dir, SNAPSHOT_DIR);
  if (!existsSync(sd)) return [];
  return readdirSync(sd)
    .sort()
    .map((name) => {
      const b = readFileSync(join(sd, name));
      let n = 0;
      for (let pos = 0; pos < b.length; pos += 4 + b.readUInt32BE(pos)) n++;
      return `${parseInt(name, 16)}:${n}`;
    });
}

async function withOpen<T>(dir: string, f: (s: RocksDbStorage) => Promise<T>): Promise<T> {
  const s = await RocksDbStorage.open(dir);
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}

/** A format marker of the given version, as encodeFormat writes its own. */
function formatMarker(version: number): Buffer {
  const name = Buffer.from('navarch-raft');
  const b = Buffer.alloc(9 + name.length);
  b[4] = 1;
  b.writeUInt32BE(version, 5);
  name.copy(b, 9);
  b.writeUInt32BE(crc32(b.subarray(4)), 0);
  return b;
}

function snapshotAt(index: number, term: number, data: Uint8Array, voters = [1, 2, 3]): Snapshot {
  return { metadata: { index, term, confState: { voters, learners: [] } }, data };
}

test('hard state, entries, a local snapshot and compaction survive a reopen', async () => {
  await withDir(async (dir) => {
    const s = await RocksDbStorage.open(dir);
    const cc: Entry = { index: 4, term: 2, type: 'confChange', data: new Uint8Array([9, 8, 7]) };
    await s.save({ entries: range(1, 3), hardState: hs(1, 2) });
    await s.save({ entries: [cc, entry(5, 2)], hardState: hs(2, 5) });
    await s.createSnapshot(4, { voters: [1, 2, 3], learners: [4] }, new Uint8Array([1, 2, 3]));
    await s.compact(2);
    await s.close();

    const r = await RocksDbStorage.open(dir);
    assert.equal(r.firstIndex(), 3);
    assert.equal(r.lastIndex(), 5);
    assert.equal(r.term(2), 1);
    assert.deepEqual(r.initialState(), { hardState: hs(2, 5), confState: { voters: [1, 2, 3], learners: [4] } });
    assert.deepEqual(r.entries(3, 6, Infinity), [entry(3), cc, entry(5, 2)]);
    assert.deepEqual(await r.loadSnapshot(), { metadata: { index: 4, term: 2, confState: { voters: [1, 2, 3], learners: [4] } }, data: new Uint8Array([1, 2, 3]) });
    await r.close();
    assert.deepEqual(await storedEntryIndexes(dir), [3, 4, 5]);
  });
});

test("a log in snappy-compressed table files (as the binding's defaults wrote it) opens and reads the same", async () => {
  await withDir(async (dir) => {
    const log = range(1, 300).map((e) => ({ ...e, data: new Uint8Array(2048).fill(e.index & 0xff) }));
    await withOpen(dir, (s) => s.save({ entries: log, hardState: hs(1, 300) }));
    // Reopened with the older options, its flush writes the log into compressed table files.
    const db = rocksdb(dir);
    await new Promise<void>((resolve, reject) => db.open({ createIfMissing: false, compression: true, writeBufferSize: 4 << 20 }, (e) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve, reject) => db.compactRange(ENTRY_KEYS_START, ENTRY_KEYS_END, (e) => (e ? reject(e) : resolve())));
    await closeDb(db);
    assert.ok(readdirSync(dir).some((f) => f.endsWith('.sst')));
    await withOpen(dir, async (r) => {
      assert.equal(r.lastIndex(), 300);
      assert.deepEqual(r.entries(1, 301, Infinity), log);
    });
  });
});

test('a snapshot without compaction keeps the older log for catch-up across a reopen', async () => {
  await withDir(async (dir) => {
    const s = await RocksDbStorage.open(dir);
    await s.save({ entries: range(1, 10), hardState: hs(1, 10) });
    await s.createSnapshot(8, { voters: [1], learners: [] }, new Uint8Array([5]));
    await s.close();
    const r = await RocksDbStorage.open(dir);
    assert.equal(r.firstIndex(), 1);
    assert.equal(r.lastIndex(), 10);
    assert.equal(r.snapshot().metadata.index, 8);
    await r.close();
  });
});

test('the bootstrap snapshot at index 0 survives a reopen', async () => {
  await withDir(async (dir) => {
    const s = await RocksDbStorage.open(dir);
    await s.save({ entries: [], snapshot: snapshotAt(0, 0, new Uint8Array([42])) });
    await s.close();
    const r = await RocksDbStorage.open(dir);
    assert.deepEqual(await r.loadSnapshot(), snapshotAt(0, 0, new Uint8Array([42])));
    assert.equal(r.lastIndex(), 0);
    await r.close();
  });
});

test('a conflicting suffix is replaced on disk, whether shorter or longer', async () => {
  await withDir(async (dir) => {
    const s = await RocksDbStorage.open(dir);
    await s.save({ entries: range(1, 5), hardState: hs(2, 2) });
    await s.save({ entries: [entry(3, 2)] });
    assert.equal(s.lastIndex(), 3);
    await s.close();
    let r = await RocksDbStorage.open(dir);
    assert.equal(r.lastIndex(), 3);
    assert.equal(r.term(3), 2);
    await r.save({ entries: range(3, 7, 3) });
    await r.close();
    assert.deepEqual(await storedEntryIndexes(dir), [1, 2, 3, 4, 5, 6, 7]);
    r = await RocksDbStorage.open(dir);
    assert.deepEqual(
      r.entries(1, 8, Infinity).map((e) => e.term),
      [1, 1, 3, 3, 3, 3, 3],
    );
    await r.close();
  });
});

test('a snapshot from the leader replaces the whole log, with entries in the same batch', async () => {
  await withDir(async (dir) => {
    const s = await RocksDbStorage.open(dir);
    await s.save({ entries: range(1, 12), hardState: hs(1, 3) });
    await s.save({ entries: [entry(11, 3), entry(12, 3)], snapshot: snapshotAt(10, 3, new Uint8Array([1, 2])), hardState: hs(3, 10) });
    assert.equal(s.firstIndex(), 11);
    assert.equal(s.lastIndex(), 12);
    await s.close();
    assert.deepEqual(await storedEntryIndexes(dir), [11, 12]);
    const r = await RocksDbStorage.open(dir);
    assert.equal(r.firstIndex(), 11);
    assert.equal(r.term(10), 3);
    assert.equal(r.term(12), 3);
    assert.deepEqual([...(await r.loadSnapshot()).data], [1, 2]);
    await r.close();
  });
});

test('large snapshot data is stored in chunks in a file of its own, and an older, bigger snapshot leaves none behind', async () => {
  await withDir(async (dir) => {
    const big = new Uint8Array(40 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
    const s = await RocksDbStorage.open(dir);
    await s.save({ entries: range(1, 3), hardState: hs(1, 3) });
    await s.createSnapshot(2, { voters: [1], learners: [] }, big);
    await s.close();
    assert.deepEqual(storedSnapshots(dir), ['2:40']);
    assert.deepEqual(await storedChunkKeys(dir), [], 'no snapshot data in RocksDB');
    const r = await RocksDbStorage.open(dir);
    assert.ok(Buffer.from((await r.loadSnapshot()).data).equals(Buffer.from(big)), 'snapshot data differs after reopen');
    await r.createSnapshot(3, { voters: [1], learners: [] }, new Uint8Array(1024 * 1024 + 1));
    await r.close();
    assert.deepEqual(storedSnapshots(dir), ['3:2']);
    const r2 = await RocksDbStorage.open(dir);
    assert.equal((await r2.loadSnapshot()).data.byteLength, 1024 * 1024 + 1);
    await r2.close();
  });
});

test('a corrupted entry value is refused with a message naming its index', async () => {
  await withDir(async (dir) => {
    const s = await RocksDbStorage.open(dir);
    await s.save({ entries: range(1, 3), hardState: hs(1, 3) });
    await s.close();
    const v = await raw(dir, (db) => getValue(db, entryKey(2)));
    assert.ok(v);
    v[40] ^= 0xff;
    await rawWrite(dir, [{ type: 'put', key: entryKey(2), value: v }]);
    await assert.rejects(RocksDbStorage.open(dir), (e: Error) => {
      assert.ok(e instanceof CorruptStorageError);
      assert.match(e.message, /^Raft storage at '.*navarch-storage-.*' is corrupt: the log entry at index 2 fails its checksum \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)/);
      return true;
    });
  });
});

test('an entry stored under another index is refused', async () => {
  await withDir(async (dir) => {
    const s = await RocksDbStorage.open(dir);
    await s.save({ entries: range(1, 3), hardState: hs(1, 3) });
    await s.close();
    await rawWrite(dir, [{ type: 'put', key: entryKey(2), value: encodeEntry(entry(3)) }]);
    await assert.rejects(RocksDbStorage.open(dir), /the log entry at index 2 says it is index 3, expected 2 as its key says/);
  });
});

test('a gap in the log is refused', async () => {
  await withDir(async (dir) => {
    const s = await RocksDbStorage.open(dir);
    await s.save({ entries: range(1, 3), hardState: hs(1, 1) });
    await s.close();
    await rawWrite(dir, [{ type: 'del', key: entryKey(2) }]);
    await assert.rejects(RocksDbStorage.open(dir), /the log has a gap: expected entry 2 after entry 1, found entry 3/);
  });
});

test('a commit index past the end of the log is refused', async () => {
  await withDir(async (dir) => {
    const s = await RocksDbStorage.open(dir);
    await s.save({ entries: range(1, 3), hardState: hs(1, 3) });
    await s.close();
    await rawWrite(dir, [{ type: 'put', key: HARD_STATE_KEY, value: encodeHardState(hs(1, 9)) }]);
    await assert.rejects(RocksDbStorage.open(dir), /the hard state commits index 9 but the log ends at index 3/);
  });
});

test('a damaged or missing snapshot file, a foreign format and a newer format are refused', async () => {
  await withDir(async (dir) => {
    const s = await RocksDbStorage.open(dir, { snapshotChunkSizeBytes: 4096 });
    await s.save({ entries: range(1, 3), hardState: hs(1, 3) });
    await s.createSnapshot(3, { voters: [1], learners: [] }, new Uint8Array(10_000));
    await s.close();
    const file = join(dir, SNAPSHOT_DIR, snapshotFileName(3));
    const whole = readFileSync(file);
    const flipped = Buffer.from(whole);
    flipped[whole.length - 5] ^= 0x01;
    writeFileSync(file, flipped);
    await assert.rejects(RocksDbStorage.open(dir), /is corrupt: chunk 2 of the snapshot at index 3 \(snapshots\/0000000000000003\.snap\) fails its checksum/);
    truncateSync(file, whole.length - 10);
    await assert.rejects(RocksDbStorage.open(dir), /snapshots\/0000000000000003\.snap is 10053 bytes, expected 10063 for the 3 chunks of 10000 bytes its metadata says/);
    writeFileSync(file, Buffer.concat([whole, Buffer.from([0])]));
    await assert.rejects(RocksDbStorage.open(dir), /snapshots\/0000000000000003\.snap is 10064 bytes, expected 10063/);
    writeFileSync(file, whole);
    assert.deepEqual((await withOpen(dir, (r) => r.loadSnapshot())).data, new Uint8Array(10_000), 'the file as written reads back');
    unlinkSync(file);
    await assert.rejects(RocksDbStorage.open(dir), /the snapshot at index 3 is missing: no file snapshots\/0000000000000003\.snap and no chunks in the store/);
    await rawWrite(dir, [{ type: 'put', key: FORMAT_KEY, value: formatMarker(4) }]);
    await assert.rejects(RocksDbStorage.open(dir), /the format marker says 'navarch-raft' version 4, expected 'navarch-raft' version 3/);
    await rawWrite(dir, [{ type: 'put', key: FORMAT_KEY, value: Buffer.from('leveldb') }]);
    await assert.rejects(RocksDbStorage.open(dir), /the format marker \(key 'f'\) fails its checksum/);
  });
});

test('entries left by an interrupted compaction are ignored and cleaned at open', async () => {
  await withDir(async (dir) => {
    const s = await RocksDbStorage.open(dir);
    await s.save({ entries: range(1, 6), hardState: hs(1, 6) });
    await s.createSnapshot(4, { voters: [1], learners: [] }, new Uint8Array(0));
    await s.compact(4);
    await s.close();
    // What a crash between the synced log start and the range delete leaves.
    await rawWrite(dir, [{ type: 'put', key: entryKey(3), value: encodeEntry(entry(3)) }]);
    const r = await RocksDbStorage.open(dir);
    assert.equal(r.firstIndex(), 5);
    await r.close();
    assert.deepEqual(await storedEntryIndexes(dir), [5, 6]);
  });
});

test('a rejected save changes neither memory nor disk, and a closed storage refuses writes', async () => {
  await withDir(async (dir) => {
    const s = await RocksDbStorage.open(dir);
    await s.save({ entries: range(1, 3), hardState: hs(1, 2) });
    await assert.rejects(s.save({ entries: [entry(5)], hardState: hs(1, 3) }), /Cannot save entries from index 5: the log ends at 3, leaving a gap/);
    await assert.rejects(s.save({ entries: [entry(4), entry(6)] }), /entry 6 follows 4, expected 5/);
    assert.equal(s.lastIndex(), 3);
    assert.deepEqual(s.initialState().hardState, hs(1, 2));
    await s.close();
    await assert.rejects(s.save({ entries: [entry(4)] }), (e: Error) => e instanceof StorageClosedError && /Cannot save: raft storage at '.*' is closed/.test(e.message));
    assert.equal(s.lastIndex(), 3);
    const r = await RocksDbStorage.open(dir);
    assert.equal(r.lastIndex(), 3);
    assert.deepEqual(r.initialState().hardState, hs(1, 2));
    await r.close();
  });
});

test('a second opener, in this process or another, is refused clearly', async () => {
  await withDir(async (dir) => {
    const s = await RocksDbStorage.open(dir);
    await assert.rejects(RocksDbStorage.open(dir), (e: Error) => {
      assert.ok(e instanceof StorageLockedError);
      assert.equal(e.message, `Cannot open raft storage at '${dir}': it is in use by another process (lock held)`);
      return true;
    });
    const script = `import { RocksDbStorage } from ${JSON.stringify(join(import.meta.dirname, 'rocksdb_storage.ts'))};
      try { await RocksDbStorage.open(${JSON.stringify(dir)}); console.log('opened'); } catch (e) { console.log(e.message); }`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: join(import.meta.dirname, '../..'),
      timeout: 60_000,
    });
    assert.equal(child.stdout.trim(), `Cannot open raft storage at '${dir}': it is in use by another process (lock held)`, child.stderr);
    await s.close();
    const again = await RocksDbStorage.open(dir);
    await again.close();
  });
});

async function storedChunkKeys(dir: string): Promise<string[]> {
  const keys: string[] = [];
  await raw(dir, (db) => forEachInRange(db, CHUNK_KEYS_START, CHUNK_KEYS_END, (k) => void keys.push(k.toString('hex'))));
  return keys;
}

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

test('a prepared snapshot exists only once created; a crash before that leaves the previous one, and its chunks are cleaned at open', async () => {
  await withDir(async (dir) => {
    const cs = { voters: [1], learners: [] };
    const s = await RocksDbStorage.open(dir, { snapshotChunkSizeBytes: 4096 });
    await s.save({ entries: range(1, 6), hardState: hs(1, 6) });
    await s.createSnapshot(3, cs, bytes(10_000, 3));
    // Entries keep being saved while the next snapshot's chunks are written.
    const preparing = s.prepareSnapshot(5, bytes(9_000, 5));
    await s.save({ entries: range(7, 8), hardState: hs(1, 8) });
    await preparing;
    assert.equal(s.snapshot().metadata.index, 3);
    await s.close();
    assert.deepEqual(storedSnapshots(dir), ['3:3', '5:3']);
    // The crash: the metadata still names the snapshot at 3, whose file is intact.
    const r = await RocksDbStorage.open(dir, { snapshotChunkSizeBytes: 4096 });
    assert.equal(r.snapshot().metadata.index, 3);
    assert.deepEqual((await r.loadSnapshot()).data, bytes(10_000, 3));
    assert.equal(r.lastIndex(), 8);
    assert.deepEqual(await r.entries(7, 9, Infinity), range(7, 8));
    await r.close();
    assert.deepEqual(storedSnapshots(dir), ['3:3'], 'the unnamed file of the snapshot at 5 is deleted at open');
  });
});

test('a snapshot written in pieces is cut into chunks as it comes, named without its data, and read back whole', async () => {
  await withDir(async (dir) => {
    const cs = { voters: [1], learners: [] };
    const s = await RocksDbStorage.open(dir, { snapshotChunkSizeBytes: 4096 });
    await s.save({ entries: range(1, 6), hardState: hs(1, 6) });
    await assert.rejects(s.createSnapshot(5, cs), /Cannot create the snapshot at index 5: no data was given and none was written for it/);
    const pieces = [bytes(5_000, 1), bytes(100, 2), bytes(0, 3), bytes(9_000, 4)];
    const w = s.writeSnapshot(5);
    // As the store's snapshot hands them over: each piece in the same memory, overwritten once its write settles.
    const scratch = Buffer.alloc(9_000);
    for (const p of pieces) {
      scratch.set(p);
      await w.write(scratch.subarray(0, p.length));
      scratch.fill(0xee);
    }
    await w.finish();
    assert.equal(s.snapshot().metadata.index, 0, 'not named before createSnapshot');
    await s.createSnapshot(5, cs);
    await s.close();
    // Each piece was cut on its own (5,000 bytes: two chunks), not gathered first.
    assert.deepEqual(storedSnapshots(dir), ['5:6']);
    const r = await RocksDbStorage.open(dir, { snapshotChunkSizeBytes: 4096 });
    assert.equal(r.snapshot().metadata.index, 5);
    assert.deepEqual(Buffer.from((await r.loadSnapshot()).data), Buffer.concat(pieces));
    await r.close();
  });
});

test('a snapshot overtaken while it is written in pieces is not ready to name, and the newer one stays', async () => {
  await withDir(async (dir) => {
    const cs = { voters: [1], learners: [] };
    const s = await RocksDbStorage.open(dir, { snapshotChunkSizeBytes: 4096 });
    await s.save({ entries: range(1, 6), hardState: hs(1, 6) });
    const w = s.writeSnapshot(5);
    await w.write(bytes(5_000, 5));
    // The leader's snapshot at 9 arrives meanwhile.
    const leaders: Snapshot = { metadata: { index: 9, term: 1, confState: cs }, data: bytes(3_000, 9) };
    await s.save({ snapshot: leaders, entries: [], hardState: hs(1, 9) });
    await w.write(bytes(5_000, 6));
    assert.equal(await w.finish(), false);
    await s.createSnapshot(5, cs);
    assert.equal(s.snapshot().metadata.index, 9);
    assert.deepEqual((await s.loadSnapshot()).data, bytes(3_000, 9));
    await s.close();
  });
});

test('a created snapshot from prepared chunks survives a restart, and the chunks of the one before are deleted', async () => {
  await withDir(async (dir) => {
    const cs = { voters: [1, 2], learners: [] };
    const s = await RocksDbStorage.open(dir, { snapshotChunkSizeBytes: 4096 });
    await s.save({ entries: range(1, 6), hardState: hs(1, 6) });
    await s.createSnapshot(3, cs, bytes(10_000, 3));
    const data = bytes(9_000, 5);
    await s.prepareSnapshot(5, data);
    await s.createSnapshot(5, cs, data);
    await s.compact(4);
    await s.close();
    assert.deepEqual(storedSnapshots(dir), ['5:3']);
    const r = await RocksDbStorage.open(dir, { snapshotChunkSizeBytes: 4096 });
    assert.equal(r.snapshot().metadata.index, 5);
    assert.deepEqual(r.snapshot().metadata.confState, cs);
    assert.deepEqual((await r.loadSnapshot()).data, data);
    assert.equal(r.firstIndex(), 5);
    await r.close();
  });
});

test('a preparation overtaken by a snapshot received from the leader is never named, and a different data is written in full', async () => {
  await withDir(async (dir) => {
    const cs = { voters: [1], learners: [] };
    const s = await RocksDbStorage.open(dir, { snapshotChunkSizeBytes: 4096 });
    await s.save({ entries: range(1, 6), hardState: hs(1, 6) });
    const preparing = s.prepareSnapshot(4, bytes(20_000, 4));
    const received: Snapshot = { metadata: { index: 9, term: 2, confState: cs }, data: bytes(5_000, 9) };
    await s.save({ entries: [], snapshot: received, hardState: hs(2, 9) });
    await preparing;
    // Older than what storage holds: ignored.
    await s.createSnapshot(4, cs, bytes(20_000, 4));
    assert.equal(s.snapshot().metadata.index, 9);
    await s.save({ entries: range(10, 12, 2), hardState: hs(2, 12) });
    // Prepared with other bytes than those created: the created bytes are what is stored.
    await s.prepareSnapshot(11, bytes(6_000, 1));
    await s.createSnapshot(11, cs, bytes(7_000, 11));
    await s.close();
    const r = await RocksDbStorage.open(dir, { snapshotChunkSizeBytes: 4096 });
    assert.equal(r.snapshot().metadata.index, 11);
    assert.deepEqual((await r.loadSnapshot()).data, bytes(7_000, 11));
    await r.close();
    assert.deepEqual(storedSnapshots(dir), ['11:2']);
  });
});

/**
 * A store as the format before snapshot files left it: entries 1 to 6, and the 5,000 bytes of the
 * snapshot at 4 (voter 1) as two chunk values under the given keys.
 */
async function formatTwoStore(dir: string, data: Uint8Array, key: (n: number) => Buffer): Promise<void> {
  const s = await RocksDbStorage.open(dir, { snapshotChunkSizeBytes: 4096 });
  await s.save({ entries: range(1, 6), hardState: hs(1, 6) });
  await s.close();
  await rawWrite(dir, [
    { type: 'put', key: FORMAT_KEY, value: formatMarker(2) },
    { type: 'put', key: key(0), value: encodeSnapChunk(4, 0, data.subarray(0, 4096)) },
    { type: 'put', key: key(1), value: encodeSnapChunk(4, 1, data.subarray(4096)) },
    { type: 'put', key: SNAP_META_KEY, value: encodeSnapMeta({ index: 4, term: 1, confState: { voters: [1], learners: [] }, dataBytes: data.byteLength, chunks: 2 }) },
  ]);
}

test('a store whose chunks use the layout before index-keyed chunks still opens, and its next snapshot replaces them', async () => {
  await withDir(async (dir) => {
    const cs = { voters: [1], learners: [] };
    const old = bytes(5_000, 7);
    await formatTwoStore(dir, old, legacyChunkKey);
    const r = await RocksDbStorage.open(dir, { snapshotChunkSizeBytes: 4096 });
    assert.deepEqual((await r.loadSnapshot()).data, old);
    await r.createSnapshot(6, cs, bytes(100, 6));
    await r.close();
    assert.deepEqual(await storedChunkKeys(dir), []);
    assert.deepEqual(storedSnapshots(dir), ['6:1']);
    const again = await RocksDbStorage.open(dir, { snapshotChunkSizeBytes: 4096 });
    assert.deepEqual((await again.loadSnapshot()).data, bytes(100, 6));
    await again.close();
  });
});

test('a store of the format before snapshot files opens with its snapshot in RocksDB, and its next snapshot goes to a file and raises the format', async () => {
  await withDir(async (dir) => {
    const cs = { voters: [1], learners: [] };
    const old = bytes(5_000, 8);
    await formatTwoStore(dir, old, (n) => chunkKey(4, n));
    const r = await RocksDbStorage.open(dir, { snapshotChunkSizeBytes: 4096 });
    assert.deepEqual((await r.loadSnapshot()).data, old);
    await r.close();
    assert.deepEqual(await raw(dir, (db) => getValue(db, FORMAT_KEY)), formatMarker(2), 'the previous binary can still open it');
    const again = await RocksDbStorage.open(dir, { snapshotChunkSizeBytes: 4096 });
    assert.deepEqual((await again.loadSnapshot()).data, old);
    await again.createSnapshot(6, cs, bytes(5_000, 6));
    await again.close();
    assert.deepEqual(await raw(dir, (db) => getValue(db, FORMAT_KEY)), formatMarker(3), 'raised with the first snapshot file');
    assert.deepEqual(await storedChunkKeys(dir), []);
    assert.deepEqual(storedSnapshots(dir), ['6:2']);
  });
});

test('closing storage in the middle of a preparation closes its file, and the next open deletes it', async () => {
  await withDir(async (dir) => {
    const openFds = () => readdirSync('/proc/self/fd').length;
    const unopened = openFds();
    const s = await RocksDbStorage.open(dir, { snapshotChunkSizeBytes: 4096 });
    await s.save({ entries: range(1, 6), hardState: hs(1, 6) });
    const before = openFds();
    const w = s.writeSnapshot(5);
    await w.write(bytes(5_000, 5));
    assert.equal(openFds(), before + 1, 'the file being written');
    await s.close();
    assert.equal(openFds(), unopened, 'the file and the store are closed');
    await assert.rejects(w.write(bytes(10, 1)), StorageClosedError);
    assert.deepEqual(readdirSync(join(dir, SNAPSHOT_DIR)), [`${snapshotFileName(5)}.tmp`]);
    await withOpen(dir, async (r) => assert.equal(r.snapshot().metadata.index, 0));
    assert.deepEqual(readdirSync(join(dir, SNAPSHOT_DIR)), []);
  });
});

test('a snapshot data stays on disk: snapshot() gives its metadata only, loadSnapshot() reads the newest one', async () => {
  await withDir(async (dir) => {
    const s = await RocksDbStorage.open(dir);
    await s.save({ entries: range(1, 4), hardState: hs(1, 4) });
    await s.createSnapshot(2, { voters: [1], learners: [] }, bytes(5_000, 2));
    assert.equal(s.snapshot().metadata.index, 2);
    assert.equal(s.snapshot().data.byteLength, 0);
    const reading = s.loadSnapshot();
    await s.createSnapshot(3, { voters: [1], learners: [] }, bytes(6_000, 3));
    const first = await reading;
    // Either the one asked for, whole, or the newer one that replaced it: never a mix.
    assert.deepEqual(first.data, bytes(first.metadata.index === 2 ? 5_000 : 6_000, first.metadata.index));
    assert.deepEqual(await s.loadSnapshot(), { metadata: { index: 3, term: 1, confState: { voters: [1], learners: [] } }, data: bytes(6_000, 3) });
    await s.save({ entries: [], snapshot: { metadata: { index: 9, term: 2, confState: { voters: [1], learners: [] } }, data: bytes(100, 9) } });
    assert.equal(s.snapshot().data.byteLength, 0);
    assert.deepEqual((await s.loadSnapshot()).data, bytes(100, 9));
    await s.close();
  });
});
