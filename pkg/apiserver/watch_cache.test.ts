import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kindByName } from '../api/registry.js';
import { StoreBackend } from './backend.js';
import { makeContext } from './context.js';
import { pod, testServer } from './test_util.js';
import { WatchCache, type CachedEvent } from './watch_cache.js';
import { encodeToBuffer } from './objects.js';
import type { WatchEvent } from './watch.js';
import { decodeBinary } from '../api/convert/binary.js';

const POD = kindByName('Pod')!;

async function setup(watchCacheEvents: number) {
  const t = await testServer();
  const ctx = makeContext({ backend: new StoreBackend(t.store, { nowMs: () => t.clock.nowMs }), nowMs: () => t.clock.nowMs, newUid: () => 'unused', randomSuffix: () => 'x' });
  const cache = new WatchCache(ctx, kindByName('Pod'), { watchCacheEvents });
  await cache.ready;
  const caughtUp = async () => {
    while (cache.revision < t.store.revision) await cache.changed;
  };
  const events = (): CachedEvent[] => {
    const out: CachedEvent[] = [];
    for (let seq = cache.firstSeq; seq < cache.endSeq; seq++) out.push(...cache.at(seq)!.events);
    return out;
  };
  return { ...t, cache, caughtUp, events };
}

describe('WatchCache', () => {
  it('is closed once it had no watcher at two checks; a later watch starts another and misses nothing', async () => {
    const { server } = await testServer();
    const created = await server.create({ object: pod('a', { labels: { v: '1' } }) });
    const rv = created.metadata!.resourceVersion!;
    const first = server.watch({ resource: 'pods', namespace: 'default', resourceVersion: rv });
    server.closeIdleWatchCaches();
    server.closeIdleWatchCaches();
    assert.equal(server.watchCacheCount, 1, 'a cache with a watcher stays');
    first.close();
    server.closeIdleWatchCaches();
    assert.equal(server.watchCacheCount, 1, 'idle at one check only: kept');
    server.closeIdleWatchCaches();
    assert.equal(server.watchCacheCount, 0, 'idle at two checks: closed');
    // Written while no cache ran: a watch from before it reads it from the store.
    const updated = await server.update({ object: { ...created, metadata: { ...created.metadata!, labels: { v: '2' } } } });
    const second = server.watch({ resource: 'pods', namespace: 'default', resourceVersion: rv });
    assert.equal(server.watchCacheCount, 1);
    const next = await second[Symbol.asyncIterator]().next();
    assert.equal(next.value?.type, 'MODIFIED');
    assert.equal(next.value?.object.metadata?.resourceVersion, updated.metadata?.resourceVersion);
    second.close();
  });

  it("takes a change's previous state from the ring: each version is decoded and kept once", async () => {
    const { server, cache, caughtUp, events } = await setup(100);
    const created = await server.create({ object: pod('a', { labels: { v: '1' } }) });
    const updated = await server.update({ object: { ...created, metadata: { ...created.metadata!, labels: { v: '2' } } } });
    await server.delete({ resource: 'pods', namespace: 'default', name: 'a' });
    await caughtUp();
    const [add, mod, del] = events();
    assert.deepEqual([add.type, add.created, mod.type, mod.created, del.type], ['put', true, 'put', false, 'delete']);
    assert.equal(mod.prev, add.object, 'the update shares the create event object as its prev');
    assert.equal(mod.prev?.metadata?.resourceVersion, created.metadata?.resourceVersion);
    // The delete shows the last state at the delete's revision, without changing the shared object.
    assert.equal(del.object.metadata?.labels.v, '2');
    assert.equal(Number(del.object.metadata?.resourceVersion), cache.revision);
    assert.equal(mod.object.metadata?.resourceVersion, updated.metadata?.resourceVersion);
    cache.close();
  });

  it('decodes the previous state again once its version has left the ring', async () => {
    const { server, caughtUp, events, cache } = await setup(2);
    let cur = await server.create({ object: pod('a', { labels: { n: '0' } }) });
    await server.create({ object: pod('b') });
    await server.create({ object: pod('c') });
    await caughtUp();
    // a's create is gone from the ring (2 events kept); its update still gets a correct prev.
    cur = await server.update({ object: { ...cur, metadata: { ...cur.metadata!, labels: { n: '1' } } } });
    await caughtUp();
    const last = events().at(-1)!;
    assert.equal(last.object.metadata?.labels.n, '1');
    assert.equal(last.prev?.metadata?.labels.n, '0');
    assert.ok(!events().some((e) => e.object === last.prev), 'not an object the ring still holds');
    cache.close();
  });

  it('still tells a selective watch that an object left its selection once its previous version has left the ring', { timeout: 10_000 }, async () => {
    const { server } = await testServer({ watchCacheEvents: 2 });
    const a = await server.create({ object: pod('a', { labels: { tier: 'web' } }) });
    const ac = new AbortController();
    const seen: string[] = [];
    const watching = (async () => {
      for await (const e of server.watch({ resource: 'pods', namespace: 'default', labelSelector: 'tier=web', resourceVersion: a.metadata!.resourceVersion, signal: ac.signal })) {
        seen.push(`${e.type} ${e.object.metadata?.name}`);
        if (seen.length === 2) ac.abort();
      }
    })();
    await server.create({ object: pod('b', { labels: { tier: 'web' } }) });
    await server.create({ object: pod('c') });
    await server.create({ object: pod('d') });
    // a's create has left the 2-event ring: its previous state comes from the store event.
    await server.update({ object: { ...a, metadata: { ...a.metadata!, labels: { tier: 'db' } } } });
    await watching;
    assert.deepEqual(seen, ['ADDED b', 'DELETED a']);
  });

  it("makes a change's wire form once for every watcher, and it leaves the ring with the change", async () => {
    const { server, caughtUp, events, cache } = await setup(2);
    await server.create({ object: pod('a') });
    await caughtUp();
    const change = events()[0];
    const bytes = change.bytes!.forWatch();
    assert.equal(change.bytes!.forWatch(), bytes, 'one encoding shared by the watchers');
    // The API server's own cache, started before b's create: two API watches of b both carry its change's bytes.
    const opened = server.watch({ resource: 'pods', namespace: 'default' });
    const before = (await opened.batches().next()).value![0].object.metadata!.resourceVersion!;
    await server.create({ object: pod('b0') });
    const seen: WatchEvent[] = [];
    for (let i = 0; i < 2; i++) {
      const w = server.watch({ resource: 'pods', namespace: 'default', resourceVersion: before });
      seen.push((await w.batches().next()).value![0]);
      w.close();
    }
    opened.close();
    assert.equal(seen[0].object.metadata?.name, 'b0');
    assert.ok(seen[0].bytes !== undefined && seen[0].bytes === seen[1].bytes, 'the same change, the same bytes');
    assert.deepEqual(decodeBinary(POD, seen[0].bytes.forWatch()), decodeBinary(POD, encodeToBuffer(seen[0].object)));
    await server.create({ object: pod('b') });
    await server.create({ object: pod('c') });
    await caughtUp();
    assert.ok(!events().includes(change), "a's change has left the ring, and its bytes with it");
    cache.close();
  });

  it("sends each change's object as the stored bytes with its resourceVersion: the same object an encode would give", async () => {
    const { server, caughtUp, events, cache } = await setup(100);
    const a = await server.create({ object: pod('a', { labels: { v: '1' } }) });
    await server.update({ object: { ...a, metadata: { ...a.metadata!, labels: { v: '2' } } } });
    await server.delete({ resource: 'pods', namespace: 'default', name: 'a' });
    await caughtUp();
    const seen = events();
    assert.equal(seen.length, 3);
    for (const e of seen) {
      const wire = decodeBinary(POD, e.bytes!.forWatch());
      assert.deepEqual(wire, decodeBinary(POD, encodeToBuffer(e.object)), `${e.type} at ${e.object.metadata?.resourceVersion}`);
      assert.equal(wire.metadata?.resourceVersion, e.object.metadata?.resourceVersion);
    }
    assert.deepEqual((decodeBinary(POD, seen[1].bytes!.forWatch()).metadata?.labels), { v: '2' });
    cache.close();
  });
});
