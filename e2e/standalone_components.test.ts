// `navarch scheduler` and `navarch controllers` against a master that runs neither
// (--no-scheduler --no-controllers): they take their leases, a Deployment becomes pods bound to a
// node, their /metrics show it, and on SIGTERM they release the leases at once.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeObject } from '../pkg/api/convert/object.js';
import type { KubeObject, Lease, Pod } from '../pkg/api/registry.js';
import { isApiError, NavarchClient } from '../pkg/client/mod.js';
import { freePort } from '../pkg/localcluster/kv_cluster.js';
import { LocalMasterCluster } from '../pkg/localcluster/master_cluster.js';
import { ROOT, killAndWait, spawnLogged } from '../pkg/localcluster/process.js';
import { until } from '../pkg/localcluster/until.js';


const obj = (json: Record<string, unknown>): KubeObject => decodeObject(json).object;

test('navarch scheduler and navarch controllers run against remote masters, expose /metrics and release their leases on SIGTERM', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-e2e-standalone-'));
  const cluster = await LocalMasterCluster.create({ dir, masters: 1 });
  const children: ChildProcess[] = [];
  let client: NavarchClient | undefined;
  let passed = false;
  try {
    cluster.start(1, ['--no-scheduler', '--no-controllers']);
    await cluster.waitForLeader(120_000);
    const c = new NavarchClient({ endpoints: [cluster.endpoints], retryDeadlineMs: 30_000 });
    client = c;
    for (const ns of ['default', 'kube-system']) {
      await c.create(obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).catch((e: unknown) => {
        if (!isApiError(e, 'AlreadyExists')) throw e;
      });
    }
    const ports = { scheduler: await freePort(), controllers: await freePort() };
    for (const which of ['scheduler', 'controllers'] as const) {
      const args = ['--import', 'tsx', join(ROOT, 'cmd/navarch.ts'), which, '--server', cluster.endpoints, '--name', `standalone-${which}`, '--metrics-port', String(ports[which])];
      children.push(spawnLogged(args, join(dir, `${which}.log`), false));
    }
    const holder = async (lease: string): Promise<string> => (await c.get<Lease>('leases', 'kube-system', lease)).spec?.holderIdentity ?? '';
    await until('both leases held by the standalone processes', async () => (await holder('kube-scheduler')).startsWith('standalone-scheduler_') && (await holder('kube-controller-manager')).startsWith('standalone-controllers_'), 120_000);

    await c.create(
      obj({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: 'n1' },
        status: { allocatable: { cpu: '2', memory: '4Gi', pods: '10' }, capacity: { cpu: '2', memory: '4Gi', pods: '10' }, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date().toISOString() }] },
      }),
    );
    await c.create(
      obj({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'default' },
        spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } } },
      }),
    );
    await until('2 pods bound to n1', async () => {
      const pods = (await c.list<Pod>('pods', { namespace: 'default' })).items;
      return pods.length === 2 && pods.every((p) => p.spec?.nodeName === 'n1');
    }, 60_000);

    const scrape = async (port: number): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const sched = await scrape(ports.scheduler);
    assert.match(sched, /^leader_election_master_status\{name="kube-scheduler"\} 1$/m);
    assert.match(sched, /^scheduler_schedule_attempts_total\{result="scheduled"[^}]*\} 2$/m);
    const ctrl = await scrape(ports.controllers);
    assert.match(ctrl, /^leader_election_master_status\{name="kube-controller-manager"\} 1$/m);
    assert.match(ctrl, /^navarch_controller_sync_duration_seconds_count\{controller="replicaset",result="success"\} [1-9]/m);
    assert.match(ctrl, /^workqueue_adds_total\{name="deployment"\} [1-9]/m);
    // As kube-scheduler's and kube-controller-manager's: /healthz with the leader-election check.
    const health = await fetch(`http://127.0.0.1:${ports.scheduler}/healthz?verbose`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), '[+]ping ok\n[+]leaderElection-kube-scheduler ok\nhealthz check passed\n');
    assert.equal(await (await fetch(`http://127.0.0.1:${ports.controllers}/readyz`)).text(), 'ok');

    // SIGTERM: each releases its lease (holder "") instead of letting it expire.
    for (const child of children.splice(0)) assert.equal(await killAndWait(child, 'SIGTERM'), 0);
    assert.equal(await holder('kube-scheduler'), '');
    assert.equal(await holder('kube-controller-manager'), '');
    passed = true;
  } finally {
    for (const child of children) await killAndWait(child, 'SIGKILL');
    client?.close();
    await cluster.stopAll('SIGKILL');
    if (passed) rmSync(dir, { recursive: true, force: true });
    else {
      for (const f of ['scheduler.log', 'controllers.log', 'master-1.log']) {
        try {
          process.stdout.write(`# ${f}:\n${readFileSync(join(dir, f), 'utf8').split('\n').slice(-10).join('\n')}\n`);
        } catch {
          // absent
        }
      }
    }
  }
});
