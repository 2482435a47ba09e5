// Binary keys and values of the RocksDB raft store. Every value is
// [u32 crc32 of the rest][u8 kind][payload], big-endian, so a flipped bit or
// a value stored under the wrong kind of key is caught at load.

import { crc32 } from 'node:zlib';
import type { ConfState, Entry, HardState, SnapshotMetadata } from '../core/types.js';

export const FORMAT_KEY = Buffer.from('f');
export const HARD_STATE_KEY = Buffer.from('h');
export const LOG_START_KEY = Buffer.from('l');
export const SNAP_META_KEY = Buffer.from('s');
export const ENTRY_PREFIX = 0x65; // 'e' + u64 index
export const SNAP_CHUNK_PREFIX = 0x63; // 'c' + u32 chunk number

export const FORMAT_NAME = 'navarch-raft';
/** 3: snapshot data in files (snapshot_files.ts); 2 kept it in chunk values here, and is still opened. */
export const FORMAT_VERSION = 3;

const enum Kind {
  Format = 1,
  Entry = 2,
  HardState = 3,
  LogStart = 4,
  SnapMeta = 5,
  SnapChunk = 6,
}

const KIND_NAMES = ['', 'format marker', 'log entry', 'hard state', 'log start', 'snapshot metadata', 'snapshot chunk'];

const CRC_BYTES = 4;
const HEAD_BYTES = CRC_BYTES + 1;
const ENTRY_HEAD_BYTES = HEAD_BYTES + 1 + 8 + 8;
const TWO_32 = 0x1_0000_0000;

/** A stored value that cannot be decoded; `detail` says why. */
export class CodecError extends Error {
  override name = 'CodecError';
}

function putU64(b: Buffer, off: number, n: number): void {
  b.writeUInt32BE(Math.floor(n / TWO_32), off);
  b.writeUInt32BE(n >>> 0, off + 4);
}

function getU64(b: Buffer, off: number): number {
  const hi = b.readUInt32BE(off);
  if (hi > 0x1f_ffff) throw new CodecError(`holds a number beyond 2^53 at byte ${off}`);
  return hi * TWO_32 + b.readUInt32BE(off + 4);
}

function checkU64(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`Cannot store ${what} ${JSON.stringify(n)}: not a non-negative safe integer`);
}

function seal(b: Buffer, kind: Kind): Buffer {
  b[CRC_BYTES] = kind;
  b.writeUInt32BE(crc32(b.subarray(CRC_BYTES)), 0);
  return b;
}

/** Checks the checksum and kind; returns the value for reading payload at HEAD_BYTES. */
function open(v: Buffer, kind: Kind, minBytes: number): Buffer {
  if (v.length < HEAD_BYTES) throw new CodecError(`is ${v.length} bytes, shorter than its header`);
  const want = v.readUInt32BE(0);
  const got = crc32(v.subarray(CRC_BYTES));
  if (want !== got) throw new CodecError(`fails its checksum (stored ${hex(want)}, computed ${hex(got)})`);
  if (v[CRC_BYTES] !== kind) throw new CodecError(`holds a ${KIND_NAMES[v[CRC_BYTES]] ?? `value of kind ${v[CRC_BYTES]}`}, expected a ${KIND_NAMES[kind]}`);
  if (v.length < minBytes) throw new CodecError(`is ${v.length} bytes, shorter than the ${minBytes} a ${KIND_NAMES[kind]} needs`);
  return v;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

// Keys

export function entryKey(index: number): Buffer {
  const k = Buffer.allocUnsafe(9);
  writeEntryKey(k, 0, index);
  return k;
}

function writeEntryKey(b: Buffer, off: number, index: number): void {
  b[off] = ENTRY_PREFIX;
  putU64(b, off + 1, index);
}

export function entryKeyIndex(k: Buffer): number {
  if (k.length !== 9 || k[0] !== ENTRY_PREFIX) throw new CodecError(`is not a 9-byte entry key`);
  return getU64(k, 1);
}

export const ENTRY_KEYS_START = entryKey(0);
export const ENTRY_KEYS_END = Buffer.from([ENTRY_PREFIX + 1]);

/**
 * Chunk n of the snapshot at snapIndex: 'c' + u64 index + u32 n. Keyed by
 * index so a new snapshot's chunks can be written ahead of its metadata
 * without touching the chunks of the one the metadata still names.
 */
export function chunkKey(snapIndex: number, n: number): Buffer {
  const k = Buffer.allocUnsafe(13);
  k[0] = SNAP_CHUNK_PREFIX;
  putU64(k, 1, snapIndex);
  k.writeUInt32BE(n, 9);
  return k;
}

/** The chunk key before snapshots were keyed by index ('c' + u32 n); still read at open. */
export function legacyChunkKey(n: number): Buffer {
  const k = Buffer.allocUnsafe(5);
  k[0] = SNAP_CHUNK_PREFIX;
  k.writeUInt32BE(n, 1);
  return k;
}

export const CHUNK_KEYS_START = Buffer.from([SNAP_CHUNK_PREFIX]);
export const CHUNK_KEYS_END = Buffer.from([SNAP_CHUNK_PREFIX + 1]);

// Entries: u8 type, u64 term, u64 index, data.

export interface EncodedEntries {
  keys: Buffer[];
  values: Buffer[];
}

/** Encodes a run of entries into two shared buffers, one allocation each for keys and values. */
export function encodeEntries(entries: readonly Entry[]): EncodedEntries {
  let total = 0;
  for (const e of entries) total += ENTRY_HEAD_BYTES + e.data.byteLength;
  const vbuf = Buffer.allocUnsafe(total);
  const kbuf = Buffer.allocUnsafe(9 * entries.length);
  const keys = new Array<Buffer>(entries.length);
  const values = new Array<Buffer>(entries.length);
  let off = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    checkU64(e.index, 'entry index');
    checkU64(e.term, `term of entry ${e.index}:`);
    const end = off + ENTRY_HEAD_BYTES + e.data.byteLength;
    const v = vbuf.subarray(off, end);
    v[HEAD_BYTES] = e.type === 'confChange' ? 1 : 0;
    putU64(v, HEAD_BYTES + 1, e.term);
    putU64(v, HEAD_BYTES + 9, e.index);
    v.set(e.data, ENTRY_HEAD_BYTES);
    values[i] = seal(v, Kind.Entry);
    writeEntryKey(kbuf, 9 * i, e.index);
    keys[i] = kbuf.subarray(9 * i, 9 * i + 9);
    off = end;
  }
  return { keys, values };
}

