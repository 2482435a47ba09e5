// Errors of the durable raft storage. Each names the data dir.

/** The stored data fails verification; the member must not start on it. */
export class CorruptStorageError extends Error {
  override name = 'CorruptStorageError';
  constructor(
    readonly dir: string,
    readonly detail: string,
  ) {
    super(`Raft storage at '${dir}' is corrupt: ${detail}; refusing to start on it`);
  }
}

/** Another process (or another open in this one) holds the data dir. */
export class StorageLockedError extends Error {
  override name = 'StorageLockedError';
  constructor(dir: string, cause: Error) {
    super(`Cannot open raft storage at '${dir}': it is in use by another process (lock held)`, { cause });
  }
}

export class StorageClosedError extends Error {
  override name = 'StorageClosedError';
  constructor(dir: string, op: string) {
    super(`Cannot ${op}: raft storage at '${dir}' is closed`);
  }
}
