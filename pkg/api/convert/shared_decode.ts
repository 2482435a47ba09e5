// Decoding for caches that hold many objects for long: informers (ListOptions.forCache).
// Pods made from one template carry byte-identical parts: the same containers, the same spec on
// the same node, conditions set in the same second. Decoded the usual way each pod gets its own
// copy of each; here a part whose bytes were seen lately is the one object decoded from them, and
// decoding skips it. At 150,000 pods that is hundreds of bytes a pod, and less decoding.
//
// The shared parts are frozen: a cached object must not be changed in place anyway (see
// shared_values.ts), and one changed by mistake would change every pod that shares it. A writer
// takes a deepCopy, as it already must.

import { BinaryReader } from "@bufbuild/protobuf/wire";
import { Container, ContainerState, NodeSpec, NodeStatus, PodCondition, PodSpec, PodStatus, Toleration } from "../../../gen/navarch/api/v1/core.js";
import { ObjectMeta, OwnerReference, type MessageFns } from "../../../gen/navarch/api/v1/meta.js";
import type { KindInfo, KubeObject } from "../registry.js";
import { DecodeError } from "./object.js";
import { byteAt, varintAt, type WireBytes } from "./wire_scan.js";
import { decodeBinary, kindOfStored } from "./binary.js";
import { shareField, shareValues } from "../shared_values.js";
import { deepFreeze } from "../deep_freeze.js";

/** Parts kept per message type; the table starts over when full, so unique parts cannot grow it. */
export const MAX_SHARED_PARTS = 16_384;

/** Parts larger than this are rare to repeat and costly to key: decoded as usual. */
const MAX_PART_BYTES = 4096;

interface PartTable {
  parts: Map<string, unknown>;
  hits: number;
  misses: number;
}

const tables = new Map<string, PartTable>();

/** True only inside decodeShared: the same codecs decode objects that callers go on to change. */
let sharing = false;

/** The bytes a reader decodes from; BinaryReader keeps them in a field it does not declare. */
function readerBytes(reader: BinaryReader): Uint8Array | undefined {
  const buf = (reader as unknown as { buf?: unknown }).buf;
  return buf instanceof Uint8Array ? buf : undefined;
}

function shareParts<T>(name: string, fns: MessageFns<T>): void {
  const decode = fns.decode;
  const table: PartTable = { parts: new Map(), hits: 0, misses: 0 };
  tables.set(name, table);
  fns.decode = function (input: BinaryReader | Uint8Array, length?: number): T {
    if (!sharing || !(input instanceof BinaryReader) || length === undefined || length > MAX_PART_BYTES) return decode.call(fns, input, length);
    const bytes = readerBytes(input);
    if (bytes === undefined) return decode.call(fns, input, length);
    const start = input.pos;
    const key = Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString("latin1");
    const seen = table.parts.get(key);
    if (seen !== undefined) {
      table.hits++;
      input.pos = start + length;
      return seen as T;
    }
    table.misses++;
    const part = deepFreeze(shareValues(decode.call(fns, input, length)));
    if (table.parts.size >= MAX_SHARED_PARTS) table.parts = new Map();
    table.parts.set(key, part);
    return part;
  };
}

shareParts("PodSpec", PodSpec);
shareParts("Container", Container);
shareParts("ContainerState", ContainerState);
shareParts("PodCondition", PodCondition);
shareParts("OwnerReference", OwnerReference);
shareParts("Toleration", Toleration);

/**
 * Decodes bytes as the given kind for a cache: parts seen lately are shared and frozen, and the
 * rest shares strings and empty lists (shareValues). Never change the result in place.
 */
export function decodeShared(info: KindInfo, bytes: Uint8Array): KubeObject {
  sharing = true;
  try {
    return shareValues(decodeBinary(info, bytes));
  } finally {
    sharing = false;
  }
}

/** decodeStored for a cache: the kind the bytes name, then decodeShared. */
export function decodeStoredShared(bytes: Uint8Array): KubeObject {
  return decodeShared(kindOfStored(bytes), bytes);
}

/** Hits and misses per shared message type, for tests and metrics. */
export function sharedPartStats(): Record<string, { hits: number; misses: number; held: number }> {
  const out: Record<string, { hits: number; misses: number; held: number }> = {};
  for (const [name, t] of tables) out[name] = { hits: t.hits, misses: t.misses, held: t.parts.size };
  return out;
}

// A later version of an object the cache holds is mostly the same bytes: a pod's status write leaves
// its metadata and spec as they were, a binding its metadata. Kinds whose messages are apiVersion
// (1), kind (2), metadata (3), spec (4) and status (5) are split at the top level without decoding,
// and a part with the same bytes as in the previous version is that version's part.

/** The top-level fields, in message order, and the codecs of metadata, spec and status. */
const TOP_FIELDS = ["apiVersion", "kind", "metadata", "spec", "status"] as const;
const PART_CODECS: ReadonlyMap<string, readonly MessageFns<unknown>[]> = new Map<string, readonly MessageFns<unknown>[]>([
  ["Pod", [ObjectMeta, PodSpec, PodStatus] as MessageFns<unknown>[]],
  ["Node", [ObjectMeta, NodeSpec, NodeStatus] as MessageFns<unknown>[]],
]);

