// `navarch up` / `navarch down` as a user runs them: three detached masters recorded in
// cluster.json and navctl.yaml, each answering with the demo's objects from its own copy; a second
// `up` refused while they run; `down` leaves no process behind and keeps the data; `up` again
// brings the same cluster back (same ports, same objects); `down --purge` deletes the directory.
// With the agent (the default), the machine is a node: the demo's 3 pods run in containerd and each
// answers HTTP on its pod IP, after the first `up` and again after the cluster is brought back.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'yaml';
import { isOurMaster, readClusterFile, type ClusterFile } from '../cmd/up/cluster_file.js';
import { DEMO_IMAGE, demoManifests, getDemoObject } from '../cmd/up/demo.js';
import type { Deployment, KubeObject } from '../pkg/api/registry.js';
import { NavarchClient } from '../pkg/client/mod.js';
import { ROOT } from '../pkg/localcluster/process.js';
import { etcdctl } from './etcdctl.js';

const COMMAND_TIMEOUT_MS = 240_000;

/** Runs `navarch <args>` from the repository root; resolves with its exit code and output. */
function navarch(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cmd/navarch.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await navarch(args);
  assert.equal(r.code, 0, `navarch ${args.join(' ')} exited ${r.code}:\n${r.out}`);
  return r.out;
}

/** A process that exists and is not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'navarch-e2e-up-'));
const started: ClusterFile['masters'] = [];

after(async () => {
  // An agent left running (a failed test) is stopped by `down`, which also removes its pods' containers.
  if (existsSync(join(dir, 'cluster', 'cluster.json'))) await navarch(['down', '--dir', join(dir, 'cluster')]).catch(() => undefined);
  // Whatever happened above (even an `up` that failed after recording its masters), no master of this test outlives it.
  for (const file of ['cluster.json', 'cluster.json.stopped']) {
    try {
      started.push(...readClusterFile(join(dir, 'cluster', file)).masters);
    } catch {
      // Not written.
    }
  }
  for (const m of started) {
    try {
      if (isOurMaster(m.pid, m.dataDir)) process.kill(m.pid, 'SIGKILL');
    } catch {
      // Exited meanwhile.
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Every demo object from each master's own copy (serializable reads on that member only). */
async function readEveryMaster(record: ClusterFile): Promise<KubeObject[][]> {
  const perMaster: KubeObject[][] = [];
  for (const m of record.masters) {
    const client = new NavarchClient({ endpoints: [m.client], retryDeadlineMs: 5000 });
    try {
      perMaster.push(await Promise.all(demoManifests().map((d) => getDemoObject(client, d, { serializable: true }))));
    } finally {
      client.close();
    }
  }
  return perMaster;
}

/** The demo's lines "<pod>  <ip>  node <n>  GET http://<ip>:8080/ -> 200 <h1>Hello from Navarch</h1>", one per pod. */
function podAnswers(out: string): string[] {
  return [...out.matchAll(/GET http:\/\/(198\.1[89]\.\d+\.\d+):8080\/ -> 200 <h1>Hello from Navarch<\/h1>/g)].map((m) => m[1]);
}

