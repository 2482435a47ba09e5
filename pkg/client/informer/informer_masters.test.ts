// The informer on three in-process masters: when the master serving its watch stops, the watch
// resumes on another one from the last revision, so the informer misses nothing and does not relist.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConfigMap } from '../../api/registry.js';
import { obj } from '../../apiserver/test_util.js';
import { TestMasters, until } from '../../etcdserver/test_util.js';
import { NavarchClient } from '../client.js';
import { InformerFactory } from './informer_factory.js';

const cm = (name: string) => obj<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'apps' } });

describe('SharedInformer on three masters', () => {
  let masters: TestMasters;
  let client: NavarchClient;

  before(async () => {
    masters = await TestMasters.start(3);
    await masters.leader();
    client = new NavarchClient({ endpoints: [...masters.members.values()].map((m) => m.clientAddress), retryDeadlineMs: 15_000 });
    await client.create(obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } }));
  });

  after(async () => {
    client.close();
    await masters.close();
  });

  it('follows every change without a relist when the master serving its watch stops', async () => {
    for (let i = 0; i < 5; i++) await client.create(cm(`before-${i}`));
    const factory = InformerFactory.forClient(client, { namespace: 'apps', logger: { warn: () => {} } });
    const informer = factory.informer<ConfigMap>('configmaps');
    const adds: string[] = [];
    informer.addEventHandler({ onAdd: (c) => adds.push(c.metadata!.name!) });
    factory.start();
    await factory.waitForSync({ timeoutMs: 10_000 });
    assert.equal(informer.store.size, 5);
    // The client reads from its first endpoint first: that member serves the watch.
    const first = [...masters.members.values()].find((m) => m.clientAddress === client.endpoints[0])!;
    await client.create(cm('during-0'));
    await first.stop({ transferLeadership: true });
    masters.members.delete(first.id);
    for (let i = 1; i < 5; i++) await client.create(cm(`during-${i}`));
    await until('every add', () => informer.store.size === 10, 15_000);
    assert.deepEqual(adds.slice(5), ['during-0', 'during-1', 'during-2', 'during-3', 'during-4']);
    assert.equal(informer.reflectorStats.lists, 1, 'no relist');
    factory.stop();
  });
});
