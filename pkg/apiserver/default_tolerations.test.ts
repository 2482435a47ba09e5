import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../api/registry.js';
import { pod, testServer } from './test_util.js';

const summary = (p: Pod) => (p.spec?.tolerations ?? []).map((t) => `${t.key ?? ''}:${t.operator ?? ''}:${t.effect ?? ''}:${t.tolerationSeconds ?? '-'}`);

describe('default tolerations (DefaultTolerationSeconds admission)', () => {
  it('gives a new pod not-ready and unreachable NoExecute tolerations of the configured seconds', async () => {
    const { server } = await testServer({ defaultTolerationSeconds: 45 });
    const created = (await server.create({ object: pod('web') })) as Pod;
    assert.deepEqual(summary(created), ['node.kubernetes.io/not-ready:Exists:NoExecute:45', 'node.kubernetes.io/unreachable:Exists:NoExecute:45']);
    assert.deepEqual(summary((await server.get({ resource: 'pods', namespace: 'default', name: 'web' })) as Pod), summary(created));
  });

  it('adds none for a key the pod already tolerates for NoExecute (or any effect), whatever the value', async () => {
    const { server } = await testServer();
    const p = pod('web') as Pod;
    p.spec!.tolerations = [{ key: 'node.kubernetes.io/unreachable', operator: 'Equal', value: 'x', effect: 'NoExecute', tolerationSeconds: 5 }];
    assert.deepEqual(summary((await server.create({ object: p })) as Pod), ['node.kubernetes.io/unreachable:Equal:NoExecute:5', 'node.kubernetes.io/not-ready:Exists:NoExecute:20']);
    const all = pod('all') as Pod;
    all.spec!.tolerations = [{ operator: 'Exists' }];
    assert.deepEqual(summary((await server.create({ object: all })) as Pod), [':Exists::-'], 'an empty key and effect tolerates both');
    const other = pod('sched') as Pod;
    other.spec!.tolerations = [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' }];
    assert.equal(summary((await server.create({ object: other })) as Pod).length, 3, 'a NoSchedule toleration does not count');
  });

  it('keeps them through a PUT of the original manifest, as Kubernetes runs the admission on updates too', async () => {
    const { server } = await testServer();
    const created = (await server.create({ object: pod('web') })) as Pod;
    const manifest = pod('web') as Pod;
    manifest.metadata!.resourceVersion = created.metadata?.resourceVersion;
    manifest.spec!.containers[0].image = 'nginx:1.27';
    const updated = (await server.update({ object: manifest })) as Pod;
    assert.equal(updated.spec?.containers[0].image, 'nginx:1.27');
    assert.deepEqual(summary(updated), summary(created));
  });
});
