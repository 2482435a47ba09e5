import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from './store.js';
import { QuotaExceededError } from './errors.js';
import { prefixEnd } from './keys.js';
import { TestTime, del, put, value } from './test_util.js';

test('writes past the quota are refused with a clear error; deletes still work and writes resume after compaction', () => {
  const s = new Store({ quotaBytes: 64 * 1024, compactRetainRevisions: 50, compactRetainMs: Infinity });
  const t = new TestTime();
  let refused: QuotaExceededError | undefined;
  let n = 0;
  for (; n < 10_000 && !refused; n++) {
    try {
      put(s, t, `/big/${n}`, 'x'.repeat(512));
    } catch (e) {
      refused = e as QuotaExceededError;
    }
  }
  assert.ok(refused instanceof QuotaExceededError, 'a write should have been refused');
  assert.match(refused.message, /^Database space exceeded: \d+ bytes used of quota 65536, this write needs \d+ more; delete keys or let compaction free space$/);
  assert.ok(s.sizeBytes <= 64 * 1024);
  const rev = s.revision;
  // Nothing of the refused write is visible.
  assert.equal(value(s, `/big/${n - 1}`), undefined);
  // Deletes are allowed over the quota, but history still holds the values until compaction drops it.
  del(s, t, '/big/', prefixEnd('/big/'));
  assert.equal(s.revision, rev + 1);
  assert.throws(() => put(s, t, '/still', 'full'), QuotaExceededError);
  // An explicit compaction (etcdctl compact) is allowed over the quota and frees the history.
  s.compact(s.revision, t.tick());
  // The values are gone; the delete revision's tombstones stay until the next compaction.
  assert.ok(s.sizeBytes < 48 * 1024, `${s.sizeBytes} bytes still used`);
  put(s, t, '/after', 'works again');
  assert.equal(value(s, '/after'), 'works again');
  s.checkSize();
});

test('over the quota, a write after the age window finds the space that compaction frees', () => {
  const s = new Store({ quotaBytes: 16 * 1024, compactRetainRevisions: Infinity, compactRetainMs: 60_000 });
  const t = new TestTime();
  for (let n = 0; ; n++) {
    try {
      put(s, t, `/big/${n}`, 'x'.repeat(512));
    } catch (e) {
      assert.ok(e instanceof QuotaExceededError);
      break;
    }
  }
  del(s, t, '/big/', prefixEnd('/big/'));
  assert.throws(() => put(s, t, '/k', 'v'), QuotaExceededError);
  t.tick(61_000);
  put(s, t, '/k', 'v');
  assert.equal(value(s, '/k'), 'v');
});
