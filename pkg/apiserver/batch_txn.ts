// A batch call's writes in shared store transactions (create_batch.ts, bind_batch.ts): how many one
// transaction takes (few enough for the store's 128 operations per transaction, etcd's
// --max-txn-ops, and few enough bytes for one Raft entry), and how its outcome is shared out among
// the items. The Event recorder cuts its CreateBatch calls the same way, with limits of its own.

import type { KubeObject } from '../api/registry.js';
import type { TxnResponse } from '../store/mod.js';
import { toApiError, type ApiError } from './api_error.js';
import { rememberStored } from './object_bytes.js';

/** One item of a batch: done, or refused on its own. */
export type BatchOutcome<T extends KubeObject> = { object: T; error?: undefined } | { object?: undefined; error: ApiError };

/** At most about this many bytes of objects per transaction, well within a message between members. */
export const MAX_TXN_BYTES = 4 * 1024 * 1024;

/** `items` in order, cut into runs of at most maxItems and about maxBytes (an item alone may be larger). */
export function txnChunks<T>(items: readonly T[], maxItems: number, bytesOf: (item: T) => number, maxBytes = MAX_TXN_BYTES): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = bytesOf(item);
    if (chunk.length > 0 && (chunk.length >= maxItems || bytes + size > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** Item i written by its own write, which answers for it. */
export async function answerAlone<T extends KubeObject>(outcomes: BatchOutcome<T>[], i: number, write: () => Promise<T>): Promise<void> {
  try {
    outcomes[i] = { object: await write() };
  } catch (err) {
    outcomes[i] = { error: toApiError(err) };
  }
}

/**
 * Runs the transaction that writes `items` together. Written: each item's object (with the bytes
 * written) takes the transaction's revision. A compare failed or the transaction was refused:
 * `eachAlone` writes (and answers for) each item on its own. The store unreachable: every item gets
 * that error, unless the transaction certainly did not apply, since writing each again could write
 * it twice.
 */
export async function writeInOneTxn<I extends { i: number }, T extends KubeObject>(
  items: readonly I[],
  txn: () => Promise<TxnResponse>,
  written: (item: I) => { object: T; value: Uint8Array },
  eachAlone: () => Promise<void>,
  outcomes: BatchOutcome<T>[],
): Promise<void> {
  let revision: number;
  try {
    const r = await txn();
    if (!r.succeeded) return eachAlone();
    revision = r.header.revision;
  } catch (err) {
    const e = toApiError(err);
    if (e.code === 'Unavailable' && !e.details.notApplied) {
      for (const item of items) outcomes[item.i] = { error: e };
      return;
    }
    return eachAlone();
  }
  for (const item of items) {
    const { object, value } = written(item);
    object.metadata!.resourceVersion = String(revision);
    rememberStored(object, value, revision);
    outcomes[item.i] = { object };
  }
}
