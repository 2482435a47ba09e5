import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../api/registry.js';
import { isApiError } from './api_error.js';
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN } from './delete.js';
import { deployment, obj, pod, testServer } from './test_util.js';

const ref = { resource: 'pods', namespace: 'default', name: 'web' } as const;

const withFinalizers = (o: KubeObject, finalizers: string[]): KubeObject => ({ ...o, metadata: { ...o.metadata, finalizers } }) as KubeObject;
const gone = (p: Promise<unknown>) => assert.rejects(p, (err: unknown) => isApiError(err, 'NotFound'));

describe('delete', () => {
  it('removes an object without finalizers at once and returns it at the delete revision', async () => {
    const { server, store } = await testServer();
    await server.create({ object: pod('web') });
    const r = await server.delete(ref);
    assert.equal(r.deleted, true);
    assert.equal(r.object.metadata?.resourceVersion, String(store.revision));
    await gone(server.get(ref));
    await assert.rejects(server.delete(ref), (err: unknown) => isApiError(err, 'NotFound') && err.message === 'pods "web" not found');
  });

  it('checks uid and resourceVersion preconditions', async () => {
    const { server } = await testServer();
    const created = await server.create({ object: pod('web') });
    await assert.rejects(server.delete({ ...ref, preconditions: { uid: 'other' } }), (err: unknown) => {
      assert.ok(isApiError(err, 'Conflict'));
      assert.equal(err.message, `Operation cannot be fulfilled on pods "web": Precondition failed: UID in precondition: other, UID in object meta: ${created.metadata?.uid}`);
      return true;
    });
    await assert.rejects(server.delete({ ...ref, preconditions: { resourceVersion: '1' } }), (err: unknown) => isApiError(err, 'Conflict') && /ResourceVersion in precondition: 1/.test(err.message));
    const r = await server.delete({ ...ref, preconditions: { uid: created.metadata?.uid, resourceVersion: created.metadata?.resourceVersion } });
    assert.equal(r.deleted, true);
  });

  it('keeps an object with finalizers, marked, until the last finalizer is removed', async () => {
    const { server, clock } = await testServer();
    await server.create({ object: pod('web', { finalizers: ['navarch.io/a', 'navarch.io/b'] }) });
    clock.nowMs += 60_000;
    const r = await server.delete(ref);
    assert.equal(r.deleted, false);
    assert.equal(r.object.metadata?.deletionTimestamp, '2026-01-02T03:05:05Z');
    assert.equal(r.object.metadata?.deletionGracePeriodSeconds, 0);
    const marked = await server.get(ref);
    assert.deepEqual(marked.metadata?.finalizers, ['navarch.io/a', 'navarch.io/b']);
    // A second delete changes nothing.
    const again = await server.delete(ref);
    assert.equal(again.deleted, false);
    assert.equal(again.object.metadata?.resourceVersion, marked.metadata?.resourceVersion);
    await assert.rejects(
      server.patch({ ...ref, type: 'json', patch: [{ op: 'add', path: '/metadata/finalizers/-', value: 'navarch.io/c' }] }),
      (err: unknown) => isApiError(err, 'Invalid') && /metadata\.finalizers: Forbidden: no new finalizers can be added if the object is being deleted/.test(err.message),
    );
    await server.patch({ ...ref, type: 'json', patch: [{ op: 'remove', path: '/metadata/finalizers/0' }] });
    assert.deepEqual((await server.get(ref)).metadata?.finalizers, ['navarch.io/b']);
    await server.patch({ ...ref, type: 'merge', patch: { metadata: { finalizers: null } } });
    await gone(server.get(ref));
  });

  it('adds the garbage collector finalizer for Orphan and Foreground propagation', async () => {
    const { server } = await testServer();
    await server.create({ object: deployment('a') });
    await server.create({ object: deployment('b') });
    const a = await server.delete({ resource: 'deployments', namespace: 'default', name: 'a', propagationPolicy: 'Orphan' });
    assert.deepEqual(a.object.metadata?.finalizers, [FINALIZER_ORPHAN]);
    const b = await server.delete({ resource: 'deployments', namespace: 'default', name: 'b', propagationPolicy: 'Foreground' });
    assert.deepEqual(b.object.metadata?.finalizers, [FINALIZER_FOREGROUND]);
    assert.ok(b.object.metadata?.deletionTimestamp);
    await assert.rejects(server.delete({ resource: 'deployments', namespace: 'default', name: 'b', propagationPolicy: 'Sideways' as 'Orphan' }), (err: unknown) => isApiError(err, 'Invalid'));
  });

  it('lets a later delete switch the garbage collector finalizer, and keeps the one an object carries when no policy is given', async () => {
    const { server } = await testServer();
    const dep = { resource: 'deployments', namespace: 'default', name: 'a' } as const;
    await server.create({ object: withFinalizers(deployment('a'), ['example.com/hold']) });
    const first = await server.delete({ ...dep, propagationPolicy: 'Foreground' });
    assert.deepEqual(first.object.metadata?.finalizers, ['example.com/hold', FINALIZER_FOREGROUND]);
    const second = await server.delete({ ...dep, propagationPolicy: 'Orphan' });
    assert.deepEqual(second.object.metadata?.finalizers, ['example.com/hold', FINALIZER_ORPHAN]);
    const noPolicy = await server.delete(dep);
    assert.deepEqual(noPolicy.object.metadata?.finalizers, ['example.com/hold', FINALIZER_ORPHAN], 'no policy: the finalizer it carries decides');
    const background = await server.delete({ ...dep, propagationPolicy: 'Background' });
    assert.deepEqual(background.object.metadata?.finalizers, ['example.com/hold']);
    // The last finalizer going (grace 0) removes the object.
    await server.patch({ ...dep, type: 'merge', patch: { metadata: { finalizers: null } } });
    await gone(server.get(dep));
  });

  it('refuses an object carrying both orphan and foregroundDeletion', async () => {
    const { server } = await testServer();
    await assert.rejects(server.create({ object: withFinalizers(deployment('a'), [FINALIZER_ORPHAN, FINALIZER_FOREGROUND]) }), (err: unknown) => isApiError(err, 'Invalid') && /metadata\.finalizers: Invalid value: .*finalizer orphan and foregroundDeletion cannot be both set/.test((err as Error).message));
  });

  it('orphans a batch/v1 Job\'s pods when the delete names no policy, as Kubernetes does for compatibility', async () => {
    const { server } = await testServer();
    const job = obj({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'default' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } });
    await server.create({ object: job });
    const r = await server.delete({ resource: 'jobs', namespace: 'default', name: 'j' });
    assert.deepEqual(r.object.metadata?.finalizers, [FINALIZER_ORPHAN]);
    await server.create({ object: deployment('d') });
    const d = await server.delete({ resource: 'deployments', namespace: 'default', name: 'd' });
    assert.equal(d.deleted, true, 'other kinds: Background, nothing to wait for');
  });

  it('deletes a pod on a node gracefully, and at once with grace period 0', async () => {
    const { server, clock } = await testServer();
    await server.create({ object: pod('web', { nodeName: 'n1' }) });
    const r = await server.delete(ref);
    assert.equal(r.deleted, false);
    assert.equal(r.object.metadata?.deletionGracePeriodSeconds, 30);
    assert.equal(r.object.metadata?.deletionTimestamp, '2026-01-02T03:04:35Z');
    clock.nowMs += 1000;
    const shorter = await server.delete({ ...ref, gracePeriodSeconds: 5 });
    assert.equal(shorter.object.metadata?.deletionGracePeriodSeconds, 5);
    // Five seconds from when the first delete began (03:04:05), not from now, as in Kubernetes.
    assert.equal(shorter.object.metadata?.deletionTimestamp, '2026-01-02T03:04:10Z');
    // A status write while terminating does not delete it.
    await server.patch({ ...ref, subresource: 'status', type: 'merge', patch: { status: { phase: 'Running' } } });
    assert.ok(await server.get(ref));
    const last = await server.delete({ ...ref, gracePeriodSeconds: 0 });
    assert.equal(last.deleted, true);
    await gone(server.get(ref));
  });

  it('deletes an unscheduled pod at once', async () => {
    const { server } = await testServer();
    await server.create({ object: pod('web') });
    assert.equal((await server.delete(ref)).deleted, true);
  });

  it('refuses a negative grace period', async () => {
    const { server } = await testServer();
    await server.create({ object: pod('web') });
    await assert.rejects(server.delete({ ...ref, gracePeriodSeconds: -1 }), (err: unknown) => isApiError(err, 'Invalid') && /Invalid gracePeriodSeconds -1/.test(err.message));
  });
});
