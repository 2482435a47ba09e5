import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToKey, inRange, keyToBytes, keyToText, prefixEnd, quoteKey, textToKey, ALL_KEYS_FROM } from './keys.js';

test('keys round-trip through bytes and compare in byte order', () => {
  const a = bytesToKey(new Uint8Array([0x00, 0x7f, 0x80, 0xff]));
  assert.deepEqual([...keyToBytes(a)], [0x00, 0x7f, 0x80, 0xff]);
  assert.ok(bytesToKey(new Uint8Array([0x7f])) < bytesToKey(new Uint8Array([0x80])));
  assert.equal(keyToText(textToKey('/registry/pods/é')), '/registry/pods/é');
  assert.equal(textToKey('/registry/pods/é'), '/registry/pods/\xc3\xa9', 'UTF-8 bytes, one char each');
  assert.equal(textToKey('/registry/pods/a\x7f'), '/registry/pods/a\x7f');
  assert.equal(keyToText('/registry/pods/\xc3\xa9'), '/registry/pods/é');
  assert.equal(keyToText('/registry/x\x80'), '/registry/x\ufffd', 'invalid UTF-8 reads as U+FFFD');
});

test('prefixEnd increments the last byte below 0xff as etcd does', () => {
  assert.equal(prefixEnd('/a/'), '/a0');
  assert.equal(prefixEnd('a\xff'), 'b');
  assert.equal(prefixEnd('\xff\xff'), ALL_KEYS_FROM);
  assert.ok(inRange('/a/x', '/a/', prefixEnd('/a/')));
  assert.ok(!inRange('/b', '/a/', prefixEnd('/a/')));
  assert.ok(inRange('zzz', 'a', ALL_KEYS_FROM));
  assert.ok(inRange('a', 'a', undefined) && !inRange('ab', 'a', ''));
});

test('quoteKey escapes non-printable bytes for error messages', () => {
  assert.equal(quoteKey('a\x00"b'), '"a\\x00\\"b"');
});
