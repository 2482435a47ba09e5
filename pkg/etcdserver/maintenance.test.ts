// etcd's Maintenance service over real in-process members: Status, MoveLeader,
// Alarm (NOSPACE), Defragment, HashKV and the Snapshot stream.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Client, credentials, status as Code, type MethodDefinition, type ServiceError } from '@grpc/grpc-js';
import type { Msg } from './convert.js';
import { ALARM_NOSPACE } from './maintenance.js';
import { fetchMemberStatus } from './member_status.js';
import { loadEtcdApi } from './proto.js';
import { decodeSnapshotFile, verifyStoreSnapshot } from './snapshot_file.js';
import { TestMasters, until } from './test_util.js';

const b = (s: string): Buffer => Buffer.from(s);

async function withMasters(n: number, fn: (c: TestMasters) => Promise<void>, extra = {}): Promise<void> {
  const c = await TestMasters.start(n, extra);
  try {
    await fn(c);
  } finally {
    await c.close();
  }
}

function isGrpc(code: Code, details: string) {
  return (e: ServiceError) => {
    assert.equal(e.code, code, e.message);
    assert.equal(e.details, details);
    return true;
  };
}

/** Every message of one Maintenance.Snapshot stream. */
async function snapshotMessages(address: string): Promise<Msg[]> {
  const d = loadEtcdApi().services.Maintenance.Snapshot as unknown as MethodDefinition<Msg, Msg>;
  const client = new Client(address, credentials.createInsecure());
  try {
    const call = client.makeServerStreamRequest(d.path, d.requestSerialize, d.responseDeserialize, {}, { deadline: Date.now() + 20_000 });
    const out: Msg[] = [];
    for await (const m of call as AsyncIterable<Msg>) out.push(m);
    return out;
  } finally {
    client.close();
  }
}

test('Status reports leader, term, commit and applied index, sizes and quota on every member', async () => {
  await withMasters(3, async (m) => {
    const leader = await m.leader();
    const c = m.client(leader.id);
    for (let i = 0; i < 20; i++) await c.call('KV', 'Put', { key: b(`s/${i}`), value: b('v'.repeat(50)) });
    await until('every member applied the writes', () => [...m.members.values()].every((x) => x.store.revision === leader.store.revision));
    for (const member of m.members.values()) {
      const s = await fetchMemberStatus(member.clientAddress);
      assert.equal(s.id, member.id);
      assert.equal(s.leader, leader.id);
      assert.equal(s.role, member.id === leader.id ? 'leader' : 'follower');
      assert.ok(s.term >= 1);
      assert.ok(s.commitIndex >= 21, `commit ${s.commitIndex}`);
      assert.ok(s.appliedIndex >= 21 && s.appliedIndex <= s.commitIndex, `applied ${s.appliedIndex}, commit ${s.commitIndex}`);
      assert.equal(s.revision, leader.store.revision);
      assert.equal(s.dbSizeInUseBytes, member.store.sizeBytes);
      assert.ok(s.dbSizeBytes > 20 * 50);
      assert.equal(s.quotaBytes, 2 * 1024 ** 3);
      assert.deepEqual(s.errors, []);
      assert.equal(s.isLearner, false);
    }
  });
});

test('MoveLeader: refused on a follower and for a non-member, and on the leader it returns once the target leads', async () => {
  await withMasters(3, async (m) => {
    const leader = await m.leader();
    const [target, other] = [...m.members.values()].filter((x) => x.id !== leader.id);
    await assert.rejects(m.client(other.id).call('Maintenance', 'MoveLeader', { targetID: target.id }), isGrpc(Code.FAILED_PRECONDITION, 'etcdserver: not leader'));
    const lc = m.client(leader.id);
    await assert.rejects(lc.call('Maintenance', 'MoveLeader', { targetID: 99 }), isGrpc(Code.FAILED_PRECONDITION, 'etcdserver: bad leader transferee'));
    const res = await lc.call('Maintenance', 'MoveLeader', { targetID: target.id });
    assert.equal(res.header.member_id, leader.id);
    // Returned only after the old leader saw the target lead.
    assert.equal(leader.node.leaderId(), target.id);
    assert.equal(target.node.isLeader() || target.node.leaderId() === target.id, true);
    await until('every member sees the new leader', () => [...m.members.values()].every((x) => x.node.leaderId() === target.id));
    // The cluster still takes writes, through the old leader too.
    await lc.call('KV', 'Put', { key: b('after-move'), value: b('ok') });
  });
});

