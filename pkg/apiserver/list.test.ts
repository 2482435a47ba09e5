import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../api/registry.js';
import { BTreeMap } from '../store/btree.js';
import { isApiError } from './api_error.js';
import { obj, pod, testServer } from './test_util.js';

const names = (items: { metadata?: { name?: string } }[]) => items.map((o) => o.metadata?.name);

/** Counts every key the store's index hands to a range read, until restore(). */
function countVisitedKeys(): { readonly visited: number; restore(): void } {
  let visited = 0;
  const forRange = BTreeMap.prototype.forRange;
  BTreeMap.prototype.forRange = function (this: BTreeMap<unknown>, from, to, fn) {
    return forRange.call(this, from, to, (k, v) => (visited++, fn(k, v)));
  };
  return { get visited() { return visited; }, restore: () => void (BTreeMap.prototype.forRange = forRange) };
}

async function fixture() {
  const t = await testServer({ namespaces: ['default', 'shop', 'shop2'] });
  const { server } = t;
  await server.create({ object: pod('a', { labels: { app: 'web', tier: 'front' }, nodeName: 'n1' }) });
  await server.create({ object: pod('b', { labels: { app: 'web', tier: 'back' } }) });
  await server.create({ object: pod('c', { labels: { app: 'db' }, nodeName: 'n2' }) });
  await server.create({ object: pod('d', { namespace: 'shop', labels: { app: 'web' } }) });
  await server.create({ object: pod('e', { namespace: 'shop2', labels: {} }) });
  return t;
}

