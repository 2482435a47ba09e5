// The MVCC data: every key's retained history in a B+tree, the change log
// in revision order (which watch replays), the time of each revision, and
// the revision counters. Plain data plus the primitives that keep those
// structures consistent; the rules of txns live in txn.ts.
//
// History rules: a key's versions are sorted by modRevision; a delete
// appends a tombstone. Compacting at C keeps, per key, the newest version
// with modRevision <= C (unless it is a tombstone older than C) and every
// newer one, so reads at any revision >= C are exact; the change log keeps
// exactly the versions with modRevision >= C.

import { BTreeMap } from './btree.js';
import { Deque } from './deque.js';
import { ALL_KEYS_FROM } from './keys.js';
import type { KeyValue } from './types.js';

/**
 * One stored version of a key; handed out as a KeyValue. The value is kept as a latin1 string (one
 * byte per char, in V8's heap) rather than a Uint8Array: a store holds hundreds of thousands of
 * values of about a KB, and as buffers each cost a malloc'd backing store and wrapper objects
 * (~480 bytes over its length) and fragmented the allocator as history was compacted (RSS that
 * malloc never returned); strings cost ~16 bytes and are compacted by the GC.
 */
export class Version implements KeyValue {
  constructor(
    readonly key: string,
    /** The value's bytes, one char each. */
    readonly data: string,
    readonly createRevision: number,
    readonly modRevision: number,
    readonly version: number,
    readonly lease: number,
    /** Position of the change within its revision's txn. */
    readonly sub: number,
    readonly deleted: boolean,
  ) {}

  /** The value's bytes: a new copy on each read, of its own (not a slice of Buffer's pool, which a kept copy would pin). */
  get value(): Uint8Array {
    const n = this.data.length;
    const out = new Uint8Array(n);
    if (n > 0) Buffer.from(out.buffer, 0, n).write(this.data, 0, n, 'latin1');
    return out;
  }
}

/**
 * A stored value's bytes for a read that keeps none of them: a decode into objects of their own, a
 * compare, a copy. These come from Buffer's pool, about 2.5 times cheaper than value's copy of its
 * own for a pod (and no backing store of their own for the GC to free); kept, they would pin the
 * pool's 8 KB slab.
 */
export function readValue(kv: Pick<KeyValue, 'value'>): Uint8Array {
  return kv instanceof Version && kv.data.length > 0 ? Buffer.from(kv.data, 'latin1') : kv.value;
}

/**
 * A stored value as the store holds it, for a reader that takes either form: a Version's latin1
 * string (one char per byte), not copied; the bytes of any other key-value.
 */
export function valueAsHeld(kv: Pick<KeyValue, 'value'>): string | Uint8Array {
  return kv instanceof Version ? kv.data : kv.value;
}

/** The length of a stored value, without copying it. */
export function valueLength(kv: KeyValue): number {
  return kv instanceof Version ? kv.data.length : kv.value.byteLength;
}

