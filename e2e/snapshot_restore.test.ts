// Cluster operations and backup/restore with real processes, as a user runs
// them: three `navarch master` processes take writes from etcdctl; `navctl
// cluster transfer-leader` moves leadership; `navctl snapshot save` saves a
// follower's snapshot; the cluster is stopped; `navctl snapshot restore`
// builds three new data dirs with new addresses; three new `navarch master`
// processes serve exactly the saved keys at the saved revision.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalMasterCluster } from '../pkg/localcluster/master_cluster.js';
import { until } from '../pkg/localcluster/until.js';
import { runNavctl as navctl } from './command.js';
import { etcdctl } from './etcdctl.js';

/** The real navctl; no config file is read because every call that needs masters passes --server. */
const STORE_ONLY = ['--no-scheduler', '--no-controllers'];

async function waitForSystemNamespaces(server: string): Promise<void> {
  const names = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
  await until('the system namespaces', async () => {
    const out = await navctl(['--server', server, 'get', 'namespaces', '-o', 'name']);
    return names.every((n) => out.includes(`namespace/${n}\n`));
  }, 30_000, 200);
}

interface GetJson {
  header: { revision: number };
  kvs?: Array<{ key: string; value: string; version: number }>;
}

const decode = (b64: string): string => Buffer.from(b64, 'base64').toString();

test('navctl moves leadership, saves a snapshot of three masters and restores it into three new master processes at the same revision', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-e2e-restore-'));
  const old = await LocalMasterCluster.create({ dir: join(dir, 'old'), masters: 3 });
  const restored = await LocalMasterCluster.create({ dir: join(dir, 'new'), masters: 3 });
  try {
    // The store is the subject here: no scheduler or controllers writing leases and events meanwhile.
    for (const m of old.members) old.start(m.id, STORE_ONLY);
    await old.waitForLeader(60_000);
    // The leader creates the system namespaces; wait for them so the saved revision is the last write.
    await waitForSystemNamespaces(old.endpoints);
    for (let i = 0; i < 40; i++) await etcdctl(old.endpoints, ['put', `backup/${String(i).padStart(2, '0')}`, `value-${i}`]);
    await etcdctl(old.endpoints, ['put', 'backup/00', 'rewritten']);
    await etcdctl(old.endpoints, ['del', 'backup/39']);
    const before = JSON.parse(await etcdctl(old.endpoints, ['get', 'backup/', '--prefix', '-w', 'json'])) as GetJson;
    assert.equal(before.kvs?.length, 39);

    const server = old.endpoints;
    let leader = await old.waitForLeader();
    const target = leader === 3 ? 1 : leader + 1;
    assert.match(await navctl(['--server', server, 'cluster', 'transfer-leader', String(target)]), new RegExp(`^Leadership moved from member ${leader} \\(.+\\) to member ${target} \\(.+\\) at term \\d+\n$`));
    leader = await old.waitForLeader();
    assert.equal(leader, target);
    const members = JSON.parse(await navctl(['--server', server, 'cluster', 'members', '-o', 'json'])) as Array<{ id: number; isLeader: boolean; reachable: boolean }>;
    assert.deepEqual(members.map((x) => [x.id, x.isLeader, x.reachable]), old.members.map((m) => [m.id, m.id === leader, true]));

    const file = join(dir, 'backup.snap');
    const follower = old.members.find((m) => m.id !== leader)!;
    const saved = await navctl(['--server', server, 'snapshot', 'save', file, '--endpoint', follower.clientAddress]);
    const everyKey = (JSON.parse(await etcdctl(follower.clientAddress, ['get', '', '--from-key', '--keys-only', '-w', 'json'])) as { count: number }).count;
    assert.equal(everyKey, 39 + 4, 'the 39 keys and the 4 system namespaces');
    assert.match(saved, new RegExp(`^Snapshot saved to .*backup\\.snap: revision ${before.header.revision}, ${everyKey} keys, .* from member ${follower.id} at `));
    await old.stopAll('SIGTERM');

    const peers = restored.members.map((m) => `${m.id}=${m.peerAddress}`).join(',');
    for (const m of restored.members) {
      const out = await navctl(['snapshot', 'restore', file, '--data-dir', m.dataDir, '--id', String(m.id), '--peers', peers]);
      assert.match(out, new RegExp(`^Restored revision ${before.header.revision} \\(${everyKey} keys\\) into .* as member ${m.id} of a new cluster of 3\\.`));
    }
    for (const m of restored.members) restored.start(m.id, STORE_ONLY);
    await restored.waitForLeader(60_000);
    for (const m of restored.members) {
      const got = JSON.parse(await etcdctl(m.clientAddress, ['get', 'backup/', '--prefix', '-w', 'json', '--consistency=s'])) as GetJson;
      assert.equal(got.header.revision, before.header.revision, `master ${m.id}: revision`);
      assert.deepEqual(
        got.kvs?.map((kv) => [decode(kv.key), decode(kv.value), kv.version]),
        before.kvs?.map((kv) => [decode(kv.key), decode(kv.value), kv.version]),
        `master ${m.id}: keys`,
      );
    }
    const now = JSON.parse(await navctl(['--server', restored.endpoints, 'cluster', 'members', '-o', 'json'])) as Array<{ peerAddress: string; reachable: boolean }>;
    assert.deepEqual(now.map((x) => [x.peerAddress, x.reachable]), restored.members.map((m) => [m.peerAddress, true]));
    assert.equal((await etcdctl(restored.endpoints, ['put', 'after', 'restore'])).trim(), 'OK');
    const after = JSON.parse(await etcdctl(restored.endpoints, ['get', 'after', '-w', 'json'])) as GetJson;
    assert.equal(after.header.revision, before.header.revision + 1);
  } finally {
    await old.stopAll('SIGKILL');
    await restored.stopAll('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
