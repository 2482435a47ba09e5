// What the facade does with requests etcd refuses: writes over --max-request-bytes, and bytes
// that are not the method's protobuf message.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, credentials, status as Code, type ServiceError } from '@grpc/grpc-js';
import { loadEtcdApi } from './proto.js';
import { DEFAULT_MAX_REQUEST_BYTES } from './server.js';
import { TestMasters, type EtcdTestClient } from './test_util.js';

const b = (s: string): Buffer => Buffer.from(s);
const raw = (x: Buffer): Buffer => x;

function tooLarge(e: ServiceError): boolean {
  assert.equal(e.code, Code.INVALID_ARGUMENT, e.message);
  assert.equal(e.details, 'etcdserver: request is too large');
  return true;
}

async function count(c: EtcdTestClient, key: string): Promise<number> {
  return (await c.call('KV', 'Range', { key: b(key), count_only: true })).count;
}

test('writes over 1.5 MiB are refused as etcd refuses them, and nothing is written', async () => {
  const m = await TestMasters.start(3);
  try {
    const leader = await m.leader();
    const follower = [...m.members.keys()].find((id) => id !== leader.id)!;
    assert.equal(DEFAULT_MAX_REQUEST_BYTES, 1_572_864);
    for (const c of [m.client(leader.id), m.client(follower)]) {
      // Between etcd's request limit and gRPC's message limit: etcdserver's own refusal.
      await assert.rejects(c.call('KV', 'Put', { key: b('big'), value: Buffer.alloc(1_600_000, 1) }), tooLarge);
      await assert.rejects(c.call('KV', 'Put', { key: b('big'), value: Buffer.alloc(DEFAULT_MAX_REQUEST_BYTES, 1) }), tooLarge);
      const half = Buffer.alloc(800_000, 2);
      await assert.rejects(c.call('KV', 'Txn', { success: [{ request_put: { key: b('t1'), value: half } }, { request_put: { key: b('t2'), value: half } }] }), tooLarge);
      // Over the gRPC limit (max request bytes + 512 KiB), as etcd: the transport refuses it.
      await assert.rejects(c.call('KV', 'Put', { key: b('big'), value: Buffer.alloc(2_200_000, 1) }), (e: ServiceError) => e.code === Code.RESOURCE_EXHAUSTED);
      assert.equal(await count(c, 'big'), 0);
      assert.equal(await count(c, 't1'), 0);
      // Just under the limit is fine.
      const r = await c.call('KV', 'Put', { key: b('fits'), value: Buffer.alloc(1_500_000, 3) });
      assert.ok(r.header.revision > 0);
    }
    const g = await m.client(leader.id).call('KV', 'Range', { key: b('fits') });
    assert.equal(g.kvs[0].value.length, 1_500_000);
  } finally {
    await m.close();
  }
});

test('a request that is not its method\'s protobuf gets INVALID_ARGUMENT naming the method and the problem', async () => {
  const m = await TestMasters.start(1);
  const leader = await m.leader();
  const client = new Client(leader.clientAddress, credentials.createInsecure());
  try {
    const api = loadEtcdApi().services;
    // Wire type 7 (on field 15) does not exist; field 1 with its value cut off.
    const bad = [Buffer.from([0x7f, 1]), Buffer.from([0x08])];
    const unary = (path: string, body: Buffer): Promise<ServiceError> =>
      new Promise((resolve, reject) => client.makeUnaryRequest(path, raw, raw, body, (err) => (err ? resolve(err) : reject(new Error(`${path} succeeded`)))));
    const cases: Array<[keyof typeof api, string, string]> = [
      ['KV', 'Put', 'PutRequest'],
      ['KV', 'Range', 'RangeRequest'],
      ['KV', 'Txn', 'TxnRequest'],
      ['KV', 'DeleteRange', 'DeleteRangeRequest'],
      ['Lease', 'LeaseGrant', 'LeaseGrantRequest'],
      ['Maintenance', 'Status', 'StatusRequest'],
      ['Cluster', 'MemberList', 'MemberListRequest'],
    ];
    for (const [service, method, message] of cases) {
      for (const body of bad) {
        const err = await unary(api[service][method].path, body);
        assert.equal(err.code, Code.INVALID_ARGUMENT, `${service}.${method}: ${err.details}`);
        assert.match(err.details, new RegExp(`^Cannot decode the ${service}\\.${method} request as etcdserverpb\\.${message}: \\S`));
      }
    }
    for (const [service, method, message] of [['Watch', 'Watch', 'WatchRequest'], ['Lease', 'LeaseKeepAlive', 'LeaseKeepAliveRequest']] as const) {
      const err = await new Promise<ServiceError>((resolve, reject) => {
        const s = client.makeBidiStreamRequest(api[service][method].path, raw, raw);
        s.on('data', () => reject(new Error(`${method} answered`)));
        s.on('error', resolve);
        s.write(bad[0]);
      });
      assert.equal(err.code, Code.INVALID_ARGUMENT, `${method}: ${err.details}`);
      assert.match(err.details, new RegExp(`^Cannot decode the ${service}\\.${method} request as etcdserverpb\\.${message}: `));
    }
    const snap = await new Promise<ServiceError>((resolve, reject) => {
      const s = client.makeServerStreamRequest(api.Maintenance.Snapshot.path, raw, raw, bad[0]);
      s.on('data', () => reject(new Error('Snapshot answered')));
      s.on('error', resolve);
    });
    assert.equal(snap.code, Code.INVALID_ARGUMENT);
    // The member still serves.
    const c = m.client(leader.id);
    await c.call('KV', 'Put', { key: b('after'), value: b('ok') });
    assert.equal((await c.call('KV', 'Range', { key: b('after') })).kvs[0].value.toString(), 'ok');
  } finally {
    client.close();
    await m.close();
  }
});
