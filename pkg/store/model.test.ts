// The store against a deliberately simple reference model (a full copy of
// the keyspace per revision) over thousands of random ops: txns with
// compares, puts and range deletes, reads at random revisions with limits,
// compactions, watch streams, and snapshot/restore into a fresh store.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../raft/core/random.js';
import { Store } from './store.js';
import { CompactedError, WatchOverflowError } from './errors.js';
import { inRange } from './keys.js';
import type { Compare, RequestOp } from './types.js';
import type { Watcher } from './watch.js';

interface MKv {
  value: string;
  create: number;
  mod: number;
  version: number;
}
type State = Map<string, MKv>;

class Model {
  /** states[rev] = the keyspace at rev (revision 1 is empty). */
  states: State[] = [new Map(), new Map()];
  events: string[] = [];
  compacted = 0;

  get rev(): number {
    return this.states.length - 1;
  }

  cur(): State {
    return this.states[this.rev];
  }

  live(s: State, key: string, end?: string): Array<[string, MKv]> {
    return [...s.entries()].filter(([k]) => inRange(k, key, end)).sort(([a], [b]) => (a < b ? -1 : 1));
  }

  holds(c: Compare): boolean {
    const kvs = this.live(this.cur(), c.key, c.rangeEnd);
    const one = (kv: MKv | undefined): boolean => {
      let d: number;
      if (c.target === 'value') {
        if (!kv) return false;
        d = kv.value < text(c.value) ? -1 : kv.value > text(c.value) ? 1 : 0;
      } else d = (kv ? { version: kv.version, createRevision: kv.create, modRevision: kv.mod, lease: 0 }[c.target] : 0) - c.number;
      return c.result === '=' ? d === 0 : c.result === '!=' ? d !== 0 : c.result === '<' ? d < 0 : d > 0;
    };
    return kvs.length === 0 ? one(undefined) : kvs.every(([, kv]) => one(kv));
  }

