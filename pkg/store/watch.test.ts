import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from './store.js';
import { CompactedError, WatchOverflowError } from './errors.js';
import { prefixEnd } from './keys.js';
import type { Watcher, WatchResponse } from './watch.js';
import { TestTime, bytes, del, put, text } from './test_util.js';

/** Takes every response that is ready now. */
function drain(w: Watcher): WatchResponse[] {
  const out: WatchResponse[] = [];
  for (let r = w.poll(); r; r = w.poll()) out.push(r);
  return out;
}

const ids = (rs: WatchResponse[]): string[] => rs.flatMap((r) => r.events.map((e) => `${e.kv.modRevision}.${e.type}.${e.kv.key}`));

test('a watch delivers history then live events in revision order with no gap and no duplicate, across reconnects', async () => {
  const s = new Store();
  const t = new TestTime();
  const expected: string[] = [];
  const write = (i: number): void => {
    if (i % 7 === 3) {
      // A multi-key txn: one revision, two events in op order.
      const r = s.txn({ success: [{ type: 'put', key: `/w/${i}a`, value: bytes('x') }, { type: 'put', key: `/w/${i}b`, value: bytes('y') }] }, t.tick());
      expected.push(`${r.header.revision}.put./w/${i}a`, `${r.header.revision}.put./w/${i}b`);
    } else if (i % 5 === 4 && s.range({ key: `/w/${i - 1}` }).count === 1) {
      expected.push(`${del(s, t, `/w/${i - 1}`).header.revision}.delete./w/${i - 1}`);
    } else {
      expected.push(`${put(s, t, `/w/${i}`, String(i)).header.revision}.put./w/${i}`);
    }
    put(s, t, `/other/${i}`, 'not watched');
  };
  for (let i = 0; i < 50; i++) write(i);
  const seen: string[] = [];
  let w = s.watch({ key: '/w/', rangeEnd: prefixEnd('/w/'), startRevision: 1, watchBufferEvents: 8 });
  let i = 50;
  for (let round = 0; round < 30; round++) {
    write(i++);
    const first = await w.next();
    assert.equal(first.done, false);
    seen.push(...ids([first.value as WatchResponse]));
    if (round % 6 === 5) {
      // Disconnect and resume from the last revision seen + 1.
      seen.push(...ids(drain(w)));
      w.cancel();
      const last = Number(seen.at(-1)!.split('.')[0]);
      w = s.watch({ key: '/w/', rangeEnd: prefixEnd('/w/'), startRevision: last + 1, watchBufferEvents: 8 });
    }
  }
  seen.push(...ids(drain(w)));
  assert.deepEqual(seen, expected);
  w.cancel();
  assert.equal(s.status().watchers, 0);
});

test('a watch on one key sees only that key; filters and prevKv apply', () => {
  const s = new Store();
  const t = new TestTime();
  const all = s.watch({ key: 'k', prevKv: true });
  const noPut = s.watch({ key: 'k', noPut: true });
  put(s, t, 'k', '1');
  put(s, t, 'kk', 'other');
  put(s, t, 'k', '2');
  del(s, t, 'k');
  const evs = drain(all).flatMap((r) => r.events);
  assert.deepEqual(evs.map((e) => [e.type, text(e.kv.value), text(e.prevKv?.value)]), [
    ['put', '1', undefined],
    ['put', '2', '1'],
    ['delete', '', '2'],
  ]);
  assert.equal(evs[2].kv.modRevision, 5);
  assert.deepEqual(drain(noPut).flatMap((r) => r.events.map((e) => e.type)), ['delete']);
});

test('a watch from a compacted revision fails with CompactedError naming both revisions', async () => {
  const s = new Store();
  const t = new TestTime();
  for (let i = 0; i < 10; i++) put(s, t, 'k', String(i));
  s.compact(8, t.tick());
  const w = s.watch({ key: 'k', startRevision: 5 });
  await assert.rejects(w.next(), (e: unknown) => e instanceof CompactedError && e.requestedRevision === 5 && e.compactRevision === 8 && /revision 5.*oldest available revision is 8/.test(e.message));
  assert.equal(w.done, true);
  // From the compact revision itself, history is complete.
  const ok = s.watch({ key: 'k', startRevision: 8 });
  assert.deepEqual(ids(drain(ok)), ['8.put.k', '9.put.k', '10.put.k', '11.put.k']);
});

