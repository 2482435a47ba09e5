import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../api/registry.js';
import { ApiError } from '../../apiserver/api_error.js';
import { pod as podObject } from '../../apiserver/test_util.js';
import { FakeClock } from '../testing/fake_clock.js';
import { FakeListWatch } from '../testing/fake_list_watch.js';
import { PENDING, eventually, peek, settle } from '../testing/settle.js';
import { EMPTY_LIST } from '../../api/shared_values.js';
import { NAMESPACE_INDEX } from './indexer.js';
import { SharedInformer, type ResourceEventHandler } from './shared_informer.js';

const pod = (name: string, o: { namespace?: string; nodeName?: string; labels?: Record<string, string> } = {}) => podObject(name, o) as Pod;
const byNode = (p: Pod) => (p.spec?.nodeName ? [p.spec.nodeName] : []);
const rv = (p: Pod) => p.metadata?.resourceVersion;
const name = (p: Pod) => p.metadata?.name;

/** Records handler calls as short lines, and checks that the store already shows each change. */
class Recorder implements ResourceEventHandler<Pod> {
  lines: string[] = [];
  constructor(private readonly informer: SharedInformer<Pod>) {}
  onAdd(p: Pod, initial: boolean): void {
    assert.equal(rv(this.informer.store.get(p.metadata?.namespace, name(p)!)!), rv(p), 'the store holds the object before onAdd');
    this.lines.push(`add ${name(p)}@${rv(p)}${initial ? ' initial' : ''}`);
  }
  onUpdate(old: Pod, p: Pod): void {
    this.lines.push(`update ${name(p)}@${rv(old)}->${rv(p)}`);
  }
  onDelete(p: Pod, info: { finalStateUnknown: boolean }): void {
    assert.equal(this.informer.store.get(p.metadata?.namespace, name(p)!), undefined, 'the store dropped the object before onDelete');
    this.lines.push(`delete ${name(p)}@${rv(p)}${info.finalStateUnknown ? ' unknown' : ''}`);
  }
  take(): string[] {
    return this.lines.splice(0);
  }
}

function setup(o: { resyncPeriodMs?: number; replayChunkObjects?: number } = {}) {
  const clock = new FakeClock();
  const source = new FakeListWatch<Pod>();
  const warnings: string[] = [];
  const informer = new SharedInformer<Pod>(source, {
    name: 'pods',
    clock,
    indexers: { byNode },
    random: () => 0,
    logger: { warn: (msg) => warnings.push(msg) },
    ...o,
  });
  const rec = new Recorder(informer);
  informer.addEventHandler(rec);
  return { clock, source, informer, rec, warnings };
}

