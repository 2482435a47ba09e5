import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../testing/fake_clock.js';
import { peek } from '../testing/settle.js';
import { SHUTDOWN } from './queue.js';
import { RateLimitingQueue } from './rate_limiting_queue.js';

describe('RateLimitingQueue', () => {
  it('retries a failing item after 5, 10, 20 ms, and from 5 ms again after forget', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock });
    q.add('key');
    const retriedAtMs: number[] = [];
    // A worker whose sync fails three times, then succeeds.
    const worker = (async () => {
      for (;;) {
        const key = await q.get();
        if (key === SHUTDOWN) return;
        retriedAtMs.push(clock.nowMs());
        if (q.numRequeues(key) < 3) q.addRateLimited(key);
        else q.forget(key);
        q.done(key);
      }
    })();
    await clock.advance(1_000);
    assert.deepEqual(retriedAtMs, [0, 5, 15, 35]);
    assert.equal(q.numRequeues('key'), 0);
    q.addRateLimited('key');
    await clock.advance(4);
    assert.equal(retriedAtMs.length, 4);
    await clock.advance(1);
    assert.deepEqual(retriedAtMs.slice(4), [1_005]);
    q.shutDown();
    await worker;
  });

  it('ignores addRateLimited after shutDown', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock });
    q.shutDown();
    q.addRateLimited('a');
    await clock.advance(100);
    assert.equal(await peek(q.get()), SHUTDOWN);
  });
});
