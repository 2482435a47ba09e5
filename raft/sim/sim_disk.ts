// A simulated disk under a RaftStorage. Writes change the process's view at
// once but become durable only after a simulated fsync; a crash throws away
// the process's view and every write still in flight, and reopen() builds
// the storage a restarted process would find.

import { MemoryStorage } from '../core/memory_storage.js';
import type { Random } from '../core/random.js';
import type { ConfState, Entry, HardState, Snapshot } from '../core/types.js';
import type { PersistBatch, RaftStorage } from '../storage/raft_storage.js';
import type { Buggify } from './buggify.js';
import type { SimClock } from './sim_clock.js';

export interface SimDiskOptions {
  clock: SimClock;
  random: Random;
  /** @default 1 */
  minFsyncMs?: number;
  /** @default 5 */
  maxFsyncMs?: number;
  /** Site "disk.slowFsync" makes a write take up to 20× this much longer. @default maxFsyncMs */
  slowFsyncBaseMs?: number;
  /** Site "disk.slowFsync" makes a write take up to 20× slowFsyncBaseMs longer. */
  buggify?: Buggify;
  /**
   * Sees every batch of entries as it is written, with the term of the entry
   * before the first (undefined when compacted): the simulator's log-matching checker.
   */
  onAppend?: (entries: readonly Entry[], prevTerm: number | undefined) => void;
}

/** What survives a crash: applied in the order writes complete. */
class DurableImage {
  readonly store = new MemoryStorage();

  apply(op: (m: MemoryStorage) => void): void {
    op(this.store);
  }
}

export class SimDisk implements RaftStorage {
  private readonly o: SimDiskOptions;
  private readonly durable: DurableImage;
  private memory: MemoryStorage;
  private crashed = false;
  /** When the last write in flight becomes durable: writes complete in order. */
  private lastDoneMs = 0;
  /** Writes made durable, for traces and tests. */
  syncs = 0;

  constructor(o: SimDiskOptions, durable: DurableImage = new DurableImage()) {
    this.o = o;
    this.durable = durable;
    this.memory = cloneStorage(durable.store);
  }

  /** The storage a restarted process finds: only what was durable when this one crashed. */
  reopen(): SimDisk {
    return new SimDisk(this.o, this.durable);
  }

  /** The process dies: writes not yet durable are lost and their promises never settle. */
  crash(): void {
    this.crashed = true;
  }

  get isCrashed(): boolean {
    return this.crashed;
  }

  /** The disk stalls: nothing written from now on is durable (or acknowledged) for ms. */
  stall(ms: number): void {
    this.lastDoneMs = Math.max(this.lastDoneMs, this.o.clock.nowMs() + ms);
  }

  /** The hard state that would survive a crash now. */
  durableHardState(): HardState {
    return this.durable.store.hardStateNow();
  }

  /** Whether entry (index, term) would survive a crash now: in the durable log, or under the durable snapshot. */
  durablyHolds(index: number, term: number): boolean {
    const d = this.durable.store;
    if (index <= d.snapshot().metadata.index) return true;
    if (index > d.lastIndex()) return false;
    return d.term(index) === term;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.memory.initialState();
  }
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    return this.memory.entries(lo, hi, maxSizeBytes);
  }
  term(i: number): number {
    return this.memory.term(i);
  }
  firstIndex(): number {
    return this.memory.firstIndex();
  }
  lastIndex(): number {
    return this.memory.lastIndex();
  }
  snapshot(): Snapshot {
    return this.memory.snapshot();
  }

  save(batch: PersistBatch): Promise<void> {
    const entries = batch.entries.map((e) => ({ ...e }));
    if (this.o.onAppend && entries.length > 0 && !this.crashed) this.o.onAppend(entries, this.termBefore(entries[0].index, batch));
    const op = (m: MemoryStorage): void => {
      if (batch.snapshot) m.applySnapshot(batch.snapshot);
      m.append(entries);
      if (batch.hardState) m.setHardState(batch.hardState);
    };
    return this.write(op, batch.sync !== false);
  }

  private termBefore(index: number, batch: PersistBatch): number | undefined {
    const snap = batch.snapshot?.metadata;
    if (snap && snap.index === index - 1) return snap.term;
    if (snap) return undefined;
    try {
      return this.memory.term(index - 1);
    } catch {
      return undefined;
    }
  }

  async createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot> {
    const snap = this.memory.createSnapshot(index, confState, data);
    await this.write((m) => {
      if (index > m.snapshot().metadata.index) m.createSnapshot(index, confState, data);
    }, true, false);
    return snap;
  }

  compact(index: number): Promise<void> {
    const snapIndex = this.memory.snapshot().metadata.index;
    if (index > snapIndex) return Promise.reject(new RangeError(`Cannot compact the log to index ${index}: the latest snapshot is at index ${snapIndex}`));
    return this.write((m) => m.compact(Math.min(index, m.snapshot().metadata.index)), true);
  }

  async close(): Promise<void> {}

  /**
   * Applies op to the process's view now and to the durable image after an
   * fsync delay. An unsynced write (only the commit index moved) is durable
   * at the same moment but resolves at once, as the driver does not wait.
   */
  private write(op: (m: MemoryStorage) => void, sync: boolean, applyToMemory = true): Promise<void> {
    if (this.crashed) return new Promise(() => {});
    if (applyToMemory) {
      try {
        op(this.memory);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const min = this.o.minFsyncMs ?? 1;
    const max = this.o.maxFsyncMs ?? 5;
    const now = this.o.clock.nowMs();
    let delay = min + this.o.random.intn(max - min + 1);
    // Scaled by the base time, not a slow disk's: a 20× stall of a slow disk would stop the cluster.
    if (this.o.buggify?.fires('disk.slowFsync')) delay += this.o.random.intn(20 * (this.o.slowFsyncBaseMs ?? max) + 1);
    this.lastDoneMs = Math.max(this.lastDoneMs, now + delay);
    return new Promise((resolve) => {
      this.o.clock.setTimeout(() => {
        if (this.crashed) return;
        this.durable.apply(op);
        this.syncs++;
        if (sync) resolve();
      }, this.lastDoneMs - now);
      if (!sync) resolve();
    });
  }
}

function cloneStorage(src: MemoryStorage): MemoryStorage {
  const m = new MemoryStorage();
  const snap = src.snapshot();
  if (snap.metadata.index > 0 || snap.data.byteLength > 0 || snap.metadata.confState.voters.length > 0) m.applySnapshot(snap);
  const first = Math.max(src.firstIndex(), snap.metadata.index + 1);
  if (src.lastIndex() >= first) m.append(src.entries(first, src.lastIndex() + 1, Infinity));
  m.setHardState(src.hardStateNow());
  return m;
}
