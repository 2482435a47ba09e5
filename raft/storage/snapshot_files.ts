// Snapshot data in files of their own beside the RocksDB log, as etcd keeps its .snap files. A
// snapshot is the whole state (about 200 MB at 150,000 pods). Stored as RocksDB values it went
// through the WAL, a memtable, a flush and compactions, snappy-compressed each time, only to be
// deleted at the next snapshot: RocksDB's background threads then took 15 to 26% of a master's CPU
// while a cluster filled. A file is written once under a temporary name, synced, renamed and its
// directory synced before the metadata that names it is written, and deleted once another
// replaces it.
//
// A file holds the sealed chunks the store used to hold (checksum, snapshot index, chunk number:
// see encodeSnapChunk; written as encodeSnapChunkHead and the data), each behind its length as a
// u32, big-endian. The metadata in RocksDB says how many chunks and bytes to expect, so the file's
// size is known before it is read.

import { type FileHandle, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CorruptStorageError } from './errors.js';
import { CHUNK_HEAD_BYTES, decodeSnapChunk, encodeSnapChunkHead, type SnapMeta } from './codec.js';
import { syncDirectory } from './sync_directory.js';

/** The directory, inside the storage's, that holds the snapshot files. */
export const SNAPSHOT_DIR = 'snapshots';

const FILE_NAME = /^([0-9a-f]{16})\.snap(\.tmp)?$/;
const LENGTH_BYTES = 4;

export function snapshotFileName(index: number): string {
  return `${index.toString(16).padStart(16, '0')}.snap`;
}

/** A snapshot file's size: known from its metadata alone. */
function fileBytes(meta: Pick<SnapMeta, 'chunks' | 'dataBytes'>): number {
  return meta.chunks * (LENGTH_BYTES + CHUNK_HEAD_BYTES) + meta.dataBytes;
}

export interface LoadChecks {
  corrupt: (detail: string) => CorruptStorageError;
  decode: <T>(what: string, f: () => T) => T;
}

/** A snapshot file being written, one chunk at a time, under a temporary name until finish(). */
export class SnapshotFileWriter {
  private chunks = 0;
  private bytes = 0;
  private closed = false;

  constructor(
    private readonly fh: FileHandle,
    private readonly index: number,
    private readonly tmpPath: string,
    private readonly path: string,
    private readonly onClose: (w: SnapshotFileWriter) => void,
  ) {}

  async append(data: Uint8Array): Promise<void> {
    try {
      const head = encodeSnapChunkHead(this.index, this.chunks, data);
      const recordBytes = head.length + data.byteLength;
      const length = Buffer.allocUnsafe(LENGTH_BYTES);
      length.writeUInt32BE(recordBytes, 0);
      const { bytesWritten } = await this.fh.writev([length, head, data]);
      // A full disk can end a write short without an error: the rest of the file would be missing.
      if (bytesWritten !== LENGTH_BYTES + recordBytes) throw new Error(`Cannot write ${this.tmpPath}: wrote ${bytesWritten} of ${LENGTH_BYTES + recordBytes} bytes (disk full?)`);
      this.chunks++;
      this.bytes += bytesWritten;
    } catch (e) {
      await this.close().catch(() => {});
      throw e;
    }
  }

  /** Syncs the file, gives it its name and syncs the directory; resolves with the chunk count for the metadata. */
  async finish(): Promise<number> {
    try {
      await this.fh.sync();
      const { size } = await this.fh.stat();
      if (size !== this.bytes) throw new Error(`Cannot write ${this.tmpPath}: it holds ${size} bytes, ${this.bytes} were written`);
    } finally {
      await this.close();
    }
    await rename(this.tmpPath, this.path);
    await syncDirectory(dirname(this.path));
    return this.chunks;
  }

  /** Closes without naming the file: an abandoned preparation, deleted later. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    await this.fh.close();
  }
}

export class SnapshotFiles {
  /** Writers not yet closed: storage closes them when it closes. */
  private readonly open = new Set<SnapshotFileWriter>();

  constructor(readonly dir: string) {}

  path(index: number): string {
    return join(this.dir, snapshotFileName(index));
  }

