import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CodecError,
  decodeEntry,
  decodeHardState,
  decodeSnapChunk,
  decodeSnapMeta,
  encodeEntries,
  encodeHardState,
  encodeSnapChunk,
  encodeSnapMeta,
  entryKey,
  entryKeyIndex,
} from './codec.js';

test('entries round-trip, including indexes and terms past 2^32', () => {
  const es = [
    { index: 2 ** 40 + 1, term: 2 ** 33, type: 'normal' as const, data: new Uint8Array([1, 2, 3]) },
    { index: 2 ** 40 + 2, term: 2 ** 33, type: 'confChange' as const, data: new Uint8Array(0) },
  ];
  const { keys, values } = encodeEntries(es);
  assert.equal(entryKeyIndex(keys[1]), 2 ** 40 + 2);
  assert.deepEqual(decodeEntry(values[0], 2 ** 40 + 1), es[0]);
  assert.deepEqual(decodeEntry(values[1], 2 ** 40 + 2), es[1]);
});

test('entry keys sort in index order', () => {
  const idx = [1, 255, 256, 65_536, 2 ** 32, 2 ** 32 + 1, 2 ** 50];
  const sorted = idx.map(entryKey).sort(Buffer.compare).map(entryKeyIndex);
  assert.deepEqual(sorted, idx);
});

test('every flipped bit of a value is caught', () => {
  const v = encodeHardState({ term: 3, vote: 2, commit: 17 });
  for (let bit = 0; bit < v.length * 8; bit++) {
    const bad = Buffer.from(v);
    bad[bit >> 3] ^= 1 << (bit & 7);
    assert.throws(() => decodeHardState(bad), CodecError, `bit ${bit}`);
  }
  assert.deepEqual(decodeHardState(v), { term: 3, vote: 2, commit: 17 });
});

test('a value of another kind is named, not misread', () => {
  const hs = encodeHardState({ term: 1, vote: 1, commit: 1 });
  assert.throws(() => decodeEntry(hs, 1), /holds a hard state, expected a log entry/);
});

test('snapshot metadata and chunks round-trip, and a chunk of another snapshot is refused', () => {
  const meta = { index: 9, term: 2, confState: { voters: [1, 2, 3], learners: [7] }, dataBytes: 5, chunks: 1 };
  assert.deepEqual(decodeSnapMeta(encodeSnapMeta(meta)), meta);
  const c = encodeSnapChunk(9, 0, new Uint8Array([1, 2, 3, 4, 5]));
  assert.deepEqual([...decodeSnapChunk(c, 9, 0)], [1, 2, 3, 4, 5]);
  assert.throws(() => decodeSnapChunk(c, 12, 0), /belongs to chunk 0 of the snapshot at 9, expected chunk 0 of the snapshot at 12/);
});

test('numbers that cannot be stored exactly are refused with their name', () => {
  assert.throws(() => encodeHardState({ term: -1, vote: 0, commit: 0 }), /Cannot store hard state term -1: not a non-negative safe integer/);
  assert.throws(() => encodeEntries([{ index: 1.5, term: 1, type: 'normal', data: new Uint8Array(0) }]), /Cannot store entry index 1.5/);
});
