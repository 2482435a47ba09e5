import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from './store.js';
import { CompactedError } from './errors.js';
import { TestTime, del, put, value } from './test_util.js';
import { decodeSnapshot } from './snapshot.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

test('automatic compaction by revision count keeps the last N revisions readable and frees history', () => {
  const s = new Store({ compactRetainRevisions: 10, compactRetainMs: Infinity });
  const t = new TestTime();
  for (let i = 0; i < 100; i++) put(s, t, `k${i % 5}`, 'x'.repeat(100) + i);
  assert.equal(s.revision, 101);
  assert.equal(s.compactRevision, 91);
  assert.equal(value(s, 'k0', 91), 'x'.repeat(100) + 85);
  assert.throws(() => s.range({ key: 'k0', revision: 90 }), CompactedError);
  // 5 keys, each with its current version plus up to 10 newer ones retained: history is bounded.
  assert.ok(s.status().retainedVersions <= 11, `retained ${s.status().retainedVersions}`);
  const sizeAfter100 = s.sizeBytes;
  for (let i = 0; i < 1000; i++) put(s, t, `k${i % 5}`, 'x'.repeat(100) + i);
  assert.ok(Math.abs(s.sizeBytes - sizeAfter100) < 100, `size grew from ${sizeAfter100} to ${s.sizeBytes}`);
  s.checkSize();
});

test('automatic compaction by age uses the command times in the log', () => {
  const s = new Store({ compactRetainRevisions: Infinity, compactRetainMs: 60_000 });
  const t = new TestTime(0);
  // The rule: compact at the newest revision written at or before now - window,
  // so the state at the window's start stays readable and everything older goes.
  put(s, t, 'a', '1'); // rev 2 at t=1
  t.tick(30_000);
  put(s, t, 'a', '2'); // rev 3 at t=30002
  assert.equal(s.compactRevision, 0);
  t.tick(30_000);
  put(s, t, 'a', '3'); // rev 4 at t=60003: the window starts at t=3, when rev 2 was current
  assert.equal(s.compactRevision, 2);
  assert.equal(value(s, 'a', 2), '1');
  t.tick(40_000);
  put(s, t, 'a', '4'); // rev 5 at t=100004: the window starts at t=40004, when rev 3 was current
  assert.equal(s.compactRevision, 3);
  assert.throws(() => s.range({ key: 'a', revision: 2 }), CompactedError);
  t.tick(100_000);
  del(s, t, 'a'); // rev 6 at t=200005: the window starts at t=140005, when rev 5 was current
  assert.equal(s.compactRevision, 5);
  assert.equal(value(s, 'a', 5), '4');
  assert.equal(value(s, 'a'), undefined);
  s.checkSize();
});

test('revisions written in one millisecond keep one time entry, and age compaction still stops at the newest of them', () => {
  const s = new Store({ compactRetainRevisions: Infinity, compactRetainMs: 60_000 });
  const putAt = (key: string, nowMs: number) => s.txn({ success: [{ type: 'put', key, value: new Uint8Array([1]) }] }, nowMs);
  for (let i = 0; i < 500; i++) putAt(`a${i}`, 1_000); // revisions 2..501, all at t=1000
  for (let i = 0; i < 500; i++) putAt(`b${i}`, 2_000 + i); // revisions 502..1001, one per millisecond
  const times = decodeSnapshot(s.snapshot()).keyspace.revTimes.toArray();
  assert.equal(times.length, 1 + 500);
  assert.deepEqual(times[0], { rev: 501, timeMs: 1_000 });
  // The window starts at t=1001: the state of then (revision 501) stays readable, what came before goes.
  putAt('c', 61_001);
  assert.equal(s.compactRevision, 501);
  assert.equal(value(s, 'a499', 501), '\x01');
  assert.throws(() => s.range({ key: 'a0', revision: 500 }), CompactedError);
});

test('a snapshot encoded in pieces keeps its own revision time when a later write in the same millisecond comes meanwhile', () => {
  const s = new Store();
  const putAt = (key: string, nowMs: number) => s.txn({ success: [{ type: 'put', key, value: new Uint8Array(200) }] }, nowMs);
  for (let i = 0; i < 100; i++) putAt(`k${String(i).padStart(3, '0')}`, 5_000); // revisions 2..101
  const pieces = s.snapshotPieces(1024);
  const got = [Buffer.from(pieces.next().value as Uint8Array)];
  putAt('later', 5_000); // revision 102, the same millisecond: it takes the back entry's place
  for (let r = pieces.next(); !r.done; r = pieces.next()) got.push(Buffer.from(r.value));
  assert.ok(got.length > 3, `${got.length} pieces`);
  const { keyspace } = decodeSnapshot(Buffer.concat(got));
  assert.equal(keyspace.revision, 101);
  assert.deepEqual(keyspace.revTimes.toArray(), [{ rev: 101, timeMs: 5_000 }]);
  assert.deepEqual(decodeSnapshot(s.snapshot()).keyspace.revTimes.toArray(), [{ rev: 102, timeMs: 5_000 }]);
});

test('a proposer whose clock runs behind cannot move the replicated clock back', () => {
  const s = new Store({ compactRetainRevisions: Infinity, compactRetainMs: 1000 });
  put(s, new TestTime(10_000), 'a', '1');
  put(s, new TestTime(5_000), 'a', '2');
  assert.equal(s.status().timeMs, 10_001);
  put(s, new TestTime(11_500), 'a', '3');
  assert.equal(s.compactRevision, 3);
});

test('compaction drops deleted keys entirely and memory returns to the empty figure', () => {
  const s = new Store({ compactRetainRevisions: 1, compactRetainMs: Infinity });
  const t = new TestTime();
  const empty = s.sizeBytes;
  for (let i = 0; i < 1000; i++) put(s, t, `/k/${i}`, 'v'.repeat(64));
  for (let i = 0; i < 1000; i++) del(s, t, `/k/${i}`);
  put(s, t, 'tick', '1');
  del(s, t, 'tick');
  put(s, t, 'tick2', '1');
  del(s, t, 'tick2');
  assert.equal(s.status().indexedKeys, 1);
  // Only the last key's put and delete (the revisions inside the window) remain.
  assert.ok(s.sizeBytes - empty < 700, `${s.sizeBytes - empty} bytes left`);
  s.checkSize();
});

test('a key costs the heap its value, its key and one small record: no room kept for history it does not have', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const s = new Store({ compactRetainRevisions: Infinity, compactRetainMs: Infinity });
  const t = new TestTime();
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 20_000; i++) put(s, t, `/registry/events/default/event-${String(i).padStart(6, '0')}`, 'v'.repeat(100));
  gc();
  gc();
  const perKey = (process.memoryUsage().heapUsed - before) / s.status().retainedVersions;
  // 460 bytes: a version's history grown by push kept room for 17 (596 bytes a key before).
  assert.ok(perKey < 530, `${perKey.toFixed(0)} bytes of heap per key`);
});
