// Three `navarch master` processes driven by unmodified etcdctl (Debian's
// etcd-client, API v3): put/get/del/txn/watch/member list/endpoint status,
// then the same after the leader is killed with SIGKILL, and a watch that
// spans the failover sees every revision once; SIGTERM hands leadership over.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeSnapshotFile } from '../pkg/etcdserver/snapshot_file.js';
import { LocalMasterCluster } from '../pkg/localcluster/master_cluster.js';
import { ETCDCTL_ENV, etcdctl } from './etcdctl.js';

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `etcdctl watch -w json` output, parsed as it arrives: the mod revision of every event. */
class WatchProcess {
  readonly revisions: number[] = [];
  readonly keys: string[] = [];
  private buf = '';
  readonly child: ChildProcess;
  constructor(endpoint: string, args: string[]) {
    this.child = spawn('etcdctl', [`--endpoints=${endpoint}`, 'watch', '-w', 'json', ...args], { env: ETCDCTL_ENV });
    this.child.stdout!.on('data', (d) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i).trim();
        this.buf = this.buf.slice(i + 1);
        if (!line.startsWith('{')) continue;
        const res = JSON.parse(line) as { Events?: Array<{ kv: { key: string; mod_revision: number } }> };
        for (const e of res.Events ?? []) {
          this.revisions.push(e.kv.mod_revision);
          this.keys.push(Buffer.from(e.kv.key, 'base64').toString());
        }
      }
    });
  }
  /** Kills etcdctl and waits until it is gone, so nothing of this test outlives it. */
  async stop(): Promise<void> {
    const c = this.child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGKILL');
    await gone;
  }
}

