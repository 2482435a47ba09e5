import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../api/registry.js';
import { obj, testServer } from './test_util.js';

test('a created pod gets status.qosClass from its containers unless the client sent one, as Kubernetes', async () => {
  const { server } = await testServer();
  const make = (name: string, resources: Record<string, unknown>, status?: Record<string, unknown>) =>
    obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'nginx:1.25', resources }] }, ...(status ? { status } : {}) });
  const created = async (name: string, resources: Record<string, unknown>, status?: Record<string, unknown>) => ((await server.create({ object: make(name, resources, status) })) as Pod).status?.qosClass;
  assert.equal(await created('none', {}), 'BestEffort');
  assert.equal(await created('some', { requests: { cpu: '100m' } }), 'Burstable');
  assert.equal(await created('exact', { limits: { cpu: '1', memory: '1Gi' } }), 'Guaranteed');
  assert.equal(await created('claims', {}, { qosClass: 'Guaranteed' }), 'Guaranteed');
  const stored = (await server.get({ resource: 'pods', namespace: 'default', name: 'exact' })) as Pod;
  assert.equal(stored.status?.qosClass, 'Guaranteed');
});

test('a created pod starts Pending whatever status the client sent, as Kubernetes', async () => {
  const { server } = await testServer();
  const sent = { phase: 'Running', podIP: '198.18.0.7', hostIP: '198.18.0.1', conditions: [{ type: 'Ready', status: 'True' }] };
  const object = obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'claims-running', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] }, status: sent });
  await server.create({ object });
  const stored = (await server.get({ resource: 'pods', namespace: 'default', name: 'claims-running' })) as Pod;
  assert.equal(stored.status?.phase, 'Pending');
  assert.equal(stored.status?.podIP ?? '', '');
  assert.equal(stored.status?.hostIP ?? '', '');
  assert.deepEqual(stored.status?.conditions ?? [], []);
  assert.equal(stored.status?.qosClass, 'BestEffort');
});

test('a status write that leaves the QoS class out keeps the one set at create, as Kubernetes backfills it', async () => {
  const { server } = await testServer();
  const created = (await server.create({ object: obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'nginx:1.25', resources: { limits: { cpu: '1', memory: '1Gi' } } }] } }) })) as Pod;
  assert.equal(created.status?.qosClass, 'Guaranteed');
  const next = { ...created, status: { ...created.status!, qosClass: undefined, phase: 'Running' } } as Pod;
  const written = (await server.update({ object: next, subresource: 'status' })) as Pod;
  assert.equal(written.status?.phase, 'Running');
  assert.equal(written.status?.qosClass, 'Guaranteed');
});
