// The etcd-compatible facade over real members (RocksDB, gRPC Raft) in one
// process, driven through the etcd v3 wire protocol.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status as Code, type ServiceError } from '@grpc/grpc-js';
import { StreamReader, TestMasters, until, type EtcdTestClient } from './test_util.js';

const b = (s: string): Buffer => Buffer.from(s);
const str = (x: Uint8Array): string => Buffer.from(x).toString();

async function withMasters(n: number, fn: (c: TestMasters) => Promise<void>, extra = {}): Promise<void> {
  const c = await TestMasters.start(n, extra);
  try {
    await fn(c);
  } finally {
    await c.close();
  }
}

function put(c: EtcdTestClient, key: string, value: string, extra = {}) {
  return c.call('KV', 'Put', { key: b(key), value: b(value), ...extra });
}

function isGrpc(code: Code, details: string) {
  return (e: ServiceError) => {
    assert.equal(e.code, code, e.message);
    assert.equal(e.details, details);
    return true;
  };
}

test('one master: put, get, prefix range with limit, delete, txn, headers', async () => {
  await withMasters(1, async (m) => {
    const leader = await m.leader();
    const c = m.client(leader.id);
    const r1 = await put(c, 'a/1', 'one');
    assert.equal(r1.header.member_id, 1);
    assert.ok(r1.header.raft_term >= 1);
    assert.ok(r1.header.cluster_id > 0);
    const rev1 = r1.header.revision;
    await put(c, 'a/2', 'two');
    await put(c, 'a/3', 'three');
    await put(c, 'b/1', 'other');
    const prev = await put(c, 'a/1', 'uno', { prev_kv: true });
    assert.equal(str(prev.prev_kv.value), 'one');

    const get = await c.call('KV', 'Range', { key: b('a/1') });
    assert.equal(get.count, 1);
    assert.equal(str(get.kvs[0].value), 'uno');
    assert.equal(get.kvs[0].version, 2);
    assert.equal(get.kvs[0].create_revision, rev1);

    const page = await c.call('KV', 'Range', { key: b('a/'), range_end: b('a0'), limit: 2 });
    assert.deepEqual(page.kvs.map((kv: { key: Buffer }) => str(kv.key)), ['a/1', 'a/2']);
    assert.equal(page.more, true);
    assert.equal(page.count, 3);

    const old = await c.call('KV', 'Range', { key: b('a/1'), revision: rev1, serializable: true });
    assert.equal(str(old.kvs[0].value), 'one');

    const del = await c.call('KV', 'DeleteRange', { key: b('a/'), range_end: b('a0'), prev_kv: true });
    assert.equal(del.deleted, 3);
    assert.equal(del.prev_kvs.length, 3);
    assert.equal((await c.call('KV', 'Range', { key: b('a/'), range_end: b('a0') })).count, 0);

    // Compare the mod revision: the first txn wins, the second sees the change and takes the failure branch.
    const mod = (await c.call('KV', 'Range', { key: b('b/1') })).kvs[0].mod_revision;
    const txn = (value: string) =>
      c.call('KV', 'Txn', {
        compare: [{ key: b('b/1'), target: 2, result: 0, mod_revision: mod }],
        success: [{ request_put: { key: b('b/1'), value: b(value) } }],
        failure: [{ request_range: { key: b('b/1') } }],
      });
    const t1 = await txn('first');
    assert.equal(t1.succeeded, true);
    const t2 = await txn('second');
    assert.equal(t2.succeeded, false);
    assert.equal(str(t2.responses[0].response_range.kvs[0].value), 'first');

    await assert.rejects(c.call('KV', 'Range', { key: b('') }), isGrpc(Code.INVALID_ARGUMENT, 'etcdserver: key is not provided'));
    const st = await c.call('Maintenance', 'Status', {});
    assert.equal(st.leader, 1);
    assert.equal(st.version, '3.4.23');
    const ml = await c.call('Cluster', 'MemberList', {});
    assert.deepEqual(ml.members.map((x: { ID: number }) => x.ID), [1]);
    assert.equal(ml.members[0].clientURLs[0], `http://${leader.clientAddress}`);
  });
});

