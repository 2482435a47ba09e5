import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../api/registry.js';
import type { ApiServer } from './api_server.js';
import { deployment, obj, pod, testServer } from './test_util.js';

const lease = (renewTime?: string) =>
  obj({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, ...(renewTime ? { renewTime } : {}) } });
const podStatus = (ip: string) => obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'default' }, status: { phase: 'Running', podIP: ip } });

/** A spec update, status writes and a Lease renewal; then what the server stores. */
async function writes(server: ApiServer, objectOwned: boolean): Promise<KubeObject[]> {
  await server.create({ object: deployment('web', { replicas: 2 }) });
  const d = structuredClone(await server.get({ resource: 'deployments', namespace: 'default', name: 'web' })) as KubeObject & { spec: { replicas: number } };
  d.spec.replicas = 5;
  await server.update({ object: d, objectOwned });
  await server.update({ object: obj({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, status: { replicas: 5, readyReplicas: 3 } }), subresource: 'status', objectOwned });
  await server.create({ object: pod('p1') });
  await server.update({ object: podStatus('198.18.0.9'), subresource: 'status', objectOwned });
  await server.create({ object: lease() });
  await server.update({ object: lease('2026-01-02T03:04:09.000000Z'), objectOwned });
  return Promise.all([
    server.get({ resource: 'deployments', namespace: 'default', name: 'web' }),
    server.get({ resource: 'pods', namespace: 'default', name: 'p1' }),
    server.get({ resource: 'leases', namespace: 'kube-node-lease', name: 'n1' }),
  ]);
}

describe('updates of bodies the server owns (objectOwned, as the wire adapter hands them)', () => {
  it('store what the same updates store from bodies the server copies', async () => {
    const copied = await writes((await testServer({ namespaces: ['default', 'kube-node-lease'] })).server, false);
    const owned = await writes((await testServer({ namespaces: ['default', 'kube-node-lease'] })).server, true);
    assert.deepEqual(owned, copied);
    assert.equal((owned[0] as { metadata: { generation?: number } }).metadata.generation, 2);
  });

  it('write again over a winner after losing a race, filled in afresh from the newer object', async () => {
    const { server } = await testServer();
    await server.create({ object: pod('p1') });
    // Two unconditional writers at once: the one that loses the race writes again over the other.
    const [a, b] = await Promise.all([
      server.update({ object: podStatus('198.18.0.1'), subresource: 'status', objectOwned: true }),
      server.update({ object: podStatus('198.18.0.2'), subresource: 'status', objectOwned: true }),
    ]);
    assert.notEqual(a.metadata!.resourceVersion, b.metadata!.resourceVersion);
    const last = Number(a.metadata!.resourceVersion) > Number(b.metadata!.resourceVersion) ? a : b;
    const stored = await server.get({ resource: 'pods', namespace: 'default', name: 'p1' });
    assert.equal(stored.metadata!.resourceVersion, last.metadata!.resourceVersion);
    assert.equal((stored as { status?: { podIP?: string } }).status?.podIP, (last as { status?: { podIP?: string } }).status?.podIP);
  });
});
