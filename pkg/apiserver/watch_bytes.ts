// The encoded form of a watch-cache object, shared by every gRPC watcher it goes to: the cache hands
// them all the same decoded object for a change and never changes it, so it is encoded once. Held
// weakly, and dropped when the change leaves the cache's ring: the scheduler and controllers inside
// a master keep the ring's objects themselves (pkg/client/watch.ts, LocalWatchSource), and at
// 150,000 pods the bytes kept beside them would cost a master hundreds of MiB.
//
// An object decoded from the store carries its stored bytes here too: its wire form is those bytes
// with the resourceVersion written in (stored_bytes.ts), a copy instead of an encode of the whole
// object on every master that serves a gRPC watch.

import type { KubeObject } from '../api/registry.js';
import { encodeToBuffer } from './objects.js';
import { withResourceVersion } from './stored_bytes.js';

const watchBytes = new WeakMap<KubeObject, Buffer>();
const storedBytes = new WeakMap<KubeObject, { value: Uint8Array; revision: number }>();

/** `object` is `value` (stored bytes, without resourceVersion) decoded, with resourceVersion `revision`. */
export function rememberStored(object: KubeObject, value: Uint8Array, revision: number): void {
  storedBytes.set(object, { value, revision });
}

export function encodedForWatch(object: KubeObject): Buffer {
  let b = watchBytes.get(object);
  if (b === undefined) {
    const stored = storedBytes.get(object);
    b = stored === undefined ? encodeToBuffer(object) : withResourceVersion(stored.value, stored.revision);
    watchBytes.set(object, b);
  }
  return b;
}

/** The object's change left the ring: its bytes go (a watcher still sending it encodes it again). */
export function forgetEncoded(object: KubeObject): void {
  watchBytes.delete(object);
  storedBytes.delete(object);
}