test('three masters: a follower accepts writes and serves linearizable reads', async () => {
  await withMasters(3, async (m) => {
    const leader = await m.leader();
    const followerId = [...m.members.keys()].find((id) => id !== leader.id)!;
    const f = m.client(followerId);
    for (let i = 0; i < 20; i++) {
      const r = await put(f, `k${i}`, `v${i}`);
      assert.equal(r.header.member_id, followerId);
      // Read-your-writes on another follower too: ReadIndex waits for the write to be applied there.
      const other = [...m.members.keys()].find((id) => id !== leader.id && id !== followerId)!;
      const g = await m.client(other).call('KV', 'Range', { key: b(`k${i}`) });
      assert.equal(str(g.kvs[0].value), `v${i}`);
    }
    const txn = await f.call('KV', 'Txn', { compare: [{ key: b('k0'), target: 3, result: 0, value: b('v0') }], success: [{ request_delete_range: { key: b('k0') } }] });
    assert.equal(txn.succeeded, true);
    assert.equal(txn.responses[0].response_delete_range.deleted, 1);
    const ml = await f.call('Cluster', 'MemberList', {});
    assert.equal(ml.members.length, 3);
  });
});

test('a txn that only reads is answered without a Raft entry, linearizable on a follower, serializable when asked', async () => {
  await withMasters(3, async (m) => {
    const leader = await m.leader();
    const [f1, f2] = [...m.members.keys()].filter((id) => id !== leader.id);
    await put(m.client(f1), 'cfg', 'blue');
    const c = m.client(f2);
    const readTxn = (value: string, serializable = false) =>
      c.call('KV', 'Txn', {
        compare: [{ key: b('cfg'), target: 3, result: 0, value: b(value) }],
        success: [{ request_range: { key: b('cfg'), serializable } }],
        failure: [{ request_range: { key: b('c'), range_end: b('d'), count_only: true, serializable } }],
      });
    const logBefore = leader.node.status().commit;
    for (let i = 0; i < 5; i++) {
      // Written through the other follower, then read here at once: ReadIndex makes it visible.
      const w = await put(m.client(f1), 'cfg', `blue${i}`);
      const hit = await readTxn(`blue${i}`);
      assert.equal(hit.succeeded, true);
      assert.equal(str(hit.responses[0].response_range.kvs[0].value), `blue${i}`);
      assert.equal(hit.header.member_id, f2);
      assert.equal(hit.header.revision, w.header.revision);
      const miss = await readTxn('green');
      assert.equal(miss.succeeded, false);
      assert.equal(miss.responses[0].response_range.count, 1);
    }
    const ser = await readTxn('blue4', true);
    assert.equal(ser.succeeded, true);
    // Five puts made five entries; the eleven txns made none.
    assert.equal(leader.node.status().commit, logBefore + 5);
    // A txn with a write in either branch still goes through Raft.
    const w = await c.call('KV', 'Txn', { compare: [{ key: b('cfg'), target: 3, result: 0, value: b('nope') }], failure: [{ request_put: { key: b('cfg'), value: b('red') } }] });
    assert.equal(w.succeeded, false);
    assert.equal(leader.node.status().commit, logBefore + 6);
    assert.equal(str((await c.call('KV', 'Range', { key: b('cfg') })).kvs[0].value), 'red');
  });
});

