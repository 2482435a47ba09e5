import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject, Pod, PodDisruptionBudget } from '../api/registry.js';
import type { ApiServer } from './api_server.js';
import { isApiError, isNamespaceTerminating } from './api_error.js';
import { obj, pod, testServer } from './test_util.js';

const eviction = (name: string, deleteOptions: Record<string, unknown> = {}): KubeObject =>
  obj({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' }, deleteOptions });

const evict = (server: ApiServer, name: string, deleteOptions: Record<string, unknown> = {}, dryRun = false) =>
  server.create({ resource: 'pods', namespace: 'default', name, subresource: 'eviction', object: eviction(name, deleteOptions), dryRun });

/** A pod of app=web on node-1, Running and Ready unless told otherwise. */
async function runningPod(server: ApiServer, name: string, o: { ready?: boolean; phase?: string } = {}): Promise<Pod> {
  await server.create({ object: pod(name, { labels: { app: 'web' }, nodeName: 'node-1' }) });
  const cur = (await server.get({ resource: 'pods', namespace: 'default', name })) as Pod;
  const status = { ...cur.status!, phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] };
  return (await server.updateStatus({ object: { ...cur, status } as Pod })) as Pod;
}

/** A budget over app=web whose status says what the disruption controller would have written. */
async function budget(server: ApiServer, status: { disruptionsAllowed: number; currentHealthy: number; desiredHealthy: number; observed?: boolean }, spec: Record<string, unknown> = {}): Promise<void> {
  await server.create({ object: obj({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } }, ...spec } }) });
  const cur = (await server.get({ resource: 'poddisruptionbudgets', namespace: 'default', name: 'web' })) as PodDisruptionBudget;
  const { observed = true, ...counts } = status;
  await server.updateStatus({ object: { ...cur, status: { ...counts, expectedPods: 3, observedGeneration: observed ? cur.metadata?.generation : 0, disruptedPods: {}, conditions: [] } } as PodDisruptionBudget });
}

const getPod = (server: ApiServer, name: string) => server.get({ resource: 'pods', namespace: 'default', name }) as Promise<Pod>;
const getBudget = (server: ApiServer) => server.get({ resource: 'poddisruptionbudgets', namespace: 'default', name: 'web' }) as Promise<PodDisruptionBudget>;

