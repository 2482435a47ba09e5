// An object's bytes as answers and watch events carry them, made from its stored bytes when those
// are known: an object written or decoded here is its stored value (without resourceVersion) plus
// the resourceVersion, so its wire form is that value with the resourceVersion written in
// (stored_bytes.ts), a copy instead of an encode of the whole object.
//
// A watch-cache change's bytes are shared by every gRPC watcher it goes to: the change carries its
// stored bytes (StoredBytes) and makes the wire form once, and both go with the change when it
// leaves the cache's ring (the scheduler and controllers inside a master keep the ring's objects
// themselves, pkg/client/watch.ts, LocalWatchSource: at 150,000 pods bytes kept beside them would
// cost a master hundreds of MiB). Objects answered at once are looked up by identity instead.

import type { KubeObject } from '../api/registry.js';
import { encodeToBuffer } from './objects.js';
import { withResourceVersion } from './stored_bytes.js';
import { valueAsHeld } from '../store/mod.js';

/** Stored bytes, or a store key-value that gives them (a copy made on each read: read only when needed). */
export type StoredValue = Uint8Array | { readonly value: Uint8Array };

const storedBytes = new WeakMap<KubeObject, { stored: StoredValue; revision: number }>();

/**
 * `object` is `stored` (its bytes without resourceVersion) decoded or encoded, with resourceVersion
 * `revision`. The object must not change afterwards (its bytes would say otherwise). Kept as long
 * as the object: only for objects that are answered at once, never for objects a cache or an
 * informer keeps (a watch cache's changes carry a StoredBytes instead).
 */
export function rememberStored(object: KubeObject, stored: StoredValue, revision: number): void {
  storedBytes.set(object, { stored, revision });
}

/** The object's bytes for an answer. */
export function encodedObject(object: KubeObject): Buffer {
  const s = storedBytes.get(object);
  return s === undefined ? encodeToBuffer(object) : wireForm(s.stored, s.revision);
}

/** Stored bytes with their resourceVersion written in: the object as the wire carries it. */
function wireForm(stored: StoredValue, revision: number): Buffer {
  return withResourceVersion(stored instanceof Uint8Array ? stored : valueAsHeld(stored), revision);
}

/** A cached change's object as stored, with its wire form made once for all of its gRPC watchers. */
export class StoredBytes {
  private wire: Buffer | undefined;

  constructor(
    private readonly stored: StoredValue,
    private readonly revision: number,
  ) {}

  forWatch(): Buffer {
    return (this.wire ??= wireForm(this.stored, this.revision));
  }
}
