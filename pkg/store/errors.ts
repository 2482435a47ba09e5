// The store's errors: one class with a closed set of codes, and subclasses
// for the conditions that carry data a caller acts on. Replicated commands
// return these as values (see state_machine.ts); local reads throw them.

export type StoreErrorCode =
  | 'Compacted'
  | 'FutureRevision'
  | 'QuotaExceeded'
  | 'LeaseNotFound'
  | 'LeaseExists'
  | 'KeyNotFound'
  | 'InvalidArgument'
  | 'WatchOverflow'
  | 'WatchCancelled';

export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A read or watch asked for history that compaction has dropped: relist, then watch from the list's revision. */
export class CompactedError extends StoreError {
  override name = 'CompactedError';
  constructor(
    readonly requestedRevision: number,
    readonly compactRevision: number,
  ) {
    super('Compacted', `Cannot read revision ${requestedRevision}: it has been compacted; the oldest available revision is ${compactRevision}`);
  }
}

export class FutureRevisionError extends StoreError {
  override name = 'FutureRevisionError';
  constructor(
    readonly requestedRevision: number,
    readonly currentRevision: number,
  ) {
    super('FutureRevision', `Cannot read revision ${requestedRevision}: it is a future revision; the current revision is ${currentRevision}`);
  }
}

export class QuotaExceededError extends StoreError {
  override name = 'QuotaExceededError';
  constructor(
    readonly usedBytes: number,
    readonly requestBytes: number,
    readonly quotaBytes: number,
  ) {
    super(
      'QuotaExceeded',
      `Database space exceeded: ${usedBytes} bytes used of quota ${quotaBytes}, this write needs ${requestBytes} more; delete keys or let compaction free space`,
    );
  }
}

/**
 * A watcher's consumer fell behind and its buffer filled: the watch is
 * cancelled. Resume with a new watch from `nextRevision`; every event
 * before it has been delivered.
 */
export class WatchOverflowError extends StoreError {
  override name = 'WatchOverflowError';
  constructor(
    readonly nextRevision: number,
    readonly bufferEvents: number,
  ) {
    super('WatchOverflow', `Watch cancelled: the consumer fell behind with ${bufferEvents} events buffered (watchBufferEvents); resume from revision ${nextRevision}`);
  }
}

export function invalidArgument(message: string): StoreError {
  return new StoreError('InvalidArgument', message);
}
