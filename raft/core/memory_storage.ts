import { CompactedError, UnavailableError } from './errors.js';
import type { Storage } from './storage.js';
import { type ConfState, type Entry, type HardState, type Snapshot, emptyHardState, emptySnapshot, entrySizeBytes } from './types.js';

/**
 * The uncompacted log, hard state and latest snapshot, in memory. Tests use
 * it directly; durable storages keep one as their read cache.
 * ents[0] is a dummy whose index and term are the snapshot's.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = emptyHardState();
  private snap: Snapshot = emptySnapshot();
  private ents: Entry[] = [{ term: 0, index: 0, type: 'normal', data: new Uint8Array(0) }];

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snap.metadata.confState) };
  }

  setHardState(h: HardState): void {
    this.hardState = { ...h };
  }

  hardStateNow(): HardState {
    return { ...this.hardState };
  }

  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    const offset = this.ents[0].index;
    if (lo <= offset) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1);
    const out: Entry[] = [];
    let size = 0;
    for (let i = lo - offset; i < hi - offset; i++) {
      const e = this.ents[i];
      size += entrySizeBytes(e);
      if (out.length > 0 && size > maxSizeBytes) break;
      out.push(e);
    }
    return out;
  }

  term(i: number): number {
    const offset = this.ents[0].index;
    if (i < offset) throw new CompactedError(i);
    if (i - offset >= this.ents.length) throw new UnavailableError(i);
    return this.ents[i - offset].term;
  }

  firstIndex(): number {
    return this.ents[0].index + 1;
  }

  lastIndex(): number {
    return this.ents[0].index + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces everything with the snapshot; refuses one older than what is held. */
  applySnapshot(s: Snapshot): void {
    if (s.metadata.index < this.snap.metadata.index) {
      throw new RangeError(`Cannot apply snapshot at index ${s.metadata.index}: storage already has ${this.snap.metadata.index}`);
    }
    this.snap = s;
    this.ents = [{ term: s.metadata.term, index: s.metadata.index, type: 'normal', data: new Uint8Array(0) }];
  }

  /** Records a snapshot taken by the state machine at index i (≤ applied) without dropping the log. */
  createSnapshot(i: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) return this.snap;
    if (i > this.lastIndex()) throw new RangeError(`Cannot snapshot at index ${i}: past the last index ${this.lastIndex()}`);
    const term = this.term(i);
    this.snap = { metadata: { index: i, term, confState: cloneConfState(confState) }, data };
    return this.snap;
  }

  /** Drops entries up to and including compactIndex, which must be ≤ the last index. */
  compact(compactIndex: number): void {
    const offset = this.ents[0].index;
    if (compactIndex <= offset) return;
    if (compactIndex > this.lastIndex()) throw new RangeError(`Cannot compact to ${compactIndex}: past the last index ${this.lastIndex()}`);
    const i = compactIndex - offset;
    const dummy: Entry = { term: this.ents[i].term, index: this.ents[i].index, type: 'normal', data: new Uint8Array(0) };
    this.ents = [dummy, ...this.ents.slice(i + 1)];
  }

  /** Appends entries, replacing any conflicting suffix. Entries must be contiguous. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0].index + entries.length - 1;
    if (last < first) return;
    let es = entries;
    if (first > entries[0].index) es = entries.slice(first - entries[0].index);
    const offset = es[0].index - this.ents[0].index;
    if (offset > this.ents.length) {
      throw new RangeError(`Cannot append entry ${es[0].index}: the log ends at ${this.lastIndex()}, leaving a gap`);
    }
    // In place: copying the whole log on every append would cost O(log length) per save.
    this.ents.length = offset;
    for (const e of es) this.ents.push(e);
  }
}

export function cloneConfState(c: ConfState): ConfState {
  return { voters: [...c.voters], learners: [...c.learners] };
}