export function encodeEntry(e: Entry): Buffer {
  return encodeEntries([e]).values[0];
}

/** Decodes an entry; the index inside must match the key's. The data is a view of `v`. */
export function decodeEntry(v: Buffer, keyIndex: number): Entry {
  open(v, Kind.Entry, ENTRY_HEAD_BYTES);
  const type = v[HEAD_BYTES];
  if (type > 1) throw new CodecError(`has unknown entry type ${type}`);
  const term = getU64(v, HEAD_BYTES + 1);
  const index = getU64(v, HEAD_BYTES + 9);
  if (index !== keyIndex) throw new CodecError(`says it is index ${index}, expected ${keyIndex} as its key says`);
  const data = new Uint8Array(v.buffer, v.byteOffset + ENTRY_HEAD_BYTES, v.length - ENTRY_HEAD_BYTES);
  return { term, index, type: type === 1 ? 'confChange' : 'normal', data };
}

// Hard state: u64 term, u64 vote, u64 commit.

export function encodeHardState(h: HardState): Buffer {
  checkU64(h.term, 'hard state term');
  checkU64(h.vote, 'hard state vote');
  checkU64(h.commit, 'hard state commit');
  const b = Buffer.allocUnsafe(HEAD_BYTES + 24);
  putU64(b, HEAD_BYTES, h.term);
  putU64(b, HEAD_BYTES + 8, h.vote);
  putU64(b, HEAD_BYTES + 16, h.commit);
  return seal(b, Kind.HardState);
}

export function decodeHardState(v: Buffer): HardState {
  open(v, Kind.HardState, HEAD_BYTES + 24);
  return { term: getU64(v, HEAD_BYTES), vote: getU64(v, HEAD_BYTES + 8), commit: getU64(v, HEAD_BYTES + 16) };
}

// Log start: the index and term of the entry just before the first stored one.

export interface LogStart {
  index: number;
  term: number;
}

export function encodeLogStart(s: LogStart): Buffer {
  checkU64(s.index, 'log start index');
  checkU64(s.term, 'log start term');
  const b = Buffer.allocUnsafe(HEAD_BYTES + 16);
  putU64(b, HEAD_BYTES, s.index);
  putU64(b, HEAD_BYTES + 8, s.term);
  return seal(b, Kind.LogStart);
}

export function decodeLogStart(v: Buffer): LogStart {
  open(v, Kind.LogStart, HEAD_BYTES + 16);
  return { index: getU64(v, HEAD_BYTES), term: getU64(v, HEAD_BYTES + 8) };
}

// Snapshot metadata: u64 index, u64 term, u64 data bytes, u32 chunks,
// u32 voter count, u32 learner count, then u64 ids.