describe('SharedInformer', () => {
  it('adds every listed object as part of the initial list, then syncs', async () => {
    const { source, informer, rec } = setup();
    source.create(pod('a', { nodeName: 'n1' }));
    source.create(pod('b'));
    const synced = informer.waitForSync();
    assert.equal(await peek(synced), PENDING);
    assert.equal(informer.hasSynced(), false);
    informer.start();
    await synced;
    assert.equal(informer.hasSynced(), true);
    assert.deepEqual(rec.take(), ['add a@1 initial', 'add b@2 initial']);
    assert.equal(informer.store.size, 2);
    assert.equal(informer.lastSyncResourceVersion, '2');
    informer.stop();
  });

  it('turns watch events into adds, updates with the old and new object, and deletes', async () => {
    const { source, informer, rec } = setup();
    source.create(pod('a'));
    informer.start();
    await informer.waitForSync();
    rec.take();
    source.create(pod('b'));
    source.update(pod('a', { labels: { v: '2' } }));
    source.delete('default', 'b');
    await eventually('three events', () => rec.lines.length === 3);
    assert.deepEqual(rec.take(), ['add b@2', 'update a@1->3', 'delete b@4']);
    assert.deepEqual(informer.store.get('default', 'a')?.metadata?.labels, { v: '2' });
    assert.equal(informer.lastSyncResourceVersion, '4');
    assert.equal(source.listCalls, 1);
    informer.stop();
    await eventually('the watch closes', () => source.openWatches === 0);
  });

  it('after Expired relists after the backoff and tells handlers only the difference', async () => {
    const { clock, source, informer, rec } = setup();
    source.create(pod('stays'));
    source.create(pod('changes'));
    source.create(pod('goes'));
    informer.start();
    await informer.waitForSync();
    rec.take();
    // The watch falls behind compaction: these changes never reach it.
    source.update(pod('changes', { labels: { v: '2' } }));
    source.delete('default', 'goes');
    source.create(pod('new'));
    source.compact();
    await eventually('the expired watch', () => informer.reflectorStats.expired === 1);
    await clock.advance(799);
    assert.equal(source.listCalls, 1, 'client-go waits 0.8 to 1.6 s before relisting too');
    await clock.advance(1);
    await eventually('the relist', () => source.listCalls === 2 && rec.lines.length === 3);
    assert.deepEqual(rec.take(), ['add new@6', 'update changes@2->4', 'delete goes@3 unknown']);
    assert.deepEqual(informer.store.listKeys().sort(), ['default/changes', 'default/new', 'default/stays']);
    assert.equal(informer.reflectorStats.expired, 1);
    // And it watches on from the relist.
    source.create(pod('later'));
    await eventually('the next event', () => rec.lines.length === 1);
    assert.deepEqual(rec.take(), ['add later@7']);
    informer.stop();
  });

  it('relists when the server ends watches with Expired', async () => {
    const { clock, source, informer, rec } = setup();
    source.create(pod('a'));
    informer.start();
    await informer.waitForSync();
    rec.take();
    await eventually('the watch', () => source.openWatches === 1);
    source.delete('default', 'a');
    source.expireWatches();
    await eventually('the expired watch', () => informer.reflectorStats.expired === 1);
    await clock.advance(800);
    await eventually('the relist', () => source.listCalls === 2 && rec.lines.length === 1);
    assert.deepEqual(rec.take(), ['delete a@1 unknown']);
    informer.stop();
  });

  it('backs off on the clock before relisting after other failures, doubling each time', async () => {
    const { clock, source, informer, warnings } = setup();
    source.failNextList(new ApiError('Unavailable', 'no master answered'));
    informer.start();
    await eventually('the failed list', () => warnings.length === 1);
    assert.match(warnings[0], /Reflector "pods": list failed \(no master answered\); retrying/);
    await clock.advance(799);
    assert.equal(source.listCalls, 1);
    await clock.advance(1);
    assert.equal(informer.hasSynced(), true);
    source.failNextList(new ApiError('Unavailable', 'still down'));
    source.failWatches(new ApiError('Internal', 'watch cache broke'));
    // Within two minutes of the last wait: the watch failure waits 1600 ms; the failing list then 3200 ms.
    await clock.advance(1_599);
    assert.equal(source.listCalls, 2);
    await clock.advance(1);
    assert.equal(source.listCalls, 3);
    await clock.advance(3_199);
    assert.equal(source.listCalls, 3);
    await clock.advance(1);
    assert.equal(source.listCalls, 4);
    assert.equal(informer.reflectorStats.errors, 3);
    // A watch that delivers and fails again does not start the backoff over: only two quiet minutes do.
    source.create(pod('a'));
    await eventually('the add', () => informer.store.size === 1);
    source.failWatches(new ApiError('Internal', 'watch cache broke'));
    await eventually('the failed watch', () => informer.reflectorStats.errors === 4);
    await clock.advance(6_399);
    assert.equal(source.listCalls, 4);
    await clock.advance(1);
    assert.equal(source.listCalls, 5, 'the fourth wait in a row: 6400 ms');
    await clock.advance(120_001);
    source.failWatches(new ApiError('Internal', 'watch cache broke'));
    await eventually('the failed watch', () => informer.reflectorStats.errors === 5);
    await clock.advance(799);
    assert.equal(source.listCalls, 5);
    await clock.advance(1);
    assert.equal(source.listCalls, 6, 'two minutes after the last wait: back to 800 ms');
    informer.stop();
  });

  it('watches again from the same revision, without relisting, when no master answered the watch', async () => {
    const { clock, source, informer, rec, warnings } = setup();
    source.create(pod('a'));
    informer.start();
    await informer.waitForSync();
    rec.take();
    await eventually('the watch', () => source.openWatches === 1);
    source.failWatches(new ApiError('Unavailable', 'no master answered'));
    await eventually('the failed watch', () => informer.reflectorStats.errors === 1);
    assert.match(warnings[0], /Reflector "pods": watch failed \(no master answered\); watching again from revision 1/);
    source.create(pod('b'));
    await clock.advance(800);
    await eventually('the next add', () => rec.lines.length === 1);
    assert.deepEqual(rec.take(), ['add b@2'], 'the change made meanwhile, from the watch');
    assert.equal(source.listCalls, 1, 'no relist');
    assert.equal(source.watchCalls, 2);
    assert.equal(informer.reflectorStats.rewatches, 1);
    // Had that revision been compacted away, the watch ends with Expired and the reflector relists.
    await eventually('the watch', () => source.openWatches === 1);
    source.failWatches(new ApiError('Unavailable', 'no master answered'));
    await eventually('the failed watch', () => informer.reflectorStats.errors === 2);
    source.delete('default', 'a');
    source.compact();
    await clock.advance(1600);
    await eventually('the expired watch', () => informer.reflectorStats.expired === 1);
    await clock.advance(3200);
    await eventually('the relist', () => source.listCalls === 2 && rec.lines.length === 1);
    assert.deepEqual(rec.take(), ['delete a@1 unknown']);
    informer.stop();
  });

  it('reopens a cleanly ended watch from the last revision without relisting', async () => {
    const { source, informer, rec } = setup();
    informer.start();
    await informer.waitForSync();
    source.create(pod('a'));
    await eventually('the add', () => rec.lines.length === 1);
    source.endWatches();
    source.create(pod('b'));
    await eventually('the next add', () => rec.lines.length === 2);
    assert.deepEqual(rec.take(), ['add a@1', 'add b@2']);
    assert.equal(source.listCalls, 1);
    assert.equal(source.watchCalls, 2);
    informer.stop();
  });

  it('moves its resourceVersion on bookmarks without calling handlers', async () => {
    const { source, informer, rec } = setup();
    informer.start();
    await informer.waitForSync();
    source.create(pod('a'));
    await eventually('the add', () => rec.lines.length === 1);
    source.bumpRevision(2);
    source.bookmark();
    await eventually('the bookmark', () => informer.lastSyncResourceVersion === '3');
    assert.deepEqual(rec.take(), ['add a@1']);
    informer.stop();
  });

  it('finds objects through byNamespace and user indexes as they change', async () => {
    const { source, informer } = setup();
    source.create(pod('a', { nodeName: 'n1' }));
    source.create(pod('b', { nodeName: 'n1' }));
    source.create(pod('c', { namespace: 'kube-system', nodeName: 'n2' }));
    informer.start();
    await informer.waitForSync();
    const onNode = (n: string) => informer.store.byIndex('byNode', n).map(name).sort();
    assert.deepEqual(onNode('n1'), ['a', 'b']);
    assert.deepEqual(informer.store.byIndex(NAMESPACE_INDEX, 'kube-system').map(name), ['c']);
    source.update(pod('b', { nodeName: 'n2' }));
    source.delete('default', 'a');
    await eventually('the changes', () => informer.lastSyncResourceVersion === '5');
    assert.deepEqual(onNode('n1'), []);
    assert.deepEqual(onNode('n2'), ['b', 'c']);
    assert.deepEqual(informer.store.indexValues('byNode').sort(), ['n2']);
    informer.addIndexers({ byLabel: (p) => Object.entries(p.metadata?.labels ?? {}).map(([k, v]) => `${k}=${v}`) });
    source.update(pod('c', { namespace: 'kube-system', labels: { app: 'dns' } }));
    await eventually('the label', () => informer.store.byIndex('byLabel', 'app=dns').length === 1);
    assert.throws(() => informer.store.byIndex('byZone', 'z1'), /Cannot read index "byZone": no such index \(have: "byNamespace", "byNode", "byLabel"\)/);
    informer.stop();
  });

  it('gives a handler added after sync the current objects as initial adds, and stops on remove', async () => {
    const { source, informer } = setup();
    source.create(pod('a'));
    source.create(pod('b'));
    informer.start();
    await informer.waitForSync();
    const late = new Recorder(informer);
    const reg = informer.addEventHandler(late);
    assert.deepEqual(late.take(), ['add a@1 initial', 'add b@2 initial']);
    source.create(pod('c'));
    await eventually('the add', () => late.lines.length === 1);
    reg.remove();
    source.delete('default', 'c');
    await eventually('the delete', () => informer.store.size === 2);
    assert.deepEqual(late.take(), ['add c@3']);
    informer.stop();
  });

  it('replays a large store to a late handler in turns, holding back live changes of objects not yet replayed', async () => {
    const { source, informer } = setup({ replayChunkObjects: 3 });
    for (let i = 0; i < 30; i++) source.create(pod(`p${String(i).padStart(2, '0')}`));
    informer.start();
    await informer.waitForSync();
    const late = new Recorder(informer);
    const reg = informer.addEventHandler(late);
    // Only the first turn ran: the process is free between turns.
    assert.deepEqual(late.take(), ['add p00@1 initial', 'add p01@2 initial', 'add p02@3 initial']);
    assert.equal(reg.hasSynced(), false);
    source.update(pod('p01', { labels: { v: '2' } })); // already replayed: an update
    source.update(pod('p28', { labels: { v: '2' } })); // not yet: its turn gives the new state
    source.delete('default', 'p29'); // not yet: never heard of
    source.create(pod('q')); // new: heard at once, and so are its changes
    source.update(pod('q', { labels: { v: '2' } }));
    source.delete('default', 'p27'); // not yet replayed, then created again: heard once, as a live add
    source.create(pod('p27'));
    await reg.synced;
    assert.equal(reg.hasSynced(), true);
    const lines = late.take();
    assert.deepEqual(lines.filter((l) => !l.endsWith('initial')), ['update p01@2->31', 'add q@34', 'update q@34->35', 'add p27@37']);
    assert.ok(lines.includes('add p28@32 initial'), lines.join(', '));
    assert.equal(lines.filter((l) => l.startsWith('add p')).length, 27 - 3 + 1 + 1);
    assert.ok(!lines.some((l) => l.includes('p29')));
    informer.stop();
  });

  it('stores a large first list in turns, with the process free between them, and syncs after the last', async () => {
    const { source, informer, rec } = setup({ replayChunkObjects: 3 });
    for (let i = 0; i < 10; i++) source.create(pod(`p${i}`));
    let yielded = false;
    const seenAtAdd: boolean[] = [];
    let late: Recorder | undefined;
    informer.addEventHandler({
      onAdd: () => {
        if (seenAtAdd.length === 0) setImmediate(() => (yielded = true));
        seenAtAdd.push(yielded);
        // A handler that joins mid-fill hears what is stored so far, then the rest, each once.
        if (seenAtAdd.length === 4) informer.addEventHandler((late = new Recorder(informer)));
      },
    });
    informer.start();
    await informer.waitForSync();
    assert.deepEqual(seenAtAdd, [false, false, false, true, true, true, true, true, true, true]);
    assert.equal(rec.take().length, 10);
    assert.deepEqual(late!.take().sort(), Array.from({ length: 10 }, (_, i) => `add p${i}@${i + 1} initial`).sort());
    assert.equal(informer.store.size, 10);
    source.update(pod('p1', { labels: { v: '2' } }));
    await eventually('the watch after the fill', () => rec.lines.length === 1);
    assert.deepEqual(rec.take(), ['update p1@2->11']);
    informer.stop();
  });

  it("tells a large relist's difference and a large resync in turns, with the process free between them", async () => {
    const { clock, source, informer, rec } = setup({ replayChunkObjects: 3, resyncPeriodMs: 60_000 });
    for (let i = 0; i < 4; i++) source.create(pod(`p${i}`));
    informer.start();
    await informer.waitForSync();
    rec.take();
    await eventually('the watch', () => source.openWatches === 1);
    // Missed while the watch lagged: 7 changes, told 3 to a turn once the relist comes.
    for (let i = 4; i < 10; i++) source.create(pod(`p${i}`));
    source.delete('default', 'p0');
    source.compact();
    await eventually('the expired watch', () => informer.reflectorStats.expired === 1);
    let yielded = false;
    const seen: boolean[] = [];
    const watcher = informer.addEventHandler({
      onAdd: (_, initial) => {
        if (initial) return;
        if (seen.length === 0) setImmediate(() => (yielded = true));
        seen.push(yielded);
      },
    });
    await clock.advance(800);
    await eventually('the relist told', () => rec.lines.length === 7);
    assert.deepEqual(seen, [false, false, false, true, true, true], 'six adds: three in the first turn');
    assert.deepEqual(rec.take().sort(), ['add p4@5', 'add p5@6', 'add p6@7', 'add p7@8', 'add p8@9', 'add p9@10', 'delete p0@1 unknown'].sort());
    watcher.remove();
    // A resync of the 9 objects: 3 in a turn too.
    let resyncYielded = false;
    const resyncSeen: boolean[] = [];
    informer.addEventHandler({
      onUpdate: () => {
        if (resyncSeen.length === 0) setImmediate(() => (resyncYielded = true));
        resyncSeen.push(resyncYielded);
      },
    });
    await clock.advance(60_000 - 800);
    await eventually('the resync', () => rec.lines.length === 9);
    assert.deepEqual(resyncSeen, [false, false, false, true, true, true, true, true, true]);
    informer.stop();
  });

  it("watches on while a large relist's difference is told, and tells an object's notice before any live change to it", async () => {
    const { clock, source, informer, rec } = setup({ replayChunkObjects: 2 });
    informer.start();
    await informer.waitForSync();
    await eventually('the watch', () => source.openWatches === 1);
    for (let i = 0; i < 8; i++) source.create(pod(`p${i}`));
    source.compact();
    await eventually('the expired watch', () => informer.reflectorStats.expired === 1);
    rec.take();
    // As the relist's first notice is told, p7 changes: the watch (open again at once) brings it
    // while p7's own add is still to be told.
    let changed = false;
    informer.addEventHandler({
      onAdd: (p) => {
        if (changed || name(p) === 'p7') return;
        changed = true;
        source.update(pod('p7', { labels: { v: '2' } }));
      },
    });
    await clock.advance(800);
    await eventually('every notice and the live change', () => rec.lines.length === 9);
    const lines = rec.take();
    assert.equal(lines.filter((l) => l.startsWith('add p7@8')).length, 1);
    assert.ok(lines.indexOf('add p7@8') < lines.indexOf('update p7@8->9'), lines.join(', '));
    assert.ok(lines.indexOf('update p7@8->9') < lines.length - 1, `the watch went on while the notices were told: ${lines.join(', ')}`);
    assert.equal(source.listCalls, 2);
    informer.stop();
  });

  it('a handler added while a relist is being told hears of each object once', async () => {
    const { clock, source, informer, rec } = setup({ replayChunkObjects: 2 });
    informer.start();
    await informer.waitForSync();
    await eventually('the watch', () => source.openWatches === 1);
    for (let i = 0; i < 6; i++) source.create(pod(`p${i}`));
    source.compact();
    await eventually('the expired watch', () => informer.reflectorStats.expired === 1);
    // Added as the first of the relist's notices is told (as a new term adds its handlers).
    const late = new Recorder(informer);
    let added = false;
    informer.addEventHandler({
      onAdd: () => {
        if (added) return;
        added = true;
        informer.addEventHandler(late);
      },
    });
    await clock.advance(800);
    await eventually('the relist told', () => rec.lines.length === 6);
    await eventually('the late handler filled', () => late.lines.length >= 6);
    await settle(20);
    assert.deepEqual(late.take().sort(), Array.from({ length: 6 }, (_, i) => `add p${i}@${i + 1} initial`).sort(), 'the store as it was when added, each object once');
    informer.stop();
  });

  it('stops a replay when its handler is removed', async () => {
    const { source, informer } = setup({ replayChunkObjects: 2 });
    for (let i = 0; i < 10; i++) source.create(pod(`p${i}`));
    informer.start();
    await informer.waitForSync();
    const late = new Recorder(informer);
    const reg = informer.addEventHandler(late);
    reg.remove();
    await reg.synced;
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(late.take().length, 2);
    informer.stop();
  });

  it('keeps going when a handler throws, and logs which one failed for which object', async () => {
    const { source, informer, rec, warnings } = setup();
    informer.addEventHandler({
      onAdd: () => {
        throw new Error('boom');
      },
    });
    source.create(pod('a'));
    informer.start();
    await informer.waitForSync();
    assert.deepEqual(rec.take(), ['add a@1 initial']);
    assert.deepEqual(warnings, ['Informer "pods": onAdd handler failed for default/a: boom']);
    informer.stop();
  });

  it('resyncs every period after syncing: onUpdate(obj, obj) for each object', async () => {
    const { clock, source, informer, rec } = setup({ resyncPeriodMs: 1_000 });
    source.create(pod('a'));
    informer.start();
    await informer.waitForSync();
    rec.take();
    await clock.advance(999);
    assert.deepEqual(rec.take(), []);
    await clock.advance(1);
    assert.deepEqual(rec.take(), ['update a@1->1']);
    await clock.advance(1_000);
    assert.deepEqual(rec.take(), ['update a@1->1']);
    informer.stop();
    await clock.advance(5_000);
    assert.deepEqual(rec.take(), []);
  });

  it('waitForSync fails after timeoutMs on its clock, and when the informer stops first', async () => {
    const { clock, source, informer } = setup();
    source.failNextList(new ApiError('Unavailable', 'down'));
    const timed = assert.rejects(informer.waitForSync({ timeoutMs: 500 }), /Informer "pods" did not sync within 500 ms/);
    const untilStop = assert.rejects(informer.waitForSync(), /Informer "pods" stopped before it synced/);
    informer.start();
    await clock.advance(499);
    assert.equal(await peek(timed), PENDING);
    await clock.advance(1);
    await timed;
    informer.stop();
    await untilStop;
    await assert.rejects(informer.waitForSync(), /stopped before it synced/);
  });

  it('shares the values of what it stores, unless its source decodes them for a cache already', async () => {
    for (const decodedForCache of [false, true]) {
      const source = Object.assign(new FakeListWatch<Pod>(), { decodedForCache });
      const informer = new SharedInformer<Pod>(source, { name: 'pods', clock: new FakeClock(), random: () => 0 });
      source.create(pod('listed'));
      informer.start();
      await informer.waitForSync();
      source.create(pod('watched'));
      await eventually('the watched pod', () => informer.store.get('default', 'watched') !== undefined);
      for (const name of ['listed', 'watched']) {
        // Sharing swaps each empty list for the one frozen instance; a source's own objects keep theirs.
        const finalizers = informer.store.get('default', name)!.metadata!.finalizers;
        assert.equal((finalizers as readonly unknown[]) === EMPTY_LIST, !decodedForCache, `${name}, decodedForCache ${decodedForCache}`);
      }
      informer.stop();
    }
  });
});
