import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCommand, encodeCommand, KvStateMachine } from './kv_state_machine.js';

const enc = new TextEncoder();
const entry = (index: number, data: Uint8Array) => ({ index, term: 1, type: 'normal' as const, data });

test('commands round-trip through their encoding', () => {
  const cas = { op: 'cas' as const, clientId: 'c1', seq: 7, key: 'k', expected: null, value: enc.encode('v') };
  assert.deepEqual(decodeCommand(encodeCommand(cas)), cas);
  const put = { op: 'put' as const, clientId: 'c2', seq: 1, key: 'x', value: enc.encode('y') };
  assert.deepEqual(decodeCommand(encodeCommand(put)), put);
});

test('a retried write applies once and returns the first answer', () => {
  const sm = new KvStateMachine();
  const put = encodeCommand({ op: 'put', clientId: 'c', seq: 1, key: 'k', value: enc.encode('a') });
  assert.deepEqual(sm.apply(entry(5, put)), { index: 5, ok: true });
  sm.apply(entry(6, encodeCommand({ op: 'put', clientId: 'd', seq: 1, key: 'k', value: enc.encode('b') })));
  assert.deepEqual(sm.apply(entry(7, put)), { index: 5, ok: true });
  assert.deepEqual(sm.read('k'), enc.encode('b'));
});

test('a snapshot restores data and sessions', async () => {
  const sm = new KvStateMachine();
  const put = encodeCommand({ op: 'put', clientId: 'c', seq: 1, key: 'k', value: enc.encode('a') });
  sm.apply(entry(1, put));
  const copy = new KvStateMachine();
  await copy.restore(await sm.snapshot());
  assert.deepEqual(copy.read('k'), enc.encode('a'));
  assert.deepEqual(copy.apply(entry(9, put)), { index: 1, ok: true });
});

test('a truncated command is refused with a clear error', () => {
  assert.throws(() => decodeCommand(new Uint8Array(3)), /too short/);
});

const dec = new TextDecoder();
const cmd = (c: Parameters<typeof encodeCommand>[0]) => encodeCommand(c);

test('get, cas and delete go through the log and return what they saw', () => {
  const sm = new KvStateMachine();
  assert.deepEqual(sm.apply(entry(1, cmd({ op: 'get', clientId: 'c', seq: 1, key: 'k' }))), { index: 1, ok: true, value: null });
  assert.deepEqual(sm.apply(entry(2, cmd({ op: 'cas', clientId: 'c', seq: 2, key: 'k', expected: null, value: enc.encode('a') }))), {
    index: 2,
    ok: true,
    value: enc.encode('a'),
  });
  const failed = sm.apply(entry(3, cmd({ op: 'cas', clientId: 'c', seq: 3, key: 'k', expected: enc.encode('x'), value: enc.encode('b') })));
  assert.equal(failed.ok, false);
  assert.equal(dec.decode(failed.value!), 'a');
  const got = sm.apply(entry(4, cmd({ op: 'get', clientId: 'c', seq: 4, key: 'k' })));
  assert.equal(dec.decode(got.value!), 'a');
  sm.apply(entry(5, cmd({ op: 'delete', clientId: 'c', seq: 5, key: 'k' })));
  assert.equal(sm.read('k'), undefined);
  const get = { op: 'get' as const, clientId: 'c', seq: 6, key: 'k' };
  assert.deepEqual(decodeCommand(encodeCommand(get)), get);
});

test('a retried cas applies once even after the value changed back', () => {
  const sm = new KvStateMachine();
  const swap = cmd({ op: 'cas', clientId: 'c', seq: 1, key: 'k', expected: null, value: enc.encode('a') });
  assert.equal(sm.apply(entry(1, swap)).ok, true);
  sm.apply(entry(2, cmd({ op: 'delete', clientId: 'd', seq: 1, key: 'k' })));
  assert.deepEqual(sm.apply(entry(3, swap)), { index: 1, ok: true, value: enc.encode('a') });
  assert.equal(sm.read('k'), undefined);
});

test('an old request arriving after a newer one is refused, not applied', () => {
  const sm = new KvStateMachine();
  const old = cmd({ op: 'put', clientId: 'c', seq: 2, key: 'k', value: enc.encode('old') });
  sm.apply(entry(1, cmd({ op: 'put', clientId: 'c', seq: 1, key: 'k', value: enc.encode('first') })));
  sm.apply(entry(2, old));
  sm.apply(entry(3, cmd({ op: 'put', clientId: 'c', seq: 3, key: 'k', value: enc.encode('new') })));
  assert.deepEqual(sm.apply(entry(4, old)), { index: 4, ok: false, error: 'stale' });
  assert.equal(dec.decode(sm.read('k')!), 'new');
});

test('the session table forgets the least recently seen client, which must start over', () => {
  const sm = new KvStateMachine(2);
  const put = (client: string, seq: number, index: number) => sm.apply(entry(index, cmd({ op: 'put', clientId: client, seq, key: client, value: enc.encode(`${seq}`) })));
  put('a', 1, 1);
  put('b', 1, 2);
  put('a', 2, 3); // a is now the most recently seen
  put('c', 1, 4); // evicts b
  assert.equal(sm.sessionCount, 2);
  assert.deepEqual(put('b', 2, 5), { index: 5, ok: false, error: 'sessionExpired' });
  assert.equal(dec.decode(sm.read('b')!), '1');
  assert.deepEqual(put('a', 3, 6), { index: 6, ok: true });
  assert.throws(() => new KvStateMachine(0), /Invalid maxSessions "0"/);
});

test('a snapshot keeps recorded read results and the eviction order', async () => {
  const sm = new KvStateMachine(2);
  sm.apply(entry(1, cmd({ op: 'put', clientId: 'a', seq: 1, key: 'k', value: enc.encode('v') })));
  const read = cmd({ op: 'get', clientId: 'b', seq: 1, key: 'k' });
  sm.apply(entry(2, read));
  sm.apply(entry(3, cmd({ op: 'put', clientId: 'b', seq: 2, key: 'k', value: enc.encode('w') })));
  const copy = new KvStateMachine(2);
  assert.equal(await copy.open(), 0);
  await copy.restore(await sm.snapshot());
  assert.deepEqual(await copy.snapshot(), await sm.snapshot());
  // A new client evicts a (seen least recently), not b.
  copy.apply(entry(4, cmd({ op: 'put', clientId: 'c', seq: 1, key: 'x', value: enc.encode('1') })));
  assert.equal(copy.apply(entry(5, cmd({ op: 'put', clientId: 'a', seq: 2, key: 'x', value: enc.encode('2') }))).error, 'sessionExpired');
  assert.equal(copy.apply(entry(6, cmd({ op: 'put', clientId: 'b', seq: 3, key: 'x', value: enc.encode('3') }))).ok, true);
});