test('watch from a revision delivers every event in order with no gap, then live ones; compacted history cancels with compact_revision', async () => {
  await withMasters(3, async (m) => {
    const leader = await m.leader();
    const c = m.client(leader.id);
    const first = (await put(c, 'w/0', 'x')).header.revision;
    for (let i = 1; i < 50; i++) await put(c, `w/${i % 7}`, `v${i}`);
    await c.call('KV', 'DeleteRange', { key: b('w/3') });
    const followerId = [...m.members.keys()].find((id) => id !== leader.id)!;
    const f = m.client(followerId);
    const s = f.stream('Watch', 'Watch');
    const r = new StreamReader(s);
    s.write({ create_request: { key: b('w/'), range_end: b('w0'), start_revision: first, prev_kv: true } });
    const created = await r.next();
    assert.equal(created.created, true);
    const watchId = created.watch_id;
    const revs: number[] = [];
    const types: number[] = [];
    const live = put(c, 'w/live', 'now');
    while (!revs.includes((await live).header.revision)) {
      const res = await r.next();
      assert.equal(res.watch_id, watchId);
      for (const e of res.events) {
        revs.push(e.kv.mod_revision);
        types.push(e.type);
      }
    }
    const want = Array.from({ length: revs.length }, (_, i) => first + i);
    assert.deepEqual(revs, want, 'one event per revision, in order, no gap');
    assert.equal(types[revs.indexOf(first + 50)], 1, 'the delete comes as a DELETE event');

    // Compact, then watch from before it: created, then canceled with the compact revision.
    const at = (await put(c, 'w/x', 'y')).header.revision;
    await c.call('KV', 'Compact', { revision: at });
    await assert.rejects(c.call('KV', 'Range', { key: b('w/0'), revision: first }), isGrpc(Code.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'));
    await until('the follower to apply the compaction', () => m.members.get(followerId)!.store.compactRevision >= at);
    s.write({ create_request: { key: b('w/'), range_end: b('w0'), start_revision: first } });
    let res = await r.next();
    while (!res.created) res = await r.next();
    const cancelled = await r.next();
    assert.equal(cancelled.canceled, true);
    assert.equal(cancelled.compact_revision, at);
    assert.equal(cancelled.watch_id, res.watch_id);

    // A progress request answers with the current revision.
    s.write({ progress_request: {} });
    let p = await r.next();
    while (p.watch_id !== -1) p = await r.next();
    assert.ok(p.header.revision >= at);
    s.end();
  });
});

test('leases: grant, attach, keepalive, time-to-live, expiry deletes the keys, revoke of an unknown lease fails', async () => {
  await withMasters(3, async (m) => {
    const leader = await m.leader();
    const followerId = [...m.members.keys()].find((id) => id !== leader.id)!;
    const f = m.client(followerId);
    const g = await f.call('Lease', 'LeaseGrant', { TTL: 2 });
    assert.ok(g.ID > 0);
    assert.equal(g.TTL, 2);
    await put(f, 'leased', 'v', { lease: g.ID });
    const ttl = await f.call('Lease', 'LeaseTimeToLive', { ID: g.ID, keys: true });
    assert.equal(ttl.grantedTTL, 2);
    assert.deepEqual(ttl.keys.map(str), ['leased']);
    assert.deepEqual((await f.call('Lease', 'LeaseLeases', {})).leases.map((l: { ID: number }) => l.ID), [g.ID]);

    // Keepalives through a follower keep the key past its TTL.
    const ka = f.stream('Lease', 'LeaseKeepAlive');
    const kr = new StreamReader(ka);
    const t0 = Date.now();
    while (Date.now() - t0 < 3500) {
      ka.write({ ID: g.ID });
      const res = await kr.next();
      assert.equal(res.ID, g.ID);
      assert.equal(res.TTL, 2);
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal((await f.call('KV', 'Range', { key: b('leased') })).count, 1, 'kept alive past its TTL');
    ka.end();

    // Without keepalives the leader expires it and the key goes.
    await until('the lease to expire', async () => (await f.call('KV', 'Range', { key: b('leased') })).count === 0, 10_000);
    assert.equal((await f.call('Lease', 'LeaseTimeToLive', { ID: g.ID })).TTL, -1);
    await assert.rejects(f.call('Lease', 'LeaseRevoke', { ID: g.ID }), isGrpc(Code.NOT_FOUND, 'etcdserver: requested lease not found'));
    await assert.rejects(put(f, 'x', 'y', { lease: 12345 }), isGrpc(Code.NOT_FOUND, 'etcdserver: requested lease not found'));

    const ka2 = f.stream('Lease', 'LeaseKeepAlive');
    const kr2 = new StreamReader(ka2);
    ka2.write({ ID: g.ID });
    assert.equal((await kr2.next()).TTL, 0, 'a keepalive of a gone lease answers TTL 0');
    ka2.end();

    const g2 = await f.call('Lease', 'LeaseGrant', { TTL: 60 });
    await put(f, 'k2', 'v', { lease: g2.ID });
    await f.call('Lease', 'LeaseRevoke', { ID: g2.ID });
    assert.equal((await f.call('KV', 'Range', { key: b('k2') })).count, 0);
  }, { leaseCheckIntervalMs: 100 });
});

test('a full store refuses writes with etcd\'s no-space error', async () => {
  await withMasters(1, async (m) => {
    const leader = await m.leader();
    const c = m.client(leader.id);
    await assert.rejects(put(c, 'big', 'x'.repeat(64 * 1024)), isGrpc(Code.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'));
  }, { store: { quotaBytes: 16 * 1024 } });
});

test('malformed protobuf and out-of-range fields get errors, never crash a member, and leave the data intact', async () => {
  await withMasters(3, async (m) => {
    const leader = await m.leader();
    const followerId = [...m.members.keys()].find((id) => id !== leader.id)!;
    const c = m.client(followerId);
    await put(c, 'keep', 'me');
    const { Client, credentials } = await import('@grpc/grpc-js');
    const raw = new Client(m.members.get(followerId)!.clientAddress, credentials.createInsecure());
    const methods = ['KV/Range', 'KV/Put', 'KV/DeleteRange', 'KV/Txn', 'KV/Compact', 'Lease/LeaseGrant', 'Lease/LeaseRevoke', 'Lease/LeaseTimeToLive', 'Maintenance/Status', 'Cluster/MemberList'];
    let seed = 12345;
    const rand = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    const codes = new Map<number, number>();
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + rand(40) }, () => rand(256)));
      const path = `/etcdserverpb.${methods[i % methods.length]}`;
      sends.push(
        new Promise<void>((resolve) =>
          raw.makeUnaryRequest(path, (x: Buffer) => x, (x: Buffer) => x, bytes, { deadline: Date.now() + 10_000 }, (err) => {
            codes.set(err?.code ?? 0, (codes.get(err?.code ?? 0) ?? 0) + 1);
            resolve();
          }),
        ),
      );
      if (sends.length >= 64) await Promise.all(sends.splice(0));
    }
    await Promise.all(sends);
    raw.close();
    assert.ok(!codes.has(Code.UNAVAILABLE) && !codes.has(Code.DEADLINE_EXCEEDED), `no member went away: ${JSON.stringify([...codes])}`);
    // Well-formed messages with bad values are refused by name.
    await assert.rejects(c.call('KV', 'Range', { key: b('k'), limit: -1 }), isGrpc(Code.INVALID_ARGUMENT, 'etcdserver: Invalid range limit -1: expected a non-negative integer'));
    await assert.rejects(c.call('KV', 'Range', { key: b('k'), revision: 1_000_000 }), isGrpc(Code.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'));
    await assert.rejects(c.call('KV', 'Compact', { revision: 1_000_000 }), isGrpc(Code.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'));
    await assert.rejects(c.call('KV', 'Txn', { success: [{ request_put: { key: b('a'), value: b('1') } }, { request_put: { key: b('a'), value: b('2') } }] }), isGrpc(Code.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'));
    await assert.rejects(c.call('KV', 'Put', { key: b('nope'), value: b(''), ignore_value: true }), isGrpc(Code.INVALID_ARGUMENT, 'etcdserver: key not found'));
    for (const id of m.members.keys()) {
      const g = await m.client(id).call('KV', 'Range', { key: b('keep') });
      assert.equal(str(g.kvs[0].value), 'me');
    }
  });
});

test('watch: progress_notify bookmarks, filters, cancel, and the per-stream watch limit', async () => {
  await withMasters(1, async (m) => {
    const leader = await m.leader();
    const c = m.client(leader.id);
    const s = c.stream('Watch', 'Watch');
    const r = new StreamReader(s);
    s.write({ create_request: { key: b('p'), progress_notify: true, filters: [1] } });
    const created = await r.next();
    assert.equal(created.created, true);
    const rev = (await put(c, 'p', 'x')).header.revision;
    await c.call('KV', 'DeleteRange', { key: b('p') });
    let ev = await r.next();
    while (ev.events.length === 0) ev = await r.next(); // bookmarks may come first
    assert.deepEqual(ev.events.map((e: { type: number; kv: { mod_revision: number } }) => [e.type, e.kv.mod_revision]), [[0, rev]]);
    // The delete was filtered out (NODELETE); the next message is a bookmark past it.
    let bookmark = await r.next();
    for (;;) {
      assert.equal(bookmark.watch_id, created.watch_id);
      assert.equal(bookmark.events.length, 0, 'no delete event');
      if (bookmark.header.revision >= rev + 1) break;
      bookmark = await r.next();
    }
    s.write({ cancel_request: { watch_id: created.watch_id } });
    let cancelled = await r.next();
    while (!cancelled.canceled) cancelled = await r.next();
    assert.equal(cancelled.watch_id, created.watch_id);
    for (let i = 0; i < 3; i++) s.write({ create_request: { key: b(`q${i}`) } });
    const answers = [await r.next(), await r.next(), await r.next()];
    assert.deepEqual(answers.map((a) => a.canceled), [false, false, true]);
    assert.equal(answers[2].cancel_reason, 'etcdserver: too many watches on this stream (the limit is 2)');
    s.end();
  }, { progressNotifyIntervalMs: 200, maxWatchesPerStream: 2 });
});

test('a write sent to a follower while the leader dies waits for the new leader instead of failing', async () => {
  await withMasters(3, async (m) => {
    const leader = await m.leader();
    const followerId = [...m.members.keys()].find((id) => id !== leader.id)!;
    const f = m.client(followerId);
    await put(f, 'before', '1');
    await leader.stop({ transferLeadership: false });
    m.members.delete(leader.id);
    const r = await put(f, 'after', '2');
    assert.equal(r.header.member_id, followerId);
    const g = await f.call('KV', 'Range', { key: b('before'), range_end: b('before\0') });
    assert.equal(str(g.kvs[0].value), '1');
    assert.equal(str((await f.call('KV', 'Range', { key: b('after') })).kvs[0].value), '2');
  });
});
