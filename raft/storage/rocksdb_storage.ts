// The durable Raft log on RocksDB. Reads come from an in-memory copy of the
// uncompacted log, loaded and verified at open; each write is one synced
// WriteBatch, and memory changes only after the batch is on disk, so a
// failed write leaves both as they were. A snapshot's data stays on disk only
// (it is the whole state: hundreds of MiB on a large cluster), in a file of
// its own (snapshot_files.ts) that is synced before the metadata in RocksDB
// names it; snapshot() gives the metadata, and loadSnapshot() reads the data
// for a restore or a follower.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cloneConfState, type MemoryStorage } from '../core/memory_storage.js';
import type { ConfState, Entry, HardState, Snapshot } from '../core/types.js';
import {
  encodeEntries,
  encodeFormat,
  FORMAT_KEY,
  encodeHardState,
  encodeLogStart,
  encodeSnapMeta,
  entryKey,
  HARD_STATE_KEY,
  LOG_START_KEY,
  SNAP_META_KEY,
} from './codec.js';
import { StorageClosedError, StorageLockedError } from './errors.js';
import { MAX_SNAPSHOT_CHUNK_BYTES, NO_DATA, dropChunksExcept, loadAndVerify, readStoredSnapshot } from './load.js';
import type { PersistBatch, RaftStorage, SnapshotWriter } from './raft_storage.js';
import { type BatchOp, type RocksDb, clearRange, closeDb, openDb, writeSynced } from './rocksdb_db.js';
import { SNAPSHOT_DIR, SnapshotFiles, type SnapshotFileWriter } from './snapshot_files.js';

export { CorruptStorageError, StorageClosedError, StorageLockedError } from './errors.js';

export interface RocksDbStorageOptions {
  /** Snapshot data is stored in checksummed chunks of at most this size. Default 1 MiB. */
  snapshotChunkSizeBytes?: number;
}

const DEFAULT_CHUNK_BYTES = 1024 * 1024;
const MIN_CHUNK_BYTES = 4 * 1024;
const MAX_CHUNK_BYTES = MAX_SNAPSHOT_CHUNK_BYTES;
/** Attempts to read a snapshot that newer ones keep replacing under the read. */
const SNAPSHOT_READ_ATTEMPTS = 3;

function withoutData(s: Snapshot): Snapshot {
  return { metadata: s.metadata, data: NO_DATA };
}

export class RocksDbStorage implements RaftStorage {
  private closed = false;
  private writing = false;
  /** The snapshot whose chunks were written (writeSnapshot), waiting for createSnapshot to name it in the metadata. */
  private prepared: { index: number; dataBytes: number; chunks: number; data?: Uint8Array } | undefined;
  /** Goes up whenever snapshot files not named by the metadata are deleted: a preparation running across that lost its file. */
  private dropEpoch = 0;

  private constructor(
    private readonly db: RocksDb,
    private readonly dir: string,
    private readonly files: SnapshotFiles,
    private readonly mem: MemoryStorage,
    private readonly chunkSizeBytes: number,
    /** What open read and verified, kept for the restore that follows it, then dropped. */
    private openedSnapshot: { index: number; data: Uint8Array } | undefined,
    /** The format marker still says the format before snapshot files (see Loaded.formatBehind). */
    private formatBehind: boolean,
  ) {}

