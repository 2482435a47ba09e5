// Objects in the store: where they live and how they are encoded. Keys are
// /registry/<resource>/<namespace>/<name> (cluster-scoped: /registry/<resource>/<name>); values
// are the object's protobuf bytes without resourceVersion, which is the key's modRevision.

import { formatTime } from '../api/time.js';
import { decodeBinary, encodeBinary } from '../api/convert/binary.js';
import { decodeShared, decodeSharedAfter, splitsAtTopLevel } from '../api/convert/shared_decode.js';
import type { KindInfo, KubeObject } from '../api/registry.js';
import { ApiError } from './api_error.js';
import { readValue, textToKey, valueAsHeld, type KeyValue } from '../store/mod.js';
import { deepCopy } from '../api/deep_copy.js';
import { deepEqual } from '../api/deep_equal.js';

export const REGISTRY_PREFIX = '/registry/';

/** The store key of one object. */
export function objectKey(info: KindInfo, namespace: string | undefined, name: string): string {
  return textToKey(info.namespaced ? `${REGISTRY_PREFIX}${info.resource}/${namespace ?? ''}/${name}` : `${REGISTRY_PREFIX}${info.resource}/${name}`);
}

/** The key prefix of a resource, or of one namespace's objects of it. Ends in "/" so "ns1" never matches "ns10". */
export function resourcePrefix(info: KindInfo, namespace?: string): string {
  return textToKey(info.namespaced && namespace ? `${REGISTRY_PREFIX}${info.resource}/${namespace}/` : `${REGISTRY_PREFIX}${info.resource}/`);
}

/** A deep copy that never aliases (see deep_copy.ts): objects are plain data. */
export function clone<T>(v: T): T {
  return deepCopy(v);
}

/** The object's bytes as answers and watch events carry them (resourceVersion included): a Buffer over the encoder's output, not a copy. */
export function encodeToBuffer(object: KubeObject): Buffer {
  const b = encodeBinary(object);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Bytes to store: the object without resourceVersion. */
export function encodeStored(object: KubeObject): Uint8Array {
  const copy = { ...object, metadata: { ...object.metadata!, resourceVersion: undefined } } as KubeObject;
  return encodeBinary(copy);
}

/**
 * A stored key-value as the object clients see, resourceVersion = the key's modRevision. `forCache`:
 * it is kept in a cache, decoded with shared, frozen parts (shared_decode.ts); never change it.
 */
export function decodeStoredKv(info: KindInfo, kv: KeyValue, options: { forCache?: boolean } = {}): KubeObject {
  // The decoded object keeps no view of the bytes (bytes fields are decoded as copies).
  return decodedAt(info, kv, () => (options.forCache ? decodeShared(info, readValue(kv)) : decodeBinary(info, readValue(kv))));
}

/**
 * decodeStoredKv for a cache, of a later version of `prev`, which was decoded for the cache from
 * `prevKv`: the parts whose bytes did not change are prev's (decodeSharedAfter).
 */
export function decodeStoredKvAfter(info: KindInfo, kv: KeyValue, prevKv: KeyValue, prev: KubeObject): KubeObject {
  if (!splitsAtTopLevel(info)) return decodeStoredKv(info, kv, { forCache: true });
  // The values as the store holds them: only the parts that changed are copied out.
  return decodedAt(info, kv, () => decodeSharedAfter(info, valueAsHeld(kv), valueAsHeld(prevKv), prev));
}

function decodedAt(info: KindInfo, kv: KeyValue, decode: () => KubeObject): KubeObject {
  let o: KubeObject;
  try {
    o = decode();
  } catch (err) {
    throw new ApiError('Internal', `Internal error occurred: cannot decode stored ${info.kind}: ${(err as Error).message}`, { cause: err });
  }
  o.metadata ??= emptyMeta();
  o.metadata.resourceVersion = String(kv.modRevision);
  return o;
}

export function emptyMeta(): NonNullable<KubeObject['metadata']> {
  return { labels: {}, annotations: {}, ownerReferences: [], finalizers: [] };
}

/** Whether what a spec writer owns (the object minus metadata and status) differs: what bumps metadata.generation. */
export function specChanged(a: KubeObject, b: KubeObject): boolean {
  const bytes = (o: KubeObject) => encodeBinary({ ...o, metadata: undefined, status: undefined } as KubeObject);
  return !sameBytes(bytes(a), bytes(b));
}

/**
 * Whether a spec write bumps metadata.generation: for a kind that has one, a spec change, and for a
 * Deployment also an annotation change (Kubernetes' Deployment strategy: its annotations are
 * copied to its ReplicaSets).
 */
export function generationChanges(info: KindInfo, next: KubeObject, old: KubeObject): boolean {
  if (!info.hasGeneration) return false;
  if (specChanged(next, old)) return true;
  return info.kind === 'Deployment' && !deepEqual(next.metadata?.annotations ?? {}, old.metadata?.annotations ?? {});
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** metav1.Time text: RFC 3339 in UTC with whole seconds. */
export { formatTime };
