import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Event } from '../../api/registry.js';
import { EventCorrelator, type CorrelateResult } from './correlator.js';

const T0 = Date.UTC(2026, 0, 1);

function ev(name: string, reason: string, message: string, objectName = 'web-1'): Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: 'default' },
    involvedObject: { kind: 'Pod', namespace: 'default', name: objectName, uid: `uid-${objectName}` },
    reason,
    message,
    type: 'Normal',
    source: { component: 'c' },
    count: 1,
  } as unknown as Event;
}

function written(r: CorrelateResult): Exclude<CorrelateResult, { skip: true }> {
  assert.equal(r.skip, false);
  return r as Exclude<CorrelateResult, { skip: true }>;
}

describe('EventCorrelator', () => {
  it('a write that finishes after its key was forgotten and seen again leaves the new event alone', () => {
    const c = new EventCorrelator({ cacheEntries: 1 });
    const first = written(c.correlate(ev('a.1', 'BackOff', 'm'), T0, () => 'x'));
    // Another object's event pushes the key out of the one-entry cache; the key comes back as a new event.
    written(c.correlate(ev('b.1', 'BackOff', 'm', 'web-2'), T0, () => 'x'));
    const again = written(c.correlate(ev('a.2', 'BackOff', 'm'), T0, () => 'x'));
    assert.equal(again.patch, undefined);
    // The first create answers only now.
    c.written(first.key, ev('a.1', 'BackOff', 'm'), 'a.1');
    const repeat = written(c.correlate(ev('a.3', 'BackOff', 'm'), T0, () => 'x'));
    assert.equal(repeat.event.metadata?.name, 'a.2');
    assert.equal(repeat.patch?.count, 2);
  });

  it('patches a repeat by the name of the first event, counting up', () => {
    const c = new EventCorrelator();
    let n = 0;
    const name = () => `agg-${++n}`;
    const a = written(c.correlate(ev('e1', 'Pulled', 'pulled'), T0, name));
    assert.equal(a.patch, undefined);
    const b = written(c.correlate(ev('e2', 'Pulled', 'pulled'), T0 + 1000, name));
    assert.equal(b.event.metadata?.name, 'e1');
    assert.equal(b.patch?.count, 2);
    const d = written(c.correlate(ev('e3', 'Pulled', 'pulled'), T0 + 2000, name));
    assert.equal(d.patch?.count, 3);
  });

  it('keeps different objects apart', () => {
    const c = new EventCorrelator();
    written(c.correlate(ev('e1', 'Pulled', 'pulled', 'a'), T0, () => 'x'));
    assert.equal(written(c.correlate(ev('e2', 'Pulled', 'pulled', 'b'), T0, () => 'x')).patch, undefined);
  });

  it('starts counting similar messages again after the window', () => {
    const c = new EventCorrelator({ maxSimilarEvents: 3, similarWindowMs: 60_000 });
    const msgs = (t: number, from: number) => [from, from + 1, from + 2].map((i) => written(c.correlate(ev(`e${i}`, 'Failed', `m${i}`), t, () => `agg-${i}`)).event.message);
    assert.deepEqual(msgs(T0, 1), ['m1', 'm2', '(combined from similar events): m3']);
    assert.deepEqual(msgs(T0 + 61_000, 4), ['m4', 'm5', '(combined from similar events): m6']);
  });

  it('counts distinct messages only: a repeated message is patched, not combined', () => {
    const c = new EventCorrelator({ maxSimilarEvents: 2 });
    const r = (i: number, message: string) => written(c.correlate(ev(`e${i}`, 'Failed', message), T0 + i, () => `agg-${i}`));
    assert.equal(r(1, 'm1').event.message, 'm1');
    const again = r(2, 'm1');
    assert.equal(again.event.message, 'm1');
    assert.equal(again.patch?.count, 2);
    // The second distinct message reaches the limit of 2: from here on they are combined.
    assert.equal(r(3, 'm2').event.message, '(combined from similar events): m2');
    assert.equal(r(4, 'm3').event.message, '(combined from similar events): m3');
  });

  it('combines every event with a limit of one similar message', () => {
    const c = new EventCorrelator({ maxSimilarEvents: 1 });
    const first = written(c.correlate(ev('e1', 'Failed', 'm1'), T0, () => 'agg-1'));
    assert.equal(first.event.message, '(combined from similar events): m1');
    assert.equal(first.event.metadata?.name, 'agg-1');
    const second = written(c.correlate(ev('e2', 'Failed', 'm2'), T0 + 1, () => 'agg-2'));
    // The combined Event is one: the second patches it.
    assert.equal(second.event.message, '(combined from similar events): m2');
    assert.equal(second.event.metadata?.name, 'agg-1');
    assert.equal(second.patch?.count, 2);
  });

  it('holds back events of one object and type beyond the burst, whatever their reason', () => {
    const c = new EventCorrelator({ spamBurst: 2 });
    assert.equal(c.correlate(ev('e1', 'A', 'm'), T0, () => 'x').skip, false);
    assert.equal(c.correlate(ev('e2', 'B', 'm'), T0, () => 'x').skip, false);
    assert.equal(c.correlate(ev('e3', 'C', 'm'), T0, () => 'x').skip, true);
    // Another object has its own bucket.
    assert.equal(c.correlate(ev('e4', 'C', 'm', 'web-2'), T0, () => 'x').skip, false);
  });

  it('keeps its caches bounded', () => {
    const c = new EventCorrelator({ cacheEntries: 2, spamBurst: 1 });
    for (const o of ['a', 'b', 'c']) written(c.correlate(ev(`e-${o}`, 'R', 'm', o), T0, () => 'x'));
    // "a" was forgotten (least recently used): it is new again, with a fresh token.
    const again = written(c.correlate(ev('e-a2', 'R', 'm', 'a'), T0, () => 'x'));
    assert.equal(again.patch, undefined);
    assert.equal(again.event.metadata?.name, 'e-a2');
  });

  it('forgets the least recently used object first, not the first one seen', () => {
    const c = new EventCorrelator({ cacheEntries: 2 });
    const r = (name: string, object: string) => written(c.correlate(ev(name, 'R', 'm', object), T0, () => 'x'));
    r('a1', 'a');
    r('b1', 'b');
    assert.equal(r('a2', 'a').patch?.count, 2);
    // "b" is now the least recently used: "c" pushes it out and "a" stays.
    r('c1', 'c');
    assert.equal(r('a3', 'a').patch?.count, 3);
    const b = r('b2', 'b');
    assert.equal(b.patch, undefined);
    assert.equal(b.event.metadata?.name, 'b2');
  });

  it('refuses bad options with the field named', () => {
    assert.throws(() => new EventCorrelator({ spamBurst: 0 }), /spamBurst must be a number >= 1, got 0/);
  });
});
