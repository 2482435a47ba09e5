// Reads the whole store at open and verifies it: every checksum, index
// continuity from the log start, non-decreasing terms, the snapshot inside
// the log's range, and a commit index that the log covers. Anything wrong
// is a CorruptStorageError naming the key; nothing is dropped silently.

import { MemoryStorage } from '../core/memory_storage.js';
import type { Entry, HardState, Snapshot } from '../core/types.js';
import {
  CHUNK_HEAD_BYTES,
  CodecError,
  decodeEntry,
  decodeFormat,
  decodeHardState,
  decodeLogStart,
  decodeSnapChunk,
  decodeSnapMeta,
  ENTRY_KEYS_END,
  ENTRY_KEYS_START,
  entryKey,
  entryKeyIndex,
  encodeFormat,
  FORMAT_KEY,
  FORMAT_NAME,
  FORMAT_VERSION,
  HARD_STATE_KEY,
  LOG_START_KEY,
  type LogStart,
  SNAP_META_KEY,
  CHUNK_KEYS_END,
  CHUNK_KEYS_START,
  chunkKey,
  legacyChunkKey,
  type SnapMeta,
} from './codec.js';
import { CorruptStorageError } from './errors.js';
import { type RocksDb, clearBetween, clearRange, forEachInRange, getValue, writeSynced } from './rocksdb_db.js';
import { SNAPSHOT_DIR, type SnapshotFiles, snapshotFileName } from './snapshot_files.js';

/** A snapshot's data where only its metadata is kept in memory. */
export const NO_DATA = new Uint8Array(0);
/** The largest chunk RocksDbStorage writes (its snapshotChunkSizeBytes upper bound). */
export const MAX_SNAPSHOT_CHUNK_BYTES = 64 * 1024 * 1024;
/** The format before snapshot files: its snapshot stays in RocksDB chunks until the next one. */
const PREVIOUS_FORMAT_VERSION = 2;

export interface Loaded {
  /** Its snapshot carries metadata only: the data stays on disk (see RocksDbStorage.loadSnapshot). */
  mem: MemoryStorage;
  logStart: LogStart;
  /** The snapshot's data, read and verified here, for the one restore that follows an open. */
  snapshotData?: { index: number; data: Uint8Array };
  /**
   * The store is of the format before snapshot files: its marker is raised in the write that names
   * its first snapshot file, so the previous binary can still open it until then.
   */
  formatBehind: boolean;
}

/** Errors that name the damaged key; decode turns a codec failure into one. */
function checks(dir: string) {
  const corrupt = (detail: string): CorruptStorageError => new CorruptStorageError(dir, detail);
  const decode = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof CodecError) throw corrupt(`${what} ${e.message}`);
      throw e;
    }
  };
  return { corrupt, decode };
}

