import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConfigMap, Lease, Pod } from '../api/registry.js';
import { obj, pod } from '../apiserver/test_util.js';
import { TestMasters } from '../etcdserver/test_util.js';
import { ApiError, NavarchClient, type FencingToken } from './mod.js';

const token = (holderIdentity: string, leaseTransitions: number): FencingToken => ({ leaseNamespace: 'kube-system', leaseName: 'kube-controller-manager', holderIdentity, leaseTransitions });
const cm = (name: string) => obj<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { a: '1' } });
const stale = (e: unknown) => e instanceof ApiError && e.code === 'Forbidden' && /the lease kube-system\/kube-controller-manager is held by "m2" \(transition 1\); this writer's token \(holder "m1", transition 0\) is stale/.test(e.message);

describe('NavarchClient: fencing and binding over gRPC, on three masters', () => {
  let masters: TestMasters;
  let client: NavarchClient;

  before(async () => {
    masters = await TestMasters.start(3);
    await masters.leader();
    client = new NavarchClient({ endpoints: [...masters.members.values()].map((m) => m.clientAddress), retryDeadlineMs: 10_000 });
    for (const name of ['default', 'kube-system']) await client.create(obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
  });

  after(async () => {
    client.close();
    await masters.close();
  });

  it('binds a pod once; a second bind or a recreated pod is a Conflict', async () => {
    const first = await client.create(pod('web-1'));
    await client.bind('default', 'web-1', 'n1', { uid: first.metadata!.uid });
    const bound = await client.get<Pod>('pods', 'default', 'web-1');
    assert.equal(bound.spec?.nodeName, 'n1');
    assert.equal(bound.status?.conditions.find((c) => c.type === 'PodScheduled')?.status, 'True');
    await assert.rejects(client.bind('default', 'web-1', 'n2'), (e: ApiError) => e.code === 'Conflict' && e.message === 'Operation cannot be fulfilled on pods/binding "web-1": pod web-1 is already assigned to node "n1"');
    await client.delete('pods', 'default', 'web-1', { gracePeriodSeconds: 0 });
    await client.create(pod('web-1'));
    await assert.rejects(client.bind('default', 'web-1', 'n2', { uid: first.metadata!.uid }), (e: ApiError) => e.code === 'Conflict' && /Precondition failed: UID/.test(e.message));
    await assert.rejects(client.bind('default', 'absent', 'n2'), (e: ApiError) => e.code === 'NotFound');
  });

  it('carries the token on every write of a withFencing client and is refused once the lease moves on', async () => {
    const lease = await client.create(
      obj<Lease>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'kube-controller-manager', namespace: 'kube-system' }, spec: { holderIdentity: 'm1', leaseTransitions: 0, leaseDurationSeconds: 3 } }),
    );
    const fenced = client.withFencing(token('m1', 0));
    assert.deepEqual(fenced.fencing, token('m1', 0));
    assert.equal(client.fencing, undefined, 'the original client stays unfenced');
    await fenced.create(cm('by-m1'));
    await fenced.create(pod('fenced-pod'));
    const made = await fenced.patch<ConfigMap>('configmaps', 'default', 'by-m1', 'merge', { data: { b: '2' } });

    // m2 takes the lease over.
    await client.update({ ...lease, spec: { ...lease.spec, holderIdentity: 'm2', leaseTransitions: 1 } });
    await assert.rejects(fenced.create(cm('late')), stale);
    await assert.rejects(fenced.update({ ...made, data: { a: 'late' } }), stale);
    const p = await client.get<Pod>('pods', 'default', 'fenced-pod');
    await assert.rejects(fenced.updateStatus({ ...p, status: obj<Pod>({ apiVersion: 'v1', kind: 'Pod', status: { phase: 'Failed' } }).status }), stale);
    await assert.rejects(fenced.patch('configmaps', 'default', 'by-m1', 'merge', { data: { c: 'late' } }), stale);
    await assert.rejects(fenced.delete('configmaps', 'default', 'by-m1'), stale);
    await assert.rejects(fenced.bind('default', 'fenced-pod', 'n1'), stale);
    assert.deepEqual((await client.get<ConfigMap>('configmaps', 'default', 'by-m1')).data, { a: '1', b: '2' });
    assert.equal((await client.get<Pod>('pods', 'default', 'fenced-pod')).spec?.nodeName, undefined);

    // The new holder's token works, and closing a fenced client leaves the shared connections open.
    const m2 = client.withFencing(token('m2', 1));
    await m2.bind('default', 'fenced-pod', 'n1');
    m2.close();
    fenced.close();
    assert.equal((await client.get<Pod>('pods', 'default', 'fenced-pod')).spec?.nodeName, 'n1');
  });

  it('refuses a malformed token at once, naming the field', () => {
    assert.throws(() => client.withFencing({ ...token('m1', 0), leaseName: '' }), (e: ApiError) => e.code === 'Invalid' && /fencing\.leaseName/.test(e.message));
  });
});
