import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TXN_BYTES, txnChunks } from './batch_txn.js';

describe('txnChunks', () => {
  it('cuts at the item limit, keeping the order', () => {
    assert.deepEqual(
      txnChunks([1, 2, 3, 4, 5], 2, () => 1),
      [[1, 2], [3, 4], [5]],
    );
  });

  it('cuts before an item that would take a transaction past MAX_TXN_BYTES; a larger item goes alone', () => {
    const mib = 1024 * 1024;
    const sizes = [1.5 * mib, 1.5 * mib, 1.5 * mib, MAX_TXN_BYTES + 1, 10];
    assert.deepEqual(
      txnChunks(sizes, 60, (s) => s).map((c) => c.length),
      [2, 1, 1, 1],
    );
  });
});
