// A small ustar writer: directories, regular files (from memory or from disk) and symlinks, with
// fixed owners and times so the same entries always give the same bytes (and so the same digests).

import { createReadStream } from 'node:fs';

const BLOCK_BYTES = 512;
const MAX_SIZE_BYTES = 0o77777777777; // what 11 octal digits hold

interface Common {
  /** Path inside the archive, relative ("bin/busybox"); a leading "/" or "./" is dropped. */
  path: string;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch; 0 unless set, for reproducible archives. */
  mtimeSec?: number;
}
export type TarEntry =
  | (Common & { type: 'dir'; mode: number })
  | (Common & { type: 'file'; mode: number; data: Buffer })
  | (Common & { type: 'file'; mode: number; sourcePath: string; sizeBytes: number })
  | (Common & { type: 'symlink'; target: string });

function cleanPath(path: string): string {
  const p = path.replace(/^(\.?\/)+/, '');
  if (p === '' || p.split('/').some((part) => part === '..' || part === '')) {
    throw new TypeError(`Cannot write tar entry "${path}": the path must be relative, non-empty and without ".." or empty parts`);
  }
  return p;
}

function writeString(h: Buffer, offset: number, length: number, value: string, field: string, path: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new RangeError(`Cannot write tar entry "${path}": ${field} is ${bytes.length} bytes, over the ${length} ustar allows`);
  bytes.copy(h, offset);
}

function writeOctal(h: Buffer, offset: number, length: number, value: number, field: string, path: string): void {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`Cannot write tar entry "${path}": ${field} ${value} is not a non-negative integer`);
  const s = value.toString(8);
  if (s.length > length - 1) throw new RangeError(`Cannot write tar entry "${path}": ${field} ${value} does not fit in ${length - 1} octal digits`);
  h.write(s.padStart(length - 1, '0') + '\0', offset, 'ascii');
}

/** Splits a long path into ustar's prefix (155 bytes) and name (100 bytes) at a "/". */
function splitName(p: string): { prefix: string; name: string } {
  if (Buffer.byteLength(p) <= 100) return { prefix: '', name: p };
  for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) {
    const prefix = p.slice(0, i);
    const name = p.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return { prefix, name };
  }
  throw new RangeError(`Cannot write tar entry "${p}": the path is too long for ustar (100-byte name plus 155-byte prefix)`);
}

/** The 512-byte ustar header of one entry. */
export function tarHeader(entry: TarEntry): Buffer {
  const h = Buffer.alloc(BLOCK_BYTES);
  const path = cleanPath(entry.path) + (entry.type === 'dir' ? '/' : '');
  const { prefix, name } = splitName(path);
  const size = entry.type === 'file' ? ('data' in entry ? entry.data.length : entry.sizeBytes) : 0;
  if (size > MAX_SIZE_BYTES) throw new RangeError(`Cannot write tar entry "${path}": ${size} bytes is over ustar's 8 GiB limit`);
  const mode = entry.type === 'symlink' ? 0o777 : entry.mode;
  writeString(h, 0, 100, name, 'name', path);
  writeOctal(h, 100, 8, mode & 0o7777, 'mode', path);
  writeOctal(h, 108, 8, entry.uid ?? 0, 'uid', path);
  writeOctal(h, 116, 8, entry.gid ?? 0, 'gid', path);
  writeOctal(h, 124, 12, size, 'size', path);
  writeOctal(h, 136, 12, entry.mtimeSec ?? 0, 'mtime', path);
  h.write(entry.type === 'dir' ? '5' : entry.type === 'symlink' ? '2' : '0', 156, 'ascii');
  if (entry.type === 'symlink') writeString(h, 157, 100, entry.target, 'symlink target', path);
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  writeOctal(h, 329, 8, 0, 'devmajor', path);
  writeOctal(h, 337, 8, 0, 'devminor', path);
  writeString(h, 345, 155, prefix, 'prefix', path);
  // The checksum is computed with its own field read as eight spaces.
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

function padding(sizeBytes: number): Buffer {
  const rest = sizeBytes % BLOCK_BYTES;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK_BYTES - rest);
}

/**
 * The archive's bytes, entry by entry, ending with the two zero blocks. Files named by sourcePath are
 * streamed from disk (never held whole) and must still have the size given.
 */
export async function* tarChunks(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): AsyncGenerator<Buffer> {
  for await (const entry of entries) {
    yield tarHeader(entry);
    if (entry.type !== 'file') continue;
    if ('data' in entry) {
      if (entry.data.length > 0) yield entry.data;
      yield padding(entry.data.length);
      continue;
    }
    let seen = 0;
    for await (const chunk of createReadStream(entry.sourcePath) as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (seen > entry.sizeBytes) break;
      yield chunk;
    }
    if (seen !== entry.sizeBytes) {
      throw new Error(`Cannot write tar entry "${entry.path}": ${entry.sourcePath} changed size while read (expected ${entry.sizeBytes} bytes, read ${seen})`);
    }
    yield padding(entry.sizeBytes);
  }
  yield Buffer.alloc(2 * BLOCK_BYTES);
}
