import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entry } from '../../raft/core/types.js';
import { Store } from './store.js';
import { decodeCommand, encodeCommand, type StoreCommand } from './command.js';
import { StoreStateMachine, unwrapResult } from './state_machine.js';
import { prefixEnd } from './keys.js';
import { bytes, text } from './test_util.js';
import type { Watcher, WatchResponse } from './watch.js';

let index = 0;
const entry = (c: StoreCommand | Uint8Array): Entry => ({ term: 1, index: ++index, type: 'normal', data: c instanceof Uint8Array ? c : encodeCommand(c) });
const putCmd = (nowMs: number, key: string, value: string, lease = 0): StoreCommand => ({ type: 'txn', nowMs, txn: { success: [{ type: 'put', key, value: bytes(value), lease }] } });

test('commands round-trip through the binary encoding', () => {
  const cmds: StoreCommand[] = [
    {
      type: 'txn',
      nowMs: 1_700_000_000_123,
      txn: {
        compare: [
          { key: 'a\x00\xff', rangeEnd: 'b', target: 'value', result: '!=', value: bytes('v') },
          { key: 'a', target: 'modRevision', result: '<', number: 12345678901 },
        ],
        success: [
          { type: 'put', key: 'k', value: bytes('x'.repeat(300)), lease: 9, prevKv: true, ignoreValue: false, ignoreLease: true },
          { type: 'deleteRange', key: 'd', rangeEnd: '\0', prevKv: true },
        ],
        failure: [
          { type: 'range', key: 'r', rangeEnd: 's', revision: 5, limit: 10, countOnly: false, keysOnly: true, sortOrder: 'descend', sortTarget: 'mod', minModRevision: 1, maxModRevision: 2, minCreateRevision: 3, maxCreateRevision: 4 },
        ],
      },
    },
    { type: 'compact', nowMs: 5, revision: 77 },
    { type: 'leaseGrant', nowMs: 6, id: 0, ttlSeconds: 30 },
    { type: 'leaseRevoke', nowMs: 7, id: 2 ** 40 },
    { type: 'leaseKeepAlive', nowMs: 8, id: 3 },
    { type: 'leaseExpire', nowMs: 9, id: 4 },
    // A create batch's size: 150 puts of 1 KB under long keys, each with a create-only compare.
    {
      type: 'txn',
      nowMs: 10,
      txn: {
        compare: Array.from({ length: 150 }, (_, i) => ({ key: `/registry/pods/default/pod-${'p'.repeat(60)}-${i}`, target: 'version' as const, result: '=' as const, number: 0 })),
        success: Array.from({ length: 150 }, (_, i) => ({ type: 'put' as const, key: `/registry/pods/default/pod-${'p'.repeat(60)}-${i}`, value: bytes(String(i).repeat(1024).slice(0, 1024)), lease: i, prevKv: false, ignoreValue: false, ignoreLease: false })),
        failure: [],
      },
    },
  ];
  for (const c of cmds) {
    const encoded = encodeCommand(c);
    // Raft keeps the encoding until it is applied: little room to spare behind it.
    assert.ok(encoded.buffer.byteLength <= Math.max(8192, encoded.byteLength * 1.25), `${encoded.byteLength} bytes held in ${encoded.buffer.byteLength}`);
    const back = decodeCommand(encoded) as StoreCommand & { txn?: unknown };
    assert.deepEqual(JSON.parse(JSON.stringify(back, (_k, v) => (v instanceof Uint8Array ? text(v) : v))), JSON.parse(JSON.stringify(c, (_k, v) => (v instanceof Uint8Array ? text(v) : v))));
  }
  assert.throws(() => encodeCommand(putCmd(1, 'ключ', 'v')), /characters above 0xff; convert text with textToKey/);
});