test('etcdctl against three navarch masters, before and after kill -9 of the leader', { timeout: 240_000 }, async () => {
  if (spawnSync('etcdctl', ['version'], { env: ETCDCTL_ENV }).error) throw new Error('etcdctl not found: install Debian\'s etcd-client (.ci/run does)');
  const dir = mkdtempSync(join(tmpdir(), 'navarch-e2e-etcdctl-'));
  const cluster = await LocalMasterCluster.create({ dir, masters: 3 });
  let watch: WatchProcess | undefined;
  try {
    cluster.startAll();
    let leader = await cluster.waitForLeader(60_000);
    const all = cluster.endpoints;

    // Writes through every member (followers forward to the leader).
    for (const m of cluster.members) assert.equal((await etcdctl(m.clientAddress, ['put', `e2e/m${m.id}`, `from-${m.id}`])).trim(), 'OK');
    assert.equal((await etcdctl(all, ['get', 'e2e/m2', '--print-value-only'])).trim(), 'from-2');
    const list = JSON.parse(await etcdctl(all, ['get', 'e2e/', '--prefix', '-w', 'json']));
    assert.equal(list.count, 3);
    const startRev = list.header.revision + 1;

    // A watch on a member that will survive, from the next revision.
    const watcher = cluster.members.find((m) => m.id !== leader)!;
    // Every key: the masters' own writes (lease renewals) take revisions between ours, and a gap check needs them all.
    watch = new WatchProcess(watcher.clientAddress, ['', '--prefix', `--rev=${startRev}`]);

    assert.equal((await etcdctl(all, ['del', 'e2e/m1'])).trim(), '1');
    const txnOut = await etcdctl(all, ['txn'], 'value("e2e/m2") = "from-2"\n\nput e2e/txn yes\n\nput e2e/txn no\n\n');
    assert.match(txnOut, /^SUCCESS/);
    assert.equal((await etcdctl(all, ['get', 'e2e/txn', '--print-value-only'])).trim(), 'yes');

    const members = JSON.parse(await etcdctl(all, ['member', 'list', '-w', 'json'])) as { members: Array<{ ID: number; clientURLs: string[] }> };
    assert.deepEqual(members.members.map((x) => x.ID), [1, 2, 3]);
    assert.deepEqual(members.members.map((x) => x.clientURLs[0]), cluster.members.map((m) => `http://${m.clientAddress}`));
    const status = JSON.parse(await etcdctl(all, ['endpoint', 'status', '-w', 'json'])) as Array<{ Status: { leader: number; version: string } }>;
    assert.equal(status.length, 3);
    assert.deepEqual([...new Set(status.map((s) => s.Status.leader))], [leader]);

    // Maintenance: move-leader to the member that is neither leader nor watched; alarms, defrag, hashkv, snapshot save.
    const target = cluster.members.find((m) => m.id !== leader && m.id !== watcher.id)!.id;
    assert.equal((await etcdctl(all, ['move-leader', target.toString(16)])).trim(), `Leadership transferred from ${leader.toString(16)} to ${target.toString(16)}`);
    assert.equal(await cluster.waitForLeader(10_000), target);
    leader = target;
    assert.equal((await etcdctl(all, ['alarm', 'list'])).trim(), '');
    assert.match(await etcdctl(all, ['defrag']), /^(Finished defragmenting etcd member\[127\.0\.0\.1:\d+\]\n){3}$/);
    // The masters write on their own (control-plane lease renewals), so compare the members at one revision.
    const hashRev = (JSON.parse(await etcdctl(all, ['get', 'e2e/m2', '-w', 'json'])) as { header: { revision: number } }).header.revision;
    const hashes = JSON.parse(await etcdctl(all, ['endpoint', 'hashkv', `--rev=${hashRev}`, '-w', 'json'])) as Array<{ HashKV: { hash: number } }>;
    assert.equal(new Set(hashes.map((h) => h.HashKV.hash)).size, 1, JSON.stringify(hashes));
    // etcdctl saves our snapshot format (its size check passes); only its bbolt reader (snapshot status/restore) refuses it.
    const snap = join(dir, 'etcdctl.snap');
    // The masters keep their own keys too (system namespaces, control-plane leases): the snapshot holds every key.
    const everyKey = JSON.parse(await etcdctl(watcher.clientAddress, ['get', '', '--from-key', '--keys-only', '-w', 'json'])) as { count: number };
    await etcdctl(watcher.clientAddress, ['snapshot', 'save', snap]);
    const saved = decodeSnapshotFile(readFileSync(snap));
    assert.equal(saved.meta.keys, everyKey.count);
    assert.ok(saved.meta.keys >= 3);
    await assert.rejects(etcdctl(all, ['snapshot', 'status', snap]), /invalid database/);

    // Kill the leader; the other two elect a new one and etcdctl carries on with the same endpoint list.
    await cluster.kill(leader, 'SIGKILL');
    const survivors = cluster.members.filter((m) => m.id !== leader).map((m) => m.clientAddress).join(',');
    const newLeader = await cluster.waitForLeader(30_000);
    assert.notEqual(newLeader, leader);
    await waitFor('a put after the failover', async () => ((await etcdctl(all, ['put', 'e2e/after', 'kill'])).trim() === 'OK' ? true : undefined));
    assert.equal((await etcdctl(survivors, ['get', 'e2e/txn', '--print-value-only'])).trim(), 'yes', 'data written before the kill is still there');
    assert.equal((await etcdctl(survivors, ['get', 'e2e/after', '--print-value-only'])).trim(), 'kill');
    const txn2 = await etcdctl(survivors, ['txn'], 'value("e2e/after") = "kill"\n\ndel e2e/txn\n\n\n');
    assert.match(txn2, /^SUCCESS/);

    // The watch saw every revision from its start, in order, once each, across the failover.
    const last = JSON.parse(await etcdctl(survivors, ['get', 'e2e/after', '-w', 'json'])).header.revision as number;
    await waitFor('the watch to reach the last revision', async () => ((watch!.revisions.at(-1) ?? 0) >= last ? true : undefined));
    const unique = [...new Set(watch.revisions)].filter((r) => r <= last);
    assert.deepEqual(unique, [...unique].sort((a, b) => a - b), 'events in revision order');
    assert.equal(unique[0], startRev);
    // Every revision from the start to the last write, each once.
    assert.deepEqual(unique, Array.from({ length: last - startRev + 1 }, (_, i) => startRev + i), 'no gap');
    assert.deepEqual(watch.keys.filter((k) => k.startsWith('e2e/')), ['e2e/m1', 'e2e/txn', 'e2e/after', 'e2e/txn']);

    // The killed master comes back and catches up.
    cluster.start(leader);
    await cluster.waitForLeader(30_000);
    const back = cluster.member(leader).clientAddress;
    await waitFor('the restarted master to serve the latest data', async () => ((await etcdctl(back, ['get', 'e2e/after', '--print-value-only'])).trim() === 'kill' ? true : undefined));

    // Leases: a key on a 2 s lease survives while kept alive, then goes when the lease is revoked.
    const grant = await etcdctl(all, ['lease', 'grant', '2']);
    const leaseId = /lease ([0-9a-f]+) granted/.exec(grant)?.[1];
    assert.ok(leaseId, grant);
    await etcdctl(all, ['put', 'e2e/leased', 'v', `--lease=${leaseId}`]);
    for (let i = 0; i < 4; i++) {
      assert.match(await etcdctl(all, ['lease', 'keep-alive', '--once', leaseId]), /keepalived with TTL\(2\)/);
      await new Promise((r) => setTimeout(r, 700));
    }
    assert.equal((await etcdctl(all, ['get', 'e2e/leased', '--print-value-only'])).trim(), 'v', 'kept alive past its TTL');
    assert.match(await etcdctl(all, ['lease', 'timetolive', leaseId, '--keys']), /attached keys\(\[e2e\/leased\]\)/);
    await etcdctl(all, ['lease', 'revoke', leaseId]);
    assert.equal((await etcdctl(all, ['get', 'e2e/leased'])).trim(), '');

    // Compaction: old revisions are gone for reads and watches, with etcd's messages.
    const now = JSON.parse(await etcdctl(all, ['get', 'e2e/after', '-w', 'json'])).header.revision as number;
    assert.match(await etcdctl(all, ['compact', String(now)]), new RegExp(`compacted revision ${now}`));
    await assert.rejects(etcdctl(all, ['get', 'e2e/after', `--rev=${startRev}`]), /required revision has been compacted/);
    await assert.rejects(etcdctl(all, ['watch', 'e2e/', '--prefix', `--rev=${startRev}`]), /watch was canceled \(etcdserver: mvcc: required revision has been compacted\)/);

    // SIGTERM on the leader hands leadership over before it exits cleanly; writes carry on.
    const third = await cluster.waitForLeader(30_000);
    assert.equal(await cluster.kill(third, 'SIGTERM'), 0, 'a clean exit on SIGTERM');
    const fourth = await cluster.waitForLeader(30_000);
    assert.notEqual(fourth, third);
    assert.doesNotMatch(readFileSync(cluster.member(third).logFile, 'utf8'), /leadership transfer before stop failed/);
    await waitFor('a put after the handover', async () => ((await etcdctl(all, ['put', 'e2e/handover', 'ok'])).trim() === 'OK' ? true : undefined));
  } finally {
    await watch?.stop();
    await cluster.stopAll('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
