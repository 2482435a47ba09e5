import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject, Pod } from '../../api/registry.js';
import { obj, pod } from '../../apiserver/test_util.js';
import { FakeClock } from '../testing/fake_clock.js';
import { FakeListWatch } from '../testing/fake_list_watch.js';
import { peek } from '../testing/settle.js';
import { InformerFactory } from './informer_factory.js';

describe('InformerFactory', () => {
  it('shares one informer per resource, starts late ones on the next start, and waits for all', async () => {
    const sources = new Map<string, FakeListWatch>([
      ['pods', new FakeListWatch()],
      ['nodes', new FakeListWatch()],
    ]);
    sources.get('pods')!.create(pod('a', { nodeName: 'n1' }));
    sources.get('nodes')!.create(obj({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } }));
    const clock = new FakeClock();
    const factory = new InformerFactory((r) => sources.get(r)!, { clock, logger: { warn: () => {} } });
    const pods = factory.informer<Pod>('pods');
    assert.equal(factory.informer('pods'), pods);
    factory.start();
    await factory.waitForSync();
    assert.equal(pods.store.size, 1);

    const nodes = factory.informer<KubeObject>('nodes');
    const samePods = factory.informer<Pod>('pods', { indexers: { byNode: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) } });
    assert.equal(samePods, pods);
    assert.deepEqual(pods.store.byIndex('byNode', 'n1').map((p) => p.metadata?.name), ['a'], 'the new index is filled from the store');
    assert.equal(nodes.hasSynced(), false);
    const all = factory.waitForSync();
    assert.equal(await peek(all), undefined, 'only started informers are waited for');
    factory.start();
    await factory.waitForSync();
    assert.equal(nodes.store.get(undefined, 'n1')?.metadata?.name, 'n1');

    factory.stop();
    assert.throws(() => factory.start(), /Cannot start informers: the factory was stopped/);
  });
});
