// 100,000 generated bad requests (e2e/bad_input/) against three `navarch master` processes, over
// both APIs on the client port. Each gets the right gRPC status and a message naming the problem;
// afterwards the same processes are alive, there is one leader, the objects written before the
// storm are byte-identical, nothing new exists, writes still work and no log shows a crash.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { status as Code } from '@grpc/grpc-js';
import { decodeObject } from '../pkg/api/convert/object.js';
import { NavarchClient } from '../pkg/client/mod.js';
import { EtcdRawClient } from '../pkg/etcdserver/raw_client.js';
import { LocalMasterCluster } from '../pkg/localcluster/master_cluster.js';
import type { Fixture } from './bad_input/bad_case.js';
import { badRequests } from './bad_input/mix.js';
import { storm } from './bad_input/send.js';
import { applyShop, assertShopIntact, type Applied } from './testdata/manifests.js';

const COUNT = Number(process.env.BAD_REQUESTS ?? 100_000);
const IN_FLIGHT = 64;
/**
 * Lines of a master's log (pino JSON) that mean something went wrong: anything that is not a log
 * record (a stack trace printed by Node for an uncaught exception or rejection) or an error record.
 */
function alarming(line: string): boolean {
  if (line.trim() === '') return false;
  try {
    const record = JSON.parse(line) as { level?: number };
    return (record.level ?? 0) >= 50;
  } catch {
    return true;
  }
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function fixtureOf(applied: readonly Applied[], compactedRevision: number): Fixture {
  const find = (resource: string): Applied => applied.find((a) => a.resource === resource)!;
  const meta = (a: Applied) => ({ name: a.name, uid: a.stored.metadata!.uid!, resourceVersion: a.stored.metadata!.resourceVersion! });
  return { namespace: 'shop', pod: meta(find('pods')), configMap: meta(find('configmaps')), deployment: { name: find('deployments').name }, compactedRevision, missingLeaseId: 0x5eed0000 };
}

test(`${COUNT} bad requests get the right error and leave the masters healthy and the data intact`, { timeout: 300_000 }, async () => {
  const seed = Number(process.env.E2E_SEED ?? Date.now() % 1_000_000);
  process.stdout.write(`# bad_requests seed=${seed} count=${COUNT} (E2E_SEED and BAD_REQUESTS replay it)\n`);
  const dir = mkdtempSync(join(tmpdir(), 'navarch-e2e-bad-requests-'));
  const cluster = await LocalMasterCluster.create({ dir, masters: 3 });
  const endpoints = cluster.members.map((m) => m.clientAddress);
  const admin = new NavarchClient({ endpoints, retryDeadlineMs: 20_000 });
  // The stored data is compared afterwards: no controllers acting on the shop's Deployments, no scheduler.
  for (const m of cluster.members) cluster.start(m.id, ['--no-scheduler', '--no-controllers']);
  try {
    const leaderBefore = await cluster.waitForLeader(60_000);
    const pids = cluster.members.map((m) => m.pid);
    const shop = await applyShop(admin);
    // Compact history up to now, so reads and watches from older revisions are expired.
    const etcd = new EtcdRawClient(endpoints[0]);
    let compactedRevision: number;
    try {
      compactedRevision = Number((await etcd.call('KV', 'Range', { key: Buffer.from('\0'), limit: 1 })).header.revision);
      await etcd.call('KV', 'Compact', { revision: compactedRevision, physical: true });
    } finally {
      etcd.close();
    }
    const fixture = fixtureOf(shop, compactedRevision);

    const cpuBefore = cluster.members.map((m) => cpuSeconds(m.pid));
    const ownBefore = process.cpuUsage();
    // The storm keeps both cores busy: this checks each answer, not how fast it came (the benches
    // measure that). Creates of 1.7 MB objects refused at the size limit averaged 1.2-3.2 s here and
    // two of 78 once passed 10 s.
    const result = await storm(endpoints, badRequests(seed, COUNT, fixture), { inFlight: IN_FLIGHT, timeoutMs: 30_000 });
    const mastersCpu = cluster.members.map((m, i) => cpuSeconds(m.pid) - cpuBefore[i]);
    const own = process.cpuUsage(ownBefore);
    const ownCpu = (own.user + own.system) / 1e6;

    const rows = [...result.byCategory.entries()].sort(([a], [b]) => a.localeCompare(b));
    for (const [category, s] of rows) {
      const codes = [...s.codes.entries()].map(([c, n]) => `${Code[c] ?? c}=${n}`).join(' ');
      process.stdout.write(`# ${String(s.sent).padStart(6)}  ${(s.totalMs / s.sent).toFixed(1).padStart(5)} ms  ${category}  [${codes}]  e.g. ${(s.sample ?? '-').slice(0, 160)}\n`);
    }
    process.stdout.write(`# ${result.sent} bad requests in ${result.seconds.toFixed(1)} s: ${Math.round(result.sent / result.seconds)} requests/s, ${IN_FLIGHT} in flight, ${rows.length} categories\n`);
    const totalCpu = mastersCpu.reduce((a, b) => a + b, 0) + ownCpu;
    process.stdout.write(
      `# CPU: masters ${mastersCpu.map((c) => c.toFixed(1)).join(' + ')} s, this client ${ownCpu.toFixed(1)} s: ${Math.round(result.sent / totalCpu)} requests per CPU second ` +
        `(${(totalCpu / result.seconds).toFixed(2)} of the 2 cores busy with the storm)\n`,
    );
    const wrong = rows.filter(([, s]) => s.ok !== s.sent).map(([c, s]) => `${c}: ${s.sent - s.ok} of ${s.sent} wrong, e.g.\n    ${s.mismatches.join('\n    ')}`);
    assert.deepEqual(wrong, [], `requests answered wrongly:\n${wrong.join('\n')}`);
    assert.equal(result.sent, COUNT);

    // The same processes, still running, agreeing on one leader.
    assert.deepEqual(cluster.members.map((m) => m.pid), pids);
    for (const m of cluster.members) assert.ok(cluster.isRunning(m.id), `master ${m.id} (pid ${m.pid}) is not running`);
    const leaderAfter = await cluster.waitForLeader(10_000);
    await assertShopIntact(endpoints, shop);
    // Nothing the storm sent was created.
    for (const resource of ['configmaps', 'secrets', 'pods', 'deployments', 'services', 'jobs', 'cronjobs', 'horizontalpodautoscalers', 'persistentvolumeclaims']) {
      const names = (await admin.listAll(resource, { namespace: 'shop' })).items.map((o) => o.metadata?.name).sort();
      assert.deepEqual(names, shop.filter((a) => a.resource === resource).map((a) => a.name).sort(), `${resource} in shop after the storm`);
    }
    assert.deepEqual((await admin.listAll('namespaces')).items.map((o) => o.metadata?.name).filter((n) => n?.startsWith('bad-')), []);
    const etcdAfter = new EtcdRawClient(endpoints[1]);
    try {
      assert.equal((await etcdAfter.call('KV', 'Range', { key: Buffer.from('bad/'), range_end: Buffer.from('bad0'), count_only: true })).count, 0, 'no etcd key from the storm exists');
    } finally {
      etcdAfter.close();
    }
    // New writes succeed, through every member.
    for (const [i, endpoint] of endpoints.entries()) {
      const one = new NavarchClient({ endpoints: [endpoint] });
      try {
        await one.create(decodeObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `after-storm-${i}`, namespace: 'shop' }, data: { ok: 'yes' } }).object);
      } finally {
        one.close();
      }
    }
    let leaderChanges = 0;
    for (const m of cluster.members) {
      const lines = readFileSync(m.logFile, 'utf8').split('\n');
      const bad = lines.find(alarming);
      assert.equal(bad, undefined, `master ${m.id}'s log shows a failure: ${bad}`);
      leaderChanges += lines.filter((l) => l.includes('leader is now')).length - 1;
    }
    process.stdout.write(`# leader before ${leaderBefore}, after ${leaderAfter} (${leaderChanges} leader changes seen in the logs); pids unchanged ${pids.join(',')}\n`);
  } catch (e) {
    const tails = cluster.members
      .map((m) => `--- master ${m.id} (${m.logFile}) ---\n${existsSync(m.logFile) ? readFileSync(m.logFile, 'utf8').split('\n').slice(-15).join('\n') : '(no log)'}`)
      .join('\n');
    throw new Error(`${(e as Error).message}\n${tails}`, { cause: e });
  } finally {
    admin.close();
    await cluster.stopAll('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