test('apply returns errors as values, the same on every member, and never throws for bad input', () => {
  const a = new StoreStateMachine(new Store());
  const b = new StoreStateMachine(new Store());
  const entries: Entry[] = [
    entry(putCmd(1000, 'k', 'v')),
    entry(new Uint8Array([0xee, 1, 2])),
    entry(new Uint8Array([1])),
    entry(putCmd(1001, 'x', 'v', 99)),
    entry({ type: 'leaseRevoke', nowMs: 1002, id: 5 }),
    entry({ type: 'compact', nowMs: 1003, revision: 50 }),
    entry({ type: 'txn', nowMs: 1004, txn: { success: [{ type: 'range', key: 'k', revision: 99 }] } }),
  ];
  const results = entries.map((e) => a.apply(e));
  const again = entries.map((e) => b.apply(e));
  assert.deepEqual(results.map((r) => r.type), ['txn', 'error', 'error', 'error', 'error', 'error', 'error']);
  const messages = results.map((r) => (r.type === 'error' ? `${r.error.code}: ${r.error.message}` : ''));
  assert.match(messages[1], /^InvalidArgument: Cannot apply entry \d+: Cannot decode store command: type byte 238 is unknown/);
  assert.match(messages[2], /^InvalidArgument: .*it is truncated/);
  assert.match(messages[3], /^LeaseNotFound: Cannot put "x": lease 99 not found/);
  assert.match(messages[4], /^LeaseNotFound/);
  assert.match(messages[5], /^FutureRevision/);
  assert.match(messages[6], /^FutureRevision/);
  assert.deepEqual(again.map((r) => (r.type === 'error' ? r.error.message : r.type)), results.map((r) => (r.type === 'error' ? r.error.message : r.type)));
  assert.equal(unwrapResult(results[0], 'txn').header.revision, 2);
  assert.throws(() => unwrapResult(results[3], 'txn'), /lease 99 not found/);
});

/** A workload with history, deletes, leases, expiries and compaction, from a fixed seed. */
function workload(n: number, start = 0): StoreCommand[] {
  const out: StoreCommand[] = [];
  for (let i = start; i < start + n; i++) {
    const nowMs = 10_000 + i * 50;
    if (i % 97 === 0) out.push({ type: 'leaseGrant', nowMs, id: 0, ttlSeconds: 5 });
    else if (i % 13 === 0) out.push({ type: 'txn', nowMs, txn: { success: [{ type: 'deleteRange', key: `/k/${i % 7}`, rangeEnd: prefixEnd(`/k/${i % 7}`) }] } });
    else if (i % 31 === 0) out.push({ type: 'leaseExpire', nowMs, id: 1 + Math.floor(i / 97) - 1 });
    else out.push(putCmd(nowMs, `/k/${i % 7}/${i % 23}`, `v${i}`, i % 5 === 0 ? Math.max(1, Math.floor(i / 97)) : 0));
  }
  return out;
}

function drain(w: Watcher): WatchResponse[] {
  const out: WatchResponse[] = [];
  for (let r = w.poll(); r; r = w.poll()) out.push(r);
  return out;
}

test('snapshot and restore round-trip the state; restored and original members stay identical afterwards', async () => {
  const opts = { compactRetainRevisions: 300, compactRetainMs: 20_000 };
  const a = new StoreStateMachine(new Store(opts));
  for (const c of workload(2000)) a.apply(entry(c));
  assert.ok(a.store.compactRevision > 0, 'the workload should have compacted');
  const snap = await a.snapshot();
  const b = new StoreStateMachine(new Store(opts));
  await b.restore(snap);
  assert.deepEqual(await b.snapshot(), snap);
  assert.deepEqual(b.store.status(), a.store.status());
  b.store.checkSize();
  for (const rev of [a.store.compactRevision, Math.floor((a.store.compactRevision + a.store.revision) / 2), a.store.revision]) {
    assert.deepEqual(b.store.range({ key: '/', rangeEnd: '\0', revision: rev }), a.store.range({ key: '/', rangeEnd: '\0', revision: rev }));
  }
  for (const id of a.store.leaseIds()) assert.deepEqual(b.store.leaseTimeToLive(id, { keys: true }), a.store.leaseTimeToLive(id, { keys: true }));
  // Same history for watchers.
  const wa = a.store.watch({ key: '/', rangeEnd: '\0', startRevision: a.store.compactRevision, prevKv: true });
  const wb = b.store.watch({ key: '/', rangeEnd: '\0', startRevision: a.store.compactRevision, prevKv: true });
  assert.deepEqual(drain(wb).flatMap((r) => r.events), drain(wa).flatMap((r) => r.events));
  // Applying the same log afterwards (lease expiries, compactions) keeps them byte-identical.
  for (const c of workload(1000, 2000)) {
    const e = entry(c);
    assert.deepEqual(b.apply(e), a.apply(e));
  }
  assert.deepEqual(await b.snapshot(), await a.snapshot());
});

