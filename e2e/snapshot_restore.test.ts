// Backup and restore with real processes: three `navarch master` processes
// take writes from etcdctl, one master's snapshot is saved, the cluster is
// stopped, the snapshot is restored into three new data dirs with new
// addresses, and three new `navarch master` processes serve exactly the
// saved keys at the saved revision.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { downloadSnapshot } from '../pkg/etcdserver/snapshot_download.js';
import { LocalMasterCluster } from '../pkg/localcluster/master_cluster.js';
import { restoreSnapshot } from '../pkg/master/snapshot_restore.js';

function etcdctl(endpoints: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('etcdctl', [`--endpoints=${endpoints}`, '--command-timeout=8s', '--dial-timeout=3s', ...args], { env: { ...process.env, ETCDCTL_API: '3' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`etcdctl ${args.join(' ')} exited ${code}: ${err.trim() || out.trim()}`))));
    p.stdin.end();
  });
}

interface GetJson {
  header: { revision: number };
  kvs?: Array<{ key: string; value: string; version: number }>;
}

const decode = (b64: string): string => Buffer.from(b64, 'base64').toString();

test('a snapshot of three masters restores into three new master processes at the same revision', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-e2e-restore-'));
  const old = await LocalMasterCluster.create({ dir: join(dir, 'old'), masters: 3 });
  const restored = await LocalMasterCluster.create({ dir: join(dir, 'new'), masters: 3 });
  try {
    old.startAll();
    await old.waitForLeader(60_000);
    for (let i = 0; i < 40; i++) await etcdctl(old.endpoints, ['put', `backup/${String(i).padStart(2, '0')}`, `value-${i}`]);
    await etcdctl(old.endpoints, ['put', 'backup/00', 'rewritten']);
    await etcdctl(old.endpoints, ['del', 'backup/39']);
    const before = JSON.parse(await etcdctl(old.endpoints, ['get', 'backup/', '--prefix', '-w', 'json'])) as GetJson;
    assert.equal(before.kvs?.length, 39);

    const file = join(dir, 'backup.snap');
    const saved = await downloadSnapshot(old.members[2].clientAddress, file);
    assert.equal(saved.meta.revision, before.header.revision);
    await old.stopAll('SIGTERM');

    const peers = restored.members.map((m) => ({ id: m.id, address: m.peerAddress }));
    for (const m of restored.members) await restoreSnapshot({ file, dataDir: m.dataDir, id: m.id, peers });
    restored.startAll();
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
    const members = JSON.parse(await etcdctl(restored.endpoints, ['member', 'list', '-w', 'json'])) as { members: Array<{ peerURLs: string[] }> };
    assert.deepEqual(members.members.map((x) => x.peerURLs[0]), restored.members.map((m) => `http://${m.peerAddress}`));
    assert.equal((await etcdctl(restored.endpoints, ['put', 'after', 'restore'])).trim(), 'OK');
    const after = JSON.parse(await etcdctl(restored.endpoints, ['get', 'after', '-w', 'json'])) as GetJson;
    assert.equal(after.header.revision, before.header.revision + 1);
  } finally {
    await old.stopAll('SIGKILL');
    await restored.stopAll('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
