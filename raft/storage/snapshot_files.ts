// Snapshot data in files of their own beside the RocksDB log, as etcd keeps its .snap files. A
// snapshot is the whole state (about 200 MB at 150,000 pods). Stored as RocksDB values it went
// through the WAL, a memtable, a flush and compactions, snappy-compressed each time, only to be
// deleted at the next snapshot: RocksDB's background threads then took 15 to 26% of a master's CPU
// while a cluster filled. A file is written once, synced before the metadata that names it, and
// deleted once another replaces it.
//
// A file holds the sealed chunks the store used to hold (checksum, snapshot index, chunk number:
// see encodeSnapChunk), each behind its length as a u32, big-endian. The metadata in RocksDB says
// how many chunks and bytes to expect.

import { type FileHandle, mkdir, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { CorruptStorageError } from './errors.js';
import { decodeSnapChunk, encodeSnapChunk, type SnapMeta } from './codec.js';

/** The directory, inside the storage's, that holds the snapshot files. */
export const SNAPSHOT_DIR = 'snapshots';

const FILE_NAME = /^([0-9a-f]{16})\.snap$/;
const LENGTH_BYTES = 4;

export function snapshotFileName(index: number): string {
  return `${index.toString(16).padStart(16, '0')}.snap`;
}

export interface LoadChecks {
  corrupt: (detail: string) => CorruptStorageError;
  decode: <T>(what: string, f: () => T) => T;
}

/** A snapshot file being written, one chunk at a time. */
export class SnapshotFileWriter {
  private chunks = 0;
  private closed = false;

  constructor(
    private readonly fh: FileHandle,
    private readonly index: number,
    private readonly dir: string,
  ) {}

  async append(data: Uint8Array): Promise<void> {
    const record = encodeSnapChunk(this.index, this.chunks, data);
    const length = Buffer.allocUnsafe(LENGTH_BYTES);
    length.writeUInt32BE(record.length, 0);
    await this.fh.writev([length, record]);
    this.chunks++;
  }

  /** Syncs the file and its directory entry; resolves with the chunk count for the metadata. */
  async finish(): Promise<number> {
    await this.fh.sync();
    await this.close();
    await syncDirectory(this.dir);
    return this.chunks;
  }

  /** Closes without syncing: the file is an abandoned preparation, deleted later. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class SnapshotFiles {
  constructor(readonly dir: string) {}

  path(index: number): string {
    return join(this.dir, snapshotFileName(index));
  }

  /** Starts the file of the snapshot at `index`, replacing one left by an abandoned preparation. */
  async create(index: number): Promise<SnapshotFileWriter> {
    await mkdir(this.dir, { recursive: true });
    return new SnapshotFileWriter(await open(this.path(index), 'w'), index, this.dir);
  }

  /** Writes a whole snapshot's data in chunks of `chunkBytes` and syncs it; resolves with the chunk count. */
  async write(index: number, data: Uint8Array, chunkBytes: number): Promise<number> {
    const w = await this.create(index);
    try {
      for (let at = 0; at < data.byteLength; at += chunkBytes) await w.append(data.subarray(at, at + chunkBytes));
      return await w.finish();
    } finally {
      await w.close().catch(() => {});
    }
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
      // Chunks are copied into one buffer as they are read: never the parts and a joined copy at once.
      const data = Buffer.allocUnsafe(meta.dataBytes);
      const length = Buffer.allocUnsafe(LENGTH_BYTES);
      let record = Buffer.allocUnsafe(0);
      let total = 0;
      let pos = 0;
      for (let n = 0; n < meta.chunks; n++) {
        if ((await fh.read(length, 0, LENGTH_BYTES, pos)).bytesRead !== LENGTH_BYTES) throw corrupt(`${name} ends after ${n} of the ${meta.chunks} chunks its metadata says`);
        const size = length.readUInt32BE(0);
        if (size > maxChunkBytes) throw corrupt(`chunk ${n} of ${name} claims ${size} bytes, more than a chunk holds`);
        if (record.length < size) record = Buffer.allocUnsafe(size);
        const view = record.subarray(0, size);
        if ((await fh.read(view, 0, size, pos + LENGTH_BYTES)).bytesRead !== size) throw corrupt(`${name} ends inside chunk ${n}`);
        const part = decode(`chunk ${n} of the snapshot at index ${meta.index} (${name})`, () => decodeSnapChunk(view, meta.index, n));
        if (total + part.length > meta.dataBytes) throw corrupt(`${name} holds more than the ${meta.dataBytes} bytes its metadata says`);
        data.set(part, total);
        total += part.length;
        pos += LENGTH_BYTES + size;
      }
      if (total !== meta.dataBytes) throw corrupt(`${name} holds ${total} bytes in its ${meta.chunks} chunks, its metadata says ${meta.dataBytes}`);
      if ((await fh.stat()).size !== pos) throw corrupt(`${name} has bytes after its ${meta.chunks} chunks`);
      return new Uint8Array(data.buffer, data.byteOffset, data.length);
    } finally {
      await fh.close();
    }
  }

  /** Deletes every snapshot file but the one of the snapshot at `keep` (all of them when undefined). */
  async dropExcept(keep: number | undefined): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    const keepName = keep === undefined ? undefined : snapshotFileName(keep);
    for (const n of names) {
      if (n !== keepName && FILE_NAME.test(n)) await unlink(join(this.dir, n)).catch(() => {});
    }
  }
}