test('an unsynced watcher overtaken by compaction while catching up gets CompactedError after what it was given', () => {
  const s = new Store();
  const t = new TestTime();
  for (let i = 0; i < 20; i++) put(s, t, 'k', String(i));
  const w = s.watch({ key: 'k', startRevision: 2, watchBufferEvents: 5 });
  assert.deepEqual(ids([w.poll()!]), ['2.put.k', '3.put.k', '4.put.k', '5.put.k', '6.put.k']);
  s.compact(15, t.tick());
  assert.throws(() => w.poll(), (e: unknown) => e instanceof CompactedError && e.requestedRevision === 7 && e.compactRevision === 15);
});

test('a slow consumer is cut off with a resumable error and resuming misses nothing', async () => {
  const s = new Store({ watchBufferEvents: 10 });
  const t = new TestTime();
  const w = s.watch({ key: 'k' });
  const revs: number[] = [];
  for (let i = 0; i < 25; i++) revs.push(put(s, t, 'k', String(i)).header.revision);
  const got: number[] = [];
  let next = 0;
  try {
    for await (const r of w) for (const e of r.events) got.push(e.kv.modRevision);
    assert.fail('the watch should have been cut off');
  } catch (e) {
    assert.ok(e instanceof WatchOverflowError, String(e));
    assert.match(e.message, /resume from revision 12/);
    next = e.nextRevision;
  }
  assert.deepEqual(got, revs.slice(0, 10));
  assert.equal(next, revs[10]);
  // The watcher is gone from the hub; its buffer no longer holds memory.
  assert.equal(s.status().watchers, 0);
  const again = s.watch({ key: 'k', startRevision: next });
  for (const r of drain(again)) for (const e of r.events) got.push(e.kv.modRevision);
  assert.deepEqual(got, revs);
});

test('catching up from history never overflows the buffer: it is pulled a buffer at a time', () => {
  const s = new Store();
  const t = new TestTime();
  for (let i = 0; i < 100; i++) put(s, t, `k${i % 3}`, String(i));
  const w = s.watch({ key: 'k', rangeEnd: 'l', startRevision: 1, watchBufferEvents: 7 });
  const batches = drain(w);
  assert.ok(batches.every((b) => b.events.length <= 7));
  assert.equal(batches.flatMap((b) => b.events).length, 100);
});

test('progress requests deliver a bookmark at the current revision once the watcher has caught up', async () => {
  const s = new Store();
  const t = new TestTime();
  for (let i = 0; i < 5; i++) put(s, t, 'k', String(i));
  const w = s.watch({ key: 'k', startRevision: 2 });
  w.requestProgress();
  const first = w.poll()!;
  assert.equal(first.progress, false);
  assert.equal(first.events.length, 5);
  const bm = w.poll()!;
  assert.equal(bm.progress, true);
  assert.equal(bm.headerRevision, 6);
  assert.deepEqual(bm.events, []);
  // A waiting consumer wakes for a bookmark requested later, e.g. by the facade's timer.
  const pending = w.next();
  put(s, t, 'other', 'x');
  s.requestWatchProgress();
  const r = await pending;
  assert.equal(r.done, false);
  assert.equal(r.value?.progress, true);
  assert.equal(r.value?.headerRevision, 7);
  w.cancel();
  assert.deepEqual(await w.next(), { value: undefined, done: true });
});

test('a watch from a future revision waits for it', () => {
  const s = new Store();
  const t = new TestTime();
  const w = s.watch({ key: 'k', startRevision: 4 });
  put(s, t, 'k', '1');
  put(s, t, 'k', '2');
  assert.equal(w.poll(), undefined);
  put(s, t, 'k', '3');
  assert.deepEqual(ids(drain(w)), ['4.put.k']);
});
