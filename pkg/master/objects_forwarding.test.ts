import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { decodeStored, encodeBinary } from '../api/convert/binary.js';
import type { KubeObject, Pod } from '../api/registry.js';
import { CreateRequest, ObjectsClient, type BindBatchResponse, type CallResponse, type CallResponses, type ListResponse, type ObjectResponse, type WatchEvent, type WatchEvents } from '../../gen/navarch/apiserver/v1/objects.js';
import { obj } from '../apiserver/test_util.js';
import { TestMasters, until } from '../etcdserver/test_util.js';
import { NavarchClient } from '../client/client.js';

const rpc = <Res>(f: (cb: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> =>
  new Promise((resolve, reject) => f((err, res) => (err ? reject(err) : resolve(res))));

const bytes = (o: KubeObject): Buffer => Buffer.from(encodeBinary(o));
const create = (c: ObjectsClient, o: KubeObject) => rpc<ObjectResponse>((cb) => c.create({ resource: '', namespace: '', object: bytes(o), dryRun: false, subresource: '', name: '' }, cb));
const configMap = (name: string, data: Record<string, string>) => obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'team' }, data });

describe('object API on three masters', () => {
  let masters: TestMasters;
  const clients = new Map<number, ObjectsClient>();

  before(async () => {
    masters = await TestMasters.start(3);
    await masters.leader();
    for (const [id, m] of masters.members) clients.set(id, new ObjectsClient(m.clientAddress, credentials.createInsecure()));
  });

  after(async () => {
    for (const c of clients.values()) c.close();
    await masters.close();
  });

  it('accepts writes on a follower and serves them, linearizably, from every member', async () => {
    const leader = await masters.leader();
    const follower = [...clients.keys()].find((id) => id !== leader.id)!;
    await create(clients.get(follower)!, obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } }));
    const created = decodeStored((await create(clients.get(follower)!, configMap('settings', { mode: 'fast' }))).object);
    assert.ok(created.metadata?.uid);
    for (const c of clients.values()) {
      const got = await rpc<ObjectResponse>((cb) => c.get({ resource: 'configmaps', namespace: 'team', name: 'settings', resourceVersion: '', serializable: false, subresource: '' }, cb));
      assert.deepEqual(decodeStored(got.object), created);
    }
  });

  it("sends a client's writes to the leader once an answer has named it, and reads to the member it chose", async () => {
    const leader = await masters.leader();
    const follower = [...masters.members.keys()].find((id) => id !== leader.id)!;
    const addr = (id: number) => masters.members.get(id)!.clientAddress;
    const client = new NavarchClient({ endpoints: [addr(follower), ...[...masters.members.keys()].filter((id) => id !== follower).map(addr)] });
    try {
      assert.equal(client.writeEndpoint, addr(follower), 'no leader known yet');
      await client.create(configMap('hinted', { a: '1' }));
      assert.equal(client.writeEndpoint, addr(leader.id));
      const got = await client.get('configmaps', 'team', 'hinted');
      assert.equal(got.metadata?.name, 'hinted');
    } finally {
      client.close();
    }
  });

  it('reads and watches on a member that does not lead once an answer has named the leader', async () => {
    const leader = await masters.leader();
    const addr = (id: number) => masters.members.get(id)!.clientAddress;
    const client = new NavarchClient({ endpoints: [addr(leader.id), ...[...masters.members.keys()].filter((id) => id !== leader.id).map(addr)] });
    try {
      assert.equal(client.readEndpoint, addr(leader.id), 'no leader known yet');
      const listed = await client.list('configmaps', { namespace: 'team' });
      assert.notEqual(client.readEndpoint, addr(leader.id), "a read's answer names the leader");
      assert.equal(client.writeEndpoint, addr(leader.id));
      const reader = [...masters.members.values()].find((m) => m.clientAddress === client.readEndpoint)!;
      const watchesBefore = { leader: leader.api.watchCount, reader: reader.api.watchCount };
      const watch = client.watch('configmaps', { namespace: 'team', resourceVersion: listed.resourceVersion });
      const seen = (async () => {
        for await (const e of watch) if (e.object.metadata?.name === 'watched') return e.type;
      })();
      await client.create(configMap('watched', { a: '1' }));
      assert.equal(await seen, 'ADDED');
      assert.deepEqual({ leader: leader.api.watchCount, reader: reader.api.watchCount }, { leader: watchesBefore.leader, reader: watchesBefore.reader + 1 });
      watch.close();
    } finally {
      client.close();
    }
  });

  it('forwards a BindBatch from a follower: each binding answered on its own', async () => {
    const leader = await masters.leader();
    const follower = [...clients.keys()].find((id) => id !== leader.id)!;
    const c = clients.get(follower)!;
    const pod = obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'team' }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] } });
    await create(c, pod);
    const binding = (name: string, node: string) => ({ namespace: 'team', name, uid: '', targetKind: 'Node', targetName: node, dryRun: false });
    const res = await rpc<BindBatchResponse>((cb) => c.bindBatch({ bindings: [binding('p1', 'n1'), binding('p1', 'n2'), binding('absent', 'n1')] }, cb));
    assert.deepEqual(res.results.map((r) => r.errorCode), ['', 'Conflict', 'NotFound']);
    const got = decodeStored((await rpc<ObjectResponse>((cb) => c.get({ resource: 'pods', namespace: 'team', name: 'p1', resourceVersion: '', serializable: false, subresource: '' }, cb))).object) as Pod;
    assert.equal(got.spec?.nodeName, 'n1');
    assert.equal(got.metadata?.resourceVersion, res.results[0].resourceVersion);
  });

  it('reports API errors from the leader unchanged through a follower', async () => {
    const leader = await masters.leader();
    const follower = [...clients.keys()].find((id) => id !== leader.id)!;
    await assert.rejects(create(clients.get(follower)!, configMap('settings', {})), (err: ServiceError) => {
      assert.equal(err.code, status.ALREADY_EXISTS);
      assert.equal(err.details, 'configmaps "settings" already exists');
      return true;
    });
    await assert.rejects(create(clients.get(follower)!, obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'absent' } })), (err: ServiceError) => {
      assert.equal(err.code, status.NOT_FOUND);
      return true;
    });
  });

  it('delivers a write made on one member to a watch on another', async () => {
    const ids = [...clients.keys()];
    const listed = await rpc<ListResponse>((cb) =>
      clients.get(ids[0])!.list({ resource: 'configmaps', namespace: 'team', labelSelector: '', fieldSelector: '', limit: 0, continue: '', resourceVersion: '', serializable: false }, cb),
    );
    const events: WatchEvent[] = [];
    const stream = clients.get(ids[1])!.watch({ resource: 'configmaps', namespace: 'team', labelSelector: '', fieldSelector: '', resourceVersion: listed.resourceVersion, allowBookmarks: false });
    stream.on('data', (batch: WatchEvents) => events.push(...batch.events));
    stream.on('error', () => {});
    await create(clients.get(ids[2])!, configMap('later', { a: '1' }));
    await until('the watch event', () => events.length > 0);
    stream.cancel();
    assert.equal(events[0].type, 'ADDED');
    assert.equal(decodeStored(events[0].object).metadata?.name, 'later');
  });
});

