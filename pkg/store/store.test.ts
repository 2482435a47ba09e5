import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from './store.js';
import { CompactedError, FutureRevisionError, StoreError } from './errors.js';
import { ALL_KEYS_FROM, prefixEnd } from './keys.js';
import { readValue, valueLength } from './keyspace.js';
import { TestTime, bytes, del, get, put, text, value } from './test_util.js';

test('revisions, versions and create revisions follow etcd across put, delete and recreate', () => {
  const s = new Store();
  const t = new TestTime();
  assert.equal(s.revision, 1);
  assert.equal(put(s, t, 'a', '1').header.revision, 2);
  assert.equal(put(s, t, 'a', '2').header.revision, 3);
  assert.deepEqual(
    (({ createRevision, modRevision, version }) => ({ createRevision, modRevision, version }))(get(s, 'a')!),
    { createRevision: 2, modRevision: 3, version: 2 },
  );
  assert.equal(del(s, t, 'a').header.revision, 4);
  assert.equal(get(s, 'a'), undefined);
  put(s, t, 'a', '3');
  const kv = get(s, 'a')!;
  assert.equal(kv.createRevision, 5);
  assert.equal(kv.version, 1);
  // Older revisions read exactly as they were.
  assert.equal(value(s, 'a', 2), '1');
  assert.equal(value(s, 'a', 3), '2');
  assert.equal(value(s, 'a', 4), undefined);
  assert.equal(get(s, 'a', 3)!.version, 2);
});

test('latest reads a key as a range of it does: its live version, nothing once deleted', () => {
  const s = new Store();
  const t = new TestTime();
  assert.equal(s.latest('a'), undefined);
  put(s, t, 'a', '1');
  put(s, t, 'a', '2');
  put(s, t, 'ab', 'x');
  assert.equal(s.latest('a'), s.range({ key: 'a' }).kvs[0]);
  assert.equal(text(readValue(s.latest('a')!)), '2');
  del(s, t, 'a');
  assert.equal(s.latest('a'), undefined);
  assert.equal(text(readValue(s.latest('ab')!)), 'x');
});

test('latestRange reads a prefix as a serializable range of it does: live keys in order, up to the limit', () => {
  const s = new Store();
  const t = new TestTime();
  assert.deepEqual(s.latestRange('/pc/', prefixEnd('/pc/'), 10), []);
  put(s, t, '/pc/b', '1');
  put(s, t, '/pc/a', '1');
  put(s, t, '/pc/a', '2');
  put(s, t, '/pc/c', '1');
  put(s, t, '/pd/x', '1');
  del(s, t, '/pc/c');
  const all = s.latestRange('/pc/', prefixEnd('/pc/'), 10);
  assert.deepEqual(all, s.range({ key: '/pc/', rangeEnd: prefixEnd('/pc/') }).kvs);
  assert.deepEqual(all.map((v) => [v.key, text(readValue(v))]), [['/pc/a', '2'], ['/pc/b', '1']]);
  assert.deepEqual(s.latestRange('/pc/', prefixEnd('/pc/'), 1).map((v) => v.key), ['/pc/a']);
});

test('a delete that matches nothing and a read-only txn do not take a revision', () => {
  const s = new Store();
  const t = new TestTime();
  put(s, t, 'a', '1');
  assert.equal(del(s, t, 'zzz').header.revision, 2);
  const r = s.txn({ success: [{ type: 'range', key: 'a' }] }, t.tick());
  assert.equal(r.header.revision, 2);
  assert.equal(s.revision, 2);
});

