// The durable Raft log on RocksDB. Reads come from an in-memory copy of the
// uncompacted log (loaded and verified at open); each save is one synced
// WriteBatch, and memory changes only after the batch is on disk.

import { crc32 } from 'node:zlib';
import rocksdb, { type RocksDb } from 'rocksdb';
import { MemoryStorage } from '../core/memory_storage.js';
import type { ConfState, Entry, HardState, Snapshot } from '../core/types.js';
import type { PersistBatch, RaftStorage } from './raft_storage.js';

export class CorruptStorageError extends Error {
  override name = 'CorruptStorageError';
  constructor(dir: string, detail: string) {
    super(`Cannot open raft storage at '${dir}': ${detail}; the data is corrupt, refusing to start`);
  }
}

export class StorageLockedError extends Error {
  override name = 'StorageLockedError';
  constructor(dir: string, cause: Error) {
    super(`Cannot open raft storage at '${dir}': it is in use by another process (lock held)`, { cause });
  }
}

const FORMAT_KEY = Buffer.from('f');
const HARD_STATE_KEY = Buffer.from('h');
const SNAP_META_KEY = Buffer.from('s');
const ENTRY_PREFIX = 0x65; // 'e'
const SNAP_CHUNK_PREFIX = 0x63; // 'c'
const FORMAT = Buffer.from('navarch-raft-1');
const SNAPSHOT_CHUNK_BYTES = 4 * 1024 * 1024;

function entryKey(index: number): Buffer {
  const k = Buffer.allocUnsafe(9);
  k[0] = ENTRY_PREFIX;
  k.writeBigUInt64BE(BigInt(index), 1);
  return k;
}

function chunkKey(i: number): Buffer {
  const k = Buffer.allocUnsafe(5);
  k[0] = SNAP_CHUNK_PREFIX;
  k.writeUInt32BE(i, 1);
  return k;
}

/** payload + 4-byte CRC32 of the payload. */
function seal(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(payload.length + 4);
  payload.copy(out, 0);
  out.writeUInt32BE(crc32(payload), payload.length);
  return out;
}

function unseal(value: Buffer, what: string, dir: string): Buffer {
  if (value.length < 4) throw new CorruptStorageError(dir, `${what} is ${value.length} bytes, shorter than its checksum`);
  const payload = value.subarray(0, value.length - 4);
  const want = value.readUInt32BE(value.length - 4);
  const got = crc32(payload);
  if (want !== got) throw new CorruptStorageError(dir, `${what} fails its checksum (stored ${want.toString(16)}, computed ${got.toString(16)})`);
  return payload;
}

// Entry value: u64 term, u64 index, u8 type, data.
function encodeEntry(e: Entry): Buffer {
  const b = Buffer.allocUnsafe(17 + e.data.byteLength);
  b.writeBigUInt64BE(BigInt(e.term), 0);
  b.writeBigUInt64BE(BigInt(e.index), 8);
  b[16] = e.type === 'confChange' ? 1 : 0;
  b.set(e.data, 17);
  return seal(b);
}

function decodeEntry(value: Buffer, keyIndex: number, dir: string): Entry {
  const p = unseal(value, `log entry ${keyIndex}`, dir);
  if (p.length < 17) throw new CorruptStorageError(dir, `log entry ${keyIndex} is ${p.length} bytes, shorter than its header`);
  const index = Number(p.readBigUInt64BE(8));
  if (index !== keyIndex) throw new CorruptStorageError(dir, `log entry stored under index ${keyIndex} says it is index ${index}`);
  if (p[16] > 1) throw new CorruptStorageError(dir, `log entry ${keyIndex} has unknown type ${p[16]}`);
  return { term: Number(p.readBigUInt64BE(0)), index, type: p[16] === 1 ? 'confChange' : 'normal', data: new Uint8Array(p.subarray(17)) };
}

function encodeJson(v: unknown): Buffer {
  return seal(Buffer.from(JSON.stringify(v)));
}

type Db = RocksDb;

function promisify<T>(fn: (cb: (err: Error | undefined | null, v?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));
}

