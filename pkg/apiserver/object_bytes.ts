// An object's bytes as answers and watch events carry them, made from its stored bytes when those
// are known: an object written or decoded here is its stored value (without resourceVersion) plus
// the resourceVersion, so its wire form is that value with the resourceVersion written in
// (stored_bytes.ts), a copy instead of an encode of the whole object.
//
// A watch-cache object's bytes are also shared by every gRPC watcher it goes to: the cache hands
// them all the same decoded object for a change and never changes it, so it is encoded once. Held
// weakly, and dropped when the change leaves the cache's ring: the scheduler and controllers inside
// a master keep the ring's objects themselves (pkg/client/watch.ts, LocalWatchSource), and at
// 150,000 pods the bytes kept beside them would cost a master hundreds of MiB.

import type { KubeObject } from '../api/registry.js';
import { encodeToBuffer } from './objects.js';
import { withResourceVersion } from './stored_bytes.js';
import { valueAsHeld } from '../store/mod.js';

/** Stored bytes, or a store key-value that gives them (a copy made on each read: read only when needed). */
export type StoredValue = Uint8Array | { readonly value: Uint8Array };

const watchBytes = new WeakMap<KubeObject, Buffer>();
const storedBytes = new WeakMap<KubeObject, { stored: StoredValue; revision: number }>();

/**
 * `object` is `stored` (its bytes without resourceVersion) decoded or encoded, with resourceVersion
 * `revision`. The object must not change afterwards (its bytes would say otherwise). Kept as long
 * as the object: only for objects that are answered at once or that leave a bounded cache
 * (forgetEncoded), never for objects an informer keeps.
 */
export function rememberStored(object: KubeObject, stored: StoredValue, revision: number): void {
  storedBytes.set(object, { stored, revision });
}

/** The object's bytes for an answer. */
export function encodedObject(object: KubeObject): Buffer {
  const s = storedBytes.get(object);
  if (s === undefined) return encodeToBuffer(object);
  return withResourceVersion(s.stored instanceof Uint8Array ? s.stored : valueAsHeld(s.stored), s.revision);
}

/** The object's bytes for the gRPC watchers of a change, made once for all of them. */
export function encodedForWatch(object: KubeObject): Buffer {
  let b = watchBytes.get(object);
  if (b === undefined) {
    b = encodedObject(object);
    watchBytes.set(object, b);
  }
  return b;
}

/** The object's change left the ring: its bytes go (a watcher still sending it encodes it again). */
export function forgetEncoded(object: KubeObject): void {
  watchBytes.delete(object);
  storedBytes.delete(object);
}
