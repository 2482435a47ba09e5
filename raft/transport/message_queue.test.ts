import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { message } from '../core/types.js';
import { BoundedMessageQueue } from './message_queue.js';

const hb = (term: number) => message({ type: 'MsgHeartbeat', from: 1, to: 2, term });

describe('BoundedMessageQueue', () => {
  it('keeps FIFO order across wrap-around', () => {
    const q = new BoundedMessageQueue(3, 1000);
    const out: number[] = [];
    for (let t = 1; t <= 10; t++) {
      assert.ok(q.push(hb(t), 10));
      if (q.length === 3) out.push(q.shift().term, q.shift().term);
    }
    while (q.length > 0) out.push(q.shift().term);
    assert.deepEqual(out, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(q.sizeBytes, 0);
  });

  it('refuses messages past the count or byte bound', () => {
    const q = new BoundedMessageQueue(2, 100);
    assert.ok(q.push(hb(1), 60));
    assert.equal(q.push(hb(2), 50), false);
    assert.ok(q.push(hb(3), 40));
    assert.equal(q.push(hb(4), 0), false);
    assert.equal(q.length, 2);
    assert.equal(q.sizeBytes, 100);
    assert.equal(q.peekSizeBytes(), 60);
    q.clear();
    assert.equal(q.length, 0);
    assert.throws(() => q.shift(), /Cannot shift an empty queue/);
  });
});
