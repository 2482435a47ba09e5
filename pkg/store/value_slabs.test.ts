import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Keyspace, readValue, type Version } from './keyspace.js';
import { SLAB_BYTES, ValueSlabs, type Slab, type SlabValue } from './value_slabs.js';

function bytesOf(seed: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

function value(): SlabValue {
  return { bytes: new Uint8Array(0), slab: undefined, retained: true };
}

/** Distinct slabs that retained values are in, and their bytes. */
function slabsHeld(values: Iterable<SlabValue>): number {
  const slabs = new Set<Slab>();
  for (const v of values) if (v.retained && v.slab) slabs.add(v.slab);
  let n = 0;
  for (const s of slabs) n += s.bytes.byteLength;
  return n;
}

test('values read back as stored, across slab boundaries, with large ones in slabs of their own', () => {
  const slabs = new ValueSlabs();
  const sizes = [0, 1, 700, 3000, SLAB_BYTES / 4 - 1, SLAB_BYTES / 4, SLAB_BYTES * 2, 5];
  const stored: { v: SlabValue; bytes: Uint8Array }[] = [];
  for (let i = 0; i < 400; i++) {
    const bytes = bytesOf(i, sizes[i % sizes.length]);
    const v = value();
    slabs.store(v, bytes);
    stored.push({ v, bytes });
  }
  for (const { v, bytes } of stored) assert.deepEqual(v.bytes, bytes);
  const big = stored.find((s) => s.bytes.byteLength === SLAB_BYTES * 2)!;
  assert.equal(big.v.slab!.bytes.byteLength, SLAB_BYTES * 2, 'a value past a quarter slab has a slab of its own');
});

test('dropping most values empties their slabs: the rest move, views taken before still read the same bytes', () => {
  const slabs = new ValueSlabs();
  const all: { v: SlabValue; bytes: Uint8Array }[] = [];
  for (let i = 0; i < 3000; i++) {
    const bytes = bytesOf(i, 200 + (i % 50) * 20);
    const v = value();
    slabs.store(v, bytes);
    all.push({ v, bytes });
  }
  const kept = all.filter((_, i) => i % 3 === 0);
  const viewsBefore = kept.map(({ v }) => v.bytes);
  const slabsBefore = kept.map(({ v }) => v.slab);
  for (let i = 0; i < all.length; i++) if (i % 3 !== 0) slabs.release(all[i].v);
  slabs.emptySparse();
  assert.ok(slabs.bytesMoved > 0, 'live values moved out of sparse slabs');
  assert.ok(kept.some(({ v }, i) => v.slab !== slabsBefore[i]), 'some values are in another slab now');
  kept.forEach(({ v, bytes }, i) => {
    assert.deepEqual(v.bytes, bytes, `value ${i * 3} after the move`);
    assert.deepEqual(viewsBefore[i], bytes, `a view of value ${i * 3} taken before the move`);
  });
  const live = kept.reduce((n, { bytes }) => n + bytes.byteLength, 0);
  assert.ok(slabsHeld(kept.map((k) => k.v)) <= 2 * live + SLAB_BYTES, 'slabs hold at most twice the live bytes, plus the one being filled');
});

test('releasing twice counts once', () => {
  const slabs = new ValueSlabs();
  const a = value();
  const b = value();
  slabs.store(a, bytesOf(1, 10));
  slabs.store(b, bytesOf(2, 10));
  slabs.release(a);
  slabs.release(a);
  assert.equal(a.slab!.liveBytes, 10);
});

test('a keyspace under steady rewrites keeps its slabs within twice its live values', () => {
  const ks = new Keyspace();
  const keys = 500;
  let rev = 1;
  const latest = new Map<string, Uint8Array>();
  for (let round = 0; round < 40; round++) {
    for (let k = 0; k < keys; k++) {
      // Keys rewritten at different rates, as pods' statuses and leases are.
      if (k % 4 !== 0 && round % 5 !== 0) continue;
      const key = `/k/${k}`;
      const bytes = bytesOf(round * keys + k, 300 + (k % 7) * 100);
      ks.put(key, bytes, 0, ++rev, 0);
      ks.commit(rev);
      latest.set(key, bytes);
    }
    ks.compact(rev - keys);
  }
  ks.compact(rev);
  const live: Version[] = [];
  ks.forEachLive('/k/', '/k0', rev, (v) => {
    live.push(v);
  });
  assert.equal(live.length, keys);
  for (const v of live) assert.deepEqual(readValue(v), latest.get(v.key), v.key);
  const liveBytes = live.reduce((n, v) => n + v.bytes.byteLength, 0);
  assert.ok(ks.slabs.bytesMoved > 0);
  assert.ok(slabsHeld(live) <= 2 * liveBytes + SLAB_BYTES, `slabs ${slabsHeld(live)} bytes for ${liveBytes} live`);
});
