// Where the store keeps its values' bytes: packed into slabs outside V8's heap. A value lives for
// at least compactRetainRevisions (100,000 revisions, a minute or more under load); kept on V8's
// heap as strings, every one was copied twice by the scavenger (within the young generation, then
// into the old one), a third of what the Raft leader's scavenges copied. Here a value is copied
// once, into the slab being filled, and the scavenger never sees it.
//
// A slab's bytes never change once written and a slab is never reused: a view handed to a reader
// stays valid as long as the reader keeps it (it keeps the slab alive). Compaction frees a slab by
// moving its few remaining live values into the slab being filled; the emptied slab goes with its
// last reference, through the GC.

export const SLAB_BYTES = 256 * 1024;
/** Values from this size get a slab of their own (freed with the value), so that a slab holds a few hundred. */
const OWN_SLAB_FROM_BYTES = SLAB_BYTES / 4;
/** A slab still holding less than this part of its bytes live is emptied (at most twice the live bytes in slabs). */
const EVACUATE_BELOW_LIVE = 0.5;

const EMPTY = new Uint8Array(0);

/** What a slab's value belongs to: a stored version, which the slabs move when they empty a slab. */
export interface SlabValue {
  /** The value's bytes: a view of its slab (empty: none), replaced when the value moves. */
  bytes: Uint8Array;
  slab: Slab | undefined;
  /** False once compaction dropped the version: its bytes need not move. */
  retained: boolean;
}

export class Slab {
  used = 0;
  /** Bytes of retained values. */
  liveBytes = 0;
  /** Values dropped since `values` was last pruned. */
  droppedValues = 0;
  /** Waiting to be emptied. */
  pending = false;
  /** Values written here, until pruned of dropped ones; a value that moved away is dropped from it too. */
  values: SlabValue[] = [];

  constructor(
    readonly bytes: Uint8Array,
    /** A slab of one large value, not filled by others. */
    readonly own: boolean,
  ) {}
}

function newBytes(n: number): Uint8Array {
  // Its own ArrayBuffer (not Buffer's pool) and not zero-filled: every byte handed out is written first.
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

export class ValueSlabs {
  private filling: Slab | undefined;
  private readonly pending: Slab[] = [];
  /** Slabs allocated, and bytes of them: for tests and status. */
  slabsMade = 0;
  /** Live bytes copied out of slabs being emptied. */
  bytesMoved = 0;

  /** Copies `bytes` into a slab as v's value. */
  store(v: SlabValue, bytes: Uint8Array): void {
    const n = bytes.byteLength;
    if (n === 0) {
      v.bytes = EMPTY;
      v.slab = undefined;
      return;
    }
    let slab: Slab;
    if (n >= OWN_SLAB_FROM_BYTES) {
      slab = new Slab(newBytes(n), true);
      this.slabsMade++;
    } else {
      slab = this.filling !== undefined && this.filling.used + n <= SLAB_BYTES ? this.filling : this.startSlab();
    }
    const at = slab.used;
    slab.bytes.set(bytes, at);
    v.bytes = slab.bytes.subarray(at, at + n);
    v.slab = slab;
    slab.used += n;
    slab.liveBytes += n;
    if (!slab.own) slab.values.push(v);
  }

  private startSlab(): Slab {
    const last = this.filling;
    const slab = new Slab(newBytes(SLAB_BYTES), false);
    this.slabsMade++;
    this.filling = slab;
    // A full slab may already be sparse: it waits to be emptied like any other.
    if (last !== undefined) this.considerEmptying(last);
    return slab;
  }

  /** v was dropped by compaction: its bytes stay readable through views already handed out, and count no more. */
  release(v: SlabValue): void {
    if (!v.retained) return;
    v.retained = false;
    const slab = v.slab;
    if (slab === undefined || slab.own) return;
    slab.liveBytes -= v.bytes.byteLength;
    slab.droppedValues++;
    if (slab !== this.filling) this.considerEmptying(slab);
    // Keeps `values` from holding on to more dropped versions than retained ones.
    if (!slab.pending && slab.droppedValues * 2 > slab.values.length) {
      slab.values = slab.values.filter((x) => x.retained && x.slab === slab);
      slab.droppedValues = 0;
    }
  }

  private considerEmptying(slab: Slab): void {
    if (slab.pending || slab.liveBytes >= slab.used * EVACUATE_BELOW_LIVE) return;
    slab.pending = true;
    this.pending.push(slab);
  }

  /** Empties the slabs that compaction left sparse, moving their live values into the slab being filled. */
  emptySparse(): void {
    while (this.pending.length > 0) {
      const slab = this.pending.pop()!;
      const values = slab.values;
      slab.values = [];
      for (const v of values) {
        if (!v.retained || v.slab !== slab) continue;
        this.bytesMoved += v.bytes.byteLength;
        // store() reads the old bytes, which stay as they were.
        this.store(v, v.bytes);
      }
      slab.liveBytes = 0;
    }
  }
}