  txn(compare: Compare[], success: RequestOp[], failure: RequestOp[]): boolean {
    const ok = compare.every((c) => this.holds(c));
    const next = new Map(this.cur());
    const rev = this.rev + 1;
    const evs: string[] = [];
    for (const op of ok ? success : failure) {
      if (op.type === 'put') {
        const prev = next.get(op.key);
        next.set(op.key, { value: text(op.value), create: prev ? prev.create : rev, mod: rev, version: prev ? prev.version + 1 : 1 });
        evs.push(`${rev}:put:${op.key}:${text(op.value)}`);
      } else if (op.type === 'deleteRange') {
        for (const [k] of this.live(next, op.key, op.rangeEnd)) {
          next.delete(k);
          evs.push(`${rev}:delete:${k}:`);
        }
      }
    }
    if (evs.length > 0) {
      this.states.push(next);
      this.events.push(...evs);
    }
    return ok;
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (b: Uint8Array): string => dec.decode(b);

const KEYS = ['a', 'b', 'b1', 'b2', 'c', 'd', 'd\x00', 'e\xff', 'f'];

function randomKey(r: SeededRandom): string {
  return KEYS[r.intn(KEYS.length)];
}

function randomRange(r: SeededRandom): { key: string; rangeEnd?: string } {
  const key = randomKey(r);
  const kind = r.intn(4);
  if (kind === 0) return { key };
  if (kind === 1) return { key, rangeEnd: '\0' };
  const end = randomKey(r);
  return { key, rangeEnd: end };
}

/** Takes what the watcher has; a watcher cut off for falling behind is reopened where it says. */
function collect(s: Store, w: Watcher, out: string[]): Watcher {
  for (;;) {
    try {
      for (let resp = w.poll(); resp; resp = w.poll()) {
        for (const e of resp.events) out.push(`${e.kv.modRevision}:${e.type}:${e.kv.key}:${text(e.kv.value)}`);
      }
      return w;
    } catch (e) {
      if (!(e instanceof WatchOverflowError)) throw e;
      w = s.watch({ key: '\0', rangeEnd: '\0', startRevision: e.nextRevision, watchBufferEvents: 16 });
    }
  }
}

for (const seed of [1, 2, 3]) {
  test(`the store matches a reference model over 4000 random ops (seed ${seed})`, () => {
    const r = new SeededRandom(seed);
    const opts = { compactRetainRevisions: Infinity, compactRetainMs: Infinity, watchBufferEvents: 16 };
    let s = new Store(opts);
    const m = new Model();
    let now = 1000;
    const watched: string[] = [];
    let w = s.watch({ key: '\0', rangeEnd: '\0', startRevision: 1 });
    for (let step = 0; step < 4000; step++) {
      now += 1;
      const kind = r.intn(20);
      if (kind < 10) {
        const compare: Compare[] = [];
        for (let i = r.intn(3); i > 0; i--) {
          const { key, rangeEnd } = randomRange(r);
          const result = (['=', '!=', '<', '>'] as const)[r.intn(4)];
          const t = r.intn(4);
          if (t === 0) compare.push({ key, rangeEnd, result, target: 'value', value: enc.encode(`v${r.intn(5)}`) });
          else compare.push({ key, rangeEnd, result, target: (['version', 'createRevision', 'modRevision'] as const)[t - 1], number: r.intn(Math.max(1, m.rev)) });
        }
        const branch = (): RequestOp[] => {
          const ops: RequestOp[] = [];
          const used = new Set<string>();
          for (let i = 1 + r.intn(3); i > 0; i--) {
            if (r.intn(4) === 0) {
              const { key, rangeEnd } = randomRange(r);
              // A deleteRange must not cover a put of the same txn.
              if ([...used].some((k) => inRange(k, key, rangeEnd))) continue;
              ops.push({ type: 'deleteRange', key, rangeEnd });
              used.add(`\u0100${key}`);
              for (const k of KEYS) if (inRange(k, key, rangeEnd)) used.add(k);
            } else {
              const key = randomKey(r);
              if (used.has(key)) continue;
              used.add(key);
              ops.push({ type: 'put', key, value: enc.encode(`v${r.intn(5)}`) });
            }
          }
          return ops;
        };
        const success = branch();
        const failure = branch();
        const want = m.txn(compare, success, failure);
        const got = s.txn({ compare, success, failure }, now);
        assert.equal(got.succeeded, want, `step ${step}`);
        assert.equal(got.header.revision, m.rev, `step ${step}: revision`);
      } else if (kind < 16) {
        // A read at a random retained revision, paged.
        const rev = m.compacted + r.intn(m.rev - m.compacted + 1);
        const { key, rangeEnd } = randomRange(r);
        const at = rev < Math.max(1, m.compacted) ? m.rev : Math.max(rev, 1);
        const want = m.live(m.states[at], key, rangeEnd);
        const limit = r.intn(4);
        const got = s.range({ key, rangeEnd, revision: at, limit });
        assert.equal(got.count, want.length, `step ${step}: count`);
        const page = limit > 0 ? want.slice(0, limit) : want;
        assert.deepEqual(
          got.kvs.map((kv) => [kv.key, text(kv.value), kv.createRevision, kv.modRevision, kv.version]),
          page.map(([k, v]) => [k, v.value, v.create, v.mod, v.version]),
          `step ${step}: range ${JSON.stringify({ key, rangeEnd, at })}`,
        );
        assert.equal(got.more, limit > 0 && want.length > limit);
      } else if (kind < 17 && m.rev > m.compacted + 5) {
        const to = m.compacted + 1 + r.intn(m.rev - m.compacted - 3);
        // The watcher catches up first: a watcher behind a compaction gets CompactedError (tested elsewhere).
        w = collect(s, w, watched);
        s.compact(to, now);
        m.compacted = to;
        if (m.compacted > 0) assert.throws(() => s.range({ key: 'a', revision: to - 1 }), CompactedError);
      } else if (kind < 18) {
        w = collect(s, w, watched);
        if (r.intn(2) === 0) {
          // Reconnect from the last revision seen + 1.
          w.cancel();
          const last = watched.length > 0 ? Number(watched[watched.length - 1].split(':')[0]) : 0;
          w = s.watch({ key: '\0', rangeEnd: '\0', startRevision: last + 1 });
        }
      } else if (kind < 19) {
        // This member falls over and comes back from a snapshot.
        w = collect(s, w, watched);
        w.cancel();
        const last = watched.length > 0 ? Number(watched[watched.length - 1].split(':')[0]) : 0;
        const next = new Store(opts);
        next.restore(s.snapshot());
        next.checkSize();
        s = next;
        w = s.watch({ key: '\0', rangeEnd: '\0', startRevision: last + 1 });
      } else {
        s.checkSize();
      }
    }
    w = collect(s, w, watched);
    assert.deepEqual(watched, m.events);
    assert.equal(s.revision, m.rev);
    assert.ok(m.events.length > 2000 && m.compacted > 1000, `a weak workload: ${m.events.length} events, compacted at ${m.compacted}`);
  });
}
