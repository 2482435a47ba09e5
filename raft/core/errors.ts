// Named conditions that callers check with instanceof.

export class CompactedError extends Error {
  override name = 'CompactedError';
  constructor(index: number) {
    super(`Cannot read log index ${index}: it has been compacted into a snapshot`);
  }
}

export class UnavailableError extends Error {
  override name = 'UnavailableError';
  constructor(index: number) {
    super(`Cannot read log index ${index}: it is past the end of the log`);
  }
}

export class SnapshotTemporarilyUnavailableError extends Error {
  override name = 'SnapshotTemporarilyUnavailableError';
  constructor() {
    super('Cannot read the snapshot: it is being built, try again');
  }
}

/** A proposal that Raft refused; the caller may retry elsewhere or later. */
export class ProposalDroppedError extends Error {
  override name = 'ProposalDroppedError';
  constructor(reason: string) {
    super(`Proposal dropped: ${reason}`);
  }
}

/** A configuration change was refused because another (or the leader's first entry) is not applied yet. */
export class ConfChangePendingError extends ProposalDroppedError {
  override name = 'ConfChangePendingError';
}