export async function loadAndVerify(db: RocksDb, dir: string, files: SnapshotFiles): Promise<Loaded> {
  const { corrupt, decode } = checks(dir);

  const formatRaw = await getValue(db, FORMAT_KEY);
  if (formatRaw === undefined) {
    if (await hasAnyKey(db)) throw corrupt(`the format marker (key 'f') is missing but the store holds data`);
    await writeSynced(db, [{ type: 'put', key: FORMAT_KEY, value: encodeFormat() }]);
    return { mem: new MemoryStorage(), logStart: { index: 0, term: 0 }, formatBehind: false };
  }
  const format = decode(`the format marker (key 'f')`, () => decodeFormat(formatRaw));
  if (format.name !== FORMAT_NAME || (format.version !== FORMAT_VERSION && format.version !== PREVIOUS_FORMAT_VERSION)) {
    throw corrupt(`the format marker says '${format.name}' version ${format.version}, expected '${FORMAT_NAME}' version ${FORMAT_VERSION}`);
  }

  const hsRaw = await getValue(db, HARD_STATE_KEY);
  const hardState: HardState | undefined = hsRaw && decode(`the hard state (key 'h')`, () => decodeHardState(hsRaw));
  const lsRaw = await getValue(db, LOG_START_KEY);
  const logStart: LogStart = lsRaw ? decode(`the log start (key 'l')`, () => decodeLogStart(lsRaw)) : { index: 0, term: 0 };
  const metaRaw = await getValue(db, SNAP_META_KEY);
  const meta: SnapMeta | undefined = metaRaw && decode(`the snapshot metadata (key 's')`, () => decodeSnapMeta(metaRaw));

  const entries: Entry[] = [];
  let stale = 0;
  await forEachInRange(db, ENTRY_KEYS_START, ENTRY_KEYS_END, (key, value) => {
    const index = decode(`the key ${key.toString('hex')}`, () => entryKeyIndex(key));
    // Left by a compaction whose range delete was cut short: covered by the log start.
    if (index <= logStart.index) {
      stale++;
      return;
    }
    const e = decode(`the log entry at index ${index}`, () => decodeEntry(value, index));
    const want = logStart.index + 1 + entries.length;
    if (index !== want) {
      const after = entries.length === 0 ? `the log start at index ${logStart.index}` : `entry ${want - 1}`;
      throw corrupt(`the log has a gap: expected entry ${want} after ${after}, found entry ${index}`);
    }
    const prevTerm = entries.length === 0 ? logStart.term : entries[entries.length - 1].term;
    if (e.term < prevTerm) throw corrupt(`the log entry at index ${index} has term ${e.term}, lower than the term ${prevTerm} before it`);
    entries.push(e);
  });
  const lastIndex = logStart.index + entries.length;

  const mem = new MemoryStorage();
  let legacyLayout = false;
  let snapshotData: Loaded['snapshotData'];
  if (meta === undefined) {
    if (logStart.index !== 0) throw corrupt(`the log starts after index ${logStart.index} but no snapshot metadata (key 's') is stored`);
    mem.append(entries);
  } else {
    if (meta.index < logStart.index) throw corrupt(`the log was compacted to index ${logStart.index}, past the snapshot at index ${meta.index}`);
    if (meta.index > lastIndex) throw corrupt(`the snapshot at index ${meta.index} is past the end of the log at index ${lastIndex}`);
    const read = await readSnapshotData(db, files, meta, corrupt, decode);
    snapshotData = { index: meta.index, data: read.data };
    legacyLayout = read.legacy;
    const snap: Snapshot = { metadata: { index: meta.index, term: meta.term, confState: meta.confState }, data: NO_DATA };
    if (meta.index === logStart.index) {
      if (meta.term !== logStart.term) throw corrupt(`the snapshot at index ${meta.index} has term ${meta.term} but the log start says term ${logStart.term}`);
      mem.applySnapshot(snap);
      mem.append(entries);
    } else {
      // The log reaches back before the snapshot (kept for follower catch-up).
      mem.applySnapshot({ metadata: { index: logStart.index, term: logStart.term, confState: meta.confState }, data: new Uint8Array(0) });
      mem.append(entries);
      const term = mem.term(meta.index);
      if (term !== meta.term) throw corrupt(`the snapshot at index ${meta.index} has term ${meta.term} but the log entry at that index has term ${term}`);
      mem.createSnapshot(meta.index, meta.confState, NO_DATA);
    }
  }

  if (hardState === undefined) {
    if (lastIndex > 0) throw corrupt(`the hard state (key 'h') is missing but the log reaches index ${lastIndex}`);
  } else {
    if (hardState.commit > lastIndex) throw corrupt(`the hard state commits index ${hardState.commit} but the log ends at index ${lastIndex}`);
    mem.setHardState(hardState);
  }

  if (stale > 0) await clearRange(db, ENTRY_KEYS_START, entryKey(logStart.index));
  // Chunks of a snapshot whose metadata was never written (a crash while it was prepared) or of one
  // replaced before the old chunks were deleted.
  if (meta === undefined || !legacyLayout) await dropChunksExcept(db, meta?.index);
  // Files of snapshots never named (a crash while one was written) or replaced before their deletion.
  await files.dropExcept(meta?.index);
  return { mem, logStart, snapshotData, formatBehind: format.version !== FORMAT_VERSION };
}

