import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { FakeClock } from '../testing/fake_clock.js';
import { PENDING, peek } from '../testing/settle.js';
import { DelayingQueue, MAX_TIMER_MS } from './delaying_queue.js';
import { WorkQueueFullError } from './queue.js';

describe('DelayingQueue', () => {
  it('adds an item once its delay has passed on the clock', async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue({ clock });
    q.addAfter('a', 100);
    const got = q.get();
    await clock.advance(99);
    assert.equal(await peek(got), PENDING);
    await clock.advance(1);
    assert.equal(await got, 'a');
  });

  it('waits out a delay longer than a Node timer can hold (2^31 - 1 ms) without firing early', async () => {
    const clock = new FakeClock();
    const asked: number[] = [];
    const setTimeout = clock.setTimeout.bind(clock);
    clock.setTimeout = (fn, ms) => (asked.push(ms), setTimeout(fn, ms));
    const q = new DelayingQueue({ clock });
    const delayMs = 3 * MAX_TIMER_MS;
    q.addAfter('far', delayMs);
    const got = q.get();
    await clock.advance(delayMs - 1);
    assert.equal(await peek(got), PENDING);
    await clock.advance(1);
    assert.equal(await got, 'far');
    assert.ok(asked.every((ms) => ms <= MAX_TIMER_MS), `timers asked for: ${asked.join(', ')}`);
  });

  it('hands out delayed items in order of their ready time', async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue({ clock });
    q.addAfter('late', 300);
    q.addAfter('early', 100);
    q.addAfter('middle', 200);
    await clock.advance(300);
    assert.deepEqual([await q.get(), await q.get(), await q.get()], ['early', 'middle', 'late']);
  });

  it('keeps the earlier time when an item is added after a delay twice', async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue({ clock });
    q.addAfter('a', 500);
    q.addAfter('a', 100);
    q.addAfter('a', 800);
    assert.equal(q.waitingCount, 1);
    await clock.advance(100);
    assert.equal(await q.get(), 'a');
    q.done('a');
    await clock.advance(1_000);
    assert.equal(q.length, 0, 'the superseded 500 ms entry does not add it again');
  });

  it('adds at once for a delay of zero or less', async () => {
    const q = new DelayingQueue({ clock: new FakeClock() });
    q.addAfter('now', 0);
    q.addAfter('past', -5);
    assert.equal(q.length, 2);
    assert.throws(() => q.addAfter('x', NaN), /Cannot add to work queue "unnamed" after a delay: delayMs is NaN/);
  });

  it('drops waiting items and its timer on shutDown', async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue({ clock });
    q.addAfter('a', 100);
    assert.equal(clock.pendingTimers, 1);
    q.shutDown();
    assert.equal(clock.pendingTimers, 0);
    q.addAfter('b', 10);
    await clock.advance(200);
    assert.equal(q.length, 0);
  });

  it('bounds waiting items by maxDepth, and keeps a due item waiting while the queue is full', async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue({ name: 'd', clock, maxDepth: 2 });
    q.addAfter('a', 10);
    q.addAfter('b', 10);
    assert.throws(() => q.addAfter('c', 10), WorkQueueFullError);
    q.add('x');
    q.add('y');
    await clock.advance(10);
    assert.equal(q.length, 2, 'x and y fill the queue');
    assert.equal(q.waitingCount, 2, 'a and b wait instead of being lost');
    assert.equal(await q.get(), 'x');
    assert.equal(await q.get(), 'y');
    await clock.advance(1_000);
    assert.deepEqual([await q.get(), await q.get()], ['a', 'b']);
  });

  it('counts every addAfter in workqueue_retries_total', async () => {
    const registry = new Registry();
    const q = new DelayingQueue({ name: 'd', clock: new FakeClock(), registry });
    q.addAfter('a', 5);
    q.addAfter('a', 5);
    q.addAfter('b', 0);
    const { values } = await registry.getSingleMetric('workqueue_retries_total')!.get();
    assert.deepEqual(values.map((v) => [v.labels.name, v.value]), [['d', 3]]);
  });
});
