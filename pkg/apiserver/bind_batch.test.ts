// BindBatch over gRPC with the real client: many bindings in one call, each done or refused
// exactly as its own Bind would be.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { Pod } from '../api/registry.js';
import { NavarchClient } from '../client/client.js';
import type { RequestRecord } from './context.js';
import { addObjectsService, MAX_BIND_BATCH } from './grpc_adapter.js';
import { pod, testServer, type TestServer } from './test_util.js';

describe('BindBatch', () => {
  let t: TestServer;
  let server: Server;
  let client: NavarchClient;
  const records: RequestRecord[] = [];

  before(async () => {
    t = await testServer({ onRequest: (r) => records.push(r) });
    server = new Server();
    addObjectsService(server, t.server);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    client = new NavarchClient({ endpoints: [`127.0.0.1:${port}`], retryDeadlineMs: 2000 });
  });

  after(async () => {
    client.close();
    t.server.closeWatches();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  const nodeOf = async (name: string) => ((await t.server.get({ resource: 'pods', namespace: 'default', name })) as Pod).spec?.nodeName;

  it('binds each pod on its own: one refusal does not stop the others', async () => {
    const a = await t.server.create({ object: pod('a') });
    await t.server.create({ object: pod('b') });
    await t.server.create({ object: pod('c', { nodeName: 'n0' }) });
    records.length = 0;
    const results = await client.bindBatch([
      { namespace: 'default', name: 'a', nodeName: 'n1', uid: a.metadata?.uid },
      { namespace: 'default', name: 'b', nodeName: 'n2', uid: 'another-uid' },
      { namespace: 'default', name: 'c', nodeName: 'n1' },
      { namespace: 'default', name: 'missing', nodeName: 'n1' },
      { namespace: 'default', name: 'a', nodeName: 'n3' },
    ]);
    assert.deepEqual(
      results.map((e) => e?.code),
      [undefined, 'Conflict', 'Conflict', 'NotFound', 'Conflict'],
    );
    assert.match(results[1]!.message, /UID in precondition: another-uid/);
    assert.match(results[2]!.message, /already assigned to node "n0"/);
    assert.match(results[4]!.message, /already assigned to node "n1"/);
    assert.equal(results[3]!.details.name, 'missing');
    assert.deepEqual([await nodeOf('a'), await nodeOf('b'), await nodeOf('c')], ['n1', undefined, 'n0']);
    // Counted as Kubernetes counts bindings: one request each.
    assert.equal(records.filter((r) => r.subresource === 'binding').length, 5);
  });

  it('writes the bindings it can decide at once in one transaction: one revision for all', async () => {
    for (const name of ['t1', 't2', 't3']) await t.server.create({ object: pod(name) });
    const before = t.store.revision;
    const results = await client.bindBatch(['t1', 't2', 't3'].map((name, i) => ({ namespace: 'default', name, nodeName: `n${i}` })));
    assert.deepEqual(results, [undefined, undefined, undefined]);
    assert.equal(t.store.revision, before + 1);
    const pods = await Promise.all(['t1', 't2', 't3'].map((name) => t.server.get({ resource: 'pods', namespace: 'default', name }) as Promise<Pod>));
    assert.deepEqual(
      pods.map((p) => [p.spec?.nodeName, p.metadata?.resourceVersion, p.status?.conditions.find((c) => c.type === 'PodScheduled')?.status]),
      [
        ['n0', String(before + 1), 'True'],
        ['n1', String(before + 1), 'True'],
        ['n2', String(before + 1), 'True'],
      ],
    );
  });

  it('refuses a batch over the limit as a whole, binding nothing', async () => {
    await t.server.create({ object: pod('d') });
    const many = Array.from({ length: MAX_BIND_BATCH + 1 }, () => ({ namespace: 'default', name: 'd', nodeName: 'n1' }));
    await assert.rejects(client.bindBatch(many), (e: Error & { code?: string }) => e.code === 'Invalid' && /at most 1000 per call/.test(e.message));
    assert.equal(await nodeOf('d'), undefined);
  });
});