describe('a follower that knows no leader', () => {
  it("gives a streamed write up at its client's deadline instead of waiting on for a leader and forwarding it later", async () => {
    const masters = await TestMasters.start(3);
    try {
      const leader = await masters.leader();
      const [survivor, other] = [...masters.members.values()].filter((m) => m !== leader);
      await leader.stop({ transferLeadership: false });
      await other.stop({ transferLeadership: false });
      masters.members.delete(leader.id);
      masters.members.delete(other.id);
      await until('the survivor knows no leader', () => survivor.node.leaderId() === 0);
      const raw = new ObjectsClient(survivor.clientAddress, credentials.createInsecure());
      const stream = raw.callBatches();
      const answers: CallResponse[] = [];
      stream.on('data', (r: CallResponses) => answers.push(...r.answers));
      stream.on('error', () => {});
      const request = Buffer.from(CreateRequest.encode({ resource: '', namespace: '', object: bytes(configMap('late', { a: '1' })), dryRun: false, subresource: '', name: '' }).finish());
      const t0 = performance.now();
      stream.write({ calls: [{ id: 1, method: 'Create', request, timeoutMs: 300 }] });
      await until('the answer', () => answers.length === 1, 10_000);
      const elapsedMs = performance.now() - t0;
      stream.cancel();
      raw.close();
      assert.equal(answers[0].code, status.UNAVAILABLE);
      assert.match(answers[0].details, /no Raft leader/);
      assert.ok(elapsedMs < 2500, `answered after ${Math.round(elapsedMs)} ms: the client's 300 ms, not the member's own 5 s wait`);
    } finally {
      await masters.close();
    }
  });
});
