// How many writes one store transaction takes when a batch call writes them together
// (create_batch.ts, bind_batch.ts): few enough for the store's 128 operations per transaction
// (etcd's --max-txn-ops), and few enough bytes for one Raft entry. The Event recorder cuts its
// CreateBatch calls the same way, with limits of its own.

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
