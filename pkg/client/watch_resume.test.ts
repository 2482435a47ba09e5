import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientWatchEvent } from './watch.js';
import { ResumePoint } from './watch.js';

const ev = (type: ClientWatchEvent['type'], name: string, rv: number): ClientWatchEvent => ({ type, object: { apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default', resourceVersion: String(rv) } } as ClientWatchEvent['object'] });

describe('ResumePoint', () => {
  it('resumes before a revision not yet seen whole, and drops what it delivered of it', () => {
    const r = new ResumePoint('4');
    assert.equal(r.from(), '4');
    // One transaction at revision 5 changed a, b and c; the watch broke after a and b.
    assert.equal(r.take(ev('ADDED', 'a', 5)), true);
    assert.equal(r.take(ev('ADDED', 'b', 5)), true);
    assert.equal(r.from(), '4', 'revision 5 may have more');
    // Resumed from 4: revision 5 comes again, whole.
    const again = [ev('ADDED', 'a', 5), ev('ADDED', 'b', 5), ev('ADDED', 'c', 5), ev('MODIFIED', 'a', 6)].filter((e) => r.take(e));
    assert.deepEqual(
      again.map((e) => `${e.object.metadata?.name}@${e.object.metadata?.resourceVersion}`),
      ['c@5', 'a@6'],
    );
    assert.equal(r.from(), '5', 'an event of 6 shows 5 complete');
  });

  it('takes a batch whole, or what of it was not delivered before, in order', () => {
    const r = new ResumePoint('4');
    const first = [ev('ADDED', 'a', 5), ev('ADDED', 'b', 5)];
    assert.equal(r.takeAll(first), first, 'nothing to drop: the batch itself');
    const again = r.takeAll([ev('ADDED', 'a', 5), ev('ADDED', 'b', 5), ev('ADDED', 'c', 5), ev('MODIFIED', 'a', 6), ev('MODIFIED', 'b', 6)]);
    assert.deepEqual(
      again.map((e) => `${e.object.metadata?.name}@${e.object.metadata?.resourceVersion}`),
      ['c@5', 'a@6', 'b@6'],
    );
    assert.deepEqual(r.takeAll([ev('MODIFIED', 'a', 6)]), [], 'all delivered before');
    assert.equal(r.from(), '5');
  });

  it('takes a bookmark as everything delivered up to it', () => {
    const r = new ResumePoint('1');
    r.take(ev('ADDED', 'a', 7));
    r.take(ev('BOOKMARK', '', 9));
    assert.equal(r.from(), '9');
  });
});
