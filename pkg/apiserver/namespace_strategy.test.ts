// A Namespace's spec.finalizers: set on create, changed only through the finalize subresource, so
// a Terminating namespace cannot be let go (and its objects left stored) by a plain update or patch.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject, Namespace } from '../api/registry.js';
import { isApiError } from './api_error.js';
import { obj, testServer } from './test_util.js';

const namespace = (name: string, extra: Record<string, unknown> = {}) => obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name }, ...extra });
const configMap = (name: string, ns: string) => obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { k: 'v' } });

describe('namespace strategy', () => {
  it('creates a namespace Active with the kubernetes finalizer, keeping finalizers it was given', async () => {
    const { server } = await testServer({ namespaces: [] });
    const a = (await server.create({ object: namespace('a', { status: { phase: 'Terminating' } }) })) as Namespace;
    assert.deepEqual(a.spec?.finalizers, ['kubernetes']);
    assert.equal(a.status?.phase, 'Active');
    const b = (await server.create({ object: namespace('b', { spec: { finalizers: ['example.com/audit'] } }) })) as Namespace;
    assert.deepEqual(b.spec?.finalizers, ['example.com/audit', 'kubernetes']);
  });

  it('labels a namespace with its name (kubernetes.io/metadata.name), and keeps the label through updates', async () => {
    const { server } = await testServer({ namespaces: [] });
    const a = (await server.create({ object: namespace('team-a') })) as Namespace;
    assert.equal(a.metadata?.labels?.['kubernetes.io/metadata.name'], 'team-a');
    const patched = (await server.patch({ resource: 'namespaces', name: 'team-a', type: 'merge', patch: JSON.stringify({ metadata: { labels: { 'kubernetes.io/metadata.name': null, env: 'prod' } } }) })) as Namespace;
    assert.deepEqual(patched.metadata?.labels, { 'kubernetes.io/metadata.name': 'team-a', env: 'prod' });
  });

  it('keeps spec.finalizers through updates and patches of the namespace, and the contents with it', async () => {
    const { server } = await testServer({ namespaces: [] });
    await server.create({ object: namespace('shop') });
    await server.create({ object: configMap('cfg', 'shop') });
    await server.delete({ resource: 'namespaces', name: 'shop' });
    const patched = (await server.patch({ resource: 'namespaces', name: 'shop', type: 'merge', patch: JSON.stringify({ spec: { finalizers: [] } }) })) as Namespace;
    assert.deepEqual(patched.spec?.finalizers, ['kubernetes']);
    const cur = (await server.get({ resource: 'namespaces', name: 'shop' })) as Namespace;
    const updated = (await server.update({ object: { ...cur, spec: { finalizers: [] } } as KubeObject })) as Namespace;
    assert.deepEqual(updated.spec?.finalizers, ['kubernetes']);
    assert.equal(updated.status?.phase, 'Terminating');
    await server.get({ resource: 'configmaps', namespace: 'shop', name: 'cfg' });
  });

  it('lets the finalize subresource empty spec.finalizers, which removes a Terminating namespace', async () => {
    const { server } = await testServer({ namespaces: [] });
    await server.create({ object: namespace('shop') });
    const cur = (await server.patch({ resource: 'namespaces', name: 'shop', type: 'merge', subresource: 'finalize', patch: JSON.stringify({ spec: { finalizers: ['example.com/x'] }, metadata: { labels: { ignored: 'yes' } } }) })) as Namespace;
    assert.deepEqual(cur.spec?.finalizers, ['example.com/x']);
    assert.equal(cur.metadata?.labels?.ignored, undefined, 'finalize writes only spec.finalizers');
    await server.delete({ resource: 'namespaces', name: 'shop' });
    await server.patch({ resource: 'namespaces', name: 'shop', type: 'merge', subresource: 'finalize', patch: JSON.stringify({ spec: { finalizers: [] } }) });
    await assert.rejects(server.get({ resource: 'namespaces', name: 'shop' }), (err: unknown) => isApiError(err, 'NotFound'));
  });

  it('has no finalize subresource for other kinds', async () => {
    const { server } = await testServer();
    await server.create({ object: configMap('cfg', 'default') });
    await assert.rejects(server.patch({ resource: 'configmaps', namespace: 'default', name: 'cfg', type: 'merge', subresource: 'finalize', patch: '{}' }), (err: unknown) => isApiError(err, 'NotFound') && /configmaps\/finalize/.test((err as Error).message));
  });
});
