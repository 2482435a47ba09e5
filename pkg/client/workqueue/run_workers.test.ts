import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../testing/fake_clock.js';
import { eventually } from '../testing/settle.js';
import { RateLimitingQueue } from './rate_limiting_queue.js';
import { runWorkers } from './run_workers.js';

describe('runWorkers', () => {
  it('retries a failing item with backoff, never syncs one item twice at once, and ends on shutdown', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock });
    const log: string[] = [];
    const active = new Set<string>();
    const release = new Map<string, () => void>();
    let failuresLeft = 2;
    const running = runWorkers(
      q,
      async (key) => {
        assert.equal(active.has(key), false, `${key} is synced by two workers at once`);
        active.add(key);
        log.push(`${key}@${clock.nowMs()}`);
        try {
          if (key === 'slow') await new Promise<void>((r) => release.set(key, r));
          if (key === 'flaky' && failuresLeft-- > 0) throw new Error('conflict');
        } finally {
          active.delete(key);
        }
      },
      { workers: 3, onError: (key, err, requeued) => log.push(`error ${key} ${(err as Error).message} ${requeued}`) },
    );
    q.add('slow');
    q.add('flaky');
    await eventually('both started', () => log.length >= 3);
    q.add('slow'); // re-added while held: synced again only after the first sync ends
    await clock.advance(100);
    assert.deepEqual(log.splice(0), ['slow@0', 'flaky@0', 'error flaky conflict true', 'flaky@5', 'error flaky conflict true', 'flaky@15']);
    assert.equal(q.numRequeues('flaky'), 0, 'forgotten after it succeeded');
    release.get('slow')!();
    await eventually('slow again', () => log.length === 1);
    assert.deepEqual(log.splice(0), ['slow@100']);
    release.get('slow')!();
    await q.shutDownWithDrain();
    await running;
  });

  it('drops an item after maxRetries', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock });
    const errors: string[] = [];
    const running = runWorkers(
      q,
      async () => {
        throw new Error('invalid');
      },
      { maxRetries: 2, onError: (key, _err, requeued) => errors.push(`${key} ${requeued}`) },
    );
    q.add('bad');
    await clock.advance(1_000);
    assert.deepEqual(errors, ['bad true', 'bad true', 'bad false']);
    assert.equal(q.numRequeues('bad'), 0);
    q.shutDown();
    await running;
  });

  it('keeps working when a failed item cannot be requeued because the queue is full: that retry is dropped and reported', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock, maxDepth: 1 });
    const errors: string[] = [];
    const synced: string[] = [];
    const running = runWorkers(
      q,
      async (key) => {
        synced.push(key);
        if (key !== 'ok') throw new Error('conflict');
      },
      { workers: 2, onError: (key, _err, requeued) => errors.push(`${key} ${requeued}`) },
    );
    q.add('a');
    await eventually('a failed', () => errors.length === 1);
    q.add('b');
    await eventually('b failed', () => errors.length === 2);
    // a waits for its backoff and fills the queue: b's retry has no room.
    assert.deepEqual(errors, ['a true', 'b false']);
    await clock.advance(100);
    q.add('ok');
    await eventually('the workers still sync', () => synced.includes('ok'));
    q.shutDown();
    await running;
  });
});
