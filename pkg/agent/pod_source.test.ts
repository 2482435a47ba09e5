import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../gen/navarch/api/v1/core.js';
import { pod, testServer } from '../apiserver/test_util.js';
import { FakeClock } from '../client/testing/fake_clock.js';
import { eventually } from '../client/testing/settle.js';
import { BOUND_PODS_SELECTOR, PodSource, podsOnNodeSelector } from './pod_source.js';
import { serverListWatcher } from './testing/server_list_watcher.js';

function recorder(seen: string[], node: string) {
  return { onPod: (p: Pod) => seen.push(`${node} pod ${p.metadata?.name}`), onPodGone: (p: Pod) => seen.push(`${node} gone ${p.metadata?.name}`) };
}

describe('PodSource', () => {
  it('sends each node the pods bound to it, from one watch of every bound pod', async () => {
    const t = await testServer();
    await t.server.create({ object: pod('a', { nodeName: 'n1' }) });
    await t.server.create({ object: pod('b', { nodeName: 'n2' }) });
    await t.server.create({ object: pod('pending') });
    const src = new PodSource(serverListWatcher<Pod>(t.server, 'pods', { fieldSelector: BOUND_PODS_SELECTOR }), { clock: new FakeClock() });
    const seen: string[] = [];
    src.handle('n1', recorder(seen, 'n1'));
    src.handle('n2', recorder(seen, 'n2'));
    assert.throws(() => src.handle('n1', recorder(seen, 'n1')), /already has a handler/);
    src.start();
    await src.waitForSync();
    assert.deepEqual(seen.splice(0).sort(), ['n1 pod a', 'n2 pod b']);
    // Binding the pending pod makes it appear on its node.
    await t.server.bind({ namespace: 'default', name: 'pending', target: { name: 'n2' } });
    await t.server.delete({ resource: 'pods', namespace: 'default', name: 'a', gracePeriodSeconds: 0 });
    await eventually('two events', () => seen.length === 2);
    assert.deepEqual(seen, ['n2 pod pending', 'n1 gone a']);
    assert.deepEqual(src.podsOn('n2').map((x) => x.metadata?.name).sort(), ['b', 'pending']);
    assert.deepEqual(src.podsOn('n1'), []);
    src.stop();
    t.server.closeWatches();
  });

  it('watches only its own node with spec.nodeName=<node>', async () => {
    const t = await testServer();
    await t.server.create({ object: pod('a', { nodeName: 'n1' }) });
    await t.server.create({ object: pod('b', { nodeName: 'n2' }) });
    const src = new PodSource(serverListWatcher<Pod>(t.server, 'pods', { fieldSelector: podsOnNodeSelector('n1') }), { clock: new FakeClock() });
    const seen: string[] = [];
    src.handle('n1', recorder(seen, 'n1'));
    src.start();
    await src.waitForSync();
    await t.server.create({ object: pod('c', { nodeName: 'n2' }) });
    await t.server.create({ object: pod('d', { nodeName: 'n1' }) });
    await eventually('d', () => seen.length === 2);
    assert.deepEqual(seen, ['n1 pod a', 'n1 pod d']);
    assert.equal(src.informer.store.size, 2);
    src.stop();
    t.server.closeWatches();
  });
});
