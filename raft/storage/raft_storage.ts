import type { Storage } from '../core/storage.js';
import type { ConfState, Entry, HardState, Snapshot } from '../core/types.js';

/** What one Ready asks to be made durable, written as one synced batch. */
export interface PersistBatch {
  hardState?: HardState;
  /** Contiguous; any stored entries from entries[0].index on are replaced. */
  entries: Entry[];
  /** A snapshot received from the leader: replaces the whole log. */
  snapshot?: Snapshot;
  /** False when only the commit index moved: losing that on a crash is harmless. @default true */
  sync?: boolean;
}

/**
 * A durable Raft log. Reads (the core's Storage) are synchronous from an
 * in-memory copy of the uncompacted log; writes resolve only once synced.
 * Calls to save/createSnapshot/compact are made one at a time by the driver.
 */
export interface RaftStorage extends Storage {
  save(batch: PersistBatch): Promise<void>;
  /**
   * Optional: writes a snapshot's data ahead of createSnapshot, without
   * blocking the event loop for long, and may run while save() does. The
   * snapshot exists only once createSnapshot(index, …, the same data) returns.
   */
  prepareSnapshot?(index: number, data: Uint8Array): Promise<void>;
  /**
   * Optional: the same with the data arriving in pieces (see StateMachine.snapshotTo); the snapshot
   * exists only once createSnapshot(index, …) without data returns.
   */
  writeSnapshot?(index: number): SnapshotWriter;
  /**
   * Optional: the latest snapshot with its data, for a storage whose snapshot() keeps only the
   * metadata in memory. The node calls it to restore at start and to send a snapshot to a follower.
   */
  loadSnapshot?(): Promise<Snapshot>;
  /**
   * Stores a snapshot the local state machine took at `index` (≤ applied). `data` may be left out
   * when writeSnapshot(index) has written it.
   */
  createSnapshot(index: number, confState: ConfState, data?: Uint8Array): Promise<Snapshot>;
  /** Drops log entries up to and including `index` (≤ the snapshot's index). */
  compact(index: number): Promise<void>;
  close(): Promise<void>;
}

/** A snapshot's data being written in pieces, in order, one write at a time. */
export interface SnapshotWriter {
  /** Stores the next piece; the caller may reuse the piece's memory once this settles. */
  write(piece: Uint8Array): Promise<void>;
  /**
   * After the last piece: true when the snapshot may now be named (createSnapshot without data);
   * false when it was overtaken (a newer snapshot was stored meanwhile) and must be dropped.
   */
  finish(): Promise<boolean>;
}
