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

  it('keeps its caches bounded', () => {
    const c = new EventCorrelator({ cacheEntries: 2, spamBurst: 1 });
    for (const o of ['a', 'b', 'c']) written(c.correlate(ev(`e-${o}`, 'R', 'm', o), T0, () => 'x'));
    // "a" was forgotten (least recently used): it is new again, with a fresh token.
    const again = written(c.correlate(ev('e-a2', 'R', 'm', 'a'), T0, () => 'x'));
    assert.equal(again.patch, undefined);
    assert.equal(again.event.metadata?.name, 'e-a2');
  });

  it('refuses bad options with the field named', () => {
    assert.throws(() => new EventCorrelator({ spamBurst: 0 }), /spamBurst must be a number >= 1, got 0/);
  });
});
