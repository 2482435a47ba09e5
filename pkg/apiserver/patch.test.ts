import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeObject } from '../api/convert/object.js';
import type { Deployment } from '../api/registry.js';
import { isApiError } from './api_error.js';
import { applyJsonPatch } from './patch/json_patch.js';
import { applyMergePatch } from './patch/json_merge_patch.js';
import { deployment, testServer } from './test_util.js';

const ref = { resource: 'deployments', namespace: 'default', name: 'web' } as const;

async function withDeployment() {
  const t = await testServer();
  const created = (await t.server.create({ object: deployment('web') })) as Deployment;
  return { ...t, created };
}

const containers = (d: Deployment) => d.spec!.template!.spec!.containers;

describe('merge patch', () => {
  it('merges maps, removes keys set to null and replaces lists', async () => {
    const { server } = await withDeployment();
    const d = (await server.patch({
      ...ref,
      type: 'merge',
      patch: JSON.stringify({ metadata: { labels: { team: 'a', gone: null } }, spec: { replicas: 3, template: { spec: { containers: [{ name: 'only', image: 'busybox:1' }] } } } }),
    })) as Deployment;
    assert.deepEqual(d.metadata?.labels, { team: 'a' });
    assert.equal(d.spec?.replicas, 3);
    assert.deepEqual(containers(d).map((c) => c.name), ['only'], 'a merge patch replaces lists');
    assert.equal(d.metadata?.generation, 2);
  });

  it('follows RFC 7386 on plain documents', () => {
    assert.deepEqual(applyMergePatch({ a: 'b', c: { d: 'e', f: 'g' } }, { a: 'z', c: { f: null } }), { a: 'z', c: { d: 'e' } });
    assert.deepEqual(applyMergePatch({ a: [1, 2] }, { a: [3] }), { a: [3] });
    assert.deepEqual(applyMergePatch('x', { a: 1 }), { a: 1 });
  });
});

describe('JSON patch', () => {
  it('applies add, replace, remove, move, copy and test in order', async () => {
    const { server } = await withDeployment();
    const d = (await server.patch({
      ...ref,
      type: 'json',
      patch: [
        { op: 'test', path: '/spec/replicas', value: 1 },
        { op: 'replace', path: '/spec/replicas', value: 4 },
        { op: 'add', path: '/metadata/labels', value: { a: '1' } },
        { op: 'copy', from: '/metadata/labels/a', path: '/metadata/labels/b' },
        { op: 'move', from: '/metadata/labels/a', path: '/metadata/labels/c' },
        { op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'C', value: '3' } },
        { op: 'remove', path: '/spec/template/spec/containers/1' },
      ],
    })) as Deployment;
    assert.equal(d.spec?.replicas, 4);
    assert.deepEqual(d.metadata?.labels, { b: '1', c: '1' });
    assert.deepEqual(containers(d).map((c) => c.name), ['web']);
    assert.deepEqual(containers(d)[0].env.map((e) => e.name), ['A', 'B', 'C']);
  });

  it('fails the whole patch when a test fails, naming the path', async () => {
    const { server, created } = await withDeployment();
    await assert.rejects(
      server.patch({ ...ref, type: 'json', patch: [{ op: 'replace', path: '/spec/replicas', value: 7 }, { op: 'test', path: '/spec/replicas', value: 1 }] }),
      (err: unknown) => isApiError(err, 'Invalid') && err.message === 'Cannot apply JSON patch: test of "/spec/replicas" failed: the value is not 1',
    );
    const d = (await server.get(ref)) as Deployment;
    assert.equal(d.metadata?.resourceVersion, created.metadata?.resourceVersion, 'nothing written');
  });

  it('names missing paths, bad indexes and unknown ops', () => {
    const doc = { a: [1], b: { c: 1 } };
    assert.throws(() => applyJsonPatch(doc, [{ op: 'remove', path: '/x' }]), /path "\/x" does not exist/);
    assert.throws(() => applyJsonPatch(doc, [{ op: 'add', path: '/a/5', value: 1 }]), /index 5 is out of range \(the list has 1 items\)/);
    assert.throws(() => applyJsonPatch(doc, [{ op: 'frob', path: '/a' }]), /unknown op "frob"/);
    assert.throws(() => applyJsonPatch(doc, { op: 'add' }), /expected a list of operations/);
    assert.deepEqual(applyJsonPatch({ 'a/b': { '~': 1 } }, [{ op: 'replace', path: '/a~1b/~0', value: 2 }]), { 'a/b': { '~': 2 } });
    assert.deepEqual(doc, { a: [1], b: { c: 1 } }, 'the input is not changed');
  });

  it('reports a patched object that no longer decodes with the field path', async () => {
    const { server } = await withDeployment();
    await assert.rejects(server.patch({ ...ref, type: 'json', patch: [{ op: 'add', path: '/spec/replicaz', value: 1 }] }), (err: unknown) => {
      assert.ok(isApiError(err, 'Invalid'));
      assert.match(err.message, /spec\.replicaz/);
      return true;
    });
    await assert.rejects(server.patch({ ...ref, type: 'json', patch: [{ op: 'replace', path: '/spec/replicas', value: 'three' }] }), (err: unknown) => isApiError(err, 'Invalid') && /spec\.replicas/.test(err.message));
  });
});

