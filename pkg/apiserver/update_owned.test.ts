import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../api/registry.js';
import { Store, type TxnRequest, type TxnResponse } from '../store/mod.js';
import type { ApiServer } from './api_server.js';
import { StoreBackend } from './backend.js';
import { deployment, obj, pod, testServer } from './test_util.js';

const lease = (renewTime?: string) =>
  obj({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, ...(renewTime ? { renewTime } : {}) } });
const podStatus = (ip: string) => obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'default' }, status: { phase: 'Running', podIP: ip } });

/** An update as the wire adapter makes it: a body of the request's own, and a way to decode another. */
function fromWire(object: KubeObject, wire: boolean): { object: KubeObject; decodeAgain?: () => KubeObject } {
  return wire ? { object: structuredClone(object), decodeAgain: () => structuredClone(object) } : { object };
}

/** A spec update, status writes and a Lease renewal; then what the server stores. */
async function writes(server: ApiServer, wire: boolean): Promise<KubeObject[]> {
  await server.create({ object: deployment('web', { replicas: 2 }) });
  const d = structuredClone(await server.get({ resource: 'deployments', namespace: 'default', name: 'web' })) as KubeObject & { spec: { replicas: number } };
  d.spec.replicas = 5;
  await server.update(fromWire(d, wire));
  await server.update({ ...fromWire(obj({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, status: { replicas: 5, readyReplicas: 3 } }), wire), subresource: 'status' });
  await server.create({ object: pod('p1') });
  await server.update({ ...fromWire(podStatus('198.18.0.9'), wire), subresource: 'status' });
  await server.create({ object: lease() });
  await server.update(fromWire(lease('2026-01-02T03:04:09.000000Z'), wire));
  return Promise.all([
    server.get({ resource: 'deployments', namespace: 'default', name: 'web' }),
    server.get({ resource: 'pods', namespace: 'default', name: 'p1' }),
    server.get({ resource: 'leases', namespace: 'kube-node-lease', name: 'n1' }),
  ]);
}

/** A backend that runs `before` once, just before the next write reaches the store. */
class InterposingBackend extends StoreBackend {
  before: (() => Promise<void>) | undefined;
  override async txn(req: TxnRequest): Promise<TxnResponse> {
    const f = this.before;
    this.before = undefined;
    if (f) await f();
    return super.txn(req);
  }
}

describe('updates of bodies decoded for the request (decodeAgain, as the wire adapter hands them)', () => {
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
      server.update({ ...fromWire(podStatus('198.18.0.1'), true), subresource: 'status' }),
      server.update({ ...fromWire(podStatus('198.18.0.2'), true), subresource: 'status' }),
    ]);
    assert.notEqual(a.metadata!.resourceVersion, b.metadata!.resourceVersion);
    const last = Number(a.metadata!.resourceVersion) > Number(b.metadata!.resourceVersion) ? a : b;
    const stored = await server.get({ resource: 'pods', namespace: 'default', name: 'p1' });
    assert.equal(stored.metadata!.resourceVersion, last.metadata!.resourceVersion);
    assert.equal((stored as { status?: { podIP?: string } }).status?.podIP, (last as { status?: { podIP?: string } }).status?.podIP);
  });

  it('take no uid the writer did not give for a precondition when the object is made anew between attempts', async () => {
    for (const wire of [false, true]) {
      const clock = { nowMs: Date.UTC(2026, 0, 2, 3, 4, 5) };
      const backend = new InterposingBackend(new Store(), { nowMs: () => clock.nowMs });
      const { server } = await testServer({ backend });
      await server.create({ object: pod('p1') });
      const first = await server.get({ resource: 'pods', namespace: 'default', name: 'p1' });
      // The first attempt's write finds the pod deleted and created again (another uid) meanwhile.
      backend.before = async () => {
        await server.delete({ resource: 'pods', namespace: 'default', name: 'p1', gracePeriodSeconds: 0 });
        await server.create({ object: pod('p1') });
      };
      const written = await server.update({ ...fromWire(podStatus('198.18.0.7'), wire), subresource: 'status' });
      assert.notEqual(written.metadata!.uid, first.metadata!.uid, `wire ${wire}`);
      assert.equal((written as { status?: { podIP?: string } }).status?.podIP, '198.18.0.7');
    }
  });
});
