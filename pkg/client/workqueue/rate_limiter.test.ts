import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../testing/fake_clock.js';
import { BucketRateLimiter, ItemExponentialFailureRateLimiter, defaultControllerRateLimiter } from './rate_limiter.js';

describe('rate limiters', () => {
  it('backs an item off exponentially from 5 ms up to 1000 s', () => {
    const l = new ItemExponentialFailureRateLimiter(5, 1_000_000);
    const expected = [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 5120, 10240, 20480, 40960, 81920, 163840, 327680, 655360, 1_000_000, 1_000_000];
    assert.deepEqual(expected.map(() => l.when('a')), expected);
    assert.equal(l.numRequeues('a'), 20);
    assert.equal(l.when('b'), 5, 'each item has its own backoff');
    l.forget('a');
    assert.equal(l.numRequeues('a'), 0);
    assert.equal(l.when('a'), 5);
    for (let i = 0; i < 2000; i++) l.when('c');
    assert.equal(l.when('c'), 1_000_000, 'a huge failure count stays at the cap');
  });

  it('lets a burst through, then spaces tries at 1/qps as tokens refill on the clock', () => {
    const clock = new FakeClock();
    const l = new BucketRateLimiter({ qps: 10, burst: 100, clock });
    const first = Array.from({ length: 100 }, (_, i) => l.when(`i${i}`));
    assert.ok(first.every((ms) => ms === 0));
    assert.deepEqual([l.when('x'), l.when('y'), l.when('z')], [100, 200, 300]);
    clock.advanceTo(1_000); // 10 tokens: 3 owed, 7 free
    const next = Array.from({ length: 8 }, (_, i) => l.when(`j${i}`));
    assert.deepEqual(next, [0, 0, 0, 0, 0, 0, 0, 100]);
    clock.advanceTo(1_000_000);
    assert.equal(Array.from({ length: 101 }, () => l.when('k')).filter((ms) => ms > 0).length, 1, 'refill stops at the burst');
  });

  it('rejects settings that make no sense', () => {
    assert.throws(() => new BucketRateLimiter({ qps: 0, burst: 1 }), /qps must be > 0, got 0/);
    assert.throws(() => new BucketRateLimiter({ qps: 1, burst: 0.5 }), /burst must be an integer >= 1, got 0.5/);
    assert.throws(() => new ItemExponentialFailureRateLimiter(10, 5), /maxMs must be >= baseMs \(10\), got 5/);
  });

  it('by default waits the longer of the item backoff and the overall bucket', () => {
    const clock = new FakeClock();
    const l = defaultControllerRateLimiter(clock);
    assert.deepEqual([l.when('a'), l.when('a'), l.when('a')], [5, 10, 20]);
    for (let i = 0; i < 97; i++) l.when(`other-${i}`);
    // 100 tokens used: the bucket's 100 ms beats b's first 5 ms.
    assert.equal(l.when('b'), 100);
    assert.equal(l.numRequeues('a'), 3);
    l.forget('a');
    assert.equal(l.numRequeues('a'), 0);
  });
});