  /**
   * Opens (creating if missing) and verifies the store. Rejects with
   * CorruptStorageError if anything stored is wrong, and with
   * StorageLockedError if another opener holds the dir.
   */
  static async open(dir: string, options: RocksDbStorageOptions = {}): Promise<RocksDbStorage> {
    const chunkSizeBytes = options.snapshotChunkSizeBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isInteger(chunkSizeBytes) || chunkSizeBytes < MIN_CHUNK_BYTES || chunkSizeBytes > MAX_CHUNK_BYTES) {
      throw new RangeError(`Invalid snapshotChunkSizeBytes ${JSON.stringify(chunkSizeBytes)}: expected an integer from ${MIN_CHUNK_BYTES} to ${MAX_CHUNK_BYTES}`);
    }
    let db: RocksDb;
    try {
      mkdirSync(dir, { recursive: true });
      db = await openDb(dir, true);
    } catch (e) {
      const err = e as Error;
      // RocksDB's LOCK file: "lock hold by current process" in-process, EAGAIN across processes.
      if (/\/LOCK\b|lock hold/i.test(err.message)) throw new StorageLockedError(dir, err);
      throw new Error(`Cannot open raft storage at '${dir}': ${err.message}`, { cause: err });
    }
    try {
      const files = new SnapshotFiles(join(dir, SNAPSHOT_DIR));
      const loaded = await loadAndVerify(db, dir, files);
      return new RocksDbStorage(db, dir, files, loaded.mem, chunkSizeBytes, loaded.snapshotData, loaded.formatBehind);
    } catch (e) {
      await closeDb(db).catch(() => {});
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
  /** The latest snapshot's metadata; its data is empty here (loadSnapshot reads it). */
  snapshot(): Snapshot {
    return this.mem.snapshot();
  }

  /** The latest snapshot with its data, read from disk (a newer one may replace it meanwhile: then that one). */
  async loadSnapshot(): Promise<Snapshot> {
    let index = this.mem.snapshot().metadata.index;
    for (let attempt = 1; attempt <= SNAPSHOT_READ_ATTEMPTS; attempt++) {
      if (this.closed) throw new StorageClosedError(this.dir, 'read the snapshot');
      const held = this.mem.snapshot();
      index = held.metadata.index;
      const opened = this.openedSnapshot;
      this.openedSnapshot = undefined;
      if (opened?.index === index) return { metadata: held.metadata, data: opened.data };
      try {
        const stored = await readStoredSnapshot(this.db, this.dir, this.files);
        const now = this.mem.snapshot();
        if (stored === undefined) return now;
        if (stored.meta.index === now.metadata.index) return { metadata: now.metadata, data: stored.data };
      } catch (e) {
        // The file deleted under the read because a newer snapshot was named: read that one.
        if (this.mem.snapshot().metadata.index === index || attempt === SNAPSHOT_READ_ATTEMPTS) throw e;
      }
    }
    throw new Error(`Cannot read the snapshot at index ${index} from '${this.dir}': it kept being replaced`);
  }

  async save(batch: PersistBatch): Promise<void> {
    this.checkWritable('save');
    const ops: BatchOp[] = [];
    let first = this.mem.firstIndex();
    let last = this.mem.lastIndex();
    const staleFrom = first;
    let staleTo = 0;
    const snap = batch.snapshot;
    if (snap) {
      const si = snap.metadata.index;
      const held = this.mem.snapshot().metadata.index;
      if (si < held) throw new RangeError(`Cannot save the snapshot at index ${si}: storage already holds the snapshot at index ${held}`);
      for (let i = Math.max(si + 1, first); i <= last; i++) ops.push({ type: 'del', key: entryKey(i) });
      // Entries up to the snapshot are dropped lazily: the log start marks them dead.
      if (Math.min(si, last) >= first) staleTo = Math.min(si, last);
      ops.push(await this.writeSnapshotFile(snap), ...this.formatOps());
      ops.push({ type: 'put', key: LOG_START_KEY, value: encodeLogStart({ index: si, term: snap.metadata.term }) });
      first = si + 1;
      last = si;
    }
    const entries = batch.entries;
    if (entries.length > 0) {
      const e0 = entries[0].index;
      for (let i = 1; i < entries.length; i++) {
        if (entries[i].index !== e0 + i) throw new RangeError(`Cannot save entries: entry ${entries[i].index} follows ${entries[i - 1].index}, expected ${e0 + i}`);
      }
      if (e0 > last + 1) throw new RangeError(`Cannot save entries from index ${e0}: the log ends at ${last}, leaving a gap`);
      // Entries already compacted away are skipped, as MemoryStorage.append does.
      const es = e0 < first ? entries.slice(first - e0) : entries;
      if (es.length > 0) {
        const { keys, values } = encodeEntries(es);
        for (let i = 0; i < es.length; i++) ops.push({ type: 'put', key: keys[i], value: values[i] });
        // A shorter replacement must not leave the old suffix behind.
        for (let i = es[es.length - 1].index + 1; i <= last; i++) ops.push({ type: 'del', key: entryKey(i) });
      }
    }
    if (batch.hardState) ops.push({ type: 'put', key: HARD_STATE_KEY, value: encodeHardState(batch.hardState) });
    if (ops.length === 0) return;

    // Only a batch that is nothing but a moved commit index may skip the fsync: losing it is harmless.
    const sync = batch.sync !== false || entries.length > 0 || snap !== undefined;
    await this.write(ops, sync);
    if (snap) {
      this.formatBehind = false;
      this.mem.applySnapshot(withoutData(snap));
    }
    if (entries.length > 0) this.mem.append(entries);
    if (batch.hardState) this.mem.setHardState(batch.hardState);
    if (staleTo > 0) await this.dropStale(staleFrom, staleTo);
    if (snap) await this.dropOtherSnapshots(snap.metadata.index);
  }

  /**
   * Writes the file of a snapshot the state machine took at `index`, one
   * chunk per write, so the event loop runs between them. Runs alongside
   * save(): no metadata names this index yet.
   */
  async prepareSnapshot(index: number, data: Uint8Array): Promise<void> {
    const writer = this.writeSnapshot(index);
    await writer.write(data);
    await writer.finish();
    if (this.prepared?.index === index) this.prepared.data = data;
  }

  /** The same, as the data comes: each piece is cut into chunks of at most snapshotChunkSizeBytes. */
  writeSnapshot(index: number): SnapshotWriter {
    const epoch = this.dropEpoch;
    const size = this.chunkSizeBytes;
    let file: Promise<SnapshotFileWriter> | undefined;
    let dataBytes = 0;
    // Overtaken by a newer snapshot: the rest is not written, and createSnapshot finds nothing prepared.
    const overtaken = () => index <= this.mem.snapshot().metadata.index || epoch !== this.dropEpoch;
    return {
      write: async (piece) => {
        for (let at = 0; at < piece.byteLength; at += size) {
          if (this.closed) throw new StorageClosedError(this.dir, 'prepare a snapshot');
          if (overtaken()) return;
          const w = await (file ??= this.files.create(index));
          await w.append(piece.subarray(at, at + size));
        }
        dataBytes += piece.byteLength;
      },
      finish: async () => {
        if (this.closed) throw new StorageClosedError(this.dir, 'prepare a snapshot');
        if (overtaken()) {
          // Its file, if any, is deleted with the next snapshot's or at the next open.
          if (file) await (await file).close();
          return false;
        }
        const chunks = await (await (file ??= this.files.create(index))).finish();
        // Its file may have been deleted while it was synced.
        if (overtaken()) return false;
        this.prepared = { index, dataBytes, chunks };
        return true;
      },
    };
  }

  async createSnapshot(index: number, confState: ConfState, data?: Uint8Array): Promise<Snapshot> {
    this.checkWritable('create a snapshot');
    if (index <= this.mem.snapshot().metadata.index) return this.mem.snapshot();
    if (index > this.mem.lastIndex()) throw new RangeError(`Cannot snapshot at index ${index}: past the last index ${this.mem.lastIndex()}`);
    const prepared = this.prepared?.index === index && (data === undefined || this.prepared.data === data) ? this.prepared : undefined;
    if (data === undefined && prepared === undefined) throw new Error(`Cannot create the snapshot at index ${index}: no data was given and none was written for it`);
    const snap: Snapshot = { metadata: { index, term: this.mem.term(index), confState: cloneConfState(confState) }, data: data ?? NO_DATA };
    const ops: BatchOp[] = [];
    if (prepared) ops.push(this.snapMetaOp(snap, prepared.dataBytes, prepared.chunks));
    else ops.push(await this.writeSnapshotFile(snap));
    ops.push(...this.formatOps());
    this.prepared = undefined;
    await this.write(ops);
    this.formatBehind = false;
    this.mem.createSnapshot(index, confState, NO_DATA);
    this.openedSnapshot = undefined;
    await this.dropOtherSnapshots(index);
    return snap;
  }

  async compact(index: number): Promise<void> {
    this.checkWritable('compact');
    const first = this.mem.firstIndex();
    if (index < first) return;
    const snapIndex = this.mem.snapshot().metadata.index;
    if (index > snapIndex) throw new RangeError(`Cannot compact the log to index ${index}: the latest snapshot is at index ${snapIndex}`);
    await this.write([{ type: 'put', key: LOG_START_KEY, value: encodeLogStart({ index, term: this.mem.term(index) }) }]);
    this.mem.compact(index);
    await this.dropStale(first, index);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A preparation cut short: its file is deleted at the next open.
    await this.files.closeAll();
    await closeDb(this.db);
  }

  private async write(ops: BatchOp[], sync = true): Promise<void> {
    this.writing = true;
    try {
      await writeSynced(this.db, ops, sync);
    } finally {
      this.writing = false;
    }
  }

  /** Deletes entry keys the log start already marks dead; one left behind is cleaned at the next open. */
  private async dropStale(from: number, to: number): Promise<void> {
    await clearRange(this.db, entryKey(from), entryKey(to)).catch(() => {});
  }

  /** Writes and syncs the snapshot's file; returns the metadata write that names it. */
  private async writeSnapshotFile(s: Snapshot): Promise<BatchOp> {
    const chunks = await this.files.write(s.metadata.index, s.data, this.chunkSizeBytes);
    return this.snapMetaOp(s, s.data.byteLength, chunks);
  }

  private snapMetaOp(s: Snapshot, dataBytes: number, chunks: number): BatchOp {
    return { type: 'put', key: SNAP_META_KEY, value: encodeSnapMeta({ ...s.metadata, dataBytes, chunks }) };
  }

  /** With the write that names a snapshot file: a store of the previous format becomes this one (its binary would not find the file). */
  private formatOps(): BatchOp[] {
    return this.formatBehind ? [{ type: 'put', key: FORMAT_KEY, value: encodeFormat() }] : [];
  }

  /** Once the metadata names the snapshot at `index`: deletes the files of earlier ones (and of abandoned preparations). */
  private async dropOtherSnapshots(index: number): Promise<void> {
    this.dropEpoch++;
    if (this.prepared && this.prepared.index !== index) this.prepared = undefined;
    // One left behind is deleted at the next open. The RocksDB chunks are those of a store written before snapshot files.
    await this.files.dropExcept(index, true).catch(() => {});
    await dropChunksExcept(this.db, index).catch(() => {});
  }

  private checkWritable(op: string): void {
    if (this.closed) throw new StorageClosedError(this.dir, op);
    // The driver makes one call at a time; overlapping writes would break the memory-after-disk rule.
    if (this.writing) throw new Error(`Cannot ${op}: another write to raft storage at '${this.dir}' is in progress`);
  }
}
