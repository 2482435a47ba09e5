// A stored object's bytes as a client receives them, without decoding it. Stored values are an
// object's protobuf without metadata.resourceVersion (objects.ts); every kind carries its
// ObjectMeta as field 3 (proto/navarch/api/v1), so the client's bytes are the stored ones with
// resourceVersion (ObjectMeta field 6) written into that field. A list of 150,000 pods then costs
// copies instead of a decode and an encode of every object, and leaves no garbage objects behind.

import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { KindInfo } from '../api/registry.js';
import { readValue, type KeyValue } from '../store/mod.js';
import { ApiError } from './api_error.js';
import { putVarint, varintSize } from './exact_wire.js';

const METADATA_FIELD = 3;
const RESOURCE_VERSION_FIELD = 6;
const TAG_METADATA = (METADATA_FIELD << 3) | WireType.LengthDelimited;
const TAG_RESOURCE_VERSION = (RESOURCE_VERSION_FIELD << 3) | WireType.LengthDelimited;

/** Where the metadata field lies in `stored`: its tag's offset and its content's bounds (absent: an empty field at the end). */
function findMetadata(stored: Uint8Array): { tagAt: number; contentAt: number; end: number } {
  const r = new BinaryReader(stored);
  while (r.pos < r.len) {
    const tagAt = r.pos;
    const [field, wire] = r.tag();
    if (field === METADATA_FIELD && wire === WireType.LengthDelimited) {
      const length = r.uint32();
      // The last occurrence of a message field is merged over earlier ones; stored bytes have one.
      return { tagAt, contentAt: r.pos, end: r.pos + length };
    }
    r.skip(wire, field);
  }
  return { tagAt: stored.byteLength, contentAt: stored.byteLength, end: stored.byteLength };
}

/**
 * `stored` with metadata.resourceVersion set to `modRevision`, as `encodeBinary(decodeStoredKv(..))`
 * would give it (field order aside, which decoders ignore). Throws on bytes that are not a message.
 */
export function withResourceVersion(stored: Uint8Array, modRevision: number): Buffer {
  const rv = String(modRevision);
  const m = findMetadata(stored);
  if (m.end > stored.byteLength) throw new RangeError(`the metadata field ends at ${m.end}, past the ${stored.byteLength} bytes of the object`);
  // A later resourceVersion wins over one the stored bytes may hold (the last value of a field counts).
  const added = 1 + varintSize(rv.length) + rv.length;
  const metadataLength = m.end - m.contentAt + added;
  const size = m.tagAt + 1 + varintSize(metadataLength) + metadataLength + (stored.byteLength - m.end);
  const out = Buffer.allocUnsafe(size);
  out.set(stored.subarray(0, m.tagAt), 0);
  let at = m.tagAt;
  out[at++] = TAG_METADATA;
  at = putVarint(out, at, metadataLength);
  out.set(stored.subarray(m.contentAt, m.end), at);
  at += m.end - m.contentAt;
  out[at++] = TAG_RESOURCE_VERSION;
  at = putVarint(out, at, rv.length);
  at += out.write(rv, at, 'latin1');
  out.set(stored.subarray(m.end), at);
  return out;
}

/** A stored key-value as the bytes of the object clients see (decodeStoredKv without the decode). */
export function storedKvBytes(info: KindInfo, kv: KeyValue): Buffer {
  try {
    return withResourceVersion(readValue(kv), kv.modRevision);
  } catch (err) {
    throw new ApiError('Internal', `Internal error occurred: cannot read stored ${info.kind}: ${(err as Error).message}`, { cause: err });
  }
}
