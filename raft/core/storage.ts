import type { ConfState, Entry, HardState, Snapshot } from './types.js';

/**
 * The read side of the log that the core consults. Reads are synchronous:
 * durable implementations keep the uncompacted log in memory and write
 * through to disk. Errors: CompactedError, UnavailableError,
 * SnapshotTemporarilyUnavailableError.
 */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at least one even if it exceeds maxSizeBytes. */
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[];
  /** Term of entry i; i may be firstIndex()-1 (the snapshot's index). */
  term(i: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}