interface SnapMeta {
  index: number;
  term: number;
  confState: ConfState;
  chunks: number;
  bytes: number;
}

export class RocksDbStorage implements RaftStorage {
  private constructor(
    private readonly db: Db,
    private readonly dir: string,
    private readonly mem: MemoryStorage,
  ) {}

  static async open(dir: string): Promise<RocksDbStorage> {
    const db = rocksdb(dir);
    try {
      await promisify<void>((cb) => db.open({ createIfMissing: true }, cb));
    } catch (e) {
      const msg = (e as Error).message;
      if (/lock/i.test(msg)) throw new StorageLockedError(dir, e as Error);
      throw new Error(`Cannot open raft storage at '${dir}': ${msg}`, { cause: e });
    }
    try {
      const mem = await load(db, dir);
      return new RocksDbStorage(db, dir, mem);
    } catch (e) {
      await promisify<void>((cb) => db.close(cb)).catch(() => {});
      throw e;
    }
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.mem.initialState();
  }
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    return this.mem.entries(lo, hi, maxSizeBytes);
  }
  term(i: number): number {
    return this.mem.term(i);
  }
  firstIndex(): number {
    return this.mem.firstIndex();
  }
  lastIndex(): number {
    return this.mem.lastIndex();
  }
  snapshot(): Snapshot {
    return this.mem.snapshot();
  }

  async save(batch: PersistBatch): Promise<void> {
    const ops: Array<{ type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer }> = [];
    let last = this.mem.lastIndex();
    if (batch.snapshot) {
      for (let i = this.mem.firstIndex(); i <= last; i++) ops.push({ type: 'del', key: entryKey(i) });
      this.putSnapshot(ops, batch.snapshot);
      last = batch.snapshot.metadata.index;
    }
    if (batch.entries.length > 0) {
      for (const e of batch.entries) ops.push({ type: 'put', key: entryKey(e.index), value: encodeEntry(e) });
      const newLast = batch.entries[batch.entries.length - 1].index;
      // A shorter replacement must not leave a stale suffix behind.
      for (let i = newLast + 1; i <= last; i++) ops.push({ type: 'del', key: entryKey(i) });
    }
    if (batch.hardState) ops.push({ type: 'put', key: HARD_STATE_KEY, value: encodeJson(batch.hardState) });
    if (ops.length === 0) return;
    await promisify<void>((cb) => this.db.batch(ops, { sync: batch.sync !== false }, cb));
    if (batch.snapshot) this.mem.applySnapshot(batch.snapshot);
    if (batch.entries.length > 0) this.mem.append(batch.entries);
    if (batch.hardState) this.mem.setHardState(batch.hardState);
  }

  private putSnapshot(ops: Array<{ type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer }>, s: Snapshot): void {
    const old = this.mem.snapshot();
    const oldChunks = Math.ceil(old.data.byteLength / SNAPSHOT_CHUNK_BYTES);
    const chunks = Math.ceil(s.data.byteLength / SNAPSHOT_CHUNK_BYTES);
    for (let i = 0; i < chunks; i++) {
      ops.push({ type: 'put', key: chunkKey(i), value: seal(Buffer.from(s.data.subarray(i * SNAPSHOT_CHUNK_BYTES, (i + 1) * SNAPSHOT_CHUNK_BYTES))) });
    }
    for (let i = chunks; i < oldChunks; i++) ops.push({ type: 'del', key: chunkKey(i) });
    const meta: SnapMeta = { ...s.metadata, chunks, bytes: s.data.byteLength };
    ops.push({ type: 'put', key: SNAP_META_KEY, value: encodeJson(meta) });
  }

  async createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot> {
    if (index <= this.mem.snapshot().metadata.index) return this.mem.snapshot();
    const term = this.mem.term(index);
    const snap: Snapshot = { metadata: { index, term, confState: { voters: [...confState.voters], learners: [...confState.learners] } }, data };
    const ops: Array<{ type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer }> = [];
    this.putSnapshot(ops, snap);
    await promisify<void>((cb) => this.db.batch(ops, { sync: true }, cb));
    return this.mem.createSnapshot(index, confState, data);
  }

  async compact(index: number): Promise<void> {
    const first = this.mem.firstIndex();
    if (index < first) return;
    if (index > this.mem.snapshot().metadata.index) {
      throw new RangeError(`Cannot compact the log to ${index}: the latest snapshot is at ${this.mem.snapshot().metadata.index}`);
    }
    // Entries up to the snapshot are covered by it; deleting them is safe once the snapshot is synced.
    await promisify<void>((cb) => this.db.clear({ gte: entryKey(first), lte: entryKey(index) }, cb));
    this.mem.compact(index);
  }

  async close(): Promise<void> {
    await promisify<void>((cb) => this.db.close(cb));
  }
}

