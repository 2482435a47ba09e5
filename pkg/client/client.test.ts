import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConfigMap } from '../api/registry.js';
import { obj } from '../apiserver/test_util.js';
import { TestMasters } from '../etcdserver/test_util.js';
import { decodeStored } from '../api/convert/binary.js';
import { ApiError, NavarchClient, discardAnswer, type ClientWatchEvent } from './mod.js';

const cm = (name: string, data: Record<string, string>, labels: Record<string, string> = {}) =>
  obj<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'apps', labels }, data });

describe('NavarchClient on three masters', () => {
  let masters: TestMasters;
  let client: NavarchClient;

  before(async () => {
    masters = await TestMasters.start(3);
    await masters.leader();
    client = new NavarchClient({ endpoints: [...masters.members.values()].map((m) => m.clientAddress), retryDeadlineMs: 10_000 });
    await client.create(obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } }));
  });

  after(async () => {
    client.close();
    await masters.close();
  });

  it('creates, reads, lists, updates, patches and deletes, with the server errors as ApiError', async () => {
    const created = await client.create(cm('one', { a: '1' }, { tier: 'web' }));
    await client.create(cm('two', { b: '2' }, { tier: 'db' }));
    assert.deepEqual((await client.get<ConfigMap>('configmaps', 'apps', 'one')).data, { a: '1' });
    const web = await client.list<ConfigMap>('cm', { namespace: 'apps', labelSelector: 'tier=web' });
    assert.deepEqual(web.items.map((i) => i.metadata?.name), ['one']);
    assert.equal(web.kind, 'ConfigMap');
    const updated = await client.update({ ...created, data: { a: '10' } });
    await assert.rejects(client.update({ ...created, data: { a: 'stale' } }), (e: ApiError) => e.code === 'Conflict' && /has been modified/.test(e.message));
    const patched = await client.patch<ConfigMap>('configmaps', 'apps', 'one', 'merge', { data: { c: '3' } });
    assert.deepEqual(patched.data, { a: '10', c: '3' });
    assert.ok(Number(patched.metadata?.resourceVersion) > Number(updated.metadata?.resourceVersion));
    const del = await client.delete('configmaps', 'apps', 'two');
    assert.equal(del.deleted, true);
    await assert.rejects(client.get('configmaps', 'apps', 'two'), (e: ApiError) => e.code === 'NotFound' && e.message === 'configmaps "two" not found');
    await assert.rejects(client.list('widgets'), (e: ApiError) => e.code === 'NotFound');
  });

  it("hands a create's or an update's stored object to the writer's decoder, or to none", async () => {
    assert.equal(await client.create(cm('undecoded', { a: '1' }), { decode: discardAnswer }), undefined);
    assert.deepEqual((await client.get<ConfigMap>('configmaps', 'apps', 'undecoded')).data, { a: '1' });
    const name = await client.create(cm('named', {}), { decode: (b) => decodeStored(b).metadata?.name });
    assert.equal(name, 'named');
    const created = await client.create(cm('decoded', { a: '1' }));
    const seen: number[] = [];
    const rv = await client.update({ ...created, data: { a: '2' } }, { decode: (b) => (seen.push(b.byteLength), decodeStored(b).metadata?.resourceVersion) });
    assert.equal(seen.length, 1);
    assert.equal(rv, (await client.get<ConfigMap>('configmaps', 'apps', 'decoded')).metadata?.resourceVersion);
    const current = await client.get<ConfigMap>('configmaps', 'apps', 'decoded');
    assert.equal(await client.update({ ...current, data: { a: '3' } }, { decode: discardAnswer }), undefined);
    assert.deepEqual((await client.get<ConfigMap>('configmaps', 'apps', 'decoded')).data, { a: '3' });
  });

  it('pages a list at one revision', async () => {
    for (let i = 0; i < 7; i++) await client.create(cm(`page-${i}`, {}, { set: 'paged' }));
    const all = await client.listAll('configmaps', { namespace: 'apps', labelSelector: 'set=paged', pageSize: 3 });
    assert.equal(all.items.length, 7);
  });

  it('skips a master it cannot reach', async () => {
    const withDead = new NavarchClient({ endpoints: ['127.0.0.1:1', ...client.endpoints], retryDeadlineMs: 5000 });
    try {
      assert.equal((await withDead.get('namespaces', undefined, 'apps')).metadata?.name, 'apps');
      await withDead.create(cm('via-failover', {}));
    } finally {
      withDead.close();
    }
  });

  it('keeps a watch going, with no gap and no duplicate, when its master stops', async () => {
    // The client talks to the first endpoint first: that member is the one to stop.
    const first = [...masters.members.values()].find((m) => m.clientAddress === client.endpoints[0])!;
    const watcher = new NavarchClient({ endpoints: client.endpoints, retryDeadlineMs: 15_000 });
    const seen: ClientWatchEvent<ConfigMap>[] = [];
    const w = watcher.watch<ConfigMap>('configmaps', { namespace: 'apps', labelSelector: 'set=stream' });
    const done = (async () => {
      for await (const e of w) {
        seen.push(e);
        if (seen.filter((x) => x.type !== 'BOOKMARK').length === 20) break;
      }
    })();
    for (let i = 0; i < 10; i++) await client.create(cm(`s-${i}`, {}, { set: 'stream' }));
    await first.stop({ transferLeadership: true });
    masters.members.delete(first.id);
    for (let i = 10; i < 20; i++) await client.create(cm(`s-${i}`, {}, { set: 'stream' }));
    await done;
    w.close();
    watcher.close();
    const names = seen.filter((e) => e.type === 'ADDED').map((e) => e.object.metadata?.name);
    assert.deepEqual(names, Array.from({ length: 20 }, (_, i) => `s-${i}`));
    const revisions = seen.map((e) => Number(e.object.metadata?.resourceVersion));
    assert.deepEqual(revisions, [...revisions].sort((a, b) => a - b));
  });
});