describe('pods/eviction', () => {
  it('deletes a pod no budget guards, gracefully, after marking it DisruptionTarget', async () => {
    const { server } = await testServer();
    await runningPod(server, 'a');
    await evict(server, 'a');
    const p = await getPod(server, 'a');
    assert.ok(p.metadata?.deletionTimestamp, 'marked for deletion (it is bound: graceful)');
    assert.equal(p.metadata?.deletionGracePeriodSeconds, 30);
    const c = p.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
    assert.deepEqual([c?.status, c?.reason, c?.message], ['True', 'EvictionByEvictionAPI', 'Eviction API: evicting']);
  });

  it("takes one of the budget's disruptions, records the pod, and deletes it", async () => {
    const { server, clock } = await testServer();
    await runningPod(server, 'a');
    await budget(server, { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2 });
    await evict(server, 'a', { gracePeriodSeconds: 0 });
    await assert.rejects(getPod(server, 'a'), (e) => isApiError(e, 'NotFound'));
    const b = await getBudget(server);
    assert.equal(b.status?.disruptionsAllowed, 0);
    assert.deepEqual(Object.keys(b.status?.disruptedPods ?? {}), ['a']);
    assert.equal(b.status?.disruptedPods?.a, new Date(clock.nowMs).toISOString().replace(/\.\d+Z$/, 'Z'));
    const cond = b.status?.conditions?.find((c) => c.type === 'DisruptionAllowed');
    assert.deepEqual([cond?.status, cond?.reason], ['False', 'InsufficientPods']);
  });

  it('refuses with 429 TooManyRequests while the budget allows no disruption, and changes nothing', async () => {
    const { server } = await testServer();
    await runningPod(server, 'a');
    await budget(server, { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2 });
    await assert.rejects(evict(server, 'a'), (e) => {
      assert.ok(isApiError(e, 'TooManyRequests'));
      assert.equal(e.httpStatus, 429);
      assert.equal(e.message, "Cannot evict pod as it would violate the pod's disruption budget.");
      assert.deepEqual(e.details.causes?.map((c) => [c.type, c.detail]), [['DisruptionBudget', 'The disruption budget web needs 2 healthy pods and has 2 currently']]);
      return true;
    });
    const p = await getPod(server, 'a');
    assert.equal(p.metadata?.deletionTimestamp, undefined);
    assert.equal(p.status?.conditions?.find((c) => c.type === 'DisruptionTarget'), undefined);
  });

  it('waits (429) for the controller to see a new budget spec', async () => {
    const { server } = await testServer();
    await runningPod(server, 'a');
    await budget(server, { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, observed: false });
    await assert.rejects(evict(server, 'a'), (e) => isApiError(e, 'TooManyRequests') && e.details.causes?.[0]?.detail === 'The disruption budget web is still being processed by the server.');
  });

  it('lets an unready pod go without using the budget while the budget is whole, or always with AlwaysAllow', async () => {
    const { server } = await testServer();
    await runningPod(server, 'sick', { ready: false });
    await budget(server, { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2 });
    await evict(server, 'sick', { gracePeriodSeconds: 0 });
    assert.equal((await getBudget(server)).status?.disruptionsAllowed, 0);
    await assert.rejects(getPod(server, 'sick'), (e) => isApiError(e, 'NotFound'));

    const other = await testServer();
    await runningPod(other.server, 'sick', { ready: false });
    await budget(other.server, { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 2 });
    await assert.rejects(evict(other.server, 'sick'), (e) => isApiError(e, 'TooManyRequests'), 'IfHealthyBudget: the budget is not whole');
    await other.server.delete({ resource: 'poddisruptionbudgets', namespace: 'default', name: 'web' });
    await budget(other.server, { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 2 }, { unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    await evict(other.server, 'sick', { gracePeriodSeconds: 0 });
    await assert.rejects(getPod(other.server, 'sick'), (e) => isApiError(e, 'NotFound'));
  });

  it('ignores budgets for pods that are not running: Pending, finished, or already terminating', async () => {
    const { server } = await testServer();
    await server.create({ object: pod('pending', { labels: { app: 'web' } }) });
    await runningPod(server, 'done', { phase: 'Succeeded' });
    await budget(server, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 2 });
    await evict(server, 'pending');
    await evict(server, 'done');
    await assert.rejects(getPod(server, 'pending'), (e) => isApiError(e, 'NotFound'));
    await assert.rejects(getPod(server, 'done'), (e) => isApiError(e, 'NotFound'));
  });

  it('refuses a pod two budgets guard, and a dry run writes nothing', async () => {
    const { server } = await testServer();
    await runningPod(server, 'a');
    await budget(server, { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2 });
    await evict(server, 'a', {}, true);
    await evict(server, 'a', { dryRun: ['All'] });
    assert.equal((await getBudget(server)).status?.disruptionsAllowed, 1);
    const untouched = await getPod(server, 'a');
    assert.equal(untouched.metadata?.deletionTimestamp, undefined);
    assert.equal(untouched.status?.conditions?.find((c) => c.type === 'DisruptionTarget'), undefined, 'a dry run marks nothing');
    await server.create({ object: obj({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'all', namespace: 'default' }, spec: { maxUnavailable: 1, selector: {} } }) });
    await assert.rejects(evict(server, 'a'), (e) => isApiError(e, 'Internal') && /more than one PodDisruptionBudget/.test(e.message));
  });

  it('says what is wrong with a bad request', async () => {
    const { server } = await testServer();
    await runningPod(server, 'a');
    await assert.rejects(server.create({ resource: 'pods', namespace: 'default', name: 'b', subresource: 'eviction', object: eviction('a') }), /name in URL does not match name in Eviction object/);
    await assert.rejects(evict(server, 'a', { gracePeriodSeconds: -1 }), (e) => isApiError(e, 'Invalid') && /deleteOptions.gracePeriodSeconds/.test(e.message));
    await assert.rejects(evict(server, 'nope'), (e) => isApiError(e, 'NotFound'));
    await assert.rejects(server.create({ resource: 'pods', namespace: 'default', name: 'a', subresource: 'binding', object: eviction('a') }), /only pods\/eviction/);
    await assert.rejects(evict(server, 'a', { preconditions: { uid: 'other' } }), (e) => isApiError(e, 'Conflict') && /^Operation cannot be fulfilled on Pod "a": the UID in the precondition \(other\) does not match the UID in record/.test(e.message));
    await assert.rejects(server.create({ resource: 'pods', namespace: 'default', name: 'a', subresource: 'eviction', object: eviction('') }), /name in URL does not match name in Eviction object/);
    await assert.rejects(server.create({ resource: 'deployments', namespace: 'default', name: 'a', subresource: 'eviction', object: eviction('a') }), (e) => isApiError(e, 'NotFound') && /only pods\/eviction/.test(e.message));
    await assert.rejects(evict(server, 'a', { orphanDependents: true, propagationPolicy: 'Background' }), (e) => isApiError(e, 'Invalid') && /orphanDependents and deletionPropagation cannot be both set/.test(e.message));
    await assert.rejects(server.create({ resource: 'pods', namespace: 'default', name: 'a', subresource: 'eviction', object: undefined as unknown as KubeObject }), (e) => isApiError(e, 'Invalid') && /must be a policy\/v1 Eviction/.test(e.message));
    const handBuilt = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'a', namespace: 'default' }, deleteOptions: { dryRun: 'All' } } as unknown as KubeObject;
    await assert.rejects(server.create({ resource: 'pods', namespace: 'default', name: 'a', subresource: 'eviction', object: handBuilt }), (e) => isApiError(e, 'Invalid') && /deleteOptions.dryRun/.test(e.message));
    await assert.rejects(server.create({ resource: 'nosuch', namespace: 'default', name: 'a', subresource: 'eviction', object: eviction('a') }), (e) => isApiError(e) && e.code !== 'Internal');
    await assert.rejects(server.create({ name: 'b', object: pod('a') }), /the name of the object \(a\) does not match the name on the URL \(b\)/);
    assert.equal((await getPod(server, 'a')).metadata?.deletionTimestamp, undefined, 'nothing happened to the pod');
  });

  it('lets concurrent evictions under one budget all through while it allows them, one disruption each', async () => {
    const { server } = await testServer();
    const names = Array.from({ length: 20 }, (_, i) => `p${i}`);
    for (const n of names) await runningPod(server, n);
    await budget(server, { disruptionsAllowed: 20, currentHealthy: 20, desiredHealthy: 0 }, { minAvailable: 0 });
    await Promise.all(names.map((n) => evict(server, n, { gracePeriodSeconds: 0 })));
    const b = await getBudget(server);
    assert.equal(b.status?.disruptionsAllowed, 0);
    assert.deepEqual(Object.keys(b.status?.disruptedPods ?? {}).sort(), [...names].sort());
    // The budget is used up: the next is refused (429), not failed.
    await runningPod(server, 'late');
    await assert.rejects(evict(server, 'late'), (e) => isApiError(e, 'TooManyRequests'));
  });

  it('answers more evictions at once than the budget allows with 429 for the rest, never Conflict', async () => {
    const { server } = await testServer();
    const names = Array.from({ length: 30 }, (_, i) => `p${i}`);
    for (const n of names) await runningPod(server, n);
    await budget(server, { disruptionsAllowed: 25, currentHealthy: 30, desiredHealthy: 5 }, { minAvailable: 5 });
    const results = await Promise.allSettled(names.map((n) => evict(server, n, { gracePeriodSeconds: 0 })));
    const outcome = results.map((r) => (r.status === 'fulfilled' ? 'evicted' : isApiError(r.reason) ? r.reason.code : String(r.reason)));
    assert.equal(outcome.filter((o) => o === 'evicted').length, 25);
    assert.deepEqual([...new Set(outcome.filter((o) => o !== 'evicted'))], ['TooManyRequests']);
    assert.equal((await getBudget(server)).status?.disruptionsAllowed, 0);
  });

  it('refuses an eviction in a terminating namespace, as a create there is', async () => {
    const { server } = await testServer({ namespaces: ['default', 'team'] });
    await server.create({ object: pod('a', { namespace: 'team', nodeName: 'node-1' }) });
    await server.delete({ resource: 'namespaces', name: 'team' });
    await assert.rejects(
      server.create({ resource: 'pods', namespace: 'team', name: 'a', subresource: 'eviction', object: obj({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'a', namespace: 'team' } }) }),
      (e) => isApiError(e, 'Forbidden') && isNamespaceTerminating(e) && /unable to create new content in namespace team because it is being terminated/.test(e.message),
    );
  });
});