  /** Starts the file of the snapshot at `index`, replacing one left by an abandoned preparation. */
  async create(index: number): Promise<SnapshotFileWriter> {
    // The directory's own entry must be durable too before a file in it is named.
    if ((await mkdir(this.dir, { recursive: true })) !== undefined) await syncDirectory(dirname(this.dir));
    const final = this.path(index);
    const tmp = `${final}.tmp`;
    const w = new SnapshotFileWriter(await open(tmp, 'w'), index, tmp, final, (closed) => this.open.delete(closed));
    this.open.add(w);
    return w;
  }

  /** Writes a whole snapshot's data in chunks of `chunkBytes` and names it; resolves with the chunk count. */
  async write(index: number, data: Uint8Array, chunkBytes: number): Promise<number> {
    // append() closes the file when it fails, and finish() always does.
    const w = await this.create(index);
    for (let at = 0; at < data.byteLength; at += chunkBytes) await w.append(data.subarray(at, at + chunkBytes));
    return w.finish();
  }

  /** Closes the files still being written (storage is closing); they are deleted at the next open. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.open].map((w) => w.close().catch(() => {})));
  }

  /**
   * The data of the snapshot `meta` names, read and verified, or undefined when it has no file (a
   * store written before snapshot files keeps its snapshot in RocksDB until the next one).
   */
  async read(meta: SnapMeta, maxChunkBytes: number, { corrupt, decode }: LoadChecks): Promise<Uint8Array | undefined> {
    const name = `${SNAPSHOT_DIR}/${snapshotFileName(meta.index)}`;
    let fh: FileHandle;
    try {
      fh = await open(this.path(meta.index), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      const { size } = await fh.stat();
      const want = fileBytes(meta);
      if (size !== want) throw corrupt(`${name} is ${size} bytes, expected ${want} for the ${meta.chunks} chunks of ${meta.dataBytes} bytes its metadata says`);
      // Chunks are copied into one buffer as they are read: never the parts and a joined copy at once.
      const data = Buffer.allocUnsafe(meta.dataBytes);
      const length = Buffer.allocUnsafe(LENGTH_BYTES);
      let record = Buffer.allocUnsafe(0);
      let total = 0;
      let pos = 0;
      for (let n = 0; n < meta.chunks; n++) {
        if ((await fh.read(length, 0, LENGTH_BYTES, pos)).bytesRead !== LENGTH_BYTES) throw corrupt(`${name} ends after ${n} of its ${meta.chunks} chunks`);
        const bytes = length.readUInt32BE(0);
        if (bytes > maxChunkBytes || pos + LENGTH_BYTES + bytes > size) throw corrupt(`chunk ${n} of ${name} claims ${bytes} bytes, more than the file or a chunk holds`);
        if (record.length < bytes) record = Buffer.allocUnsafe(bytes);
        const view = record.subarray(0, bytes);
        if ((await fh.read(view, 0, bytes, pos + LENGTH_BYTES)).bytesRead !== bytes) throw corrupt(`${name} ends inside chunk ${n}`);
        const part = decode(`chunk ${n} of the snapshot at index ${meta.index} (${name})`, () => decodeSnapChunk(view, meta.index, n));
        if (total + part.length > meta.dataBytes) throw corrupt(`${name} holds more than the ${meta.dataBytes} bytes its metadata says`);
        data.set(part, total);
        total += part.length;
        pos += LENGTH_BYTES + bytes;
      }
      if (total !== meta.dataBytes) throw corrupt(`${name} holds ${total} bytes in its ${meta.chunks} chunks, its metadata says ${meta.dataBytes}`);
      return new Uint8Array(data.buffer, data.byteOffset, data.length);
    } finally {
      await fh.close();
    }
  }

  /**
   * Deletes the snapshot files (named or temporary) other than the one of the snapshot at `keep`:
   * all of them at open; while running (`olderOnly`), only those of earlier indexes, since a later
   * one may be a preparation being written now.
   */
  async dropExcept(keep: number | undefined, olderOnly = false): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    const keepName = keep === undefined ? undefined : snapshotFileName(keep);
    for (const n of names) {
      const m = FILE_NAME.exec(n);
      if (!m || n === keepName) continue;
      if (olderOnly && keep !== undefined && parseInt(m[1], 16) >= keep) continue;
      await unlink(join(this.dir, n)).catch(() => {});
    }
  }
}
