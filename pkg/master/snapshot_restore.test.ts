// Backup and restore end to end over real members in one process: write
// keys to a three-master cluster, save a snapshot through
// Maintenance.Snapshot, restore it into three new data dirs with a new
// membership, start a new cluster from them and read everything back.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Member } from '../../raft/node/raft_node.js';
import { downloadSnapshot } from '../etcdserver/snapshot_download.js';
import { EtcdTestClient, TestMasters, until } from '../etcdserver/test_util.js';
import { freePort } from '../localcluster/kv_cluster.js';
import { startMasterMember, type MasterMember } from './member.js';
import { restoreSnapshot } from './snapshot_restore.js';

const b = (s: string): Buffer => Buffer.from(s);
const str = (x: Uint8Array): string => Buffer.from(x).toString();

async function newPeers(n: number): Promise<Member[]> {
  const out: Member[] = [];
  for (let id = 1; id <= n; id++) out.push({ id, address: `127.0.0.1:${await freePort()}` });
  return out;
}

test('a snapshot saved from three masters restores into a new three-master cluster with every key at the same revision', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-restore-'));
  const old = await TestMasters.start(3);
  const restored: MasterMember[] = [];
  const clients: EtcdTestClient[] = [];
  try {
    const leader = await old.leader();
    const c = old.client(leader.id);
    const want = new Map<string, string>();
    for (let i = 0; i < 300; i++) {
      const key = `k/${String(i).padStart(4, '0')}`;
      await c.call('KV', 'Put', { key: b(key), value: b(`v${i}`) });
      want.set(key, `v${i}`);
    }
    // Overwrites and deletes, so versions and history matter too.
    for (let i = 0; i < 300; i += 7) {
      await c.call('KV', 'Put', { key: b(`k/${String(i).padStart(4, '0')}`), value: b(`again${i}`) });
      want.set(`k/${String(i).padStart(4, '0')}`, `again${i}`);
    }
    for (let i = 1; i < 300; i += 50) {
      await c.call('KV', 'DeleteRange', { key: b(`k/${String(i).padStart(4, '0')}`) });
      want.delete(`k/${String(i).padStart(4, '0')}`);
    }
    const before = await c.call('KV', 'Range', { key: b('k/0000'), range_end: b('k0') });
    const revision = before.header.revision;

    // Saved from a follower: ReadIndex makes it hold every acknowledged write.
    const follower = [...old.members.values()].find((m) => m.id !== leader.id)!;
    const file = join(dir, 'backup.snap');
    const saved = await downloadSnapshot(follower.clientAddress, file);
    assert.equal(saved.linearized, true);
    assert.equal(saved.meta.revision, revision);
    assert.equal(saved.meta.keys, want.size);
    assert.equal(saved.meta.memberId, follower.id);
    assert.equal(existsSync(`${file}.part`), false);
    assert.equal(readFileSync(file).length, saved.bytes);
    await old.close();

    const peers = await newPeers(3);
    for (const p of peers) {
      const r = await restoreSnapshot({ file, dataDir: join(dir, `new-${p.id}`), id: p.id, peers });
      assert.equal(r.meta.revision, revision);
    }
    const clientAddresses = new Map<number, string>();
    for (const p of peers) {
      restored.push(await startMasterMember({ id: p.id, dataDir: join(dir, `new-${p.id}`), peers, clientAddresses, listenClient: '127.0.0.1:0', tickMs: 20 }));
    }
    await until('a leader in the restored cluster', () => restored.some((m) => m.node.isLeader()), 20_000);
    for (const m of restored) {
      const rc = new EtcdTestClient(m.clientAddress);
      clients.push(rc);
      const got = await rc.call('KV', 'Range', { key: b('k/0000'), range_end: b('k0') });
      assert.equal(got.header.revision, revision, `member ${m.id}: revision`);
      assert.deepEqual(
        new Map(got.kvs.map((kv: { key: Buffer; value: Buffer }) => [str(kv.key), str(kv.value)])),
        want,
        `member ${m.id}: keys`,
      );
      assert.equal(got.kvs.find((kv: { key: Buffer }) => str(kv.key) === 'k/0007').version, 2);
      const members = await rc.call('Cluster', 'MemberList', {});
      assert.deepEqual(
        members.members.map((x: { ID: number; peerURLs: string[] }) => [x.ID, x.peerURLs[0]]),
        peers.map((p) => [p.id, `http://${p.address}`]),
      );
    }
    // The new cluster carries on from the saved revision.
    const put = await clients[0].call('KV', 'Put', { key: b('after'), value: b('restore') });
    assert.equal(put.header.revision, revision + 1);
  } finally {
    for (const rc of clients) rc.close();
    await Promise.all(restored.map((m) => m.stop({ transferLeadership: false })));
    await old.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('restore refuses a truncated or damaged file and a non-empty data dir, and leaves nothing behind', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-restore-bad-'));
  const old = await TestMasters.start(1);
  try {
    const m = await old.leader();
    const c = old.client(m.id);
    for (let i = 0; i < 20; i++) await c.call('KV', 'Put', { key: b(`x${i}`), value: b('y'.repeat(100)) });
    const file = join(dir, 'good.snap');
    await downloadSnapshot(m.clientAddress, file);
    const good = readFileSync(file);
    const peers = await newPeers(1);

    writeFileSync(join(dir, 'short.snap'), good.subarray(0, good.length - 100));
    await assert.rejects(restoreSnapshot({ file: join(dir, 'short.snap'), dataDir: join(dir, 'd1'), id: 1, peers }), /probably truncated/);
    assert.equal(existsSync(join(dir, 'd1')), false);

    const flipped = Buffer.from(good);
    flipped[600] ^= 0x40;
    writeFileSync(join(dir, 'flipped.snap'), flipped);
    await assert.rejects(restoreSnapshot({ file: join(dir, 'flipped.snap'), dataDir: join(dir, 'd2'), id: 1, peers }), /SHA-256 checksum does not match/);

    writeFileSync(join(dir, 'bolt.db'), Buffer.alloc(4096 + 32));
    await assert.rejects(restoreSnapshot({ file: join(dir, 'bolt.db'), dataDir: join(dir, 'd3'), id: 1, peers }), /does not start with "NVSNAPSH"/);

    mkdirSync(join(dir, 'used'));
    writeFileSync(join(dir, 'used', 'something'), 'x');
    await assert.rejects(restoreSnapshot({ file, dataDir: join(dir, 'used'), id: 1, peers }), /the directory is not empty/);

    await assert.rejects(restoreSnapshot({ file, dataDir: join(dir, 'd4'), id: 2, peers }), /--peers has no entry for --id 2/);

    // An empty directory made beforehand is accepted.
    mkdirSync(join(dir, 'empty'));
    const r = await restoreSnapshot({ file, dataDir: join(dir, 'empty'), id: 1, peers });
    assert.equal(r.meta.keys, 20);
  } finally {
    await old.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
