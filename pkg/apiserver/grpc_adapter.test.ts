import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Server, ServerCredentials, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { decodeStored, encodeBinary } from '../api/convert/binary.js';
import type { KubeObject, Pod } from '../api/registry.js';
import { ObjectsClient, type ListResponse, type ObjectResponse, type WatchEvent, type WatchEvents } from '../../gen/navarch/apiserver/v1/objects.js';
import { ERROR_CODE_METADATA, ERROR_DETAILS_METADATA, addObjectsService } from './grpc_adapter.js';
import { obj, pod, testServer, type TestServer } from './test_util.js';
import { until } from '../localcluster/until.js';

/** Runs one unary call: `rpc((cb) => client.get(req, cb))`. */
const rpc = <Res>(f: (cb: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> =>
  new Promise((resolve, reject) => f((err, res) => (err ? reject(err) : resolve(res))));

const bytes = (o: KubeObject): Buffer => Buffer.from(encodeBinary(o));
const get = (c: ObjectsClient, namespace: string, name: string) => rpc<ObjectResponse>((cb) => c.get({ resource: 'pods', namespace, name, resourceVersion: '', serializable: false, subresource: '' }, cb));
const create = (c: ObjectsClient, object: Buffer) => rpc<ObjectResponse>((cb) => c.create({ resource: '', namespace: '', object, dryRun: false, subresource: '', name: '' }, cb));

describe('gRPC adapter', () => {
  let t: TestServer;
  let server: Server;
  let client: ObjectsClient;

  before(async () => {
    t = await testServer({ store: { compactRetainRevisions: 50 } });
    server = new Server();
    addObjectsService(server, t.server);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    client = new ObjectsClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  after(async () => {
    client.close();
    t.server.closeWatches();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  it('creates, gets and lists objects as protobuf bytes', async () => {
    const created = await create(client, bytes(pod('web', { labels: { app: 'web' } })));
    const p = decodeStored(created.object) as Pod;
    assert.equal(p.metadata?.uid !== undefined, true);
    const got = await get(client, 'default', 'web');
    assert.deepEqual(decodeStored(got.object), p);
    const listed = await rpc<ListResponse>((cb) => client.list({ resource: 'pods', namespace: '', labelSelector: 'app=web', fieldSelector: '', limit: 0, continue: '', resourceVersion: '', serializable: true }, cb));
    assert.equal(listed.kind, 'Pod');
    assert.deepEqual(listed.items.map((b) => decodeStored(b).metadata?.name), ['web']);
    assert.equal(listed.resourceVersion, p.metadata?.resourceVersion);
  });

  it('sends the pages of an unfiltered list as the objects a get returns, resourceVersion included', async () => {
    await t.server.create({ object: obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'paged' } }) });
    for (const name of ['p1', 'p2', 'p3']) await create(client, bytes(pod(name, { namespace: 'paged' })));
    const p2 = await t.server.get({ resource: 'pods', namespace: 'paged', name: 'p2' });
    await t.server.update({ object: { ...p2, metadata: { ...p2.metadata!, labels: { changed: 'yes' } } } });
    const page = (cont: string) => rpc<ListResponse>((cb) => client.list({ resource: 'pods', namespace: 'paged', labelSelector: '', fieldSelector: '', limit: 2, continue: cont, resourceVersion: '', serializable: false }, cb));
    const first = await page('');
    assert.equal(first.remainingItemCount, 1);
    const second = await page(first.continue);
    const listed = [...first.items, ...second.items].map((b) => decodeStored(b));
    const got = await Promise.all(['p1', 'p2', 'p3'].map(async (n) => decodeStored((await get(client, 'paged', n)).object)));
    assert.deepEqual(listed, got);
    assert.deepEqual(listed[1].metadata?.labels, { changed: 'yes' });
  });

  it('maps ApiError to a gRPC status with the code and details in metadata', async () => {
    await assert.rejects(get(client, 'default', 'nope'), (err: ServiceError) => {
      assert.equal(err.code, status.NOT_FOUND);
      assert.equal(err.details, 'pods "nope" not found');
      assert.deepEqual(err.metadata.get(ERROR_CODE_METADATA), ['NotFound']);
      return true;
    });
    const bad = obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bad', namespace: 'default' }, spec: { containers: [{ name: 'c' }] } });
    await assert.rejects(create(client, bytes(bad)), (err: ServiceError) => {
      assert.equal(err.code, status.INVALID_ARGUMENT);
      assert.equal(err.details, 'Pod "bad" is invalid: spec.containers[0].image: Required value');
      const details = JSON.parse(String(err.metadata.get(ERROR_DETAILS_METADATA)[0]));
      assert.deepEqual(details.causes.map((c: { field: string }) => c.field), ['spec.containers[0].image']);
      return true;
    });
    await assert.rejects(create(client, Buffer.from([0xff, 0xff, 0xff])), (err: ServiceError) => err.code === status.INVALID_ARGUMENT);
  });

  it('binds a pod (Bind) and carries a fencing token on writes', async () => {
    const bindReq = (name: string, node: string, fencing?: { leaseNamespace: string; leaseName: string; holderIdentity: string; leaseTransitions: number }) =>
      rpc<ObjectResponse>((cb) => client.bind({ namespace: 'default', name, uid: '', targetKind: 'Node', targetName: node, dryRun: false, fencing }, cb));
    await create(client, bytes(pod('bind-me')));
    const bound = decodeStored((await bindReq('bind-me', 'n1')).object) as Pod;
    assert.equal(bound.spec?.nodeName, 'n1');
    await assert.rejects(bindReq('bind-me', 'n2'), (err: ServiceError) => {
      assert.equal(err.code, status.ABORTED);
      assert.equal(err.details, 'Operation cannot be fulfilled on pods/binding "bind-me": pod bind-me is already assigned to node "n1"');
      return true;
    });
    await t.server.create({ object: obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } }) });
    await t.server.create({ object: obj({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'sched', namespace: 'kube-system' }, spec: { holderIdentity: 'm2', leaseTransitions: 3 } }) });
    await create(client, bytes(pod('fenced')));
    const stale = { leaseNamespace: 'kube-system', leaseName: 'sched', holderIdentity: 'm1', leaseTransitions: 2 };
    await assert.rejects(bindReq('fenced', 'n1', stale), (err: ServiceError) => {
      assert.equal(err.code, status.PERMISSION_DENIED);
      assert.deepEqual(err.metadata.get(ERROR_CODE_METADATA), ['Forbidden']);
      assert.match(err.details, /is held by "m2" \(transition 3\)/);
      return true;
    });
    await assert.rejects(
      rpc<ObjectResponse>((cb) => client.create({ resource: '', namespace: '', object: bytes(pod('fenced-2')), dryRun: false, fencing: stale, subresource: '', name: '' }, cb)),
      (err: ServiceError) => err.code === status.PERMISSION_DENIED,
    );
    await assert.rejects(bindReq('fenced', 'n1', { leaseNamespace: '', leaseName: '', holderIdentity: '', leaseTransitions: 0 }), (err: ServiceError) => {
      assert.equal(err.code, status.INVALID_ARGUMENT);
      assert.match(err.details, /fencing\.leaseNamespace/);
      return true;
    });
    await bindReq('fenced', 'n3', { ...stale, holderIdentity: 'm2', leaseTransitions: 3 });
    assert.equal((decodeStored((await get(client, 'default', 'fenced')).object) as Pod).spec?.nodeName, 'n3');
  });

  it('streams watch events and ends an expired watch with OUT_OF_RANGE', async () => {
    const start = String(t.store.revision);
    const stream = client.watch({ resource: 'configmaps', namespace: 'default', labelSelector: '', fieldSelector: '', resourceVersion: start, allowBookmarks: false });
    const events: WatchEvent[] = [];
    const got = new Promise<void>((resolve, reject) => {
      stream.on('data', (batch: WatchEvents) => {
        events.push(...batch.events);
        if (events.length === 2) resolve();
      });
      stream.on('error', (err: ServiceError) => (err.code === status.CANCELLED ? undefined : reject(err)));
    });
    // Writes may land before the server opens the watch: it starts from `start`, so nothing is missed.
    await t.server.create({ object: obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' } }) });
    await t.server.delete({ resource: 'configmaps', namespace: 'default', name: 'a' });
    await got;
    assert.deepEqual(events.map((e) => `${e.type} ${decodeStored(e.object).metadata?.name}`), ['ADDED a', 'DELETED a']);
    stream.cancel();

  });

  it('sends many events in few messages, in order, and bookmarks for kinds with maps and lists at the top', async () => {
    const start = String(t.store.revision);
    for (let i = 0; i < 40; i++) await t.server.create({ object: obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `batch-${i}`, namespace: 'default' }, data: { i: String(i) } }) });
    for (const resource of ['configmaps', 'endpoints', 'secrets']) {
      const stream = client.watch({ resource, namespace: 'default', labelSelector: '', fieldSelector: '', resourceVersion: resource === 'configmaps' ? start : String(t.store.revision), allowBookmarks: true });
      const batches: WatchEvents[] = [];
      const want = resource === 'configmaps' ? 40 : 0;
      const events = () => batches.flatMap((b) => b.events);
      const failed = new Promise<never>((_, reject) => stream.on('error', (err: ServiceError) => (err.code === status.CANCELLED ? undefined : reject(err))));
      stream.on('data', (b: WatchEvents) => batches.push(b));
      await Promise.race([failed, until(`${want} ${resource} events`, () => events().length >= want, 10_000)]);
      // Asked again until it comes: the server may not have opened the watch yet.
      const bookmarked = () => {
        if (events().some((e) => e.type === 'BOOKMARK')) return true;
        t.server.requestWatchProgress();
        return false;
      };
      await Promise.race([failed, until(`a ${resource} bookmark`, bookmarked, 10_000)]);
      stream.cancel();
      const got = events();
      const bookmark = decodeStored(got.find((e) => e.type === 'BOOKMARK')!.object);
      assert.equal(bookmark.metadata?.resourceVersion, String(t.store.revision));
      if (resource !== 'configmaps') continue;
      assert.deepEqual(
        got.filter((e) => e.type === 'ADDED').map((e) => decodeStored(e.object).metadata?.name),
        Array.from({ length: 40 }, (_, i) => `batch-${i}`),
      );
      assert.ok(batches.length < 20, `40 events came in ${batches.length} messages`);
    }
  });

  it('ends a watch from a compacted resourceVersion with OUT_OF_RANGE and code Expired', async () => {
    for (let i = 0; i < 60; i++) await t.server.create({ object: obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: 'default' } }) });
    const stream = client.watch({ resource: 'pods', namespace: '', labelSelector: '', fieldSelector: '', resourceVersion: '1', allowBookmarks: false });
    const err = await new Promise<ServiceError>((resolve, reject) => {
      stream.on('error', resolve);
      stream.on('data', () => {});
      stream.on('end', () => reject(new Error('the stream ended without an error')));
    });
    assert.equal(err.code, status.OUT_OF_RANGE);
    assert.match(err.details, /^too old resource version: 1 \(\d+\)$/);
    assert.deepEqual(err.metadata.get(ERROR_CODE_METADATA), ['Expired']);
  });
});
