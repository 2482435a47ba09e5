// A master that holds both the scheduler's and the controller manager's leases and comes to lead
// Raft hands Raft leadership to another member (pkg/master/raft_handoff.ts), with the leases left
// where they are. Three real `navarch master` processes; only master 1 runs the components, so it
// holds both leases; `navctl cluster transfer-leader` puts Raft leadership on it.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalMasterCluster } from '../pkg/localcluster/master_cluster.js';
import { until } from '../pkg/localcluster/until.js';
import { runNavctl as navctl } from './command.js';

interface LeaseJson {
  spec?: { holderIdentity?: string; leaseTransitions?: number };
}

async function lease(server: string, name: string): Promise<{ holder: string; transitions: number }> {
  const l = JSON.parse(await navctl(['--server', server, 'get', 'lease', name, '-n', 'kube-system', '-o', 'json'])) as LeaseJson;
  return { holder: l.spec?.holderIdentity ?? '', transitions: l.spec?.leaseTransitions ?? 0 };
}

test('a master holding both leases hands Raft leadership to another member; the leases stay with it', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-e2e-handoff-'));
  const cluster = await LocalMasterCluster.create({ dir, masters: 3 });
  try {
    cluster.start(1);
    for (const id of [2, 3]) cluster.start(id, ['--no-scheduler', '--no-controllers']);
    await cluster.waitForLeader(60_000);
    const server = cluster.endpoints;
    const names = ['kube-scheduler', 'kube-controller-manager'];
    await until('master 1 to hold both leases', async () => {
      try {
        return (await Promise.all(names.map((n) => lease(server, n)))).every((l) => l.holder.startsWith('master-1_'));
      } catch {
        return false;
      }
    }, 60_000, 200);
    const before = await Promise.all(names.map((n) => lease(server, n)));

    if ((await cluster.waitForLeader()) !== 1) await navctl(['--server', server, 'cluster', 'transfer-leader', '1']);
    assert.equal(await cluster.waitForLeader(), 1, 'Raft leadership on the lease holder');

    // After 10 s of both (checked each second), master 1 hands Raft leadership over.
    await until('master 1 to hand Raft leadership over', async () => (await cluster.waitForLeader()) !== 1, 30_000, 200);
    const log = readFileSync(cluster.member(1).logFile, 'utf8');
    assert.match(log, /handed Raft leadership to member [23]: this master holds the scheduler and controller manager leases/);
    assert.deepEqual(await Promise.all(names.map((n) => lease(server, n))), before, 'the leases did not move');
  } finally {
    await cluster.stopAll('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
