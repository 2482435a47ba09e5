import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SeededRandom } from '../core/random.js';
import { type KvHistoryEntry, type KvInput, type KvOpKind, type KvOutput, checkKvHistory } from './linearizability.js';

function op(clientId: number, o: KvOpKind, input: KvInput, output: KvOutput, callTimeMs: number, returnTimeMs: number): KvHistoryEntry {
  return { clientId, op: o, input, output, callTimeMs, returnTimeMs };
}
const put = (c: number, key: string, value: string, t0: number, t1: number): KvHistoryEntry => op(c, 'put', { key, value }, 'ok', t0, t1);
const get = (c: number, key: string, out: string | null | undefined, t0: number, t1: number): KvHistoryEntry => op(c, 'get', { key }, out, t0, t1);
const cas = (c: number, key: string, expected: string | null, value: string, out: boolean | undefined, t0: number, t1: number): KvHistoryEntry =>
  op(c, 'cas', { key, expected, value }, out, t0, t1);

describe('checkKvHistory', () => {
  it('accepts an empty history', () => {
    assert.equal(checkKvHistory([]).kind, 'ok');
  });

  it('accepts sequential reads of the latest write', () => {
    const h = [put(1, 'x', 'a', 0, 10), get(2, 'x', 'a', 11, 20), put(1, 'x', 'b', 21, 30), get(2, 'x', 'b', 31, 40)];
    assert.deepEqual(checkKvHistory(h), { kind: 'ok', partitions: 1, ops: 4 });
  });

  it('accepts a read concurrent with a write returning either value', () => {
    const base = [put(1, 'x', 'a', 0, 10), put(1, 'x', 'b', 20, 40)];
    assert.equal(checkKvHistory([...base, get(2, 'x', 'a', 25, 30)]).kind, 'ok');
    assert.equal(checkKvHistory([...base, get(2, 'x', 'b', 25, 30)]).kind, 'ok');
  });

  it('accepts a read of an absent key before any write', () => {
    assert.equal(checkKvHistory([get(1, 'x', null, 0, 5), put(2, 'x', 'a', 6, 9)]).kind, 'ok');
  });

  it('rejects a stale read after a newer write completed', () => {
    const h = [put(1, 'x', 'a', 0, 10), put(1, 'x', 'b', 11, 20), get(2, 'x', 'a', 21, 30)];
    const r = checkKvHistory(h);
    assert.equal(r.kind, 'illegal');
    assert.ok(r.kind === 'illegal' && r.key === 'x');
    assert.match(r.kind === 'illegal' ? r.explanation : '', /get\("x"\) -> "a"/);
  });

  it('rejects a lost write: a completed write never seen by later reads', () => {
    const h = [put(1, 'x', 'a', 0, 10), get(2, 'x', null, 20, 30)];
    assert.equal(checkKvHistory(h).kind, 'illegal');
  });

  it('rejects a client that does not read its own write', () => {
    const h = [put(1, 'x', 'a', 0, 5), put(1, 'x', 'b', 10, 20), get(1, 'x', 'a', 21, 25), put(2, 'x', 'a', 0, 6)];
    // put(2,a) ended at 6, before put(1,b) began; so the read must see b.
    assert.equal(checkKvHistory(h).kind, 'illegal');
  });

  it('rejects reads that observe two writes in opposite orders', () => {
    const h = [
      put(1, 'x', 'a', 0, 100),
      put(2, 'x', 'b', 0, 100),
      get(3, 'x', 'a', 10, 20),
      get(3, 'x', 'b', 30, 40),
      get(4, 'x', 'b', 10, 20),
      get(4, 'x', 'a', 30, 40),
    ];
    assert.equal(checkKvHistory(h).kind, 'illegal');
  });

  it('checks cas results against the value', () => {
    const ok = [put(1, 'x', 'a', 0, 10), cas(2, 'x', 'a', 'b', true, 11, 20), cas(3, 'x', 'a', 'c', false, 21, 30), get(1, 'x', 'b', 31, 40)];
    assert.equal(checkKvHistory(ok).kind, 'ok');
    const bad = [put(1, 'x', 'a', 0, 10), cas(2, 'x', 'a', 'b', true, 11, 20), cas(3, 'x', 'a', 'c', true, 21, 30)];
    assert.equal(checkKvHistory(bad).kind, 'illegal');
    assert.equal(checkKvHistory([cas(1, 'x', null, 'a', true, 0, 1), get(1, 'x', 'a', 2, 3)]).kind, 'ok');
  });

  it('treats a delete as making the key absent', () => {
    const h = [put(1, 'x', 'a', 0, 10), op(1, 'delete', { key: 'x' }, 'ok', 11, 12), get(2, 'x', null, 13, 14)];
    assert.equal(checkKvHistory(h).kind, 'ok');
  });

  it('lets an op with an unknown outcome take effect', () => {
    const h = [put(1, 'x', 'a', 0, 10), op(2, 'put', { key: 'x', value: 'b' }, undefined, 11, Infinity), get(3, 'x', 'b', 50, 60)];
    assert.equal(checkKvHistory(h).kind, 'ok');
  });

  it('lets an op with an unknown outcome never take effect', () => {
    const h = [put(1, 'x', 'a', 0, 10), op(2, 'put', { key: 'x', value: 'b' }, undefined, 11, Infinity), get(3, 'x', 'a', 50, 60)];
    assert.equal(checkKvHistory(h).kind, 'ok');
  });

  it('does not let an unknown op take effect before it was called', () => {
    const h = [get(3, 'x', 'b', 0, 5), op(2, 'put', { key: 'x', value: 'b' }, undefined, 11, Infinity)];
    assert.equal(checkKvHistory(h).kind, 'illegal');
  });

  it('does not let an unknown op take effect twice', () => {
    const h = [
      op(2, 'put', { key: 'x', value: 'b' }, undefined, 0, Infinity),
      get(3, 'x', 'b', 10, 11),
      put(1, 'x', 'a', 12, 13),
      get(3, 'x', 'b', 14, 15),
    ];
    assert.equal(checkKvHistory(h).kind, 'illegal');
  });

  it('accepts an unknown write that restores an earlier value', () => {
    // a, then unknown b and unknown a: reads a, b, a need both to take effect.
    const h = [
      put(1, 'x', 'a', 0, 1),
      op(2, 'put', { key: 'x', value: 'b' }, undefined, 2, Infinity),
      op(3, 'put', { key: 'x', value: 'a' }, undefined, 2, Infinity),
      get(4, 'x', 'a', 3, 4),
      get(4, 'x', 'b', 5, 6),
      get(4, 'x', 'a', 7, 8),
    ];
    assert.equal(checkKvHistory(h).kind, 'ok');
    assert.equal(checkKvHistory([...h, get(4, 'x', 'b', 9, 10)]).kind, 'illegal');
  });

  it('proves a history illegal quickly despite many lost cas ops', () => {
    const h: KvHistoryEntry[] = [put(1, 'x', 'a', 0, 1)];
    for (let i = 0; i < 24; i++) h.push(cas(10 + i, 'x', `nope${i}`, `c${i}`, undefined, 2, Infinity));
    for (let i = 0; i < 40; i++) h.push(get(2, 'x', 'a', 10 + 2 * i, 11 + 2 * i));
    h.push(get(2, 'x', 'b', 200, 201));
    assert.equal(checkKvHistory(h, { maxStepsPerPartition: 100_000 }).kind, 'illegal');
  });

  it('checks keys independently and reports the failing key', () => {
    const h = [put(1, 'y', 'a', 0, 10), get(2, 'y', 'a', 11, 12), put(1, 'x', 'a', 0, 10), get(2, 'x', 'zzz', 11, 12)];
    const r = checkKvHistory(h);
    assert.equal(r.kind, 'illegal');
    assert.ok(r.kind === 'illegal' && r.key === 'x');
  });

  it('reports the shortest failing prefix, not the whole partition', () => {
    const h: KvHistoryEntry[] = [put(1, 'x', 'a', 0, 1), get(2, 'x', 'b', 2, 3)];
    for (let i = 0; i < 50; i++) h.push(put(1, 'x', `v${i}`, 10 + 2 * i, 11 + 2 * i));
    const r = checkKvHistory(h);
    assert.equal(r.kind, 'illegal');
    assert.equal(r.kind === 'illegal' ? r.history.length : -1, 2);
  });

  it('rejects a malformed history with a clear error', () => {
    assert.throws(() => checkKvHistory([op(1, 'incr' as KvOpKind, { key: 'x' }, 'ok', 0, 1)]), /history\[0\]\.op "incr"/);
    assert.throws(() => checkKvHistory([get(1, 'x', null, 5, 1)]), /returnTimeMs "1": it must be at or after callTimeMs "5"/);
  });

  it('gives up with unknown when the step budget is exhausted', () => {
    const h: KvHistoryEntry[] = [];
    for (let i = 0; i < 30; i++) h.push(put(i, 'x', `v${i}`, 0, 100));
    h.push(get(99, 'x', 'never', 101, 102));
    assert.equal(checkKvHistory(h, { maxStepsPerPartition: 1000 }).kind, 'unknown');
  });

  it('accepts histories built from a real sequential run and rejects them with one read corrupted', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rnd = new SeededRandom(seed);
      const h = randomHistory(rnd, 600);
      const r = checkKvHistory(h);
      assert.equal(r.kind, 'ok', `seed ${seed}: ${r.kind === 'illegal' ? r.explanation : ''}`);

      const reads = h.map((e, i) => ({ e, i })).filter(({ e }) => e.op === 'get' && e.output !== undefined && Number.isFinite(e.returnTimeMs));
      const victim = reads[rnd.intn(reads.length)];
      const bad = h.slice();
      bad[victim.i] = { ...victim.e, output: 'corrupted' };
      assert.equal(checkKvHistory(bad).kind, 'illegal', `seed ${seed}`);
    }
  });

  it('checks a few thousand concurrent ops on one key quickly', () => {
    const h = randomHistory(new SeededRandom(7), 3000, 1);
    const t0 = performance.now();
    assert.equal(checkKvHistory(h).kind, 'ok');
    // Not a timed assertion; printed so a slowdown is visible in the output.
    console.log(`checked ${h.length} ops on one key in ${(performance.now() - t0).toFixed(1)} ms`);
  });
});

