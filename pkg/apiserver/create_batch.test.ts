// CreateBatch: each create done or refused as its own create would be; those that pass written in
// one store transaction when it can take them all.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../api/registry.js';
import { MAX_CREATES_PER_TXN } from './create_batch.js';
import { obj, pod, testServer } from './test_util.js';

const configMap = (name: string, namespace = 'default') => obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { a: '1' } });
const event = (name: string) =>
  obj({ apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'Scheduled', message: 'ok', type: 'Normal' });

describe('createBatch', () => {
  it('writes the creates that pass in one transaction: one revision for all', async () => {
    const { server, store } = await testServer();
    const before = store.revision;
    const outcomes = await server.createBatch([configMap('a'), configMap('b'), configMap('c')].map((object) => ({ object })));
    assert.deepEqual(
      outcomes.map((o) => o.error?.message),
      [undefined, undefined, undefined],
    );
    assert.equal(store.revision, before + 1, 'one transaction');
    const rvs = outcomes.map((o) => o.object?.metadata?.resourceVersion);
    assert.deepEqual(rvs, [String(before + 1), String(before + 1), String(before + 1)]);
    for (const name of ['a', 'b', 'c']) assert.equal((await server.get({ resource: 'configmaps', namespace: 'default', name })).metadata?.uid !== undefined, true);
  });

  it('refuses each bad create on its own and writes the rest together', async () => {
    const { server, store } = await testServer();
    const bad = configMap('Not_A_Name');
    const before = store.revision;
    const outcomes = await server.createBatch([{ object: configMap('x') }, { object: bad }, { object: configMap('y') }, { object: configMap('z'), subresource: 'eviction' }]);
    assert.equal(outcomes[0].error, undefined);
    assert.equal(outcomes[1].error?.code, 'Invalid');
    assert.match(outcomes[1].error!.message, /metadata\.name/);
    assert.equal(outcomes[2].error, undefined);
    assert.equal(outcomes[3].error?.code, 'Invalid');
    assert.equal(store.revision, before + 1);
  });

  it('answers AlreadyExists, a missing namespace or a repeated name as separate creates would', async () => {
    const { server } = await testServer();
    await server.create({ object: configMap('taken') });
    const outcomes = await server.createBatch([{ object: configMap('fresh') }, { object: configMap('taken') }, { object: configMap('ghost', 'nowhere') }, { object: configMap('twice') }, { object: configMap('twice') }]);
    assert.deepEqual(
      outcomes.map((o) => o.error?.code),
      [undefined, 'AlreadyExists', 'NotFound', ...(outcomes[3].error ? ['AlreadyExists', undefined] : [undefined, 'AlreadyExists'])],
    );
    assert.equal((await server.get({ resource: 'configmaps', namespace: 'default', name: 'fresh' })).metadata?.name, 'fresh');
    assert.equal((await server.get({ resource: 'configmaps', namespace: 'default', name: 'twice' })).metadata?.name, 'twice');
  });

  it('refuses every create of a writer whose fencing token is stale', async () => {
    const { server } = await testServer();
    const fencing = { leaseNamespace: 'kube-system', leaseName: 'kube-scheduler', holderIdentity: 'gone', leaseTransitions: 3 };
    const outcomes = await server.createBatch([configMap('f1'), configMap('f2')].map((object) => ({ object, fencing })));
    assert.deepEqual(
      outcomes.map((o) => o.error?.code),
      ['Forbidden', 'Forbidden'],
    );
  });

  it('splits a large batch into transactions the store takes, and gives Events their expiry lease', async () => {
    const { server, store } = await testServer();
    const n = MAX_CREATES_PER_TXN * 2 + 5;
    const before = store.revision;
    const outcomes = await server.createBatch(Array.from({ length: n }, (_, i) => ({ object: event(`e${i}`) })));
    assert.equal(outcomes.filter((o) => o.error).length, 0, outcomes.find((o) => o.error)?.error?.message);
    // A lease grant, then three transactions.
    assert.equal(store.revision - before, 3);
    const kv = store.range({ key: '/registry/events/default/e0' }).kvs[0];
    assert.ok(kv && kv.lease > 0, 'the Event expires with a lease');
    const pods: KubeObject[] = (await server.list({ resource: 'events', namespace: 'default' })).items;
    assert.equal(pods.length, n);
  });

  it('creates pods as create does: defaults and admission included', async () => {
    const { server } = await testServer();
    const [o] = await server.createBatch([{ object: pod('web') }, { object: pod('db') }]);
    const created = o.object as KubeObject & { spec?: { tolerations?: unknown[]; schedulerName?: string } };
    assert.equal(created.spec?.schedulerName, 'default-scheduler');
    assert.equal(created.spec?.tolerations?.length, 2);
  });
});