test('navarch up starts masters that serve the demo, down stops them, up brings the same cluster back', { timeout: 540_000 }, async () => {
  const clusterDir = join(dir, 'cluster');
  const out = await ok(['up', '--masters', '3', '--dir', clusterDir]);
  const record = readClusterFile(join(clusterDir, 'cluster.json'));
  started.push(...record.masters);

  assert.equal(record.dir, clusterDir);
  assert.ok(!Number.isNaN(Date.parse(record.createdAt)), `createdAt ${record.createdAt}`);
  assert.deepEqual(record.masters.map((m) => [m.id, m.name, m.dataDir]), [1, 2, 3].map((id) => [id, `master-${id}`, join(clusterDir, `master-${id}`)]));
  const addresses = record.masters.flatMap((m) => [m.raft, m.client, m.metrics]);
  assert.equal(new Set(addresses).size, 9, `every address distinct: ${addresses.join(' ')}`);
  const clients = record.masters.map((m) => m.client);
  assert.deepEqual(parse(readFileSync(join(clusterDir, 'navctl.yaml'), 'utf8')), {
    apiVersion: 'navctl.navarch.io/v1',
    kind: 'Config',
    cluster: 'local',
    endpoints: clients,
    namespace: 'default',
  });
  for (const m of record.masters) {
    assert.ok(isOurMaster(m.pid, m.dataDir), `${m.name} (pid ${m.pid}) is running`);
    assert.ok(existsSync(m.log), `${m.name}'s log ${m.log} exists`);
  }
  assert.match(out, new RegExp(`ETCDCTL_API=3 etcdctl --endpoints=${clients.join(',')} endpoint status -w table`));
  assert.match(out, /watch on master-\d: MODIFIED configmap\/web-content/);
  assert.equal(new Set(podAnswers(out)).size, 3, `three pods answered on distinct IPs:\n${out}`);
  const node = record.node;
  assert.ok(node, 'cluster.json records the node');
  assert.ok(running(node.agentPid) && running(node.containerdPid), 'the agent and containerd run');

  const first = await readEveryMaster(record);
  for (const objects of first) {
    const deployment = objects[2] as Deployment;
    assert.equal(deployment.spec?.replicas, 3);
    assert.equal(deployment.spec?.template?.spec?.containers?.[0]?.image, DEMO_IMAGE);
    assert.deepEqual(deployment.spec?.template?.spec?.containers?.[0]?.command, ['httpd', '-f', '-p', '8080']);
    // The same objects everywhere: replicated, not created per member.
    assert.deepEqual(objects.map((o) => o.metadata?.uid), first[0].map((o) => o.metadata?.uid));
  }
  const metrics = await (await fetch(`http://${record.masters[1].metrics}/metrics`)).text();
  assert.match(metrics, /^apiserver_request_total\{/m);
  const ready = await fetch(`http://${record.masters[1].metrics}/readyz?verbose`);
  assert.equal(ready.status, 200);
  assert.equal(await ready.text(), '[+]ping ok\n[+]raft ok\n[+]shutdown ok\nreadyz check passed\n');
  const health = await fetch(`http://${record.masters[1].metrics}/healthz?verbose`);
  assert.equal(await health.text(), '[+]ping ok\n[+]raft ok\n[+]leaderElection-kube-scheduler ok\n[+]leaderElection-kube-controller-manager ok\nhealthz check passed\n');

  // Compact the history up to now, as a cluster that has run a while has: the demo's objects were
  // last written before it, so the next up must not watch from their own revisions.
  const all = clients.join(',');
  const revision = (JSON.parse(await etcdctl(all, ['get', 'compact-probe', '-w', 'json'])) as { header: { revision: number } }).header.revision;
  assert.match(await etcdctl(all, ['compact', String(revision)]), /compacted revision/);

  const again = await navarch(['up', '--dir', clusterDir]);
  assert.equal(again.code, 1);
  assert.match(again.out, /A cluster is already running from .* \(master-1 pid \d+, master-2 pid \d+, master-3 pid \d+\)/);
  assert.ok(record.masters.every((m) => isOurMaster(m.pid, m.dataDir)), 'the refused up left the cluster alone');

  await ok(['down', '--dir', clusterDir]);
  for (const m of record.masters) assert.ok(!running(m.pid), `${m.name} (pid ${m.pid}) is gone after down`);
  assert.ok(!running(node.agentPid) && !running(node.containerdPid), 'the agent and containerd are gone after down');
  assert.ok(!existsSync(join(clusterDir, 'cluster.json')));
  assert.ok(existsSync(join(clusterDir, 'cluster.json.stopped')));

  const back = await ok(['up', '--dir', clusterDir]);
  assert.match(back, /brought back with its data/);
  assert.equal(new Set(podAnswers(back)).size, 3, `the pods run again after up:\n${back}`);
  const record2 = readClusterFile(join(clusterDir, 'cluster.json'));
  started.push(...record2.masters);
  assert.deepEqual(record2.masters.map((m) => [m.raft, m.client, m.metrics]), record.masters.map((m) => [m.raft, m.client, m.metrics]), 'the same ports');
  assert.ok(record2.masters.every((m, i) => m.pid !== record.masters[i].pid && isOurMaster(m.pid, m.dataDir)));
  for (const objects of await readEveryMaster(record2)) {
    assert.deepEqual(objects.map((o) => o.metadata?.uid), first[0].map((o) => o.metadata?.uid), 'the objects of the first run, kept');
  }

  await ok(['down', '--purge', '--dir', clusterDir]);
  for (const m of record2.masters) assert.ok(!running(m.pid), `${m.name} (pid ${m.pid}) is gone after down --purge`);
  assert.ok(!existsSync(clusterDir), `${clusterDir} deleted`);
});

test('navarch up refuses a bad --masters and starts nothing', async () => {
  for (const bad of ['8', '2.5']) {
    const r = await navarch(['up', '--masters', bad, '--dir', join(dir, 'bad')]);
    assert.equal(r.code, 1);
    assert.match(r.out, new RegExp(`--masters: expected an integer from 1 to 7 \\(1 is a single-master cluster\\), got "${bad.replace('.', '\\.')}"`));
  }
  assert.ok(!existsSync(join(dir, 'bad')));
});
