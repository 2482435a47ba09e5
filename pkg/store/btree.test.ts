import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BTreeMap } from './btree.js';
import { SeededRandom } from '../../raft/core/random.js';

function lowerBound(a: string[], k: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (a[m] < k) lo = m + 1;
    else hi = m;
  }
  return lo;
}

function randomKey(r: SeededRandom, alphabet: number): string {
  const len = 1 + r.intn(4);
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(r.intn(alphabet) === 0 ? 0xff : 0x61 + r.intn(alphabet));
  return s;
}

for (const maxNodeKeys of [4, 5, 64]) {
  test(`BTreeMap with ${maxNodeKeys} keys per node matches a sorted array over random inserts, deletes, seeks and ranges`, () => {
    const r = new SeededRandom(maxNodeKeys * 7919);
    const t = new BTreeMap<number>({ maxNodeKeys });
    const keys: string[] = [];
    const vals = new Map<string, number>();
    for (let step = 0; step < 20000; step++) {
      const op = r.intn(10);
      const k = randomKey(r, 6);
      if (op < 5 || (step > 15000 && op < 2)) {
        assert.equal(t.get(k), vals.get(k));
        const isNew = t.set(k, step);
        assert.equal(t.get(k), step);
        assert.equal(isNew, !vals.has(k));
        if (isNew) keys.splice(lowerBound(keys, k), 0, k);
        vals.set(k, step);
      } else if (op < 8 || step > 15000) {
        assert.equal(t.get(k), vals.get(k));
        const had = t.delete(k);
        assert.equal(t.get(k), undefined);
        assert.equal(had, vals.has(k));
        if (had) {
          keys.splice(lowerBound(keys, k), 1);
          vals.delete(k);
        }
      } else if (op === 8) {
        assert.equal(t.get(k), vals.get(k));
        const c = t.seek(k);
        const i = lowerBound(keys, k);
        if (i === keys.length) assert.equal(c.valid, false);
        else assert.equal(c.key, keys[i]);
      } else {
        const to = randomKey(r, 6);
        const got: string[] = [];
        t.forRange(k, to, (key, v) => {
          assert.equal(v, vals.get(key));
          got.push(key);
        });
        assert.deepEqual(got, keys.slice(lowerBound(keys, k), Math.max(lowerBound(keys, k), lowerBound(keys, to))));
      }
      assert.equal(t.size, keys.length);
      if (step % 997 === 0) t.checkInvariants();
    }
    t.checkInvariants();
    assert.deepEqual([...t.entries()].map(([k]) => k), keys);
  });
}

test('BTreeMap holds 200,000 keys in order and empties back to a valid tree', () => {
  const t = new BTreeMap<number>();
  const n = 200_000;
  for (let i = 0; i < n; i++) t.set('/registry/pods/ns/' + ((i * 7919) % n).toString().padStart(7, '0'), i);
  assert.equal(t.size, n);
  t.checkInvariants();
  let prev = '';
  let seen = 0;
  t.forRange('', undefined, (k) => {
    assert.ok(k > prev);
    prev = k;
    seen++;
  });
  assert.equal(seen, n);
  for (let i = 0; i < n; i += 2) t.delete('/registry/pods/ns/' + i.toString().padStart(7, '0'));
  t.checkInvariants();
  assert.equal(t.size, n / 2);
  for (let i = 1; i < n; i += 2) t.delete('/registry/pods/ns/' + i.toString().padStart(7, '0'));
  t.checkInvariants();
  assert.equal(t.size, 0);
  assert.equal(t.seek('').valid, false);
});

test('a cleared BTreeMap finds nothing', () => {
  const t = new BTreeMap<number>();
  t.set('a', 1);
  assert.equal(t.get('a'), 1);
  t.clear();
  assert.equal(t.get('a'), undefined);
  assert.equal(t.size, 0);
});

test('forRange stops when the callback returns false', () => {
  const t = new BTreeMap<number>({ maxNodeKeys: 4 });
  for (let i = 0; i < 100; i++) t.set(String(i).padStart(3, '0'), i);
  const got: number[] = [];
  t.forRange('010', undefined, (_k, v) => {
    got.push(v);
    return got.length < 5;
  });
  assert.deepEqual(got, [10, 11, 12, 13, 14]);
});
