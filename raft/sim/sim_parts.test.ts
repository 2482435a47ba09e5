import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SeededRandom } from '../core/random.js';
import { type Message, message } from '../core/types.js';
import { Buggify } from './buggify.js';
import { SimClock } from './sim_clock.js';
import { SimDisk } from './sim_disk.js';
import { SimNetwork } from './sim_network.js';

const drain = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('SimClock', () => {
  it('fires timers in order of due time, then of creation', () => {
    const c = new SimClock();
    const fired: string[] = [];
    c.setTimeout(() => fired.push('b@10'), 10);
    c.setTimeout(() => fired.push('a@5'), 5);
    c.setTimeout(() => fired.push('c@10'), 10);
    const h = c.setTimeout(() => fired.push('cleared'), 7);
    c.clearTimeout(h);
    c.setTimeout(() => c.setTimeout(() => fired.push('nested@6'), 0), 6);
    c.advanceTo(10);
    assert.deepEqual(fired, ['a@5', 'nested@6', 'b@10', 'c@10']);
    assert.equal(c.nowMs(), 10);
    assert.equal(c.runNext(), false);
    assert.throws(() => c.advanceTo(3), /Cannot move time back to 3 ms/);
  });

  it('runNext moves time to the timer it fires', () => {
    const c = new SimClock(100);
    c.setTimeout(() => {}, 25);
    assert.equal(c.nextDueMs(), 125);
    assert.equal(c.runNext(), true);
    assert.equal(c.nowMs(), 125);
    assert.equal(c.pendingTimers, 0);
  });
});

describe('Buggify', () => {
  it('enables a site for the whole run or not at all, from the seed', () => {
    const a = new Buggify(new SeededRandom(3), { siteProbability: 0.5, fireProbability: 1 });
    const b = new Buggify(new SeededRandom(3), { siteProbability: 0.5, fireProbability: 1 });
    const sites = Array.from({ length: 40 }, (_, i) => `site${i}`);
    const runA = sites.map((s) => a.fires(s));
    assert.deepEqual(sites.map((s) => b.fires(s)), runA);
    assert.deepEqual(sites.map((s) => a.fires(s)), runA);
    assert.ok(runA.includes(true) && runA.includes(false));
    assert.equal(new Buggify(new SeededRandom(1), { enabled: false }).fires('x'), false);
    assert.throws(() => new Buggify(new SeededRandom(1), { fireProbability: 2 }), /Invalid fireProbability "2"/);
  });
});

function net(seed: number, faults = {}) {
  const clock = new SimClock();
  const network = new SimNetwork({ clock, random: new SeededRandom(seed), faults });
  const got = new Map<number, Message[]>();
  const status: string[] = [];
  const unreachable: string[] = [];
  const transports = [1, 2, 3].map((id) => {
    const t = network.transport(id);
    got.set(id, []);
    void t.start({
      onMessage: (m) => got.get(id)!.push(m),
      onSnapshotStatus: (peer, ok) => status.push(`${id}->${peer}:${ok}`),
      onUnreachable: (peer) => unreachable.push(`${id}->${peer}`),
    });
    return t;
  });
  const run = (): void => {
    while (clock.runNext());
  };
  return { clock, network, got, status, unreachable, transports, run };
}

const app = (from: number, to: number, index: number): Message => message({ type: 'MsgApp', from, to, index, term: 1 });

