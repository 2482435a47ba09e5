// Reads the table of contents of a tar file (ustar, pax and GNU long names) without loading it: each
// regular file's data offset and size, so blobs can be streamed straight out of an OCI archive.

import { open } from 'node:fs/promises';

export interface TarEntry {
  offset: number;
  sizeBytes: number;
}

const BLOCK_BYTES = 512;
/** A pax or GNU long-name header larger than this is not a name: refuse it rather than buffer it. */
const MAX_META_BYTES = 1 << 20;

function cString(b: Buffer, start: number, len: number): string {
  const end = b.indexOf(0, start);
  return b.toString('utf8', start, end === -1 || end > start + len ? start + len : end);
}

function parseSize(b: Buffer, path: string): number {
  // GNU base-256 for sizes over 8 GiB: high bit of the first byte set.
  if (b[124]! & 0x80) {
    let n = 0;
    for (let i = 125; i < 136; i++) n = n * 256 + b[i]!;
    return n;
  }
  const s = cString(b, 124, 12).trim();
  const n = s === '' ? 0 : parseInt(s, 8);
  if (!Number.isFinite(n)) throw new Error(`Cannot read tar archive ${path}: bad size field "${s}"`);
  return n;
}

function normalise(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/^\/+/, '');
}

function paxPath(data: Buffer): string | undefined {
  // Records are "<len> key=value\n".
  let pos = 0;
  let path: string | undefined;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp === -1) break;
    const len = parseInt(data.toString('utf8', pos, sp), 10);
    if (!(len > 0)) break;
    const rec = data.toString('utf8', sp + 1, pos + len - 1);
    const eq = rec.indexOf('=');
    if (rec.slice(0, eq) === 'path') path = rec.slice(eq + 1);
    pos += len;
  }
  return path;
}

/** Maps each regular file's normalised path ("blobs/sha256/ab...") to where its bytes are. */
export async function indexTar(path: string): Promise<Map<string, TarEntry>> {
  const fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new Error(`Cannot open OCI archive ${path}: ${e.code ?? e.message}`, { cause: e });
  });
  try {
    const { size: fileBytes } = await fh.stat();
    const entries = new Map<string, TarEntry>();
    const header = Buffer.alloc(BLOCK_BYTES);
    let offset = 0;
    let longName: string | undefined;
    while (offset + BLOCK_BYTES <= fileBytes) {
      await fh.read(header, 0, BLOCK_BYTES, offset);
      if (header.every((x) => x === 0)) break;
      const size = parseSize(header, path);
      const type = String.fromCharCode(header[156]!);
      const dataOffset = offset + BLOCK_BYTES;
      if (dataOffset + size > fileBytes) throw new Error(`Cannot read tar archive ${path}: entry at byte ${offset} runs past the end of the file`);
      if (type === 'x' || type === 'L') {
        if (size > MAX_META_BYTES) throw new Error(`Cannot read tar archive ${path}: ${size}-byte extended header at byte ${offset}`);
        const data = Buffer.alloc(size);
        await fh.read(data, 0, size, dataOffset);
        longName = type === 'L' ? cString(data, 0, size) : (paxPath(data) ?? longName);
      } else if (type !== 'g') {
        const prefix = header.toString('utf8', 257, 263).startsWith('ustar') ? cString(header, 345, 155) : '';
        const name = longName ?? (prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100));
        longName = undefined;
        if (type === '0' || type === '\0' || type === '7') entries.set(normalise(name), { offset: dataOffset, sizeBytes: size });
      }
      offset = dataOffset + Math.ceil(size / BLOCK_BYTES) * BLOCK_BYTES;
    }
    return entries;
  } finally {
    await fh.close();
  }
}
