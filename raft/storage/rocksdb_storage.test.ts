import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import rocksdb from 'rocksdb';
import type { Entry } from '../core/types.js';
import { CorruptStorageError, RocksDbStorage, StorageLockedError } from './rocksdb_storage.js';

const entry = (index: number, term = 1, fill = index & 0xff): Entry => ({ index, term, type: 'normal', data: new Uint8Array(128).fill(fill) });

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'navarch-storage-'));
}

test('entries, hard state and snapshot survive a reopen', async () => {
  const dir = tempDir();
  try {
    const s = await RocksDbStorage.open(dir);
    await s.save({ entries: [entry(1), entry(2), entry(3)], hardState: { term: 1, vote: 2, commit: 2 } });
    await s.save({ entries: [entry(3, 2), entry(4, 2)] });
    await s.createSnapshot(2, { voters: [1, 2, 3], learners: [4] }, new Uint8Array(9_000_000).fill(7));
    await s.compact(2);
    await s.close();
    const r = await RocksDbStorage.open(dir);
    assert.equal(r.firstIndex(), 3);
    assert.equal(r.lastIndex(), 4);
    assert.equal(r.term(3), 2);
    assert.deepEqual(r.initialState().hardState, { term: 1, vote: 2, commit: 2 });
    assert.deepEqual(r.snapshot().metadata, { index: 2, term: 1, confState: { voters: [1, 2, 3], learners: [4] } });
    assert.equal(r.snapshot().data.byteLength, 9_000_000);
    assert.equal(r.snapshot().data[8_999_999], 7);
    await r.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a shorter conflicting suffix replaces the old one on disk', async () => {
  const dir = tempDir();
  try {
    const s = await RocksDbStorage.open(dir);
    await s.save({ entries: [1, 2, 3, 4, 5].map((i) => entry(i)) });
    await s.save({ entries: [entry(3, 2)] });
    await s.close();
    const r = await RocksDbStorage.open(dir);
    assert.equal(r.lastIndex(), 3);
    assert.equal(r.term(3), 2);
    await r.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a snapshot from the leader replaces the whole log', async () => {
  const dir = tempDir();
  try {
    const s = await RocksDbStorage.open(dir);
    await s.save({ entries: [1, 2, 3].map((i) => entry(i)) });
    await s.save({ entries: [], snapshot: { metadata: { index: 10, term: 3, confState: { voters: [1], learners: [] } }, data: new Uint8Array([1, 2]) } });
    await s.close();
    const r = await RocksDbStorage.open(dir);
    assert.equal(r.firstIndex(), 11);
    assert.equal(r.lastIndex(), 10);
    assert.deepEqual([...r.snapshot().data], [1, 2]);
    await r.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function rawPut(dir: string, key: Buffer, value: Buffer | null): Promise<void> {
  const db = rocksdb(dir);
  await new Promise<void>((res, rej) => db.open({}, (e) => (e ? rej(e) : res())));
  await new Promise<void>((res, rej) => {
    const cb = (e?: Error | null): void => (e ? rej(e) : res());
    if (value) db.put(key, value, {}, cb);
    else db.batch([{ type: 'del', key }], {}, cb);
  });
  await new Promise<void>((res) => db.close(() => res()));
}

function entryKey(i: number): Buffer {
  const k = Buffer.alloc(9);
  k[0] = 0x65;
  k.writeBigUInt64BE(BigInt(i), 1);
  return k;
}

test('a corrupted entry is refused with a message naming its index', async () => {
  const dir = tempDir();
  try {
    const s = await RocksDbStorage.open(dir);
    await s.save({ entries: [1, 2, 3].map((i) => entry(i)), hardState: { term: 1, vote: 1, commit: 3 } });
    await s.close();
    const db = rocksdb(dir);
    await new Promise<void>((res, rej) => db.open({}, (e) => (e ? rej(e) : res())));
    const v = await new Promise<Buffer>((res, rej) => db.get(entryKey(2), { asBuffer: true }, (e, val) => (e ? rej(e) : res(val!))));
    await new Promise<void>((res) => db.close(() => res()));
    v[40] ^= 0xff;
    await rawPut(dir, entryKey(2), v);
    await assert.rejects(RocksDbStorage.open(dir), (e: Error) => e instanceof CorruptStorageError && /log entry 2 fails its checksum/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a gap in the log is refused', async () => {
  const dir = tempDir();
  try {
    const s = await RocksDbStorage.open(dir);
    await s.save({ entries: [1, 2, 3].map((i) => entry(i)) });
    await s.close();
    await rawPut(dir, entryKey(2), null);
    await assert.rejects(RocksDbStorage.open(dir), /log has a gap: expected entry 2 .* found 3/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a second opener, in this process or another, is refused clearly', async () => {
  const dir = tempDir();
  try {
    const s = await RocksDbStorage.open(dir);
    await assert.rejects(RocksDbStorage.open(dir), (e: Error) => e instanceof StorageLockedError && /in use by another process/.test(e.message));
    const script = `import { RocksDbStorage } from ${JSON.stringify(join(import.meta.dirname, 'rocksdb_storage.ts'))};
      try { await RocksDbStorage.open(${JSON.stringify(dir)}); console.log('opened'); } catch (e) { console.log(e.message); }`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: join(import.meta.dirname, '../..') });
    assert.match(r.stdout, /in use by another process \(lock held\)/);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