export interface SnapMeta extends SnapshotMetadata {
  dataBytes: number;
  chunks: number;
}

export function encodeSnapMeta(m: SnapMeta): Buffer {
  checkU64(m.index, 'snapshot index');
  checkU64(m.term, 'snapshot term');
  const { voters, learners } = m.confState;
  const b = Buffer.allocUnsafe(HEAD_BYTES + 36 + 8 * (voters.length + learners.length));
  putU64(b, HEAD_BYTES, m.index);
  putU64(b, HEAD_BYTES + 8, m.term);
  putU64(b, HEAD_BYTES + 16, m.dataBytes);
  b.writeUInt32BE(m.chunks, HEAD_BYTES + 24);
  b.writeUInt32BE(voters.length, HEAD_BYTES + 28);
  b.writeUInt32BE(learners.length, HEAD_BYTES + 32);
  let off = HEAD_BYTES + 36;
  for (const id of [...voters, ...learners]) {
    checkU64(id, 'member id');
    putU64(b, off, id);
    off += 8;
  }
  return seal(b, Kind.SnapMeta);
}

export function decodeSnapMeta(v: Buffer): SnapMeta {
  open(v, Kind.SnapMeta, HEAD_BYTES + 36);
  const nv = v.readUInt32BE(HEAD_BYTES + 28);
  const nl = v.readUInt32BE(HEAD_BYTES + 32);
  const want = HEAD_BYTES + 36 + 8 * (nv + nl);
  if (v.length !== want) throw new CodecError(`is ${v.length} bytes, expected ${want} for ${nv} voters and ${nl} learners`);
  const ids: number[] = [];
  for (let off = HEAD_BYTES + 36; off < want; off += 8) ids.push(getU64(v, off));
  const confState: ConfState = { voters: ids.slice(0, nv), learners: ids.slice(nv) };
  return {
    index: getU64(v, HEAD_BYTES),
    term: getU64(v, HEAD_BYTES + 8),
    dataBytes: getU64(v, HEAD_BYTES + 16),
    chunks: v.readUInt32BE(HEAD_BYTES + 24),
    confState,
  };
}

// Snapshot chunk: u64 snapshot index, u32 chunk number, data. The index ties
// a chunk to its metadata, so a chunk left from another snapshot is caught.

/** A sealed chunk's bytes besides its data. */
export const CHUNK_HEAD_BYTES = HEAD_BYTES + 12;

export function encodeSnapChunk(snapIndex: number, n: number, data: Uint8Array): Buffer {
  return Buffer.concat([encodeSnapChunkHead(snapIndex, n, data), data]);
}

/**
 * A sealed chunk's bytes before its data: head then data are encodeSnapChunk's bytes. For a writer
 * that hands both to writev: a snapshot's data is not copied a second time to put a head before it.
 */
export function encodeSnapChunkHead(snapIndex: number, n: number, data: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(CHUNK_HEAD_BYTES);
  b[CRC_BYTES] = Kind.SnapChunk;
  putU64(b, HEAD_BYTES, snapIndex);
  b.writeUInt32BE(n, HEAD_BYTES + 8);
  // The checksum runs over the head after it, then on over the data.
  b.writeUInt32BE(crc32(data, crc32(b.subarray(CRC_BYTES))), 0);
  return b;
}

/** Returns a view of the chunk's data inside `v`. */
export function decodeSnapChunk(v: Buffer, snapIndex: number, n: number): Buffer {
  open(v, Kind.SnapChunk, CHUNK_HEAD_BYTES);
  const idx = getU64(v, HEAD_BYTES);
  const num = v.readUInt32BE(HEAD_BYTES + 8);
  if (idx !== snapIndex || num !== n) throw new CodecError(`belongs to chunk ${num} of the snapshot at ${idx}, expected chunk ${n} of the snapshot at ${snapIndex}`);
  return v.subarray(CHUNK_HEAD_BYTES);
}

// Format marker: u32 version, then the name.

export function encodeFormat(): Buffer {
  const name = Buffer.from(FORMAT_NAME);
  const b = Buffer.allocUnsafe(HEAD_BYTES + 4 + name.length);
  b.writeUInt32BE(FORMAT_VERSION, HEAD_BYTES);
  name.copy(b, HEAD_BYTES + 4);
  return seal(b, Kind.Format);
}

export function decodeFormat(v: Buffer): { name: string; version: number } {
  open(v, Kind.Format, HEAD_BYTES + 4);
  return { version: v.readUInt32BE(HEAD_BYTES), name: v.subarray(HEAD_BYTES + 4).toString('latin1') };
}