test('range by prefix and from a key honours etcd range ends and reports count', () => {
  const s = new Store();
  const t = new TestTime();
  for (const k of ['/a/1', '/a/2', '/a/3', '/b/1', '/a']) put(s, t, k, k);
  const r = s.range({ key: '/a/', rangeEnd: prefixEnd('/a/') });
  assert.deepEqual(r.kvs.map((kv) => kv.key), ['/a/1', '/a/2', '/a/3']);
  assert.equal(r.count, 3);
  assert.equal(r.more, false);
  assert.deepEqual(s.range({ key: '/a/2', rangeEnd: ALL_KEYS_FROM }).kvs.map((kv) => kv.key), ['/a/2', '/a/3', '/b/1']);
  assert.equal(s.range({ key: '/', rangeEnd: ALL_KEYS_FROM, countOnly: true }).count, 5);
  assert.deepEqual(s.range({ key: '/', rangeEnd: ALL_KEYS_FROM, countOnly: true }).kvs, []);
  const ko = s.range({ key: '/a/1', keysOnly: true }).kvs[0];
  assert.equal(ko.value.byteLength, 0);
  assert.equal(ko.modRevision, 2);
  const byMod = s.range({ key: '/', rangeEnd: ALL_KEYS_FROM, sortTarget: 'mod', sortOrder: 'descend', limit: 2 });
  assert.deepEqual(byMod.kvs.map((kv) => kv.key), ['/a', '/b/1']);
  assert.equal(byMod.more, true);
  const filtered = s.range({ key: '/', rangeEnd: ALL_KEYS_FROM, minModRevision: 4 });
  assert.deepEqual(filtered.kvs.map((kv) => kv.key), ['/a', '/a/3', '/b/1']);
});

test('range with limit continues page by page at a fixed revision while writes happen', () => {
  const s = new Store();
  const t = new TestTime();
  for (let i = 0; i < 25; i++) put(s, t, `/p/${String(i).padStart(2, '0')}`, `v${i}`);
  const atRev = s.revision;
  const seen: string[] = [];
  let key = '/p/';
  const end = prefixEnd('/p/');
  for (let page = 0; ; page++) {
    const r = s.range({ key, rangeEnd: end, limit: 10, revision: atRev });
    assert.equal(r.count, 25 - seen.length);
    for (const kv of r.kvs) seen.push(`${kv.key}=${text(kv.value)}`);
    // Writes between pages: new keys, changed values, deletes; the pages must not see them.
    put(s, t, `/p/${String(page).padStart(2, '0')}`, 'changed');
    put(s, t, `/p/${page}x`, 'new');
    del(s, t, `/p/${String(24 - page).padStart(2, '0')}`);
    if (!r.more) break;
    key = r.kvs[r.kvs.length - 1].key + '\0';
  }
  assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => `/p/${String(i).padStart(2, '0')}=v${i}`));
});

test('range with countAll false reads a page and one key past it: the same kvs and more, a count that is only a lower bound', () => {
  const s = new Store();
  const t = new TestTime();
  for (let i = 0; i < 25; i++) put(s, t, `/p/${String(i).padStart(2, '0')}`, `v${i}`);
  const end = prefixEnd('/p/');
  const full = s.range({ key: '/p/', rangeEnd: end, limit: 10 });
  const page = s.range({ key: '/p/', rangeEnd: end, limit: 10, countAll: false });
  assert.deepEqual(page.kvs, full.kvs);
  assert.equal(page.more, true);
  assert.equal(full.count, 25);
  assert.equal(page.count, 11);
  const last = s.range({ key: '/p/20', rangeEnd: end, limit: 10, countAll: false });
  assert.deepEqual([last.kvs.length, last.more, last.count], [5, false, 5]);
});

test('reads at a future or compacted revision fail with errors naming both revisions', () => {
  const s = new Store();
  const t = new TestTime();
  for (let i = 0; i < 5; i++) put(s, t, 'k', String(i));
  assert.throws(() => s.range({ key: 'k', revision: 99 }), (e: unknown) => e instanceof FutureRevisionError && /revision 99.*current revision is 6/.test(e.message));
  s.compact(4, t.tick());
  assert.throws(() => s.range({ key: 'k', revision: 3 }), (e: unknown) => e instanceof CompactedError && e.requestedRevision === 3 && e.compactRevision === 4);
  assert.equal(value(s, 'k', 4), '2');
  assert.throws(() => s.compact(4, t.tick()), CompactedError);
  assert.throws(() => s.compact(10, t.tick()), FutureRevisionError);
});