async function load(db: Db, dir: string): Promise<MemoryStorage> {
  const mem = new MemoryStorage();
  const get = (key: Buffer): Promise<Buffer | undefined> =>
    new Promise((resolve, reject) =>
      db.get(key, { asBuffer: true }, (err, v) => {
        if (err) {
          if (/NotFound/i.test(err.message)) resolve(undefined);
          else reject(err);
        } else resolve(v as Buffer);
      }),
    );
  const format = await get(FORMAT_KEY);
  if (!format) {
    await promisify<void>((cb) => db.put(FORMAT_KEY, FORMAT, { sync: true }, cb));
  } else if (!format.equals(FORMAT)) {
    throw new CorruptStorageError(dir, `format marker is '${format.toString()}', expected '${FORMAT.toString()}'`);
  }

  const metaRaw = await get(SNAP_META_KEY);
  if (metaRaw) {
    const meta = JSON.parse(unseal(metaRaw, 'snapshot metadata', dir).toString()) as SnapMeta;
    const data = Buffer.allocUnsafe(meta.bytes);
    let off = 0;
    for (let i = 0; i < meta.chunks; i++) {
      const c = await get(chunkKey(i));
      if (!c) throw new CorruptStorageError(dir, `snapshot chunk ${i} of ${meta.chunks} is missing`);
      const p = unseal(c, `snapshot chunk ${i}`, dir);
      p.copy(data, off);
      off += p.length;
    }
    if (off !== meta.bytes) throw new CorruptStorageError(dir, `snapshot data is ${off} bytes, its metadata says ${meta.bytes}`);
    mem.applySnapshot({ metadata: { index: meta.index, term: meta.term, confState: meta.confState }, data: new Uint8Array(data) });
  }

  const entries: Entry[] = [];
  const snapIndex = mem.snapshot().metadata.index;
  await new Promise<void>((resolve, reject) => {
    const it = db.iterator({ gte: entryKey(0), lt: Buffer.from([ENTRY_PREFIX + 1]), keyAsBuffer: true, valueAsBuffer: true });
    const next = (): void =>
      it.next((err, key, value) => {
        if (err) return it.end(() => reject(err));
        if (key === undefined) return it.end(() => resolve());
        try {
          const k = key as Buffer;
          const index = Number(k.readBigUInt64BE(1));
          const e = decodeEntry(value as Buffer, index, dir);
          if (index > snapIndex) entries.push(e);
        } catch (e2) {
          return it.end(() => reject(e2));
        }
        next();
      });
    next();
  });
  for (let i = 0; i < entries.length; i++) {
    const want = snapIndex + 1 + i;
    if (entries[i].index !== want) {
      throw new CorruptStorageError(dir, `log has a gap: expected entry ${want} after the snapshot at ${snapIndex}, found ${entries[i].index}`);
    }
  }
  mem.append(entries);

  const hsRaw = await get(HARD_STATE_KEY);
  if (hsRaw) {
    const hs = JSON.parse(unseal(hsRaw, 'hard state', dir).toString()) as HardState;
    if (hs.commit > mem.lastIndex()) {
      throw new CorruptStorageError(dir, `hard state commits index ${hs.commit} but the log ends at ${mem.lastIndex()}`);
    }
    mem.setHardState(hs);
  }
  return mem;
}