describe('strategic merge patch', () => {
  it('merges containers, env, ports and volumes by their keys', async () => {
    const { server } = await withDeployment();
    const d = (await server.patch({
      ...ref,
      type: 'strategic',
      patch: {
        spec: {
          template: {
            spec: {
              containers: [{ name: 'web', image: 'nginx:1.27', env: [{ name: 'B', value: 'two' }, { name: 'C', value: '3' }], ports: [{ containerPort: 443 }] }],
              volumes: [{ name: 'cache', emptyDir: {} }],
            },
          },
        },
      },
    })) as Deployment;
    const [web, sidecar] = containers(d);
    assert.equal(web.image, 'nginx:1.27');
    assert.equal(sidecar.name, 'sidecar', 'the other container is kept');
    assert.deepEqual(web.env.map((e) => [e.name, e.value]), [['A', '1'], ['B', 'two'], ['C', '3']]);
    // Without $setElementOrder a new item goes before the ones the patch leaves out, as in Kubernetes.
    assert.deepEqual(web.ports.map((p) => p.containerPort), [443, 80]);
    assert.deepEqual(d.spec!.template!.spec!.volumes.map((v) => v.name), ['cache', 'data']);
  });

  it('applies kubectl set image and apply bodies: maps merge, the named container changes, the rest stays', async () => {
    const { server } = await withDeployment();
    let labelled = (await server.patch({ ...ref, type: 'merge', patch: { metadata: { labels: { team: 'a' } } } })) as Deployment;
    assert.equal(labelled.metadata?.generation, 1, 'a label change does not bump the generation');
    labelled = (await server.patch({ ...ref, type: 'merge', patch: { metadata: { annotations: { note: 'by hand' } } } })) as Deployment;
    assert.equal(labelled.metadata?.generation, 2, "a Deployment's annotation change does, as in Kubernetes (they are copied to its ReplicaSets)");
    // kubectl set image deployment/web web=nginx:1.27
    const setImage = '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"sidecar"}],"containers":[{"image":"nginx:1.27","name":"web"}]}}}}';
    let d = (await server.patch({ ...ref, type: 'strategic', patch: setImage })) as Deployment;
    assert.deepEqual(containers(d).map((c) => [c.name, c.image]), [['web', 'nginx:1.27'], ['sidecar', 'busybox:1.36']]);
    assert.deepEqual(containers(d)[0].env.map((e) => e.name), ['A', 'B']);
    assert.equal(d.metadata?.generation, 3, 'a spec change bumps the generation');
    // kubectl apply's shape: the last-applied annotation and a label, merged into the ones set by hand.
    const applied = '{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}"},"labels":{"tier":"web"}},"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"sidecar"}],"containers":[{"image":"nginx:1.28","name":"web"}]}}}}';
    d = (await server.patch({ ...ref, type: 'strategic', patch: applied })) as Deployment;
    assert.deepEqual(d.metadata?.labels, { team: 'a', tier: 'web' });
    assert.deepEqual(d.metadata?.annotations, { note: 'by hand', 'kubectl.kubernetes.io/last-applied-configuration': '{}' });
    assert.deepEqual(containers(d).map((c) => [c.name, c.image]), [['web', 'nginx:1.28'], ['sidecar', 'busybox:1.36']]);
    // A label set to null is removed; the others stay.
    d = (await server.patch({ ...ref, type: 'strategic', patch: { metadata: { labels: { team: null } } } })) as Deployment;
    assert.deepEqual(d.metadata?.labels, { tier: 'web' });
  });

  it('deletes list items with $patch: delete and replaces with $patch: replace', async () => {
    const { server } = await withDeployment();
    const d = (await server.patch({
      ...ref,
      type: 'strategic',
      patch: { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }, { name: 'web', env: [{ name: 'A', $patch: 'delete' }] }], volumes: [{ $patch: 'replace' }, { name: 'fresh', emptyDir: {} }] } } } },
    })) as Deployment;
    assert.deepEqual(containers(d).map((c) => c.name), ['web']);
    assert.deepEqual(containers(d)[0].env.map((e) => e.name), ['B']);
    assert.deepEqual(d.spec!.template!.spec!.volumes.map((v) => v.name), ['fresh']);
  });

  it('refuses list items without their merge key', async () => {
    const { server } = await withDeployment();
    await assert.rejects(
      server.patch({ ...ref, type: 'strategic', patch: { spec: { template: { spec: { containers: [{ image: 'x' }] } } } } }),
      (err: unknown) => isApiError(err, 'Invalid') && /spec\.template\.spec\.containers has an item without its merge key "name"/.test(err.message),
    );
  });
});