test('snapshotAfter writes the caller header and then exactly the snapshot, which restores from there', async () => {
  const a = new StoreStateMachine(new Store());
  for (const c of workload(300)) a.apply(entry(c));
  const header = new Uint8Array([9, 8, 7, 6, 5]);
  const withHeader = await a.snapshotAfter(header);
  assert.deepEqual(withHeader.subarray(0, 5), header);
  assert.deepEqual(withHeader.subarray(5), await a.snapshot());
  const b = new StoreStateMachine(new Store());
  await b.restore(withHeader.subarray(5));
  assert.deepEqual(b.store.status(), a.store.status());
});

test('snapshotTo hands over the header, then the snapshot as it was at the call, and counts the bytes', async () => {
  const a = new StoreStateMachine(new Store());
  for (const c of workload(300)) a.apply(entry(c));
  const expected = await a.snapshot();
  const header = new Uint8Array([9, 8, 7]);
  const pieces: Uint8Array[] = [];
  // A piece's memory is reused once its write settles: keep a copy.
  const streaming = a.snapshotTo(header, async (piece) => void pieces.push(piece.slice()));
  // Applied after the call, while the pieces are still being handed over: not in them.
  a.apply(entry(putCmd(999_999, 'after-the-call', 'x')));
  const bytesWritten = await streaming;
  assert.deepEqual(pieces[0], header);
  const data = Buffer.concat(pieces.slice(1));
  assert.equal(bytesWritten, header.byteLength + data.byteLength);
  assert.ok(data.equals(Buffer.from(expected)));
});

test('a restore is atomic: a corrupt snapshot is refused and the store keeps serving', async () => {
  const sm = new StoreStateMachine(new Store());
  sm.apply(entry(putCmd(1, 'k', 'v')));
  const snap = await sm.snapshot();
  const bad = snap.slice();
  bad[20] ^= 0xff;
  await assert.rejects(sm.restore(bad), /Cannot decode store snapshot: it fails its checksum/);
  await assert.rejects(sm.restore(snap.subarray(0, 8)), /Cannot decode store snapshot/);
  assert.equal(text(sm.store.range({ key: 'k' }).kvs[0].value), 'v');
});

test('watchers open across a restore continue from the restored history without a gap', async () => {
  const leader = new StoreStateMachine(new Store());
  const follower = new StoreStateMachine(new Store());
  const cmds = workload(600);
  // The follower applies the first part, then falls behind and gets a snapshot.
  for (const c of cmds.slice(0, 200)) {
    const e = entry(c);
    leader.apply(e);
    follower.apply(e);
  }
  const wf = follower.store.watch({ key: '/k/1', rangeEnd: prefixEnd('/k/1') });
  const wl = leader.store.watch({ key: '/k/1', rangeEnd: prefixEnd('/k/1') });
  const seenF = drain(wf).flatMap((r) => r.events);
  for (const c of cmds.slice(200, 400)) leader.apply(entry(c));
  const pending = wf.next();
  await follower.restore(await leader.snapshot());
  const first = await pending;
  assert.equal(first.done, false);
  seenF.push(...(first.value as WatchResponse).events, ...drain(wf).flatMap((r) => r.events));
  for (const c of cmds.slice(400)) {
    const e = entry(c);
    leader.apply(e);
    follower.apply(e);
  }
  seenF.push(...drain(wf).flatMap((r) => r.events));
  const seenL = drain(wl).flatMap((r) => r.events);
  assert.ok(seenL.length > 50);
  assert.deepEqual(seenF, seenL);
});
