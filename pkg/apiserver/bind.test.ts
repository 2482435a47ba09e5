import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Lease, Pod } from '../api/registry.js';
import { isApiError } from './api_error.js';
import type { RequestRecord } from './context.js';
import { obj, pod, testServer } from './test_util.js';

const rejects = (p: Promise<unknown>, code: string, message?: string | RegExp) =>
  assert.rejects(p, (err: unknown) => {
    assert.ok(isApiError(err), `expected an ApiError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    return true;
  });

const getPod = async (server: Awaited<ReturnType<typeof testServer>>['server'], name: string) => (await server.get({ resource: 'pods', namespace: 'default', name })) as Pod;

describe('binding', () => {
  it('sets spec.nodeName and a True PodScheduled condition in one write', async () => {
    const records: RequestRecord[] = [];
    const { server, store } = await testServer({ onRequest: (r) => records.push(r) });
    const created = await server.create({ object: pod('web-1') });
    const bound = await server.bind({ namespace: 'default', name: 'web-1', target: { kind: 'Node', name: 'n1' } });
    const r = records.at(-1)!;
    assert.deepEqual([r.verb, r.resource, r.subresource, r.code], ['create', 'pods', 'binding', 'OK'], 'counted as Kubernetes counts it');
    assert.equal(bound.spec?.nodeName, 'n1');
    assert.deepEqual(
      bound.status?.conditions.map((c) => [c.type, c.status, c.lastTransitionTime]),
      [['PodScheduled', 'True', '2026-01-02T03:04:05Z']],
    );
    assert.equal(bound.metadata?.resourceVersion, String(store.revision));
    assert.equal(bound.metadata?.uid, created.metadata?.uid);
    assert.equal(bound.metadata?.generation, undefined, 'a pod has no generation, and a binding gives it none (Kubernetes 1.30)');
    assert.deepEqual(await getPod(server, 'web-1'), bound);
    const running = (await server.updateStatus({ object: { ...bound, status: { ...bound.status!, phase: 'Running', podIP: '198.18.0.5' } } as Pod })) as Pod;
    assert.equal(running.metadata?.generation, bound.metadata?.generation, 'a status update leaves the generation alone');
    assert.equal(running.spec?.nodeName, 'n1');
  });

  it('turns a False PodScheduled condition (an earlier failed attempt) True', async () => {
    const { server, clock } = await testServer();
    const p = await server.create({ object: pod('web-1') });
    await server.updateStatus({
      object: { ...p, status: obj<Pod>({ apiVersion: 'v1', kind: 'Pod', status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available', lastTransitionTime: '2026-01-02T03:04:05Z' }] } }).status } as Pod,
    });
    clock.nowMs += 7000;
    const bound = await server.bind({ namespace: 'default', name: 'web-1', target: { name: 'n2' } });
    assert.deepEqual(JSON.parse(JSON.stringify(bound.status?.conditions)), [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-02T03:04:12Z' }]);
    assert.deepEqual(await getPod(server, 'web-1'), bound);
  });

  it('refuses to bind a pod that is already bound, even to the same node', async () => {
    const { server, store } = await testServer();
    await server.create({ object: pod('web-1') });
    await server.bind({ namespace: 'default', name: 'web-1', target: { name: 'n1' } });
    const revision = store.revision;
    await rejects(server.bind({ namespace: 'default', name: 'web-1', target: { name: 'n2' } }), 'Conflict', 'Operation cannot be fulfilled on pods/binding "web-1": pod web-1 is already assigned to node "n1"');
    await rejects(server.bind({ namespace: 'default', name: 'web-1', target: { name: 'n1' } }), 'Conflict', /already assigned to node "n1"/);
    assert.equal(store.revision, revision);
    assert.equal((await getPod(server, 'web-1')).spec?.nodeName, 'n1');
  });

  it('refuses a bind for a pod recreated under the same name (uid differs)', async () => {
    const { server } = await testServer();
    const first = await server.create({ object: pod('web-1') });
    await server.delete({ resource: 'pods', namespace: 'default', name: 'web-1' });
    const second = await server.create({ object: pod('web-1') });
    await rejects(
      server.bind({ namespace: 'default', name: 'web-1', uid: first.metadata!.uid, target: { name: 'n1' } }),
      'Conflict',
      `Operation cannot be fulfilled on pods/binding "web-1": Precondition failed: UID in precondition: ${first.metadata!.uid}, UID in object meta: ${second.metadata!.uid}`,
    );
    const bound = await server.bind({ namespace: 'default', name: 'web-1', uid: second.metadata!.uid, target: { name: 'n1' } });
    assert.equal(bound.spec?.nodeName, 'n1');
  });

  it('refuses a pod being deleted, a missing pod, and a bad target with its field path', async () => {
    const { server } = await testServer();
    await server.create({ object: pod('doomed', { finalizers: ['example.com/hold'] }) });
    await server.delete({ resource: 'pods', namespace: 'default', name: 'doomed' });
    await rejects(server.bind({ namespace: 'default', name: 'doomed', target: { name: 'n1' } }), 'Conflict', /pod doomed is being deleted, cannot be assigned to a host/);
    await rejects(server.bind({ namespace: 'default', name: 'absent', target: { name: 'n1' } }), 'NotFound', 'pods "absent" not found');
    await rejects(server.bind({ namespace: 'default', name: 'doomed', target: { name: '' } }), 'Invalid', 'Binding "doomed" is invalid: target.name: Required value');
    await rejects(server.bind({ namespace: 'default', name: 'doomed', target: { name: 'Node_1' } }), 'Invalid', /target\.name: Invalid value: "Node_1": a lowercase RFC 1123 subdomain/);
    await rejects(server.bind({ namespace: 'default', name: 'doomed', target: { kind: 'Pod', name: 'n1' } }), 'Invalid', /target\.kind: Unsupported value: "Pod": supported values: "Node", "<empty>"/);
    await rejects(server.bind({ namespace: '', name: 'doomed', target: { name: 'n1' } }), 'Invalid', /namespace is required/);
    await rejects(server.bind(null as never), 'Invalid', /expected a request object/);
  });

  it('lets exactly one of many concurrent binds of a pod win', async () => {
    const { server } = await testServer();
    await server.create({ object: pod('web-1') });
    const results = await Promise.allSettled(['n1', 'n2', 'n3', 'n4'].map((n) => server.bind({ namespace: 'default', name: 'web-1', target: { name: n } })));
    const won = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Pod>[];
    assert.equal(won.length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(isApiError(r.reason, 'Conflict'), String(r.reason));
    assert.equal((await getPod(server, 'web-1')).spec?.nodeName, won[0].value.spec?.nodeName);
  });

  it('is fenced: a scheduler whose lease was taken over cannot bind', async () => {
    const { server } = await testServer({ namespaces: ['default', 'kube-system'] });
    const l = (await server.create({
      object: obj<Lease>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'kube-scheduler', namespace: 'kube-system' }, spec: { holderIdentity: 'm1', leaseTransitions: 0 } }),
    })) as Lease;
    await server.update({ object: { ...l, spec: { ...l.spec, holderIdentity: 'm2', leaseTransitions: 1 } } as Lease });
    await server.create({ object: pod('web-1') });
    const fencing = (holderIdentity: string, leaseTransitions: number) => ({ leaseNamespace: 'kube-system', leaseName: 'kube-scheduler', holderIdentity, leaseTransitions });
    await rejects(server.bind({ namespace: 'default', name: 'web-1', target: { name: 'n1' }, fencing: fencing('m1', 0) }), 'Forbidden', /held by "m2" \(transition 1\)/);
    assert.equal((await getPod(server, 'web-1')).spec?.nodeName, undefined);
    await server.bind({ namespace: 'default', name: 'web-1', target: { name: 'n2' }, fencing: fencing('m2', 1) });
    assert.equal((await getPod(server, 'web-1')).spec?.nodeName, 'n2');
  });
});
