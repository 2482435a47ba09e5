// A stored object's bytes as a client receives them, without decoding it. Stored values are an
// object's protobuf without metadata.resourceVersion (objects.ts); every kind carries its
// ObjectMeta as field 3 (proto/navarch/api/v1), so the client's bytes are the stored ones with
// resourceVersion (ObjectMeta field 6) written into that field. A list of 150,000 pods then costs
// copies instead of a decode and an encode of every object, and leaves no garbage objects behind.

import { WireType } from '@bufbuild/protobuf/wire';
import type { KindInfo } from '../api/registry.js';
import { valueAsHeld, type KeyValue } from '../store/mod.js';
import { ApiError } from './api_error.js';
import { putVarint, varintSize } from './exact_wire.js';
import { varintAt, type WireBytes } from '../api/convert/wire_scan.js';

const METADATA_FIELD = 3;
const RESOURCE_VERSION_FIELD = 6;
const TAG_METADATA = (METADATA_FIELD << 3) | WireType.LengthDelimited;
const TAG_RESOURCE_VERSION = (RESOURCE_VERSION_FIELD << 3) | WireType.LengthDelimited;

/** Where the metadata field lies in `stored`: its tag's offset and its content's bounds (absent: an empty field at the end). */
function findMetadata(stored: WireBytes, length: number): { tagAt: number; contentAt: number; end: number } {
  const cursor = { pos: 0 };
  while (cursor.pos < length) {
    const tagAt = cursor.pos;
    const tag = varintAt(stored, length, cursor);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === METADATA_FIELD && wire === WireType.LengthDelimited) {
      const size = varintAt(stored, length, cursor);
      // The last occurrence of a message field is merged over earlier ones; stored bytes have one.
      return { tagAt, contentAt: cursor.pos, end: cursor.pos + size };
    }
    if (wire === WireType.Varint) varintAt(stored, length, cursor);
    else if (wire === WireType.Bit64) cursor.pos += 8;
    else if (wire === WireType.LengthDelimited) {
      const size = varintAt(stored, length, cursor);
      cursor.pos += size;
    }
    else if (wire === WireType.Bit32) cursor.pos += 4;
    else throw new RangeError(`field ${field} has wire type ${wire}, which stored objects do not use`);
  }
  if (cursor.pos > length) throw new RangeError(`a field ends at ${cursor.pos}, past the ${length} bytes of the object`);
  return { tagAt: length, contentAt: length, end: length };
}

/** Copies stored[from, to) into out at `at`. */
function copyRange(out: Buffer, at: number, stored: WireBytes, from: number, to: number): void {
  if (to <= from) return;
  if (typeof stored === 'string') out.write(stored.substring(from, to), at, to - from, 'latin1');
  else out.set(stored.subarray(from, to), at);
}

/**
 * `stored` with metadata.resourceVersion set to `modRevision`, as `encodeBinary(decodeStoredKv(..))`
 * would give it (field order aside, which decoders ignore). Throws on bytes that are not a message.
 */
export function withResourceVersion(stored: WireBytes, modRevision: number): Buffer {
  const rv = String(modRevision);
  const length = typeof stored === 'string' ? stored.length : stored.byteLength;
  const m = findMetadata(stored, length);
  if (m.end > length) throw new RangeError(`the metadata field ends at ${m.end}, past the ${length} bytes of the object`);
  // A later resourceVersion wins over one the stored bytes may hold (the last value of a field counts).
  const added = 1 + varintSize(rv.length) + rv.length;
  const metadataLength = m.end - m.contentAt + added;
  const size = m.tagAt + 1 + varintSize(metadataLength) + metadataLength + (length - m.end);
  const out = Buffer.allocUnsafe(size);
  copyRange(out, 0, stored, 0, m.tagAt);
  let at = m.tagAt;
  out[at++] = TAG_METADATA;
  at = putVarint(out, at, metadataLength);
  copyRange(out, at, stored, m.contentAt, m.end);
  at += m.end - m.contentAt;
  out[at++] = TAG_RESOURCE_VERSION;
  at = putVarint(out, at, rv.length);
  at += out.write(rv, at, 'latin1');
  copyRange(out, at, stored, m.end, length);
  return out;
}

/** A stored key-value as the bytes of the object clients see (decodeStoredKv without the decode). */
export function storedKvBytes(info: KindInfo, kv: KeyValue): Buffer {
  try {
    return withResourceVersion(valueAsHeld(kv), kv.modRevision);
  } catch (err) {
    throw new ApiError('Internal', `Internal error occurred: cannot read stored ${info.kind}: ${(err as Error).message}`, { cause: err });
  }
}
