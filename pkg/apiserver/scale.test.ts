import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Deployment, Scale } from '../api/registry.js';
import { isApiError } from './api_error.js';
import { deployment, obj, testServer } from './test_util.js';

const ref = { resource: 'deployments', namespace: 'default', name: 'web' };

describe('the scale subresource', () => {
  it("reads a Deployment's replicas and selector as an autoscaling/v1 Scale", async () => {
    const { server } = await testServer();
    const d = (await server.create({ object: deployment('web', { replicas: 3 }) })) as Deployment;
    const s = (await server.get({ ...ref, subresource: 'scale' })) as Scale;
    assert.equal(s.apiVersion, 'autoscaling/v1');
    assert.equal(s.kind, 'Scale');
    assert.deepEqual([s.metadata?.name, s.metadata?.namespace, s.metadata?.uid, s.metadata?.resourceVersion], ['web', 'default', d.metadata?.uid, d.metadata?.resourceVersion]);
    assert.deepEqual(s.spec, { replicas: 3 });
    assert.deepEqual(s.status, { replicas: 0, selector: 'app=web' });
    // Bytes through the gRPC path decode as a Scale too.
    assert.ok((await server.getBytes({ ...ref, subresource: 'scale' })).byteLength > 0);
  });

  it("kubectl scale's merge patch sets the object's spec.replicas (a new generation) and answers the Scale", async () => {
    const { server } = await testServer();
    await server.create({ object: deployment('web', { replicas: 3 }) });
    const s = (await server.patch({ ...ref, type: 'merge', patch: { spec: { replicas: 5 } }, subresource: 'scale' })) as Scale;
    assert.equal(s.kind, 'Scale');
    assert.equal(s.spec?.replicas, 5);
    const d = (await server.get(ref)) as Deployment;
    assert.equal(d.spec?.replicas, 5);
    assert.equal(d.metadata?.generation, 2);
    assert.equal(s.metadata?.resourceVersion, d.metadata?.resourceVersion);
  });

  it('takes strategic and JSON patches too, and a dry run stores nothing', async () => {
    const { server } = await testServer();
    await server.create({ object: deployment('web', { replicas: 3 }) });
    assert.equal(((await server.patch({ ...ref, type: 'strategic', patch: { spec: { replicas: 6 } }, subresource: 'scale' })) as Scale).spec?.replicas, 6);
    assert.equal(((await server.patch({ ...ref, type: 'json', patch: [{ op: 'replace', path: '/spec/replicas', value: 2 }], subresource: 'scale' })) as Scale).spec?.replicas, 2);
    assert.equal(((await server.patch({ ...ref, type: 'merge', patch: { spec: { replicas: 9 } }, subresource: 'scale', dryRun: true })) as Scale).spec?.replicas, 9);
    assert.equal(((await server.get(ref)) as Deployment).spec?.replicas, 2);
  });

  it('an update of the Scale is checked against its resourceVersion, and replicas may not be negative', async () => {
    const { server } = await testServer();
    await server.create({ object: deployment('web', { replicas: 3 }) });
    const s = (await server.get({ ...ref, subresource: 'scale' })) as Scale;
    const updated = (await server.update({ resource: 'deployments', subresource: 'scale', object: { ...s, spec: { replicas: 4 } } as Scale })) as Scale;
    assert.equal(updated.spec?.replicas, 4);
    await assert.rejects(server.update({ resource: 'deployments', subresource: 'scale', object: { ...s, spec: { replicas: 6 } } as Scale }), (e: unknown) => isApiError(e, 'Conflict'));
    await assert.rejects(server.update({ resource: 'deployments', subresource: 'scale', object: { ...updated, spec: { replicas: -1 } } as Scale }), {
      message: 'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    });
    assert.equal(((await server.get(ref)) as Deployment).spec?.replicas, 4);
  });

  it('exists only for kinds with replicas, and a Scale is never stored as an object', async () => {
    const { server } = await testServer();
    await server.create({ object: obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: '1' } }) });
    await assert.rejects(server.get({ resource: 'configmaps', namespace: 'default', name: 'c', subresource: 'scale' }), (e: unknown) => isApiError(e, 'NotFound') && /could not find the requested resource/.test(e.message));
    await assert.rejects(server.patch({ resource: 'configmaps', namespace: 'default', name: 'c', type: 'merge', patch: { spec: { replicas: 1 } }, subresource: 'scale' }), (e: unknown) => isApiError(e, 'NotFound'));
    const scale = obj({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'x', namespace: 'default' }, spec: { replicas: 1 } });
    await assert.rejects(server.create({ object: scale }), /it is the body of the scale subresource/);
  });
});
