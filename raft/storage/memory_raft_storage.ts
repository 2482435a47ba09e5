// RaftStorage over a MemoryStorage: nothing is durable, every write resolves
// at once. For tests of the node driver.

import { MemoryStorage } from '../core/memory_storage.js';
import type { ConfState, Entry, HardState, Snapshot } from '../core/types.js';
import type { PersistBatch, RaftStorage } from './raft_storage.js';

export class MemoryRaftStorage implements RaftStorage {
  /** The backing store; tests may inspect it or share it across a simulated restart. */
  readonly memory: MemoryStorage;
  private closed = false;

  constructor(memory: MemoryStorage = new MemoryStorage()) {
    this.memory = memory;
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

  async save(batch: PersistBatch): Promise<void> {
    this.checkOpen('save');
    if (batch.snapshot) this.memory.applySnapshot(batch.snapshot);
    this.memory.append(batch.entries);
    if (batch.hardState) this.memory.setHardState(batch.hardState);
  }

  async createSnapshot(index: number, confState: ConfState, data?: Uint8Array): Promise<Snapshot> {
    this.checkOpen('create a snapshot');
    // It has no writeSnapshot: the data always comes here.
    if (data === undefined) throw new Error(`Cannot create the snapshot at index ${index}: no data was given`);
    return this.memory.createSnapshot(index, confState, data);
  }

  async compact(index: number): Promise<void> {
    this.checkOpen('compact');
    const snapIndex = this.memory.snapshot().metadata.index;
    if (index > snapIndex) throw new RangeError(`Cannot compact the log to index ${index}: the latest snapshot is at index ${snapIndex}`);
    this.memory.compact(index);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private checkOpen(op: string): void {
    if (this.closed) throw new Error(`Cannot ${op}: the memory raft storage is closed`);
  }
}