describe('patch', () => {
  it('treats a resourceVersion in the patch as a precondition', async () => {
    const { server, created } = await withDeployment();
    await server.patch({ ...ref, type: 'merge', patch: { spec: { replicas: 2 } } });
    await assert.rejects(
      server.patch({ ...ref, type: 'merge', patch: { metadata: { resourceVersion: created.metadata?.resourceVersion }, spec: { replicas: 3 } } }),
      (err: unknown) => isApiError(err, 'Conflict'),
    );
  });

  it('writes only status through the status subresource', async () => {
    const { server } = await withDeployment();
    const d = (await server.patch({ ...ref, subresource: 'status', type: 'merge', patch: { spec: { replicas: 9 }, status: { readyReplicas: 1 } } })) as Deployment;
    assert.equal(d.spec?.replicas, 1);
    assert.equal(d.status?.readyReplicas, 1);
    const e = (await server.patch({ ...ref, type: 'merge', patch: { status: { readyReplicas: 5 } } })) as Deployment;
    assert.equal(e.status?.readyReplicas, 1, 'a main-resource patch does not write status');
  });

  it('refuses malformed patch documents and unknown patch types', async () => {
    const { server } = await withDeployment();
    await assert.rejects(server.patch({ ...ref, type: 'merge', patch: '{not json' }), (err: unknown) => isApiError(err, 'Invalid') && /^Cannot parse patch/.test(err.message));
    await assert.rejects(server.patch({ ...ref, type: 'apply' as 'merge', patch: {} }), (err: unknown) => isApiError(err, 'Invalid') && /Unsupported patch type "apply"/.test(err.message));
    await assert.rejects(server.patch({ ...ref, name: 'nope', type: 'merge', patch: {} }), (err: unknown) => isApiError(err, 'NotFound'));
  });

  it('round-trips an object through its JSON form unchanged by an empty patch', async () => {
    const { server, created, store } = await withDeployment();
    const rev = store.revision;
    const d = await server.patch({ ...ref, type: 'merge', patch: {} });
    assert.deepEqual(encodeObject(d), encodeObject(created));
    assert.equal(store.revision, rev, 'no write');
  });
});

describe('patch limits', () => {
  it('refuses a patch that makes the object too large, writing nothing', async () => {
    const t = await testServer({ maxObjectBytes: 4096 });
    await t.server.create({ object: deployment('web') });
    const rev = t.store.revision;
    await assert.rejects(
      t.server.patch({ ...ref, type: 'merge', patch: { metadata: { annotations: { big: 'x'.repeat(5000) } } } }),
      (err: unknown) => isApiError(err, 'TooLarge') && /^Cannot store deployments\.apps "web": the object is \d+ bytes, over the limit of 4096 bytes$/.test(err.message),
    );
    assert.equal(t.store.revision, rev);
  });
});
