// The backup file `Maintenance.Snapshot` streams and `navctl snapshot save`
// writes: our own format inside etcd's envelope (not bbolt).
//
// Body: "NVSNAPSH", u16 format, u32 length of the metadata JSON, the JSON,
// the store snapshot (pkg/store's format, with its own CRC-32), then zero
// padding to a multiple of 512 bytes. The file is the body followed by the
// SHA-256 of the body, which the stream sends as its last message, as etcd
// does. The padding is there because etcdctl accepts a snapshot only when
// (size - 32) is a multiple of 512, as bbolt's pages make it.

import { createHash } from 'node:crypto';
import { Store } from '../store/mod.js';

const MAGIC = Buffer.from('NVSNAPSH', 'latin1');
const FORMAT = 1;
const HEADER_BYTES = MAGIC.length + 2 + 4;
/** What etcdctl's size check expects the body to be a multiple of. */
export const SNAPSHOT_PAGE_BYTES = 512;
export const SNAPSHOT_CHECKSUM_BYTES = 32;
/** The metadata JSON is a few hundred bytes; anything far larger is damage. */
const MAX_META_BYTES = 64 * 1024;

/** Where and when a snapshot was taken; the store snapshot says what it holds. */
export interface SnapshotMeta {
  memberId: number;
  clusterId: number;
  /** The store's revision in the snapshot. */
  revision: number;
  compactRevision: number;
  /** Live keys at `revision`. */
  keys: number;
  /** The Raft index the store had applied, and the term then. */
  raftIndex: number;
  raftTerm: number;
  /** Wall clock of the member that took it. */
  createdAtMs: number;
  /** Bytes of the store snapshot that follows the metadata. */
  storeBytes: number;
}

export class SnapshotFileError extends Error {
  override name = 'SnapshotFileError';
}

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** The body (without the checksum): metadata, store snapshot, padding. */
export function encodeSnapshotBody(meta: Omit<SnapshotMeta, 'storeBytes'>, store: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify({ ...meta, storeBytes: store.byteLength }), 'utf8');
  const unpadded = HEADER_BYTES + json.length + store.byteLength;
  const size = Math.ceil(unpadded / SNAPSHOT_PAGE_BYTES) * SNAPSHOT_PAGE_BYTES;
  const out = Buffer.alloc(size);
  MAGIC.copy(out, 0);
  out.writeUInt16BE(FORMAT, MAGIC.length);
  out.writeUInt32BE(json.length, MAGIC.length + 2);
  json.copy(out, HEADER_BYTES);
  out.set(store, HEADER_BYTES + json.length);
  return out;
}

function checkMeta(v: unknown): SnapshotMeta {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SnapshotFileError('Cannot read snapshot: its metadata is not a JSON object');
  const m = v as Record<string, unknown>;
  for (const k of ['memberId', 'clusterId', 'revision', 'compactRevision', 'keys', 'raftIndex', 'raftTerm', 'createdAtMs', 'storeBytes']) {
    const x = m[k];
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw new SnapshotFileError(`Cannot read snapshot: metadata field "${k}" is ${JSON.stringify(x)}, expected a non-negative integer`);
  }
  return m as unknown as SnapshotMeta;
}

/**
 * Checks a whole snapshot file (body + SHA-256) and returns its metadata and
 * store snapshot. Throws SnapshotFileError naming the problem: truncated,
 * checksum mismatch, not our format, or a store snapshot that does not decode.
 */
export function decodeSnapshotFile(data: Uint8Array, name = 'snapshot'): { meta: SnapshotMeta; store: Uint8Array } {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < HEADER_BYTES + SNAPSHOT_CHECKSUM_BYTES) throw new SnapshotFileError(`Cannot read ${name}: ${buf.length} bytes is too short to be a snapshot`);
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new SnapshotFileError(`Cannot read ${name}: it does not start with "NVSNAPSH" (not a Navarch snapshot; a bbolt file from etcd cannot be restored here)`);
  }
  const bodyBytes = buf.length - SNAPSHOT_CHECKSUM_BYTES;
  if (bodyBytes % SNAPSHOT_PAGE_BYTES !== 0) {
    throw new SnapshotFileError(`Cannot read ${name}: ${buf.length} bytes is not a whole snapshot (${SNAPSHOT_PAGE_BYTES}-byte pages plus a ${SNAPSHOT_CHECKSUM_BYTES}-byte checksum); it is probably truncated`);
  }
  const body = buf.subarray(0, bodyBytes);
  const want = buf.subarray(bodyBytes);
  const got = sha256(body);
  if (!got.equals(want)) throw new SnapshotFileError(`Cannot read ${name}: its SHA-256 checksum does not match (stored ${want.toString('hex').slice(0, 16)}…, computed ${got.toString('hex').slice(0, 16)}…); the file is damaged`);
  const format = buf.readUInt16BE(MAGIC.length);
  if (format !== FORMAT) throw new SnapshotFileError(`Cannot read ${name}: snapshot format ${format} is unknown (expected ${FORMAT})`);
  const jsonBytes = buf.readUInt32BE(MAGIC.length + 2);
  if (jsonBytes > MAX_META_BYTES || HEADER_BYTES + jsonBytes > bodyBytes) throw new SnapshotFileError(`Cannot read ${name}: metadata length ${jsonBytes} runs past the end`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.subarray(HEADER_BYTES, HEADER_BYTES + jsonBytes).toString('utf8'));
  } catch (e) {
    throw new SnapshotFileError(`Cannot read ${name}: its metadata is not JSON: ${(e as Error).message}`);
  }
  const meta = checkMeta(parsed);
  const start = HEADER_BYTES + jsonBytes;
  if (start + meta.storeBytes > bodyBytes) throw new SnapshotFileError(`Cannot read ${name}: the store snapshot of ${meta.storeBytes} bytes runs past the end`);
  return { meta, store: body.subarray(start, start + meta.storeBytes) };
}

/** Decodes the store snapshot fully (its CRC and structure) and checks it agrees with the metadata. */
export function verifyStoreSnapshot(meta: SnapshotMeta, store: Uint8Array, name = 'snapshot'): Store {
  const s = new Store({ compactRetainRevisions: Infinity, compactRetainMs: Infinity, quotaBytes: Number.MAX_SAFE_INTEGER });
  try {
    s.restore(store);
  } catch (e) {
    throw new SnapshotFileError(`Cannot read ${name}: ${(e as Error).message}`);
  }
  if (s.revision !== meta.revision) throw new SnapshotFileError(`Cannot read ${name}: the store is at revision ${s.revision} but the metadata says ${meta.revision}`);
  return s;
}
