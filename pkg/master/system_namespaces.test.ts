import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isApiError } from '../apiserver/api_error.js';
import { obj, testServer } from '../apiserver/test_util.js';
import { NavarchClient } from '../client/client.js';
import { TestMasters, until } from '../etcdserver/test_util.js';
import { SYSTEM_NAMESPACES, ensureSystemNamespaces, keepSystemNamespaces } from './system_namespaces.js';

const names = async (list: () => Promise<{ items: { metadata?: { name?: string } }[] }>) => (await list()).items.map((i) => i.metadata?.name ?? '').sort();

describe('system namespaces', () => {
  it('creates the missing ones, and only those, however often it runs', async () => {
    const { server } = await testServer({ namespaces: ['default', 'shop'] });
    const shop = await server.get({ resource: 'namespaces', name: 'default' });
    assert.deepEqual(await ensureSystemNamespaces(server), ['kube-system', 'kube-public', 'kube-node-lease']);
    assert.deepEqual(await ensureSystemNamespaces(server), []);
    assert.deepEqual(await names(() => server.list({ resource: 'namespaces' })), ['default', 'kube-node-lease', 'kube-public', 'kube-system', 'shop']);
    assert.deepEqual(await server.get({ resource: 'namespaces', name: 'default' }), shop, 'an existing one is left as it is');
  });

  it('refuses to delete default, kube-system and kube-public, as Kubernetes does', async () => {
    const { server } = await testServer({ namespaces: [] });
    await ensureSystemNamespaces(server);
    for (const name of ['default', 'kube-system', 'kube-public']) {
      await assert.rejects(server.delete({ resource: 'namespaces', name }), (e: unknown) => isApiError(e, 'Forbidden') && e.message === `namespaces "${name}" is forbidden: this namespace may not be deleted`);
    }
  });

  it('runs only while leading, again for each new term', async () => {
    const { server } = await testServer({ namespaces: [] });
    let leader = false;
    let term = 1;
    let polls = 0;
    const isLeader = () => {
      polls++;
      return leader;
    };
    const loop = keepSystemNamespaces({ api: server, isLeader, term: () => term, pollMs: 5 });
    try {
      const count = async () => (await server.list({ resource: 'namespaces' })).items.length;
      // A follower never writes: several polls pass with nothing created.
      await until('several polls', () => polls >= 5);
      assert.equal(await count(), 0);
      leader = true;
      await until('created by the leader', async () => (await count()) === SYSTEM_NAMESPACES.length);
      // kube-node-lease goes away (nothing protects it); the next term's leader puts it back.
      await server.delete({ resource: 'namespaces', name: 'kube-node-lease' });
      term = 2;
      await until('recreated in the new term', async () => (await count()) === SYSTEM_NAMESPACES.length);
    } finally {
      loop.stop();
    }
  });

  it('exist on every member once a three-master cluster has a leader', { timeout: 60_000 }, async () => {
    const masters = await TestMasters.start(3, { systemNamespaces: true });
    const client = new NavarchClient({ endpoints: [...masters.members.values()].map((m) => m.clientAddress) });
    try {
      await masters.leader();
      const want = [...SYSTEM_NAMESPACES].sort();
      await until('the system namespaces exist', async () => JSON.stringify(await names(() => client.list('namespaces'))) === JSON.stringify(want));
      for (const m of masters.members.values()) {
        assert.deepEqual(await names(() => m.api.list({ resource: 'namespaces' })), want);
      }
      // A user's create of one of them is an ordinary AlreadyExists.
      await assert.rejects(client.create(obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } })), (e: unknown) => isApiError(e, 'AlreadyExists'));
    } finally {
      client.close();
      await masters.close();
    }
  });
});
