// The informer against a real API server (the in-process ApiServer over a Store, served through
// the gRPC adapter) with the real NavarchClient: list, watch, and the relist after the server was
// away long enough for compaction to drop the revision the watch needed.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { Pod } from '../../api/registry.js';
import { addObjectsService } from '../../apiserver/grpc_adapter.js';
import { obj, pod, testServer, type TestServer } from '../../apiserver/test_util.js';
import { until } from '../../etcdserver/test_util.js';
import { NavarchClient } from '../client.js';
import { clientListWatcher } from './list_watcher.js';
import { SharedInformer } from './shared_informer.js';

async function serve(t: TestServer, port = 0): Promise<{ server: Server; port: number }> {
  const server = new Server();
  addObjectsService(server, t.server);
  const bound = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { server, port: bound };
}

describe('SharedInformer on an API server', () => {
  let t: TestServer;
  let grpc: { server: Server; port: number };
  let client: NavarchClient;
  let informer: SharedInformer<Pod>;
  const seen: string[] = [];

  before(async () => {
    t = await testServer({ store: { compactRetainRevisions: 5 } });
    grpc = await serve(t);
    client = new NavarchClient({ endpoints: [`127.0.0.1:${grpc.port}`], retryDeadlineMs: 20_000 });
    for (let i = 0; i < 7; i++) await client.create(pod(`p${i}`, { nodeName: i < 4 ? 'n1' : 'n2' }));
    informer = new SharedInformer<Pod>(clientListWatcher(client, 'pods', { pageSize: 3 }), {
      name: 'pods',
      indexers: { byNode: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) },
      logger: { warn: () => {} },
    });
    informer.addEventHandler({
      onAdd: (p) => seen.push(`add ${p.metadata?.name}`),
      onUpdate: (o, p) => seen.push(`update ${p.metadata?.name} v${o.metadata?.labels?.v ?? '-'}->v${p.metadata?.labels?.v ?? '-'}`),
      onDelete: (p, i) => seen.push(`delete ${p.metadata?.name}${i.finalStateUnknown ? ' unknown' : ''}`),
    });
    informer.start();
  });

  after(async () => {
    informer.stop();
    client.close();
    t.server.closeWatches();
    grpc.server.forceShutdown();
  });

  it('lists every page, then follows changes made through the client', async () => {
    await informer.waitForSync({ timeoutMs: 10_000 });
    assert.equal(informer.store.size, 7);
    assert.equal(informer.store.byIndex('byNode', 'n1').length, 4);
    seen.length = 0;
    const p0 = await client.get<Pod>('pods', 'default', 'p0');
    await client.update({ ...p0, metadata: { ...p0.metadata, labels: { v: '2' } } } as Pod);
    await client.delete('pods', 'default', 'p1', { gracePeriodSeconds: 0 });
    await client.create(pod('p7'));
    await until('three events', () => seen.length === 3);
    assert.deepEqual(seen.splice(0), ['update p0 v-->v2', 'delete p1', 'add p7']);
    assert.deepEqual(informer.store.byIndex('byNode', 'n1').map((p) => p.metadata?.name).sort(), ['p0', 'p2', 'p3']);
    assert.equal(informer.lastSyncResourceVersion, String(t.store.revision));
  });

  it("holds the parts that pods have alike once, frozen, whether listed or watched; what a get returns is the caller's own", async () => {
    const listed = informer.store.get('default', 'p2')!;
    const watched = informer.store.get('default', 'p7')!;
    assert.equal(watched.spec!.containers[0], listed.spec!.containers[0]);
    assert.equal(informer.store.get('default', 'p3')!.spec, listed.spec, 'the same spec on the same node');
    assert.ok(Object.isFrozen(listed.spec));
    const got = await client.get<Pod>('pods', 'default', 'p2');
    assert.notEqual(got.spec!.containers[0], listed.spec!.containers[0]);
    got.spec!.containers[0].image = 'nginx:1.27';
    assert.equal(listed.spec!.containers[0].image, 'nginx:1.25');
  });

  it('relists with the difference after the server was away past compaction', async () => {
    const expiredBefore = informer.reflectorStats.expired;
    grpc.server.forceShutdown();
    t.server.closeWatches();
    // While no client can reach it: more changes than the store keeps history for.
    await t.server.delete({ resource: 'pods', namespace: 'default', name: 'p2', gracePeriodSeconds: 0 });
    const p3 = (await t.server.get({ resource: 'pods', namespace: 'default', name: 'p3' })) as Pod;
    await t.server.update({ object: { ...p3, metadata: { ...p3.metadata, labels: { v: '3' } } } as Pod });
    await t.server.create({ object: pod('p8') });
    for (let i = 0; i < 6; i++) await t.server.create({ object: obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `filler-${i}`, namespace: 'default' } }) });
    assert.ok(t.store.compactRevision > Number(informer.lastSyncResourceVersion), 'the watch revision is compacted');
    grpc = await serve(t, grpc.port);
    await until('the relist', () => seen.length === 3, 20_000);
    assert.deepEqual([...seen].sort(), ['add p8', 'delete p2 unknown', 'update p3 v-->v3']);
    assert.equal(informer.reflectorStats.expired, expiredBefore + 1);
    assert.deepEqual(informer.store.listKeys().sort(), ['default/p0', 'default/p3', 'default/p4', 'default/p5', 'default/p6', 'default/p7', 'default/p8']);
    // Watching again from the relist.
    seen.length = 0;
    await client.delete('pods', 'default', 'p8', { gracePeriodSeconds: 0 });
    await until('the delete', () => seen.length === 1);
    assert.deepEqual(seen, ['delete p8']);
  });
});