/** Deletes every snapshot chunk except those of the snapshot at `keep` (all of them when undefined). */
export async function dropChunksExcept(db: RocksDb, keep: number | undefined): Promise<void> {
  if (keep === undefined) return clearBetween(db, CHUNK_KEYS_START, CHUNK_KEYS_END);
  await clearBetween(db, CHUNK_KEYS_START, chunkKey(keep, 0));
  await clearBetween(db, chunkKey(keep + 1, 0), CHUNK_KEYS_END);
}

/** The data of the snapshot the metadata key names now, or undefined when there is none. */
export async function readStoredSnapshot(db: RocksDb, dir: string, files: SnapshotFiles): Promise<{ meta: SnapMeta; data: Uint8Array } | undefined> {
  const { corrupt, decode } = checks(dir);
  const metaRaw = await getValue(db, SNAP_META_KEY);
  if (metaRaw === undefined) return undefined;
  const meta = decode(`the snapshot metadata (key 's')`, () => decodeSnapMeta(metaRaw));
  return { meta, data: (await readSnapshotData(db, files, meta, corrupt, decode)).data };
}

async function readSnapshotData(
  db: RocksDb,
  files: SnapshotFiles,
  meta: SnapMeta,
  corrupt: (detail: string) => CorruptStorageError,
  decode: <T>(what: string, f: () => T) => T,
): Promise<{ data: Uint8Array; legacy: boolean }> {
  if (meta.dataBytes > meta.chunks * MAX_SNAPSHOT_CHUNK_BYTES) throw corrupt(`the snapshot at index ${meta.index} claims ${meta.dataBytes} bytes in only ${meta.chunks} chunks`);
  const fromFile = await files.read(meta, MAX_SNAPSHOT_CHUNK_BYTES + CHUNK_HEAD_BYTES, { corrupt, decode });
  if (fromFile !== undefined) return { data: fromFile, legacy: false };
  // Chunks are copied into one buffer as they are read: never the parts and a joined copy at once.
  const data = Buffer.allocUnsafe(meta.dataBytes);
  let total = 0;
  // A store written before chunks were keyed by index keeps them under 'c' + u32 n until its next snapshot.
  const legacy = meta.chunks > 0 && (await getValue(db, chunkKey(meta.index, 0))) === undefined && (await getValue(db, legacyChunkKey(0))) !== undefined;
  const key = legacy ? (n: number) => legacyChunkKey(n) : (n: number) => chunkKey(meta.index, n);
  for (let n = 0; n < meta.chunks; n++) {
    const raw = await getValue(db, key(n));
    if (raw === undefined) throw corrupt(n === 0 ? `the snapshot at index ${meta.index} is missing: no file ${SNAPSHOT_DIR}/${snapshotFileName(meta.index)} and no chunks in the store` : `chunk ${n} of ${meta.chunks} of the snapshot at index ${meta.index} is missing`);
    const part = decode(`chunk ${n} of the snapshot at index ${meta.index}`, () => decodeSnapChunk(raw, meta.index, n));
    if (total + part.length > meta.dataBytes) throw corrupt(`the snapshot at index ${meta.index} holds more than the ${meta.dataBytes} bytes its metadata says`);
    data.set(part, total);
    total += part.length;
  }
  if (total !== meta.dataBytes) throw corrupt(`the snapshot at index ${meta.index} holds ${total} bytes in its ${meta.chunks} chunks, its metadata says ${meta.dataBytes}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), legacy };
}

async function hasAnyKey(db: RocksDb): Promise<boolean> {
  let found = false;
  await forEachInRange(db, Buffer.alloc(0), Buffer.from([0xff, 0xff]), () => {
    found = true;
    throw STOP;
  }).catch((e) => {
    if (e !== STOP) throw e;
  });
  return found;
}

const STOP = new Error('stop');