test('Alarm: none normally; NOSPACE on every member once writes are refused for space; it clears when space is freed', async () => {
  await withMasters(
    3,
    async (m) => {
      const leader = await m.leader();
      const c = m.client(leader.id);
      const follower = m.client([...m.members.keys()].find((id) => id !== leader.id)!);
      assert.deepEqual((await follower.call('Maintenance', 'Alarm', { action: 0 })).alarms, []);
      let refused: ServiceError | undefined;
      for (let i = 0; i < 1000 && !refused; i++) {
        await c.call('KV', 'Put', { key: b(`fill/${i}`), value: b('x'.repeat(100)) }).catch((e: ServiceError) => (refused = e));
      }
      assert.ok(refused, 'a write should have been refused');
      assert.equal(refused.details, 'etcdserver: mvcc: database space exceeded');
      await until('the follower applied the last write', () => [...m.members.values()].every((x) => x.store.revision === leader.store.revision));
      const got = await follower.call('Maintenance', 'Alarm', { action: 0 });
      assert.deepEqual(
        got.alarms.map((a: Msg) => [a.memberID, a.alarm]),
        [...m.members.keys()].sort().map((id) => [id, ALARM_NOSPACE]),
      );
      const only = await follower.call('Maintenance', 'Alarm', { action: 0, memberID: leader.id, alarm: ALARM_NOSPACE });
      assert.equal(only.alarms.length, 1);
      const st = await fetchMemberStatus(m.members.get(leader.id)!.clientAddress);
      assert.ok(st.errors.some((e) => /alarm:NOSPACE/.test(e)), st.errors.join('; '));
      // Disarming changes nothing: the alarm follows the free space.
      assert.deepEqual((await c.call('Maintenance', 'Alarm', { action: 2, alarm: ALARM_NOSPACE })).alarms, []);
      await assert.rejects(c.call('Maintenance', 'Alarm', { action: 1, alarm: ALARM_NOSPACE }), (e: ServiceError) => e.code === Code.INVALID_ARGUMENT);
      // Delete everything and compact the history away: the space comes back.
      const del = await c.call('KV', 'DeleteRange', { key: b('fill/'), range_end: b('fill0') });
      await c.call('KV', 'Compact', { revision: del.header.revision });
      await until('the alarm clears on the follower', async () => (await follower.call('Maintenance', 'Alarm', {})).alarms.length === 0);
      await c.call('KV', 'Put', { key: b('works'), value: b('again') });
    },
    { store: { quotaBytes: 16 * 1024 } },
  );
});