describe('SimNetwork', () => {
  it('delivers copies after a delay within the range', () => {
    const n = net(1, { minDelayMs: 5, maxDelayMs: 9 });
    const m = app(1, 2, 1);
    m.entries = [{ term: 1, index: 2, type: 'normal', data: new Uint8Array([7]) }];
    n.transports[0].send([m]);
    assert.equal(n.got.get(2)!.length, 0);
    n.run();
    const [d] = n.got.get(2)!;
    assert.deepEqual(d, m);
    assert.notEqual(d.entries[0].data, m.entries[0].data);
    assert.ok(n.clock.nowMs() >= 5 && n.clock.nowMs() <= 9);
  });

  it('reorders, drops and duplicates as configured, the same way for the same seed', () => {
    const trace = (seed: number) => {
      const n = net(seed, { minDelayMs: 1, maxDelayMs: 30, dropProbability: 0.2, duplicateProbability: 0.2 });
      for (let i = 1; i <= 200; i++) n.transports[0].send([app(1, 2, i)]);
      n.run();
      return { order: n.got.get(2)!.map((m) => m.index), stats: n.network.stats };
    };
    const a = trace(9);
    assert.deepEqual(trace(9), a);
    assert.ok(a.stats.dropped > 10 && a.stats.duplicated > 10, JSON.stringify(a.stats));
    assert.notDeepEqual(a.order, [...a.order].sort((x, y) => x - y));
  });

  it('blocks one direction only in an asymmetric partition, until healed', () => {
    const n = net(2);
    n.network.block(1, 2);
    n.transports[0].send([app(1, 2, 1)]);
    n.transports[1].send([app(2, 1, 1)]);
    n.run();
    assert.equal(n.got.get(2)!.length, 0);
    assert.equal(n.got.get(1)!.length, 1);
    assert.deepEqual(n.unreachable, ['1->2']);
    n.network.heal();
    n.transports[0].send([app(1, 2, 2)]);
    n.run();
    assert.equal(n.got.get(2)!.length, 1);
  });

  it('isolates a member both ways and cuts messages already in flight', () => {
    const n = net(3, { minDelayMs: 10, maxDelayMs: 10 });
    n.transports[1].send([app(2, 3, 1)]);
    n.network.isolate(3);
    n.transports[0].send([app(1, 3, 1)]);
    n.transports[2].send([app(3, 1, 1)]);
    n.run();
    assert.equal(n.got.get(3)!.length + n.got.get(1)!.length, 0);
  });

  it('reports snapshot delivery to the sender, and failure when the receiver is down', async () => {
    const n = net(4);
    const snap = { metadata: { index: 5, term: 1, confState: { voters: [1, 2, 3], learners: [] } }, data: new Uint8Array([1]) };
    n.transports[0].send([message({ type: 'MsgSnap', from: 1, to: 2, term: 1, snapshot: snap })]);
    await n.transports[2].stop();
    n.transports[0].send([message({ type: 'MsgSnap', from: 1, to: 3, term: 1, snapshot: snap })]);
    n.run();
    assert.deepEqual([...n.status].sort(), ['1->2:true', '1->3:false']);
    assert.deepEqual(n.got.get(2)![0].snapshot, snap);
  });

  it('drops messages over the in-flight bound of a link', () => {
    const clock = new SimClock();
    const network = new SimNetwork({ clock, random: new SeededRandom(1), maxInflightPerLink: 3 });
    const got: Message[] = [];
    const t1 = network.transport(1);
    void network.transport(2).start({ onMessage: (m) => got.push(m), onSnapshotStatus() {}, onUnreachable() {} });
    void t1.start({ onMessage() {}, onSnapshotStatus() {}, onUnreachable() {} });
    t1.send([1, 2, 3, 4, 5].map((i) => app(1, 2, i)));
    while (clock.runNext());
    assert.equal(got.length, 3);
  });
});

describe('SimDisk', () => {
  const entry = (index: number, term = 1) => ({ index, term, type: 'normal' as const, data: new Uint8Array([index]) });

  it('makes a save durable only after its fsync delay', async () => {
    const clock = new SimClock();
    const disk = new SimDisk({ clock, random: new SeededRandom(1), minFsyncMs: 3, maxFsyncMs: 3 });
    let done = false;
    void disk.save({ hardState: { term: 1, vote: 1, commit: 0 }, entries: [entry(1), entry(2)] }).then(() => (done = true));
    assert.equal(disk.lastIndex(), 2);
    await drain();
    assert.equal(done, false);
    assert.equal(disk.reopen().lastIndex(), 0);
    clock.advanceTo(3);
    await drain();
    assert.equal(done, true);
    const again = disk.reopen();
    assert.equal(again.lastIndex(), 2);
    assert.deepEqual(again.initialState().hardState, { term: 1, vote: 1, commit: 0 });
  });

  it('loses writes in flight at a crash and never settles them', async () => {
    const clock = new SimClock();
    const disk = new SimDisk({ clock, random: new SeededRandom(1) });
    await Promise.all([disk.save({ entries: [entry(1)] }), (async () => clock.advanceTo(10))()]);
    let settled = false;
    void disk.save({ entries: [entry(2)] }).finally(() => (settled = true));
    disk.crash();
    clock.advanceTo(100);
    await drain();
    assert.equal(settled, false);
    assert.equal(disk.reopen().lastIndex(), 1);
  });

  it('keeps snapshots and compaction across a restart', async () => {
    const clock = new SimClock();
    const disk = new SimDisk({ clock, random: new SeededRandom(1) });
    const settle = async <T>(p: Promise<T>): Promise<T> => {
      clock.advanceTo(clock.nowMs() + 10);
      return p;
    };
    await settle(disk.save({ entries: [entry(1), entry(2), entry(3), entry(4)] }));
    await settle(disk.createSnapshot(3, { voters: [1], learners: [] }, new Uint8Array([9])));
    await settle(disk.compact(2));
    await assert.rejects(disk.compact(4), /latest snapshot is at index 3/);
    const again = disk.reopen();
    assert.equal(again.snapshot().metadata.index, 3);
    assert.equal(again.lastIndex(), 4);
    assert.equal(again.term(4), 1);
  });
});