/**
 * Runs ops against a real map in sequence, each at a linearization point
 * inside a random interval, so overlapping intervals reorder calls; some
 * ops lose their outcome (unknown output, return at +Infinity).
 */
function randomHistory(rnd: SeededRandom, n: number, keys = 4): KvHistoryEntry[] {
  const map = new Map<string, string>();
  const h: KvHistoryEntry[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += 1 + rnd.intn(3);
    const key = `k${rnd.intn(keys)}`;
    const callTimeMs = t - rnd.intn(8);
    const returnTimeMs = t + rnd.intn(8);
    const cur = map.get(key) ?? null;
    const kind = rnd.intn(10);
    let e: KvHistoryEntry;
    if (kind < 4) {
      e = get(i, key, cur, callTimeMs, returnTimeMs);
    } else if (kind < 7) {
      const value = `v${i}`;
      map.set(key, value);
      e = put(i, key, value, callTimeMs, returnTimeMs);
    } else if (kind < 9) {
      const expected = rnd.intn(2) === 0 ? cur : `v${rnd.intn(i + 1)}`;
      const swaps = expected === cur;
      if (swaps) map.set(key, `c${i}`);
      e = cas(i, key, expected, `c${i}`, swaps, callTimeMs, returnTimeMs);
    } else {
      map.delete(key);
      e = op(i, 'delete', { key }, 'ok', callTimeMs, returnTimeMs);
    }
    if (e.op !== 'get' && rnd.intn(20) === 0) e = { ...e, output: undefined, returnTimeMs: Infinity };
    h.push(e);
  }
  // Also unknown ops that never took effect.
  for (let i = 0; i < n / 50; i++) h.push(op(n + i, 'put', { key: `k${rnd.intn(keys)}`, value: `lost${i}` }, undefined, rnd.intn(t), Infinity));
  return h;
}