test('txn compares on value, version, create, mod revision and lease pick the branch', () => {
  const s = new Store();
  const t = new TestTime();
  put(s, t, 'a', 'x');
  put(s, t, 'a', 'y');
  const cases: Array<[Parameters<Store['txn']>[0]['compare'], boolean]> = [
    [[{ key: 'a', target: 'value', result: '=', value: bytes('y') }], true],
    [[{ key: 'a', target: 'value', result: '>', value: bytes('x') }], true],
    [[{ key: 'a', target: 'value', result: '<', value: bytes('x') }], false],
    [[{ key: 'a', target: 'version', result: '=', number: 2 }], true],
    [[{ key: 'a', target: 'createRevision', result: '=', number: 2 }], true],
    [[{ key: 'a', target: 'modRevision', result: '<', number: 3 }], false],
    [[{ key: 'a', target: 'modRevision', result: '!=', number: 2 }], true],
    [[{ key: 'a', target: 'lease', result: '=', number: 0 }], true],
    // A missing key: version 0, and a value compare fails.
    [[{ key: 'missing', target: 'version', result: '=', number: 0 }], true],
    [[{ key: 'missing', target: 'value', result: '!=', value: bytes('q') }], false],
    [[{ key: 'a', target: 'version', result: '>', number: 0 }, { key: 'missing', target: 'createRevision', result: '=', number: 0 }], true],
  ];
  for (const [compare, want] of cases) {
    const r = s.txn({ compare, success: [{ type: 'range', key: 'a' }], failure: [] }, t.tick());
    assert.equal(r.succeeded, want, JSON.stringify(compare, (_k, v) => (v instanceof Uint8Array ? text(v) : v)));
    assert.equal(r.responses.length, want ? 1 : 0);
  }
});

test('a compare-and-swap txn runs both branches with prevKv and sees its own writes', () => {
  const s = new Store();
  const t = new TestTime();
  put(s, t, 'lock', 'free');
  const cas = (expect: string, next: string) =>
    s.txn(
      {
        compare: [{ key: 'lock', target: 'value', result: '=', value: bytes(expect) }],
        success: [
          { type: 'put', key: 'lock', value: bytes(next), prevKv: true },
          { type: 'put', key: 'owner', value: bytes('me') },
          { type: 'range', key: 'owner' },
        ],
        failure: [{ type: 'range', key: 'lock' }],
      },
      t.tick(),
    );
  const ok = cas('free', 'held');
  assert.equal(ok.succeeded, true);
  assert.equal(ok.header.revision, 3);
  const [p, , r] = ok.responses;
  assert.equal(p.type === 'put' && text(p.prevKv?.value), 'free');
  assert.equal(r.type === 'range' && text(r.kvs[0].value), 'me');
  // Two puts in one txn share the revision with sub-revisions in op order.
  assert.equal(get(s, 'lock')!.modRevision, get(s, 'owner')!.modRevision);
  const no = cas('free', 'again');
  assert.equal(no.succeeded, false);
  assert.equal(no.header.revision, 3);
  const f = no.responses[0];
  assert.equal(f.type === 'range' && text(f.kvs[0].value), 'held');
});

test('deleteRange returns the deleted count and previous kvs', () => {
  const s = new Store();
  const t = new TestTime();
  for (const k of ['d/1', 'd/2', 'e']) put(s, t, k, k);
  const r = s.txn({ success: [{ type: 'deleteRange', key: 'd/', rangeEnd: prefixEnd('d/'), prevKv: true }] }, t.tick());
  const d = r.responses[0];
  assert.ok(d.type === 'deleteRange');
  assert.equal(d.deleted, 2);
  assert.deepEqual(d.prevKvs.map((kv) => text(kv.value)), ['d/1', 'd/2']);
  assert.equal(s.range({ key: 'd/', rangeEnd: prefixEnd('d/') }).count, 0);
});

test('put with ignoreValue and ignoreLease keeps the old ones and needs an existing key', () => {
  const s = new Store();
  const t = new TestTime();
  const lease = s.leaseGrant(0, 60, t.tick()).id;
  put(s, t, 'k', 'v', lease);
  s.txn({ success: [{ type: 'put', key: 'k', value: bytes('new'), ignoreLease: true }] }, t.tick());
  assert.equal(get(s, 'k')!.lease, lease);
  s.txn({ success: [{ type: 'put', key: 'k', value: new Uint8Array(0), ignoreValue: true, lease: 0 }] }, t.tick());
  assert.equal(value(s, 'k'), 'new');
  assert.equal(get(s, 'k')!.lease, 0);
  assert.throws(
    () => s.txn({ success: [{ type: 'put', key: 'nope', value: new Uint8Array(0), ignoreValue: true }] }, t.tick()),
    (e: unknown) => e instanceof StoreError && e.code === 'KeyNotFound' && /"nope"/.test(e.message),
  );
});