describe('list', () => {
  it('lists one namespace, or all of them without a namespace', async () => {
    const { server } = await fixture();
    assert.deepEqual(names((await server.list({ resource: 'pods', namespace: 'default' })).items), ['a', 'b', 'c']);
    assert.deepEqual(names((await server.list({ resource: 'pods', namespace: 'shop' })).items), ['d'], '"shop" does not include "shop2"');
    assert.deepEqual(names((await server.list({ resource: 'pods' })).items), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(names((await server.list({ resource: 'namespaces' })).items), ['default', 'shop', 'shop2']);
  });

  it('returns the store revision as the list resourceVersion', async () => {
    const { server, store } = await fixture();
    const l = await server.list({ resource: 'pods' });
    assert.equal(l.resourceVersion, String(store.revision));
  });

  it('filters by every label selector operator', async () => {
    const { server } = await fixture();
    const sel = async (labelSelector: string) => names((await server.list({ resource: 'pods', labelSelector })).items);
    assert.deepEqual(await sel('app=web'), ['a', 'b', 'd']);
    assert.deepEqual(await sel('app!=web'), ['c', 'e']);
    assert.deepEqual(await sel('tier in (front,back)'), ['a', 'b']);
    assert.deepEqual(await sel('tier notin (front)'), ['b', 'c', 'd', 'e']);
    assert.deepEqual(await sel('tier'), ['a', 'b']);
    assert.deepEqual(await sel('!tier'), ['c', 'd', 'e']);
    assert.deepEqual(await sel('app=web,tier=back'), ['b']);
  });

  it('filters by field selectors', async () => {
    const { server } = await fixture();
    const sel = async (fieldSelector: string) => names((await server.list({ resource: 'pods', fieldSelector })).items);
    assert.deepEqual(await sel('spec.nodeName=n1'), ['a']);
    assert.deepEqual(await sel('spec.nodeName='), ['b', 'd', 'e']);
    assert.deepEqual(await sel('metadata.namespace=shop'), ['d']);
    assert.deepEqual(await sel('metadata.name!=a,spec.nodeName!='), ['c']);
    const running = (await server.get({ resource: 'pods', namespace: 'default', name: 'c' })) as Pod;
    await server.patch({ resource: 'pods', namespace: 'default', name: 'c', subresource: 'status', type: 'merge', patch: { status: { phase: 'Running' } } });
    assert.ok(running);
    assert.deepEqual(await sel('status.phase=Running'), ['c']);
  });

  it('refuses bad selectors with messages that name the problem', async () => {
    const { server } = await fixture();
    await assert.rejects(server.list({ resource: 'pods', labelSelector: 'app in (web' }), (err: unknown) => isApiError(err, 'Invalid') && /Cannot parse label selector "app in \(web"/.test(err.message));
    await assert.rejects(server.list({ resource: 'pods', fieldSelector: 'spec.foo=bar' }), (err: unknown) => isApiError(err, 'Invalid') && /field label not supported: spec\.foo/.test(err.message));
  });

  it('pages with limit and continue over one consistent revision', async () => {
    const { server } = await fixture();
    const p1 = await server.list({ resource: 'pods', limit: 2 });
    assert.deepEqual(names(p1.items), ['a', 'b']);
    assert.ok(p1.continue);
    assert.equal(p1.remainingItemCount, 3);
    // A write between pages does not show in the later pages.
    await server.create({ object: pod('f', { namespace: 'shop' }) });
    const p2 = await server.list({ resource: 'pods', limit: 2, continue: p1.continue });
    assert.deepEqual(names(p2.items), ['c', 'd']);
    assert.equal(p2.resourceVersion, p1.resourceVersion);
    const p3 = await server.list({ resource: 'pods', limit: 2, continue: p2.continue });
    assert.deepEqual(names(p3.items), ['e']);
    assert.equal(p3.continue, undefined);
  });

  it('reads each page of an unfiltered list once, not the rest of the range again per page', async () => {
    const { server } = await testServer();
    for (let i = 0; i < 200; i++) await server.create({ object: pod(`p${String(i).padStart(3, '0')}`) });
    const spy = countVisitedKeys();
    const seen: string[] = [];
    let pages = 0;
    try {
      let cont: string | undefined;
      do {
        const p = await server.list({ resource: 'pods', limit: 10, continue: cont });
        if (pages === 0) assert.equal(p.remainingItemCount, 190);
        seen.push(...names(p.items).map(String));
        cont = p.continue;
        pages++;
      } while (cont);
    } finally {
      spy.restore();
    }
    assert.equal(pages, 20);
    assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => `p${String(i).padStart(3, '0')}`));
    // The first page counts the range (200); each later page reads its own 10 keys and one more.
    // Counting the rest of the range on every page would visit about 2,000.
    assert.ok(spy.visited <= 200 + 20 * 11, `visited ${spy.visited} keys`);
  });

  it('pages a filtered list without walking the rest of the range for each page', async () => {
    const { server } = await testServer({ listChunkKeys: 10 });
    for (let i = 0; i < 200; i++) await server.create({ object: pod(`p${String(i).padStart(3, '0')}`, { labels: { app: i % 2 ? 'web' : 'db' } }) });
    const spy = countVisitedKeys();
    const seen: string[] = [];
    try {
      let cont: string | undefined;
      do {
        const p = await server.list({ resource: 'pods', labelSelector: 'app=web', limit: 7, continue: cont });
        seen.push(...names(p.items).map(String));
        cont = p.continue;
      } while (cont);
    } finally {
      spy.restore();
    }
    assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => `p${String(2 * i + 1).padStart(3, '0')}`));
    // Every key once, one more per chunk of 10 (to know whether there are more), and each of the
    // 15 pages reads again at most a chunk from where the last one stopped: at most 400. Counting
    // the rest of the range for every chunk visited 1,666.
    assert.ok(spy.visited <= 200 + 35 + 15 * 11, `visited ${spy.visited} keys`);
  });

  it('ends a page early once its items reach maxListPageBytes, with and without a selector', async () => {
    const { server, store } = await testServer({ maxListPageBytes: 0 }); // still one item a page
    for (let i = 0; i < 7; i++) await server.create({ object: pod(`p${i}`, { labels: { odd: String(i % 2) } }) });
    const onePod = store.range({ key: '/registry/pods/default/p0' }).kvs[0].value.byteLength;
    const { server: capped } = await testServer({ maxListPageBytes: 3 * onePod });
    for (let i = 0; i < 7; i++) await capped.create({ object: pod(`p${i}`, { labels: { odd: String(i % 2) } }) });
    for (const [name, s, labelSelector, want, perPage] of [
      ['every pod, one per page', server, undefined, ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6'], 1],
      ['every pod, three per page', capped, undefined, ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6'], 3],
      ['even pods, three per page', capped, 'odd=0', ['p0', 'p2', 'p4', 'p6'], 3],
      ['odd pods, one per page', server, 'odd=1', ['p1', 'p3', 'p5'], 1],
    ] as const) {
      const pages: string[][] = [];
      const remaining: Array<number | undefined> = [];
      let cont: string | undefined;
      do {
        const p = await s.list({ resource: 'pods', namespace: 'default', labelSelector, limit: 100, continue: cont });
        pages.push(names(p.items).map(String));
        remaining.push(p.remainingItemCount);
        cont = p.continue;
      } while (cont && pages.length < 20);
      assert.deepEqual(pages.flat(), want, name);
      assert.ok(pages.every((p) => p.length <= perPage), `${name}: ${JSON.stringify(pages)}`);
      if (!labelSelector) assert.deepEqual(remaining.slice(0, -1), pages.slice(1).map((_, i) => want.length - (i + 1) * perPage), name);
    }
  });

  it('pages through selector matches, skipping what does not match', async () => {
    const { server } = await fixture();
    const p1 = await server.list({ resource: 'pods', labelSelector: 'app=web', limit: 2 });
    assert.deepEqual(names(p1.items), ['a', 'b']);
    const p2 = await server.list({ resource: 'pods', labelSelector: 'app=web', limit: 2, continue: p1.continue });
    assert.deepEqual(names(p2.items), ['d']);
    assert.equal(p2.continue, undefined);
  });

  it('refuses a continue token that was not issued for the list', async () => {
    const { server } = await fixture();
    const p1 = await server.list({ resource: 'pods', namespace: 'default', limit: 1 });
    await assert.rejects(server.list({ resource: 'pods', namespace: 'shop', continue: p1.continue }), (err: unknown) => isApiError(err, 'Invalid') && /Invalid continue token/.test(err.message));
    await assert.rejects(server.list({ resource: 'pods', continue: 'garbage' }), (err: unknown) => isApiError(err, 'Invalid'));
    // The token carries its revision: another beside it is refused, as in Kubernetes ("0" is let through).
    await assert.rejects(server.list({ resource: 'pods', namespace: 'default', continue: p1.continue, resourceVersion: p1.resourceVersion }), { message: 'specifying resource version is not allowed when using continue' });
    assert.equal((await server.list({ resource: 'pods', namespace: 'default', limit: 1, continue: p1.continue, resourceVersion: '0' })).items.length, 1);
  });

  it('reports a continue token older than compaction as Expired', async () => {
    const { server } = await testServer({ store: { compactRetainRevisions: 5 } });
    for (let i = 0; i < 3; i++) await server.create({ object: pod(`p${i}`) });
    const p1 = await server.list({ resource: 'pods', limit: 1 });
    for (let i = 0; i < 10; i++) await server.create({ object: obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: 'default' } }) });
    await assert.rejects(server.list({ resource: 'pods', limit: 1, continue: p1.continue }), (err: unknown) => {
      assert.ok(isApiError(err, 'Expired'));
      assert.match(err.message, /^The provided continue parameter is too old/);
      assert.equal(err.httpStatus, 410);
      return true;
    });
  });
});
