import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SeededRandom } from '../core/random.js';
import { type Entry, message } from '../core/types.js';
import { Invariants } from './invariants.js';
import { SimClock } from './sim_clock.js';
import { SimDisk } from './sim_disk.js';

const entry = (index: number, term: number, data = `${index}.${term}`): Entry => ({ index, term, type: 'normal', data: new TextEncoder().encode(data) });

describe('Invariants', () => {
  it('reports two members writing different entries under the same index and term, or after different terms', () => {
    const inv = new Invariants(() => undefined);
    assert.equal(inv.onAppend(1, [entry(1, 1), entry(2, 1), entry(3, 2)], 0), undefined);
    assert.equal(inv.onAppend(2, [entry(2, 1), entry(3, 2)], 1), undefined);
    assert.match(inv.onAppend(3, [entry(3, 2, 'other')], 1) ?? '', /log matching: member 3 wrote a different entry 3 \(term 2\)/);
    assert.match(inv.onAppend(3, [entry(3, 2)], 3) ?? '', /log matching: member 3 holds entry 3 \(term 2\) after an entry of term 3/);
  });

  it('reports an acknowledgement, a vote or a term sent before the disk made it durable', async () => {
    const clock = new SimClock();
    const disk = new SimDisk({ clock, random: new SeededRandom(1), minFsyncMs: 5, maxFsyncMs: 5 });
    const inv = new Invariants(() => disk);
    const saved = disk.save({ entries: [entry(1, 2)], hardState: { term: 2, vote: 3, commit: 0 } });
    const ack = message({ type: 'MsgAppResp', from: 1, to: 3, term: 2, index: 1 });
    const vote = message({ type: 'MsgVoteResp', from: 1, to: 3, term: 2 });
    assert.match(inv.onSend(1, disk, ack) ?? '', /persist before send: member 1 sent MsgAppResp at term 2 to 3 while its disk holds term 0/);
    clock.advanceTo(5);
    await saved;
    assert.equal(inv.onSend(1, disk, ack), undefined);
    assert.equal(inv.onSend(1, disk, vote), undefined);
    assert.match(inv.onSend(1, disk, { ...vote, to: 2 }) ?? '', /sent MsgVoteResp for 2 at term 2 while its disk holds a vote for 3/);
    void disk.save({ entries: [entry(2, 2)] });
    assert.match(inv.onSend(1, disk, { ...ack, index: 2 }) ?? '', /acknowledged index 2 to 3 before its disk made it durable/);
    // A pre-vote changes nothing durable.
    assert.equal(inv.onSend(1, disk, message({ type: 'MsgPreVote', from: 1, to: 2, term: 9 })), undefined);
  });

  it('reports a command that took effect at two different indices', () => {
    const inv = new Invariants(() => undefined);
    assert.equal(inv.onApplied(1, 'c1', 4, 10), undefined);
    assert.equal(inv.onApplied(2, 'c1', 4, 10), undefined);
    assert.match(inv.onApplied(1, 'c1', 4, 12) ?? '', /exactly once: c1 seq 4 took effect at index 12 on member 1, and at index 10 on member 1/);
  });
});
