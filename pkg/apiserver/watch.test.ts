import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Store, prefixEnd } from '../store/mod.js';
import { eventually } from '../client/testing/settle.js';
import { isApiError } from './api_error.js';
import { StoreBackend } from './backend.js';
import { obj, pod, take, testServer as baseTestServer } from './test_util.js';
import { WATCH_BATCH_EVENTS, type WatchEvent } from './watch.js';

const summary = (events: WatchEvent[]) => events.map((e) => `${e.type} ${e.object.metadata?.name ?? ''}`);

for (const watchCache of [true, false]) {
const testServer = (o: Parameters<typeof baseTestServer>[0] = {}) => baseTestServer({ watchCache, ...o });

describe(`watch (${watchCache ? 'through the watch cache' : 'on its own store watch'})`, () => {
  it('starts with ADDED for every object when no resourceVersion is given, then streams changes', async () => {
    const { server } = await testServer();
    await server.create({ object: pod('a') });
    await server.create({ object: pod('b') });
    const w = server.watch({ resource: 'pods', namespace: 'default' });
    const it = w[Symbol.asyncIterator]();
    assert.deepEqual(summary(await take(it, 2)), ['ADDED a', 'ADDED b']);
    await server.patch({ resource: 'pods', namespace: 'default', name: 'a', type: 'merge', patch: { metadata: { labels: { x: 'y' } } } });
    await server.delete({ resource: 'pods', namespace: 'default', name: 'b' });
    await server.create({ object: pod('c') });
    assert.deepEqual(summary(await take(it, 3)), ['MODIFIED a', 'DELETED b', 'ADDED c']);
    w.close();
    assert.equal(server.watchCount, 0);
  });

  it('resumes from a resourceVersion with no gap and no duplicate', async () => {
    const { server } = await testServer();
    const versions: string[] = [];
    for (const n of ['a', 'b', 'c', 'd']) versions.push((await server.create({ object: pod(n) })).metadata!.resourceVersion!);
    const w = server.watch({ resource: 'pods', namespace: 'default', resourceVersion: versions[1] });
    const events = await take(w[Symbol.asyncIterator](), 2);
    assert.deepEqual(summary(events), ['ADDED c', 'ADDED d']);
    assert.deepEqual(events.map((e) => e.object.metadata?.resourceVersion), versions.slice(2));
    w.close();
  });

  it('gives the deleted object its last state at the delete revision', async () => {
    const { server, store } = await testServer();
    const created = await server.create({ object: pod('a', { labels: { app: 'web' } }) });
    const w = server.watch({ resource: 'pods', namespace: 'default', resourceVersion: created.metadata!.resourceVersion });
    await server.delete({ resource: 'pods', namespace: 'default', name: 'a' });
    const [e] = await take(w[Symbol.asyncIterator](), 1);
    assert.equal(e.type, 'DELETED');
    assert.deepEqual(e.object.metadata?.labels, { app: 'web' });
    assert.equal(e.object.metadata?.resourceVersion, String(store.revision));
    w.close();
  });

  it('filters by selector, turning objects that stop or start matching into DELETED and ADDED', async () => {
    const { server, store } = await testServer({ namespaces: ['default', 'other'] });
    const w = server.watch({ resource: 'pods', labelSelector: 'app=web', resourceVersion: String(store.revision) });
    const it = w[Symbol.asyncIterator]();
    await server.create({ object: pod('a', { labels: { app: 'web' } }) });
    await server.create({ object: pod('b', { labels: { app: 'db' } }) });
    await server.create({ object: pod('c', { namespace: 'other', labels: { app: 'web' } }) });
    await server.patch({ resource: 'pods', namespace: 'default', name: 'a', type: 'merge', patch: { metadata: { labels: { app: 'db' } } } });
    await server.patch({ resource: 'pods', namespace: 'default', name: 'b', type: 'merge', patch: { metadata: { labels: { app: 'web' } } } });
    await server.patch({ resource: 'pods', namespace: 'default', name: 'b', type: 'merge', patch: { metadata: { labels: { v: '2' } } } });
    const events = await take(it, 5);
    assert.deepEqual(summary(events), ['ADDED a', 'ADDED c', 'DELETED a', 'ADDED b', 'MODIFIED b']);
    // As Kubernetes: the DELETED carries the state that matched, at the resourceVersion of the change.
    const left = events[2].object;
    assert.equal(left.metadata?.labels?.app, 'web');
    const now = await server.get({ resource: 'pods', namespace: 'default', name: 'a' });
    assert.equal(left.metadata?.resourceVersion, now.metadata?.resourceVersion);
    w.close();
  });

  it('ends with Expired when the resourceVersion has been compacted', async () => {
    const { server } = await testServer({ store: { compactRetainRevisions: 3 } });
    const first = await server.create({ object: pod('a') });
    for (let i = 0; i < 6; i++) await server.create({ object: obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: 'default' } }) });
    const w = server.watch({ resource: 'pods', resourceVersion: first.metadata!.resourceVersion });
    await assert.rejects(take(w[Symbol.asyncIterator](), 1), (err: unknown) => {
      assert.ok(isApiError(err, 'Expired'), String(err));
      assert.match(err.message, /^too old resource version: \d+ \(\d+\)$/);
      assert.equal(err.grpcCode, 11);
      return true;
    });
    assert.equal(server.watchCount, 0);
  });

  it('sends a bookmark with the current revision when asked, only to watches that allow them', async () => {
    const { server, store } = await testServer();
    const start = String(store.revision);
    const w = server.watch({ resource: 'pods', resourceVersion: start, allowBookmarks: true });
    const plain = server.watch({ resource: 'pods', resourceVersion: start });
    const it = w[Symbol.asyncIterator]();
    const plainIt = plain[Symbol.asyncIterator]();
    await server.create({ object: obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } }) });
    server.requestWatchProgress();
    const [b] = await take(it, 1);
    assert.equal(b.type, 'BOOKMARK');
    assert.equal(b.object.kind, 'Pod');
    assert.equal(b.object.metadata?.resourceVersion, String(store.revision));
    await server.create({ object: pod('p') });
    assert.deepEqual(summary(await take(plainIt, 1)), ['ADDED p'], 'no bookmark before the event');
    w.close();
    plain.close();
  });

  it('keeps a slow consumer gap-free past the store buffer, without holding every event', async () => {
    const { server, store } = await testServer();
    const w = server.watch({ resource: 'configmaps', namespace: 'default', resourceVersion: String(store.revision), watchBufferEvents: 4 });
    const it = w[Symbol.asyncIterator]();
    // Open the store watch before writing.
    const first = it.next();
    const n = 50;
    for (let i = 0; i < n; i++) await server.create({ object: obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${String(i).padStart(2, '0')}`, namespace: 'default' } }) });
    const events = [(await first).value as WatchEvent, ...(await take(it, n - 1))];
    assert.deepEqual(events.map((e) => e.object.metadata?.name), Array.from({ length: n }, (_, i) => `c${String(i).padStart(2, '0')}`));
    const revs = events.map((e) => Number(e.object.metadata?.resourceVersion));
    for (let i = 1; i < revs.length; i++) assert.equal(revs[i], revs[i - 1] + 1);
    assert.ok(store.status().watchers <= 1);
    w.close();
  });

  it('hands out events in bounded batches of whole revisions, splitting only a revision larger than a batch', async () => {
    const { server, store, clock } = await testServer();
    const cm = (name: string) => ({ object: obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } }) });
    const names = Array.from({ length: 300 }, (_, i) => `big-${String(i).padStart(3, '0')}`);
    await server.createBatch(names.map(cm));
    const from = store.revision;
    // Deleting a collection is one revision of any size (a create batch is at most 128 store ops).
    const prefix = '/registry/configmaps/default/';
    store.txn({ success: [{ type: 'deleteRange', key: prefix, rangeEnd: prefixEnd(prefix) }] }, clock.nowMs);
    const bigRevision = store.revision;
    await server.create(cm('after-1'));
    await server.create(cm('after-2'));
    const w = server.watch({ resource: 'configmaps', namespace: 'default', resourceVersion: String(from) });
    const batches: WatchEvent[][] = [];
    const delivered: number[] = [];
    for await (const b of w.batches()) {
      batches.push(b);
      delivered.push(Number(w.resourceVersion));
      if (batches.flat().length === names.length + 2) break;
    }
    assert.deepEqual(batches.flat().map((e) => `${e.type} ${e.object.metadata?.name}`), [...names.map((n) => `DELETED ${n}`), 'ADDED after-1', 'ADDED after-2']);
    assert.ok(batches.every((b) => b.length > 0 && b.length <= WATCH_BATCH_EVENTS), `batch sizes ${batches.map((b) => b.length)}`);
    assert.equal(batches[0].length, WATCH_BATCH_EVENTS, 'the large revision fills the first batch');
    // Part of a revision delivered: a watch resumed from here must get that revision again.
    assert.ok(delivered[0] < bigRevision, `resourceVersion ${delivered[0]} after part of revision ${bigRevision}`);
    for (let i = 1; i < batches.length; i++) {
      const rev = (e: WatchEvent) => Number(e.object.metadata?.resourceVersion);
      const prevLast = batches[i - 1][batches[i - 1].length - 1];
      // Batches end between revisions, but for a full one.
      if (rev(prevLast) === rev(batches[i][0])) assert.equal(batches[i - 1].length, WATCH_BATCH_EVENTS);
    }
    assert.equal(delivered[delivered.length - 1], store.revision);
    w.close();
  });

  it('stops when its AbortSignal fires', async () => {
    const { server } = await testServer();
    const ac = new AbortController();
    const w = server.watch({ resource: 'pods', resourceVersion: '1', signal: ac.signal });
    const it = w[Symbol.asyncIterator]();
    const next = it.next();
    ac.abort();
    assert.equal((await next).done, true);
    assert.equal(server.watchCount, 0);
  });

  it('refuses a bad resourceVersion and bad selectors before it starts', async () => {
    const { server } = await testServer();
    assert.throws(() => server.watch({ resource: 'pods', resourceVersion: 'abc' }), (err: unknown) => isApiError(err, 'Invalid') && /Invalid resourceVersion "abc"/.test(err.message));
    assert.throws(() => server.watch({ resource: 'pods', labelSelector: '=' }), (err: unknown) => isApiError(err, 'Invalid'));
  });
});
}

describe('watch cache', () => {
  it('serves many watches of a resource from one store watch', async () => {
    const { server, store } = await baseTestServer();
    const start = String(store.revision);
    const watches = Array.from({ length: 200 }, (_, i) => server.watch({ resource: 'pods', resourceVersion: start, labelSelector: i % 2 ? 'app=web' : '' }));
    const its = watches.map((w) => w[Symbol.asyncIterator]());
    const firsts = its.map((it) => it.next());
    await server.create({ object: pod('a', { labels: { app: 'web' } }) });
    await server.create({ object: pod('b', { labels: { app: 'db' } }) });
    const got = await Promise.all(its.map(async (it, i) => [(await firsts[i]).value as WatchEvent, ...(await take(it, i % 2 ? 0 : 1))]));
    assert.equal(store.status().watchers, 1, 'one store watch for 200 API watches');
    assert.equal(server.watchCacheCount, 1);
    got.forEach((events, i) => assert.deepEqual(summary(events), i % 2 ? ['ADDED a'] : ['ADDED a', 'ADDED b']));
    for (const w of watches) w.close();
    server.closeWatches();
    assert.equal(store.status().watchers, 0);
  });

  it('moves a watcher that falls off the ring to the store history without a gap', async () => {
    const { server, store } = await baseTestServer({ watchCacheEvents: 5 });
    const w = server.watch({ resource: 'configmaps', namespace: 'default', resourceVersion: String(store.revision) });
    const it = w[Symbol.asyncIterator]();
    const first = it.next();
    const n = 40;
    const name = (i: number) => `c${String(i).padStart(2, '0')}`;
    for (let i = 0; i < n; i++) await server.create({ object: obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: name(i), namespace: 'default' } }) });
    const events = [(await first).value as WatchEvent, ...(await take(it, n - 1))];
    assert.deepEqual(events.map((e) => e.object.metadata?.name), Array.from({ length: n }, (_, i) => name(i)));
    w.close();
    server.closeWatches();
  });

  it('serves a watch from before the cache started from the store', async () => {
    const { server } = await baseTestServer();
    const a = await server.create({ object: pod('a') });
    await server.create({ object: pod('b') });
    // Start the cache after both writes, then watch from before b.
    const warm = server.watch({ resource: 'pods', resourceVersion: '0' });
    await take(warm[Symbol.asyncIterator](), 2);
    const w = server.watch({ resource: 'pods', resourceVersion: a.metadata!.resourceVersion });
    const it = w[Symbol.asyncIterator]();
    assert.deepEqual(summary(await take(it, 1)), ['ADDED b']);
    await server.create({ object: pod('c') });
    assert.deepEqual(summary(await take(it, 1)), ['ADDED c']);
    server.closeWatches();
  });

  it('keeps a watcher going when the cache stops while the watcher is busy sending', async () => {
    // The cache's own store watch (the first one opened) fails when told to.
    const store = new Store();
    const base = new StoreBackend(store, { nowMs: () => 0 });
    let fail!: (e: Error) => void;
    const failed = new Promise<never>((_, reject) => (fail = reject));
    failed.catch(() => {});
    let first = true;
    const backend = Object.create(base) as StoreBackend;
    backend.watch = (o) => {
      const inner = base.watch(o);
      if (!first) return inner;
      first = false;
      return {
        requestProgress: () => inner.requestProgress(),
        cancel: () => inner.cancel(),
        async *[Symbol.asyncIterator]() {
          const events = inner[Symbol.asyncIterator]();
          for (;;) {
            const r = await Promise.race([events.next(), failed]);
            if (r.done) return;
            yield r.value;
          }
        },
      };
    };
    const stopped: string[] = [];
    const { server } = await baseTestServer({ backend, onWatchCacheFailure: (resource) => stopped.push(resource) });
    const w = server.watch({ resource: 'pods', namespace: 'default', resourceVersion: String(store.revision) });
    const it = w[Symbol.asyncIterator]();
    await server.create({ object: pod('a') });
    await server.create({ object: pod('b') });
    assert.deepEqual(summary(await take(it, 1)), ['ADDED a'], 'the watcher now holds b, unsent');
    fail(new Error('store watch lost'));
    await eventually('the pods cache reports it stopped', () => stopped.join() === 'pods');
    assert.deepEqual(summary(await take(it, 1)), ['ADDED b']);
    await server.create({ object: pod('c') });
    assert.deepEqual(summary(await take(it, 1)), ['ADDED c'], 'later changes come from the store');
    server.closeWatches();
  });
});

describe('watch through a small watch cache', () => {
  it('reads the store while it is behind the ring, then the ring again once it has caught up', async () => {
    const { server, store } = await baseTestServer({ watchCacheEvents: 4 });
    const cm = (i: number) => obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${String(i).padStart(2, '0')}`, namespace: 'default' } });
    const w = server.watch({ resource: 'configmaps', namespace: 'default', resourceVersion: String(store.revision) });
    const it = w[Symbol.asyncIterator]();
    await server.create({ object: cm(0) });
    assert.deepEqual(summary(await take(it, 1)), ['ADDED c00']);
    const cacheOnly = store.status().watchers;
    // Ten changes while it reads nothing: the 4-event ring no longer has what it needs next.
    for (let i = 1; i <= 10; i++) await server.create({ object: cm(i) });
    assert.deepEqual(summary(await take(it, 10)), Array.from({ length: 10 }, (_, i) => `ADDED c${String(i + 1).padStart(2, '0')}`));
    assert.equal(store.status().watchers, cacheOnly + 1, 'it read them from a store watch of its own');
    await server.create({ object: cm(11) });
    await server.create({ object: cm(12) });
    const later = await take(it, 2);
    assert.deepEqual(summary(later), ['ADDED c11', 'ADDED c12']);
    assert.equal(Number(later[1].object.metadata?.resourceVersion), Number(later[0].object.metadata?.resourceVersion) + 1);
    assert.equal(store.status().watchers, cacheOnly, 'its own store watch is gone: the ring serves it again');
    w.close();
    server.closeWatches();
  });
});