test('bad txns are refused with a message naming the problem and change nothing', () => {
  const s = new Store({ maxTxnOps: 3 });
  const t = new TestTime();
  put(s, t, 'a', '1');
  const bad: Array<[Parameters<Store['txn']>[0], RegExp]> = [
    [{ success: [{ type: 'put', key: '', value: bytes('x') }] }, /key is not provided/],
    [{ success: [{ type: 'put', key: 'x', value: bytes('1') }, { type: 'put', key: 'x', value: bytes('2') }] }, /duplicate key "x"/],
    [{ success: [{ type: 'deleteRange', key: 'a', rangeEnd: 'z' }, { type: 'put', key: 'b', value: bytes('2') }] }, /duplicate key "b"/],
    [{ success: Array.from({ length: 4 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value: bytes('v') })) }, /4 success ops exceed the limit of 3/],
    [{ compare: [{ key: 'a', target: 'bogus' as 'version', result: '=', number: 1 }] }, /compare target "bogus"/],
    [{ success: [{ type: 'put', key: 'x', value: bytes('v'), lease: 42 }] }, /lease 42 not found/],
  ];
  for (const [req, msg] of bad) assert.throws(() => s.txn(req, t.tick()), (e: unknown) => e instanceof StoreError && msg.test(e.message));
  assert.equal(s.revision, 2);
  assert.equal(s.range({ key: '\0', rangeEnd: ALL_KEYS_FROM }).count, 1);
});

test('a snapshot round-trips long and binary keys, tombstones, leases and big revisions', () => {
  const s = new Store();
  const t = new TestTime();
  const lease = s.leaseGrant(2 ** 40, 60, t.tick()).id;
  const long = `k/${'x'.repeat(300)}\x00\xff`;
  put(s, t, long, 'v'.repeat(5000), lease);
  put(s, t, 'short', 'a');
  del(s, t, 'short');
  put(s, t, 'short', 'b');
  const r = new Store();
  r.restore(s.snapshot());
  assert.deepEqual(r.snapshot(), s.snapshot());
  assert.equal(value(r, long), 'v'.repeat(5000));
  assert.equal(get(r, long)!.lease, lease);
  assert.equal(value(r, 'short'), 'b');
  assert.equal(value(r, 'short', 3), 'a');
  assert.equal(r.revision, s.revision);
});

test('values keep every byte value through puts, ignoreValue and a snapshot, and each read is a copy of its own', () => {
  const s = new Store();
  const t = new TestTime();
  const all = Uint8Array.from({ length: 512 }, (_, i) => i & 255);
  const big = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7919) & 255);
  s.txn({ success: [{ type: 'put', key: 'all', value: all }] }, t.tick());
  s.txn({ success: [{ type: 'put', key: 'big', value: big }] }, t.tick());
  s.txn({ success: [{ type: 'put', key: 'all', value: new Uint8Array(0), ignoreValue: true, lease: 0 }] }, t.tick());
  const read = get(s, 'all')!.value;
  assert.deepEqual(read, all);
  read.fill(0);
  assert.deepEqual(get(s, 'all')!.value, all, 'changing a read copy must not change the store');
  assert.equal(get(s, 'all')!.version, 2);
  const r = new Store();
  r.restore(s.snapshot());
  assert.deepEqual(get(r, 'all')!.value, all);
  assert.deepEqual(get(r, 'big')!.value, big);
  assert.deepEqual(get(r, 'all', 2)!.value, all);
});

test('a range sorted by value orders values as unsigned bytes, as etcd does', () => {
  const s = new Store();
  const t = new TestTime();
  const values: Record<string, number[]> = { k1: [0xff], k2: [0x7f, 0x01], k3: [0x7f], k4: [0x00, 0xff], k5: [] };
  for (const [key, v] of Object.entries(values)) s.txn({ success: [{ type: 'put', key, value: Uint8Array.from(v) }] }, t.tick());
  const ascend = s.range({ key: 'k', rangeEnd: 'l', sortTarget: 'value', sortOrder: 'ascend' });
  assert.deepEqual(ascend.kvs.map((kv) => kv.key), ['k5', 'k4', 'k3', 'k2', 'k1']);
  const descend = s.range({ key: 'k', rangeEnd: 'l', sortTarget: 'value', sortOrder: 'descend', limit: 2 });
  assert.deepEqual(descend.kvs.map((kv) => kv.key), ['k1', 'k2']);
});

