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
