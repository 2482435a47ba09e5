import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Deployment, KubeObject, Pod, ReplicaSet } from '../api/registry.js';
import { isApiError, isNamespaceTerminating } from './api_error.js';
import { objectKey } from './objects.js';
import { kindByName } from '../api/registry.js';
import { deployment, obj, pod, testServer } from './test_util.js';

const rejects = (p: Promise<unknown>, code: string, message?: string | RegExp) =>
  assert.rejects(p, (err: unknown) => {
    assert.ok(isApiError(err), `expected an ApiError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    return true;
  });

describe('create', () => {
  it('sets uid, creationTimestamp and resourceVersion = the store revision, and generation 1 only for the workload kinds', async () => {
    const { server, store } = await testServer();
    const created = await server.create({ object: pod('web') });
    assert.equal(created.metadata?.uid, 'uid-2');
    assert.equal(created.metadata?.creationTimestamp, '2026-01-02T03:04:05Z');
    assert.equal(created.metadata?.generation, undefined, 'a Pod has no generation (Kubernetes 1.30)');
    assert.equal(created.metadata?.resourceVersion, String(store.revision));
    assert.equal((created as Pod).spec?.containers[0].imagePullPolicy, 'IfNotPresent', 'defaults applied');
    const got = await server.get({ resource: 'pods', namespace: 'default', name: 'web' });
    assert.deepEqual(got, created);
    const cm = await server.create({ object: obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default', generation: 7 }, data: { a: '1' } }) });
    assert.equal(cm.metadata?.generation, undefined, 'nor a ConfigMap');
    const cmChanged = await server.update({ object: { ...cm, data: { a: '2' } } as KubeObject });
    assert.equal(cmChanged.metadata?.generation, undefined, 'and a change gives it none');
    assert.equal((await server.create({ object: deployment('d') })).metadata?.generation, 1);
  });

  it('stores objects as protobuf under /registry/<resource>/<namespace>/<name>', async () => {
    const { server, store } = await testServer();
    await server.create({ object: pod('web') });
    const kv = store.range({ key: objectKey(kindByName('Pod'), 'default', 'web') }).kvs[0];
    assert.ok(kv, 'key present');
    assert.equal(kv.key, '/registry/pods/default/web');
    assert.notEqual(kv.value[0], '{'.charCodeAt(0), 'not JSON');
  });

  it('fills generateName with a suffix', async () => {
    const { server } = await testServer();
    const created = await server.create({ object: obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'cfg-', namespace: 'default' } }) });
    assert.equal(created.metadata?.name, 'cfg-x7k2q');
    // A long prefix (a Deployment's ReplicaSet's pods) is cut so that the name stays a DNS label.
    const long = `${'a'.repeat(55)}-5d8f9c7b4-`;
    const p = await server.create({ object: obj({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: long, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } }) });
    assert.equal(p.metadata?.name, `${long.slice(0, 58)}x7k2q`);
    assert.equal(p.metadata?.name?.length, 63);
  });

  it('drops the status a client sends on create, except a Node\'s (its agent registers with one)', async () => {
    const { server } = await testServer();
    const d = deployment('web') as KubeObject & { status?: { replicas?: number; observedGeneration?: number } };
    d.status = { replicas: 5, observedGeneration: 9 };
    const created = (await server.create({ object: d })) as typeof d;
    assert.equal(created.status?.replicas, undefined);
    assert.equal(created.status?.observedGeneration, undefined);
    const node = obj({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    const n = (await server.create({ object: node })) as KubeObject & { status?: { conditions?: Array<{ type?: string }> } };
    assert.deepEqual(n.status?.conditions?.map((c) => c.type), ['Ready']);
  });

  it('refuses a duplicate name with AlreadyExists', async () => {
    const { server } = await testServer();
    await server.create({ object: pod('web') });
    await rejects(server.create({ object: pod('web') }), 'AlreadyExists', 'pods "web" already exists');
    // Still there only because it is being deleted (a bound pod's grace period): said so, as Kubernetes.
    await server.create({ object: pod('db', { nodeName: 'n1' }) });
    await server.delete({ resource: 'pods', namespace: 'default', name: 'db' });
    await rejects(server.create({ object: pod('db') }), 'AlreadyExists', 'object is being deleted: pods "db" already exists');
  });

  it('needs an existing namespace for namespaced kinds', async () => {
    const { server } = await testServer();
    await rejects(server.create({ object: pod('web', { namespace: 'nope' }) }), 'NotFound', 'namespaces "nope" not found');
    await server.create({ object: obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'nope' } }) });
    await server.create({ object: pod('web', { namespace: 'nope' }) });
  });

  it('refuses new objects in a terminating namespace', async () => {
    const { server } = await testServer({ namespaces: [] });
    await server.create({ object: obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', finalizers: ['navarch.io/cleanup'] } }) });
    // Once created in while it was live, the namespace's deletion is still seen.
    await server.create({ object: pod('before', { namespace: 'shop' }) });
    await server.delete({ resource: 'namespaces', name: 'shop' });
    await rejects(server.create({ object: pod('web', { namespace: 'shop' }) }), 'Forbidden', 'pods "web" is forbidden: unable to create new content in namespace shop because it is being terminated');
    // Kubernetes' NamespaceTerminating cause, which controllers test instead of the words.
    await assert.rejects(server.create({ object: pod('web', { namespace: 'shop' }) }), (e: unknown) => isNamespaceTerminating(e));
  });

  it('reports every validation problem with its field path', async () => {
    const { server } = await testServer();
    const bad = obj({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: -1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web' }] } } },
    });
    await assert.rejects(server.create({ object: bad }), (err: unknown) => {
      assert.ok(isApiError(err, 'Invalid'));
      assert.match(err.message, /^Deployment\.apps "web" is invalid: \[/);
      assert.match(err.message, /spec\.replicas: Invalid value: -1: must be greater than or equal to 0/);
      assert.match(err.message, /spec\.template\.spec\.containers\[0\]\.image: Required value/);
      const fields = err.details.causes?.map((c) => c.field);
      assert.ok(fields?.includes('spec.replicas') && fields.includes('spec.template.spec.containers[0].image'), String(fields));
      assert.equal(err.grpcCode, 3);
      assert.equal(err.httpStatus, 422);
      return true;
    });
  });

  it('refuses an object over the size limit with TooLarge', async () => {
    const { server } = await testServer();
    const big = obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big', namespace: 'default' }, data: { blob: 'x'.repeat(1.5 * 1024 * 1024) } });
    await rejects(server.create({ object: big }), 'TooLarge', /^Cannot store configmaps "big": the object is \d+ bytes, over the limit of 1572864 bytes$/);
    await rejects(server.get({ resource: 'configmaps', namespace: 'default', name: 'big' }), 'NotFound');
  });

  it('refuses a body of another kind than the resource asked for', async () => {
    const { server } = await testServer();
    await rejects(server.create({ resource: 'services', object: pod('web') }), 'Invalid', /the body is a Pod of "v1", not a Service/);
  });
});

describe('get', () => {
  it('names the missing object the Kubernetes way', async () => {
    const { server } = await testServer();
    await rejects(server.get({ resource: 'pods', namespace: 'default', name: 'web' }), 'NotFound', 'pods "web" not found');
    await rejects(server.get({ resource: 'deploy', namespace: 'default', name: 'web' }), 'NotFound', 'deployments.apps "web" not found');
    await rejects(server.get({ resource: 'widgets', namespace: 'default', name: 'web' }), 'NotFound', 'the server doesn\'t have a resource type "widgets"');
  });

  it('reads an older resourceVersion from history', async () => {
    const { server } = await testServer();
    const v1 = await server.create({ object: obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: '1' } }) });
    await server.patch({ resource: 'configmaps', namespace: 'default', name: 'c', type: 'merge', patch: { data: { a: '2' } } });
    const old = await server.get({ resource: 'configmaps', namespace: 'default', name: 'c', resourceVersion: v1.metadata?.resourceVersion });
    assert.deepEqual((old as { data: Record<string, string> }).data, { a: '1' });
  });
});

describe('update', () => {
  it('detects a stale resourceVersion as Conflict', async () => {
    const { server } = await testServer();
    const created = (await server.create({ object: deployment('web') })) as Deployment;
    const first = structuredClone(created);
    first.spec!.replicas = 2;
    await server.update({ object: first });
    const second = structuredClone(created);
    second.spec!.replicas = 3;
    await rejects(
      server.update({ object: second }),
      'Conflict',
      'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  it('bumps generation on spec changes only, and keeps server-set metadata', async () => {
    const { server } = await testServer();
    const created = (await server.create({ object: deployment('web') })) as Deployment;
    const labelled = structuredClone(created);
    labelled.metadata!.labels = { team: 'a' };
    labelled.metadata!.uid = undefined;
    labelled.metadata!.creationTimestamp = undefined;
    const u1 = await server.update({ object: labelled });
    assert.equal(u1.metadata?.generation, 1, 'label change keeps generation');
    assert.equal(u1.metadata?.uid, created.metadata?.uid);
    assert.equal(u1.metadata?.creationTimestamp, created.metadata?.creationTimestamp);
    const scaled = structuredClone(u1) as Deployment;
    scaled.spec!.replicas = 5;
    const u2 = await server.update({ object: scaled });
    assert.equal(u2.metadata?.generation, 2);
    assert.ok(Number(u2.metadata?.resourceVersion) > Number(u1.metadata?.resourceVersion));
  });

  it('writes nothing and keeps the resourceVersion when nothing changed', async () => {
    const { server, store } = await testServer();
    const created = await server.create({ object: deployment('web') });
    const rev = store.revision;
    const same = await server.update({ object: structuredClone(created) });
    assert.equal(same.metadata?.resourceVersion, created.metadata?.resourceVersion);
    assert.equal(store.revision, rev);
  });

  it('keeps spec writers and status writers apart', async () => {
    const { server } = await testServer();
    const created = (await server.create({ object: deployment('web') })) as Deployment;
    const withStatus = structuredClone(created);
    withStatus.status = obj<Deployment>({ apiVersion: 'apps/v1', kind: 'Deployment', status: { replicas: 1, readyReplicas: 1 } }).status;
    withStatus.spec!.replicas = 9;
    const s = (await server.updateStatus({ object: withStatus })) as Deployment;
    assert.equal(s.status?.readyReplicas, 1, 'status written');
    assert.equal(s.spec?.replicas, 1, 'spec ignored by a status write');
    assert.equal(s.metadata?.generation, 1);
    const specWrite = structuredClone(s);
    specWrite.spec!.replicas = 4;
    specWrite.status = undefined;
    const u = (await server.update({ object: specWrite })) as Deployment;
    assert.equal(u.spec?.replicas, 4);
    assert.equal(u.status?.readyReplicas, 1, 'status kept by a spec write');
  });

  it("takes a Deployment's annotations from a status write, without a new generation, but not its labels", async () => {
    const { server } = await testServer();
    const created = (await server.create({ object: deployment('web') })) as Deployment;
    const next = structuredClone(created);
    next.metadata!.annotations = { 'deployment.kubernetes.io/revision': '1' };
    next.metadata!.labels = { sneaked: 'in' };
    const s = (await server.updateStatus({ object: next })) as Deployment;
    assert.deepEqual(s.metadata?.annotations, { 'deployment.kubernetes.io/revision': '1' }, "the controller's revision annotation");
    assert.deepEqual(s.metadata?.labels, created.metadata?.labels, 'labels are the spec writers\'');
    assert.equal(s.metadata?.generation, 1);
  });

  it("keeps the writer's labels, annotations and finalizers from a status write, as Kubernetes' status strategies do, but never the spec or server-set fields", async () => {
    const { server } = await testServer();
    const rs = (await server.create({ object: obj({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-1', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } } }) })) as ReplicaSet;
    const rsNext = structuredClone(rs);
    rsNext.metadata!.annotations = { note: 'x' };
    rsNext.metadata!.labels = { tier: 'web' };
    rsNext.metadata!.uid = 'forged';
    rsNext.metadata!.generation = 9;
    rsNext.spec!.replicas = 7;
    await rejects(server.updateStatus({ object: rsNext }), 'Conflict', /UID in precondition: forged/);
    rsNext.metadata!.uid = rs.metadata!.uid;
    const rsWritten = (await server.updateStatus({ object: rsNext })) as ReplicaSet;
    assert.deepEqual(rsWritten.metadata?.annotations, { note: 'x' });
    assert.deepEqual(rsWritten.metadata?.labels, { tier: 'web' });
    assert.equal(rsWritten.metadata?.generation, 1);
    assert.equal(rsWritten.spec?.replicas, rs.spec?.replicas, 'the spec is the stored one');

    const p = (await server.create({ object: pod('p') })) as Pod;
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: rs.metadata!.uid!, controller: true };
    const pNext = structuredClone(p);
    pNext.metadata!.labels = { app: 'p', checked: 'yes' };
    pNext.metadata!.finalizers = ['example.com/hold'];
    pNext.metadata!.ownerReferences = [owner];
    pNext.status = { ...pNext.status!, phase: 'Running' };
    const pWritten = (await server.updateStatus({ object: pNext })) as Pod;
    assert.deepEqual(pWritten.metadata?.labels, { app: 'p', checked: 'yes' });
    assert.deepEqual(pWritten.metadata?.finalizers, ['example.com/hold']);
    assert.deepEqual(pWritten.metadata?.ownerReferences ?? [], [], "a pod's ownerReferences are not the status writer's");
    assert.equal(pWritten.status?.phase, 'Running');
    const bad = structuredClone(pWritten);
    bad.metadata!.labels = { 'bad key!': 'x' };
    await rejects(server.updateStatus({ object: bad }), 'Invalid', /metadata\.labels: Invalid value: "bad key!"/);

    // A finalizer removed through status lets a deleted object go, as any other write would.
    await server.delete({ resource: 'pods', namespace: 'default', name: 'p', gracePeriodSeconds: 0 });
    const held = (await server.get({ resource: 'pods', namespace: 'default', name: 'p' })) as Pod;
    assert.ok(held.metadata?.deletionTimestamp, 'held by its finalizer');
    await server.updateStatus({ object: { ...held, metadata: { ...held.metadata, finalizers: [] } } as Pod });
    await rejects(server.get({ resource: 'pods', namespace: 'default', name: 'p' }), 'NotFound', /not found/);
  });

  it('says when a kind has no status subresource', async () => {
    const { server } = await testServer();
    const cm = await server.create({ object: obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } }) });
    await rejects(server.updateStatus({ object: cm }), 'NotFound', 'the server could not find the requested resource (configmaps/status)');
  });

  it('refuses changes to immutable fields with a field path', async () => {
    const { server } = await testServer();
    const created = (await server.create({ object: deployment('web') })) as Deployment;
    const moved = structuredClone(created);
    moved.spec!.selector!.matchLabels = { app: 'other' };
    moved.spec!.template!.metadata!.labels = { app: 'other' };
    await rejects(server.update({ object: moved }), 'Invalid', /^Deployment\.apps "web" is invalid: spec\.selector: Invalid value: .*field is immutable/);
  });

  it('is NotFound for an object that does not exist', async () => {
    const { server } = await testServer();
    await rejects(server.update({ object: pod('web') }), 'NotFound', 'pods "web" not found');
  });
});

describe('request records', () => {
  it('reports each request with its verb, resource and outcome for metrics', async () => {
    const records: string[] = [];
    const { server } = await testServer({ onRequest: (r) => records.push(`${r.verb} ${r.resource}${r.subresource ? '/' + r.subresource : ''} ${r.code}`) });
    await server.create({ object: pod('web') });
    await assert.rejects(server.get({ resource: 'pods', namespace: 'default', name: 'nope' }));
    await server.list({ resource: 'pods' });
    server.watch({ resource: 'pods' }).close();
    const created = await server.get({ resource: 'pods', namespace: 'default', name: 'web' });
    await server.updateStatus({ object: created });
    assert.deepEqual(records, ['create namespaces OK', 'create pods OK', 'get pods NotFound', 'list pods OK', 'watch pods OK', 'get pods OK', 'update pods/status OK']);
  });
});
