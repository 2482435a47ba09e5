import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { FakeClock } from '../testing/fake_clock.js';
import { PENDING, peek } from '../testing/settle.js';
import { SHUTDOWN, WorkQueue, WorkQueueFullError } from './queue.js';

/** The value of one series of a metric (histograms: name the _sum or _count series). */
async function metric(registry: Registry, name: string, labels: Record<string, string> = { name: 'q' }): Promise<number | undefined> {
  const base = name.replace(/_(sum|count|bucket)$/, '');
  const m = registry.getSingleMetric(base);
  if (m === undefined) return undefined;
  const { values } = await m.get();
  const v = (values as Array<{ value: number; labels: Record<string, unknown>; metricName?: string }>).find((s) => (s.metricName ?? base) === name && Object.entries(labels).every(([k, want]) => s.labels[k] === want));
  return v?.value;
}

describe('WorkQueue', () => {
  it('processes an item added twice before a worker takes it once, in first-added order', async () => {
    const q = new WorkQueue();
    for (const k of ['a', 'b', 'a', 'c', 'b']) q.add(k);
    assert.equal(q.length, 3);
    assert.deepEqual([await q.get(), await q.get(), await q.get()], ['a', 'b', 'c']);
    assert.equal(await peek(q.get()), PENDING);
  });

  it('queues an item re-added while a worker holds it only after done(), so two workers never hold it', async () => {
    const q = new WorkQueue();
    q.add('a');
    assert.equal(await q.get(), 'a');
    q.add('a');
    q.add('a');
    assert.equal(q.length, 0, 'not handed to a second worker while processing');
    const second = q.get();
    assert.equal(await peek(second), PENDING);
    q.done('a');
    assert.equal(await second, 'a', 'processed again, once, after done');
    q.done('a');
    assert.equal(q.length, 0);
    assert.equal(q.processingCount, 0);
  });

  it('get() waits for an add, and waiting workers are served in order', async () => {
    const q = new WorkQueue();
    const w1 = q.get();
    const w2 = q.get();
    assert.equal(await peek(w1), PENDING);
    q.add('x');
    q.add('y');
    assert.deepEqual([await w1, await w2], ['x', 'y']);
  });

  it('after shutDown ignores adds, drains what was queued, then resolves get() with SHUTDOWN', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    assert.equal(await q.get(), 'a');
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => (drained = true));
    q.add('c');
    assert.equal(await q.get(), 'b');
    assert.equal(await q.get(), SHUTDOWN);
    q.done('a');
    assert.equal(await peek(drain), PENDING, 'b is still being processed');
    assert.equal(drained, false);
    q.done('b');
    await drain;
    assert.equal(drained, true);
  });

  it('shutDown wakes waiting workers with SHUTDOWN', async () => {
    const q = new WorkQueue();
    const waiting = [q.get(), q.get()];
    q.shutDown();
    assert.deepEqual(await Promise.all(waiting), [SHUTDOWN, SHUTDOWN]);
  });

  it('refuses a new item beyond maxDepth with an error naming the queue, and accepts repeats', async () => {
    const q = new WorkQueue({ name: 'pods', maxDepth: 2 });
    q.add('a');
    q.add('b');
    assert.throws(
      () => q.add('c'),
      (e: unknown) => e instanceof WorkQueueFullError && e.message === 'Cannot add to work queue "pods": it already holds maxDepth=2 items',
    );
    q.add('a');
    assert.equal(await q.get(), 'a');
    q.add('c');
    assert.equal(q.length, 2);
    assert.throws(() => new WorkQueue({ name: 'x', maxDepth: 0 }), /maxDepth must be an integer >= 1, got 0/);
  });

  it('reports depth, adds, queue and work durations and in-progress time on its clock', async () => {
    const clock = new FakeClock(1_000);
    const registry = new Registry();
    const q = new WorkQueue({ name: 'q', clock, registry });
    q.add('a');
    q.add('a');
    q.add('b');
    assert.equal(await metric(registry, 'workqueue_depth'), 2);
    assert.equal(await metric(registry, 'workqueue_adds_total'), 2, 'a duplicate add is not an add');
    clock.advanceTo(3_000);
    assert.equal(await q.get(), 'a');
    assert.equal(await metric(registry, 'workqueue_depth'), 1);
    assert.equal(await metric(registry, 'workqueue_queue_duration_seconds_sum'), 2);
    clock.advanceTo(3_500);
    assert.equal(await q.get(), 'b');
    clock.advanceTo(4_000);
    assert.equal(await metric(registry, 'workqueue_unfinished_work_seconds'), 1 + 0.5);
    assert.equal(await metric(registry, 'workqueue_longest_running_processor_seconds'), 1);
    q.done('a');
    assert.equal(await metric(registry, 'workqueue_work_duration_seconds_sum'), 1);
    assert.equal(await metric(registry, 'workqueue_work_duration_seconds_count'), 1);
    assert.equal(await metric(registry, 'workqueue_longest_running_processor_seconds'), 0.5);
    q.done('b');
    assert.equal(await metric(registry, 'workqueue_unfinished_work_seconds'), 0);
    assert.equal(await metric(registry, 'workqueue_queue_duration_seconds_count'), 2);
    assert.equal(await metric(registry, 'workqueue_depth'), 0);
  });

  it('lets two queues share a registry under different names, and a name be reused after shutDown', async () => {
    const registry = new Registry();
    const a = new WorkQueue({ name: 'a', registry });
    new WorkQueue({ name: 'b', registry }).add('x');
    assert.throws(() => new WorkQueue({ name: 'a', registry }), /Cannot create work queue "a": a running queue with that name already reports to this registry/);
    a.shutDown();
    new WorkQueue({ name: 'a', registry }).add('y');
    assert.equal(await metric(registry, 'workqueue_adds_total', { name: 'a' }), 1);
    assert.equal(await metric(registry, 'workqueue_adds_total', { name: 'b' }), 1);
  });
});
