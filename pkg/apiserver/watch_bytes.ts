// The encoded form of a watch-cache object, shared by every gRPC watcher it goes to: the cache hands
// them all the same decoded object for a change and never changes it, so it is encoded once. Held
// weakly, and dropped when the change leaves the cache's ring: the scheduler and controllers inside
// a master keep the ring's objects themselves (pkg/client/watch.ts, LocalWatchSource), and at
// 150,000 pods the bytes kept beside them would cost a master hundreds of MiB.

import type { KubeObject } from '../api/registry.js';
import { encodeToBuffer } from './objects.js';

const watchBytes = new WeakMap<KubeObject, Buffer>();

export function encodedForWatch(object: KubeObject): Buffer {
  let b = watchBytes.get(object);
  if (b === undefined) {
    b = encodeToBuffer(object);
    watchBytes.set(object, b);
  }
  return b;
}

/** The object's change left the ring: its bytes go (a watcher still sending it encodes it again). */
export function forgetEncoded(object: KubeObject): void {
  watchBytes.delete(object);
}