test('a snapshot encoded in turns is the state at its start, while writes, deletes, leases and compaction go on between turns', () => {
  const s = new Store({ compactRetainRevisions: 10 });
  const t = new TestTime();
  const value = (i: number, gen: number) => `${gen}:${'v'.repeat(900)}:${i}`;
  for (let i = 0; i < 200; i++) put(s, t, `k${String(i).padStart(3, '0')}`, value(i, 0));
  s.leaseGrant(7, 30, t.tick());
  const expected = s.snapshot();
  const turns = s.snapshotInTurns(undefined, 16 * 1024);
  let steps = 0;
  let got: Uint8Array;
  for (;;) {
    const r = turns.next();
    if (r.done) {
      got = r.value;
      break;
    }
    steps++;
    // Keys the encoder has not reached yet: their old versions are compacted away soon after.
    put(s, t, `k${String(199 - steps).padStart(3, '0')}`, value(steps, 1));
    put(s, t, `new${steps}`, value(steps, 2), 7);
    del(s, t, `k${String(150 - steps).padStart(3, '0')}`);
    s.leaseGrant(100 + steps, 30, t.tick());
  }
  assert.ok(steps >= 8, `encoded in ${steps + 1} turns`);
  assert.ok(s.compactRevision > 200, 'history was compacted meanwhile');
  assert.ok(Buffer.from(got).equals(Buffer.from(expected)), 'the same bytes as a snapshot taken at its start');
});

test('snapshotPieces gives the same bytes as separate pieces, of the state at the first step', () => {
  const s = new Store();
  const t = new TestTime();
  for (let i = 0; i < 400; i++) put(s, t, `k${String(i).padStart(4, '0')}`, `${i}:${'v'.repeat(100)}`);
  const whole = s.snapshot();
  const pieces = s.snapshotPieces(4 * 1024);
  const first = pieces.next().value as Uint8Array;
  // A piece is good until the next step: the caller writes it away (here: copies it) first.
  const got = [Buffer.from(first)];
  const memory = new Set([first.buffer]);
  // Written after the first step: not in the pieces.
  put(s, t, 'later', 'x');
  for (let r = pieces.next(); !r.done; r = pieces.next()) {
    got.push(Buffer.from(r.value));
    memory.add(r.value.buffer);
  }
  assert.ok(got.length > 5, `${got.length} pieces`);
  for (const p of got.slice(0, -1)) assert.ok(p.byteLength >= 4 * 1024 && p.byteLength < 8 * 1024, `a piece of ${p.byteLength} bytes`);
  // Encoded into one buffer, not one per piece.
  assert.equal(memory.size, 1);
  assert.ok(Buffer.concat(got).equals(Buffer.from(whole)));
  const restored = new Store();
  restored.restore(Buffer.concat(got));
  assert.equal(value(restored, 'later'), undefined);
  assert.equal(value(restored, 'k0399'), `399:${'v'.repeat(100)}`);
});

test('readValue and valueLength give a stored value\'s bytes, every byte value included, and leave it as stored', () => {
  const s = new Store();
  const t = new TestTime();
  const all = Uint8Array.from({ length: 512 }, (_, i) => (i * 37) & 0xff);
  s.txn({ success: [{ type: 'put', key: 'k', value: all }, { type: 'put', key: 'empty', value: new Uint8Array(0) }] }, t.tick());
  const kv = get(s, 'k')!;
  const read = readValue(kv);
  assert.deepEqual([...read], [...all]);
  assert.equal(valueLength(kv), 512);
  read.fill(0); // a reader that scribbles on what it read changes nothing stored
  assert.deepEqual([...get(s, 'k')!.value], [...all]);
  assert.deepEqual([...readValue(get(s, 'empty')!)], []);
  assert.equal(valueLength(get(s, 'empty')!), 0);
  // Not a stored version: its own value.
  const plain = { key: 'x', value: bytes('abc'), createRevision: 2, modRevision: 2, version: 1, lease: 0 };
  assert.equal(readValue(plain), plain.value);
  assert.equal(valueLength(plain), 3);
});