/** Whether decodeSharedAfter splits this kind. */
export function splitsAtTopLevel(info: KindInfo): boolean {
  return PART_CODECS.has(info.kind);
}

/**
 * Where fields 1 to 5 are: [start, end) of field f at 2f and 2f+1 (-1: absent). Undefined unless
 * every field is one of those, length-delimited and present once, as this codebase encodes them.
 */
function topFields(b: WireBytes, at: Int32Array): Int32Array | undefined {
  at.fill(-1);
  const cursor = { pos: 0 };
  while (cursor.pos < b.length) {
    const tag = byteAt(b, cursor.pos++);
    const field = tag >>> 3;
    if ((tag & 7) !== 2 || field < 1 || field > 5 || at[field * 2] !== -1) return undefined;
    let len: number;
    try {
      len = varintAt(b, b.length, cursor);
    } catch {
      return undefined;
    }
    const p = cursor.pos;
    if (p + len > b.length) return undefined;
    at[field * 2] = p;
    at[field * 2 + 1] = p + len;
    cursor.pos = p + len;
  }
  return at;
}

/** topFields' answers for decodeSharedAfter, which no decode it makes enters again: one pair, not two arrays per change. */
const NOW_FIELDS = new Int32Array(12);
const BEFORE_FIELDS = new Int32Array(12);

function asBuffer(b: WireBytes): Buffer {
  if (typeof b === "string") return Buffer.from(b, "latin1");
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Whether a[s, e) and b[ps, pe) hold the same bytes. The store's latin1 strings compare as they are, without copies. */
function sameRange(a: WireBytes, s: number, e: number, b: WireBytes, ps: number, pe: number): boolean {
  if (e - s !== pe - ps) return false;
  if (typeof a === "string" && typeof b === "string") return a.substring(s, e) === b.substring(ps, pe);
  return asBuffer(a).compare(asBuffer(b), ps, pe, s, e) === 0;
}

/** Whether top-level field f has the same bytes in both versions (topFields' answers for each); both absent counts as the same. */
function sameField(f: number, bytes: WireBytes, now: Int32Array, prevBytes: WireBytes, before: Int32Array): boolean {
  const s = now[f * 2], ps = before[f * 2];
  if (s === -1 || ps === -1) return s === ps;
  return sameRange(bytes, s, now[f * 2 + 1], prevBytes, ps, before[f * 2 + 1]);
}

/** A reader at bytes[s] for the e - s bytes up to e; of a latin1 string, only that part is copied out. */
function readerAt(bytes: WireBytes, s: number, e: number): BinaryReader {
  if (typeof bytes === "string") return new BinaryReader(Buffer.from(bytes.substring(s, e), "latin1"));
  const reader = new BinaryReader(bytes);
  reader.pos = s;
  return reader;
}

/**
 * decodeShared of `bytes`, given `prev` = decodeShared of `prevBytes` (an earlier version of the same
 * object, its metadata.resourceVersion aside): the same result, but metadata, spec and status whose
 * bytes did not change are prev's (the metadata a shallow copy, for the caller's resourceVersion),
 * not decoded again. Other kinds, and bytes not laid out as expected, are decoded in full. Either
 * may be the store's latin1 string: only the parts that changed are copied out to be decoded.
 */
export function decodeSharedAfter(info: KindInfo, bytes: WireBytes, prevBytes: WireBytes, prev: KubeObject): KubeObject {
  const codecs = PART_CODECS.get(info.kind);
  const now = codecs && topFields(bytes, NOW_FIELDS);
  const before = now && topFields(prevBytes, BEFORE_FIELDS);
  if (!now || !before) return decodeShared(info, asBuffer(bytes));
  // A different apiVersion or kind is a different object altogether.
  if (!sameField(1, bytes, now, prevBytes, before) || !sameField(2, bytes, now, prevBytes, before)) return decodeShared(info, asBuffer(bytes));
  const old = prev as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { apiVersion: old.apiVersion, kind: old.kind, metadata: undefined, spec: undefined, status: undefined };
  sharing = true;
  try {
    for (let f = 3; f <= 5; f++) {
      const key = TOP_FIELDS[f - 1];
      if (sameField(f, bytes, now, prevBytes, before)) {
        const part = old[key];
        out[key] = f === 3 && part !== undefined ? { ...(part as object) } : part;
        continue;
      }
      const s = now[f * 2];
      if (s === -1) continue;
      const e = now[f * 2 + 1];
      let part: unknown;
      try {
        part = codecs[f - 3].decode(readerAt(bytes, s, e), e - s);
      } catch (err) {
        throw new DecodeError("Malformed", `Cannot decode ${info.kind} from protobuf: ${(err as Error).message}`);
      }
      out[key] = shareField(key, part);
    }
  } finally {
    sharing = false;
  }
  return out as unknown as KubeObject;
}