/** Bytes as a latin1 string, one char per byte (Version.data). */
export function latin1Of(bytes: Uint8Array): string {
  return bytes.byteLength === 0 ? '' : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

// Rough per-object costs so sizeBytes tracks the heap, not just payloads.
const VERSION_OVERHEAD_BYTES = 240;
const KEY_OVERHEAD_BYTES = 96;

export function versionBytes(v: Version): number {
  return putBytes(v.key, v.data.length);
}

/** What a version of key with a value of valueBytes counts against the quota. */
export function putBytes(key: string, valueBytes: number): number {
  return VERSION_OVERHEAD_BYTES + key.length + valueBytes;
}

export function keyBytes(key: string): number {
  return KEY_OVERHEAD_BYTES + key.length;
}

/** Index of the newest version with modRevision <= rev, or -1. */
export function indexAt(versions: Version[], rev: number): number {
  let i = versions.length - 1;
  if (i < 0 || versions[i].modRevision <= rev) return i;
  let lo = 0;
  let hi = i;
  // Largest index with modRevision <= rev, by binary search.
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (versions[mid].modRevision <= rev) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** The live version of a key at rev, or undefined when absent or deleted then. */
export function liveAt(versions: Version[] | undefined, rev: number): Version | undefined {
  if (!versions) return undefined;
  const i = indexAt(versions, rev);
  if (i < 0) return undefined;
  const v = versions[i];
  return v.deleted ? undefined : v;
}

export class Keyspace {
  readonly index = new BTreeMap<Version[]>();
  /** Versions with modRevision >= compactRevision, in (revision, sub) order. */
  readonly changes = new Deque<Version>();
  /** Revisions after compactRevision-1 and the (monotonic) time of each, for age compaction; of revisions with the same time, only the newest. */
  readonly revTimes = new Deque<{ rev: number; timeMs: number }>();
  /** etcd starts at 1: the first write gets revision 2. */
  revision = 1;
  /** Reads below this revision fail; 0 when nothing was ever compacted. */
  compactRevision = 0;
  /** The store's replicated clock: the largest command time applied so far. */
  timeMs = 0;
  /** Approximate bytes held: keys, values and retained history. */
  sizeBytes = 0;
  /** Counts of paged reads' next pages (see range.ts), newest last; bounded. */
  readonly pageCounts = new Map<string, number>();

  rememberPageCount(pageKey: string, count: number): void {
    this.pageCounts.delete(pageKey);
    this.pageCounts.set(pageKey, count);
    if (this.pageCounts.size > 256) this.pageCounts.delete(this.pageCounts.keys().next().value!);
  }

  /** The key's live version at rev. */
  get(key: string, rev: number): Version | undefined {
    return liveAt(this.index.get(key), rev);
  }

  /**
   * Calls fn with each key live at rev in etcd's (key, rangeEnd) range, in
   * key order, until fn returns false.
   */
  forEachLive(key: string, rangeEnd: string | undefined, rev: number, fn: (v: Version) => boolean | void): void {
    if (rangeEnd === undefined || rangeEnd === '') {
      const v = this.get(key, rev);
      if (v) fn(v);
      return;
    }
    const end = rangeEnd === ALL_KEYS_FROM ? undefined : rangeEnd;
    if (end !== undefined && end <= key) return;
    this.index.forRange(key, end, (_k, versions) => {
      // Fast path: the newest version is the one at rev (reads near the current revision).
      const last = versions[versions.length - 1];
      const v = last.modRevision <= rev ? (last.deleted ? undefined : last) : liveAt(versions, rev);
      if (v) return fn(v);
      return true;
    });
  }

  /** Appends a put of key at rev (the caller checks lease and ignore* rules). */
  put(key: string, data: string, lease: number, rev: number, sub: number): Version {
    const versions = this.index.get(key);
    if (!versions) this.sizeBytes += keyBytes(key);
    const last = versions?.[versions.length - 1];
    const live = last && !last.deleted ? last : undefined;
    // The key as the history already holds it: a fresh copy per version would be kept with it.
    const v = new Version(last ? last.key : key, data, live ? live.createRevision : rev, rev, live ? live.version + 1 : 1, lease, sub, false);
    this.append(versions, v);
    return v;
  }

  /** Appends a tombstone for a live key at rev. */
  tombstone(key: string, rev: number, sub: number): Version {
    const versions = this.index.get(key)!;
    // The key as the history holds it (see put): a tombstone is kept until compaction too.
    const v = new Version(versions[versions.length - 1].key, '', 0, rev, 0, 0, sub, true);
    this.append(versions, v);
    return v;
  }

  private append(versions: Version[] | undefined, v: Version): void {
    // A new list one longer rather than a push, which would leave room for 17 versions (152 bytes)
    // where most keys hold one to three. A snapshot being encoded may hold the old list meanwhile.
    this.index.set(v.key, versions === undefined ? [v] : versions.concat(v));
    this.changes.push(v);
    this.sizeBytes += versionBytes(v);
  }

  /** Ends a write: the revision becomes current at the given time. */
  commit(rev: number): void {
    this.revision = rev;
    // Revisions written in the same millisecond share one entry, the newest: age compaction asks
    // only for the newest revision at or before a time. A busy store writes several per millisecond.
    // The entry is replaced, not changed: a snapshot being encoded may hold the old one.
    if (this.revTimes.back()?.timeMs === this.timeMs) this.revTimes.replaceBack({ rev, timeMs: this.timeMs });
    else this.revTimes.push({ rev, timeMs: this.timeMs });
  }

  /** Drops history below rev (compactRevision < rev <= revision). */
  compact(rev: number): void {
    this.compactRevision = rev;
    for (let v = this.changes.front(); v && v.modRevision < rev; v = this.changes.front()) {
      this.changes.shift();
      this.trim(v.key, rev);
    }
    for (let t = this.revTimes.front(); t && t.rev < rev; t = this.revTimes.front()) this.revTimes.shift();
  }

  private trim(key: string, rev: number): void {
    const versions = this.index.get(key);
    if (!versions) return;
    const i = indexAt(versions, rev);
    if (i < 0) return;
    const drop = versions[i].deleted && versions[i].modRevision < rev ? i + 1 : i;
    if (drop === 0) return;
    for (let j = 0; j < drop; j++) this.sizeBytes -= versionBytes(versions[j]);
    // A new list, not a cut one: a snapshot being encoded in turns may hold the old list.
    if (drop === versions.length) {
      this.index.delete(key);
      this.sizeBytes -= keyBytes(key);
    } else {
      this.index.set(key, versions.slice(drop));
    }
  }

  /** The version before v in its key's history, when live (a delete event's previous value, a put's previous value). */
  prevOf(v: Version): Version | undefined {
    const versions = this.index.get(v.key);
    if (!versions) return undefined;
    const i = indexAt(versions, v.modRevision - 1);
    if (i < 0) return undefined;
    const p = versions[i];
    return p.deleted ? undefined : p;
  }

  /** Calls fn for each change with modRevision >= rev, in order, until fn returns false. */
  forEachChange(rev: number, fn: (v: Version) => boolean | void): void {
    const n = this.changes.length;
    for (let i = this.changes.partitionPoint((v) => v.modRevision < rev); i < n; i++) {
      if (fn(this.changes.at(i)) === false) return;
    }
  }

  /** The newest revision whose time is <= timeMs, or 0 when none is retained. */
  lastRevisionAtOrBefore(timeMs: number): number {
    const i = this.revTimes.partitionPoint((t) => t.timeMs <= timeMs);
    return i > 0 ? this.revTimes.at(i - 1).rev : 0;
  }

  /** sizeBytes computed from scratch; equals the incremental figure (tests and restore use it). */
  computeSizeBytes(): number {
    let n = 0;
    this.index.forRange('', undefined, (key, versions) => {
      n += keyBytes(key);
      for (const v of versions) n += versionBytes(v);
    });
    return n;
  }

  /** Rebuilds the change log from the histories (after a restore). */
  rebuildChanges(): void {
    const all: Version[] = [];
    this.index.forRange('', undefined, (_k, versions) => {
      for (const v of versions) if (v.modRevision >= this.compactRevision) all.push(v);
    });
    all.sort((a, b) => a.modRevision - b.modRevision || a.sub - b.sub);
    for (const v of all) this.changes.push(v);
  }
}
