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
import { Container, ContainerState, PodCondition, PodSpec, Toleration } from "../../../gen/navarch/api/v1/core.js";
import { OwnerReference, type MessageFns } from "../../../gen/navarch/api/v1/meta.js";
import type { KindInfo, KubeObject } from "../registry.js";
import { decodeBinary, kindOfStored } from "./binary.js";
import { shareValues } from "../shared_values.js";
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