test('Defragment succeeds; HashKV agrees across members, changes with a write and reads an older revision', async () => {
  await withMasters(3, async (m) => {
    const leader = await m.leader();
    const c = m.client(leader.id);
    assert.ok((await c.call('Maintenance', 'Defragment', {})).header);
    let rev = 0;
    // More keys than one HashKV page (1000), some overwritten.
    for (let i = 0; i < 2500; i += 100) {
      const ops = Array.from({ length: 100 }, (_, j) => ({ request_put: { key: b(`h/${(i + j) % 1200}`), value: b(`v${i + j}`) } }));
      rev = (await c.call('KV', 'Txn', { success: ops })).header.revision;
    }
    await until('every member at the last revision', () => [...m.members.values()].every((x) => x.store.revision === rev));
    const hashes = await Promise.all([...m.members.keys()].map((id) => m.client(id).call('Maintenance', 'HashKV', { revision: rev })));
    assert.equal(new Set(hashes.map((h) => h.hash)).size, 1, `hashes ${hashes.map((h) => h.hash)}`);
    assert.notEqual(hashes[0].hash, 0);
    const next = (await c.call('KV', 'Put', { key: b('h/0'), value: b('changed') })).header.revision;
    const now = await c.call('Maintenance', 'HashKV', { revision: next });
    assert.notEqual(now.hash, hashes[0].hash);
    const old = await c.call('Maintenance', 'HashKV', { revision: rev });
    assert.equal(old.hash, hashes[0].hash);
    await assert.rejects(c.call('Maintenance', 'HashKV', { revision: next + 10 }), isGrpc(Code.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'));
  });
});

test('Snapshot streams the store in chunks with a header first and the SHA-256 of the data last', async () => {
  await withMasters(1, async (m) => {
    const leader = await m.leader();
    const c = m.client(leader.id);
    for (let i = 0; i < 400; i++) await c.call('KV', 'Put', { key: b(`snap/${i}`), value: b('z'.repeat(200)) });
    const msgs = await snapshotMessages(leader.clientAddress);
    assert.ok(msgs.length >= 4, `${msgs.length} messages`);
    assert.equal(msgs[0].header.revision, leader.store.revision);
    const data = msgs.slice(0, -1);
    const total = data.reduce((n, x) => n + x.blob.length, 0);
    assert.equal(msgs[0].blob.length + msgs[0].remaining_bytes, total);
    assert.ok(data.every((x) => x.blob.length <= 32 * 1024));
    assert.equal(data[data.length - 1].remaining_bytes, 0);
    const body = Buffer.concat(data.map((x) => x.blob));
    const trailer = msgs[msgs.length - 1];
    assert.deepEqual(Buffer.from(trailer.blob), createHash('sha256').update(body).digest());
    // etcdctl's size check: the data is whole 512-byte pages.
    assert.equal(body.length % 512, 0);
    const { meta, store } = decodeSnapshotFile(Buffer.concat([body, trailer.blob]));
    assert.equal(meta.keys, 400);
    const s = verifyStoreSnapshot(meta, store);
    assert.equal(s.range({ key: 'snap/399' }).kvs[0].value.byteLength, 200);
  });
});

test('Snapshot: at most two streams per member at once; a third is refused until one ends', async () => {
  await withMasters(1, async (m) => {
    const leader = await m.leader();
    const c = m.client(leader.id);
    for (let i = 0; i < 64; i++) {
      const ops = Array.from({ length: 8 }, (_, j) => ({ request_put: { key: b(`big/${i}/${j}`), value: Buffer.alloc(5000, i) } }));
      await c.call('KV', 'Txn', { success: ops });
    }
    const d = loadEtcdApi().services.Maintenance.Snapshot as unknown as MethodDefinition<Msg, Msg>;
    const client = new Client(leader.clientAddress, credentials.createInsecure());
    try {
      const open = () => client.makeServerStreamRequest(d.path, d.requestSerialize, d.responseDeserialize, {}, { deadline: Date.now() + 20_000 });
      // Two readers that read one message and then stop: the server waits on flow control, holding its slot.
      const stuck = [open(), open()];
      await Promise.all(stuck.map((s) => new Promise<void>((r) => s.once('data', () => (s.pause(), r())))));
      const third = open();
      const err = await new Promise<ServiceError>((r) => third.on('error', r).on('data', () => {}));
      assert.equal(err.code, Code.RESOURCE_EXHAUSTED);
      assert.match(err.details, /^etcdserver: too many requests: 2 snapshots are already being sent from this member$/);
      for (const s of stuck) {
        s.on('error', () => {});
        s.cancel();
      }
      await until('a snapshot is accepted again', async () => (await snapshotMessages(leader.clientAddress).then(() => true, () => false)));
    } finally {
      client.close();
    }
  });
});
