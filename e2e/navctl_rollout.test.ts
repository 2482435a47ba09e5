// navctl's rollout commands as a user runs them, against one `navarch master` (scheduler and
// controllers inside) and `navarch hollow --nodes 3`: rollout status waits for each rollout, set
// image starts one, history lists the revisions, undo brings the previous template back (and skips
// when it already runs), scale checks --current-replicas, pause holds a template change back until
// resume, restart replaces every pod, and cordon and drain empty a node (refusing, as kubectl, a
// pod nothing would recreate unless --force), evicting as the pods' PodDisruptionBudget allows.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Deployment, Pod, PodDisruptionBudget } from '../pkg/api/registry.js';
import { NavarchClient } from '../pkg/client/mod.js';
import { LocalMasterCluster } from '../pkg/localcluster/master_cluster.js';
import { killAndWait, ROOT, spawnLogged } from '../pkg/localcluster/process.js';
import { until } from '../pkg/localcluster/until.js';
import { runToExit, type CommandRun } from './command.js';

const NS = 'roll';
const BIN = join(ROOT, 'bin/navctl.js');

const PDB = `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: ${NS}}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app: web}}
`;

const MANIFEST = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: "nginx:1", resources: {requests: {cpu: 100m}}}
      - {name: log, image: "fluent:1"}
`;

test('navctl rollout status, set image, history, undo, scale, pause, resume and restart drive a Deployment on hollow nodes; cordon and drain empty a node', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-e2e-navctl-rollout-'));
  const cluster = await LocalMasterCluster.create({ dir, masters: 1 });
  let hollow: ChildProcess | undefined;
  const client = new NavarchClient({ endpoints: cluster.members.map((m) => m.clientAddress), retryDeadlineMs: 30_000 });
  let passed = false;
  const navctl = (args: string[], input?: string): Promise<CommandRun> => runToExit([process.execPath, BIN, '--server', cluster.endpoints, '-n', NS, ...args], { cwd: dir, input });
  const ok = async (...args: string[]): Promise<string> => {
    const r = await navctl(args);
    assert.equal(r.code, 0, `navctl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const fails = async (...args: string[]): Promise<string> => {
    const r = await navctl(args);
    assert.equal(r.code, 1, `navctl ${args.join(' ')} should fail: ${r.stdout}`);
    return r.stderr;
  };
  /** `rollout status` until done: its last line. */
  const rolledOut = async (): Promise<void> => {
    const lines = (await ok('rollout', 'status', 'deployment/web', '--timeout', '120s')).trimEnd().split('\n');
    assert.equal(lines.at(-1), 'deployment "web" successfully rolled out');
  };
  const deployment = (): Promise<Deployment> => client.get<Deployment>('deployments', NS, 'web');
  const images = async (): Promise<string[]> => (await deployment()).spec!.template!.spec!.containers.map((c) => c.image ?? '');
  /** The live pods: all Running, all of the Deployment's current template. */
  const runningPods = async (n: number): Promise<Pod[] | false> => {
    const d = await deployment();
    const pods = (await client.list<Pod>('pods', { namespace: NS })).items.filter((p) => !p.metadata?.deletionTimestamp);
    const current = (p: Pod) => JSON.stringify(p.spec?.containers.map((c) => c.image)) === JSON.stringify(d.spec?.template?.spec?.containers.map((c) => c.image));
    return pods.length === n && pods.every((p) => p.status?.phase === 'Running' && current(p)) && pods;
  };
  try {
    cluster.startAll();
    await cluster.waitForLeader(60_000);
    hollow = spawnLogged(['--import', 'tsx', join(ROOT, 'cmd/navarch.ts'), 'hollow', '--server', cluster.endpoints, '--nodes', '3'], join(dir, 'hollow.log'), false);
    await until('3 hollow nodes', async () => (await client.list('nodes')).items.length === 3, 60_000);
    await ok('create', 'namespace', NS);
    const applied = await navctl(['apply', '-f', '-'], MANIFEST);
    assert.equal(applied.stdout, 'deployment.apps/web created\n', applied.stderr);

    // Errors first, with kubectl's words.
    assert.match(await fails('rollout', 'status', 'deployment/missing', '--timeout', '5s'), /Error from server \(NotFound\): deployments.apps "missing" not found/);
    assert.match(await fails('rollout', 'status', 'daemonset/agent'), /rollout is only implemented for deployments/);
    assert.match(await fails('set', 'image', 'deployment/web', 'db=postgres:16'), /unable to find container named "db"/);
    assert.deepEqual(await images(), ['nginx:1', 'fluent:1'], 'nothing to change where no container matched');

    await rolledOut();
    await until('3 pods Running', () => runningPods(3), 60_000);

    assert.equal(await ok('set', 'image', 'deployment/web', 'web=nginx:2'), 'deployment.apps/web image updated\n');
    assert.deepEqual(await images(), ['nginx:2', 'fluent:1'], 'the other container is left as it was');
    await rolledOut();
    assert.equal(await ok('rollout', 'history', 'deployment/web'), 'deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n');
    assert.match(await ok('rollout', 'history', 'deployment/web', '--revision', '1'), /with revision #1\nPod Template:[\s\S]*Image:\s+nginx:1/);

    assert.equal(await ok('rollout', 'undo', 'deployment/web'), 'deployment.apps/web rolled back\n');
    await rolledOut();
    assert.deepEqual(await images(), ['nginx:1', 'fluent:1']);
    await until('3 pods of the old template Running', () => runningPods(3), 60_000);
    // The old ReplicaSet came back as revision 3.
    assert.equal(await ok('rollout', 'history', 'deploy/web'), 'deployment.apps/web \nREVISION  CHANGE-CAUSE\n2         <none>\n3         <none>\n\n');
    assert.equal(await ok('rollout', 'undo', 'deployment/web', '--to-revision', '3'), 'deployment.apps/web skipped rollback (current template already matches revision 3)\n');

    assert.match(await fails('scale', 'deployment/web', '--replicas', '5', '--current-replicas', '4'), /error: Expected replicas to be 4, was 3/);
    // Both of kubectl's ways through the scale subresource: a merge patch, and a checked update.
    assert.equal(await ok('scale', 'deployment/web', '--replicas', '4'), 'deployment.apps/web scaled\n');
    assert.equal(await ok('scale', 'deployment/web', '--replicas', '5', '--current-replicas', '4', '--timeout', '60s'), 'deployment.apps/web scaled\n');
    const scaleNow = JSON.parse(await ok('get', 'deployment', 'web', '-o', 'json')) as Deployment;
    assert.equal(scaleNow.status?.replicas, 5, '--timeout waited for the 5 replicas');
    await rolledOut();
    await until('5 pods Running', () => runningPods(5), 60_000);

    assert.equal(await ok('rollout', 'pause', 'deployment/web'), 'deployment.apps/web paused\n');
    assert.match(await fails('rollout', 'pause', 'deployment/web'), /deployments.apps "web" is already paused/);
    assert.equal(await ok('set', 'image', 'deployments', '--all', '*=busybox:2'), 'deployment.apps/web image updated\n');
    assert.match(await fails('rollout', 'undo', 'deployment/web'), /you cannot rollback a paused deployment/);
    // Paused, the controller sees the new template but creates none of its pods.
    await until('the paused rollout to be reported as not started', async () => (await ok('rollout', 'status', 'deployment/web', '--watch=false')).includes('0 out of 5 new replicas have been updated'), 60_000);
    assert.equal((await runningPods(5)), false, 'no pod of the new template while paused');

    assert.equal(await ok('rollout', 'resume', 'deployment/web'), 'deployment.apps/web resumed\n');
    await rolledOut();
    const resumed = await until('5 busybox pods Running', () => runningPods(5), 60_000);
    assert.ok(resumed.every((p) => p.spec?.containers.every((c) => c.image === 'busybox:2')));

    assert.equal(await ok('rollout', 'restart', 'deployment/web'), 'deployment.apps/web restarted\n');
    await rolledOut();
    const restarted = await until('5 restarted pods Running', () => runningPods(5), 60_000);
    const before = new Set(resumed.map((p) => p.metadata?.name));
    assert.ok(restarted.every((p) => !before.has(p.metadata?.name) && p.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']), 'every pod replaced');

    // Node maintenance: cordon, then drain a node with a pod nothing would recreate on it.
    assert.equal(await ok('cordon', 'hollow-0'), 'node/hollow-0 cordoned\n');
    assert.equal(await ok('cordon', 'node/hollow-0'), 'node/hollow-0 already cordoned\n');
    assert.match(await ok('get', 'nodes', 'hollow-0'), /hollow-0\s+Ready,SchedulingDisabled\s/);
    const debug = await navctl(['apply', '-f', '-'], `apiVersion: v1\nkind: Pod\nmetadata: {name: debug, namespace: ${NS}}\nspec: {nodeName: hollow-0, containers: [{name: sh, image: busybox}]}\n`);
    assert.equal(debug.code, 0, debug.stderr);
    assert.match(await fails('drain', 'hollow-0'), /error: unable to drain node "hollow-0" due to error: cannot delete Pods declare no controller \(use --force to override\): roll\/debug, continuing command\.\.\.\nThere are pending nodes to be drained:\n hollow-0\n/);
    // A budget of one disruption at a time: drain evicts the web pods one by one as replacements come up.
    assert.equal((await navctl(['apply', '-f', '-'], PDB)).code, 0);
    await until('the budget counts the pods', async () => (await client.get<PodDisruptionBudget>('poddisruptionbudgets', NS, 'web')).status?.currentHealthy === 5, 60_000);
    const onHollow0 = (await client.list<Pod>('pods', { namespace: NS, fieldSelector: 'spec.nodeName=hollow-0', labelSelector: 'app=web' })).items.map((p) => p.metadata?.name);
    assert.ok(onHollow0.length > 0, 'a web pod to evict on hollow-0');
    // Healthy web pods (Ready, not terminating) at every pod event while the drain runs: the budget keeps 4 of 5.
    const listed = await client.list<Pod>('pods', { namespace: NS, labelSelector: 'app=web' });
    const web = new Map(listed.items.map((p) => [p.metadata!.uid!, p]));
    const healthy = () => [...web.values()].filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    let fewestHealthy = healthy();
    const podWatch = client.watch<Pod>('pods', { namespace: NS, labelSelector: 'app=web', resourceVersion: listed.resourceVersion });
    const watching = (async () => {
      for await (const e of podWatch) {
        if (e.type === 'BOOKMARK') continue;
        if (e.type === 'DELETED') web.delete(e.object.metadata!.uid!);
        else web.set(e.object.metadata!.uid!, e.object);
        fewestHealthy = Math.min(fewestHealthy, healthy());
      }
    })().catch(() => {});
    const drained = await navctl(['drain', 'hollow-0', '--force', '--timeout', '90s', '--chunk-size', '1']);
    podWatch.close();
    await watching;
    assert.equal(fewestHealthy, 4, 'one web pod at a time was disrupted');
    assert.equal(drained.code, 0, drained.stderr);
    assert.match(drained.stderr, /Warning: deleting Pods that declare no controller: roll\/debug/);
    assert.match(drained.stdout, /^node\/hollow-0 already cordoned\n[\s\S]*evicting pod roll\/debug\n[\s\S]*pod\/debug evicted\n[\s\S]*node\/hollow-0 drained\n$/);
    for (const p of onHollow0) assert.match(drained.stdout, new RegExp(`pod/${p} evicted\n`));
    assert.deepEqual((await client.list<Pod>('pods', { fieldSelector: 'spec.nodeName=hollow-0' })).items.map((p) => p.metadata?.name), [], 'nothing left on the node');
    const moved = await until('5 web pods Running elsewhere', () => runningPods(5), 60_000);
    assert.ok(moved.every((p) => p.spec?.nodeName !== 'hollow-0'), 'the ReplicaSet replaced the drained pods on the other nodes');
    assert.equal(await ok('uncordon', 'hollow-0'), 'node/hollow-0 uncordoned\n');

    // A budget that allows no disruption holds a drain back (429, retried every 5 s) until its
    // --timeout; --disable-eviction deletes past it.
    await ok('delete', 'pdb', 'web');
    assert.equal((await navctl(['apply', '-f', '-'], PDB.replace('maxUnavailable: 1', 'minAvailable: 100%'))).code, 0);
    await until('the budget allows no disruption', async () => {
      const st = (await client.get<PodDisruptionBudget>('poddisruptionbudgets', NS, 'web')).status;
      return st?.observedGeneration === 1 && st.currentHealthy === 5 && st.disruptionsAllowed === 0;
    }, 60_000);
    const node = moved[0].spec!.nodeName!;
    const held = await navctl(['drain', node, '--timeout', '7s']);
    assert.equal(held.code, 1, held.stdout);
    assert.match(held.stderr, new RegExp(`error when evicting pods/"${moved[0].metadata?.name}" -n "roll" \\(will retry after 5s\\): Cannot evict pod as it would violate the pod's disruption budget\\.\n`));
    assert.match(held.stderr, /global timeout reached: 7s[\s\S]*There are pending pods in node/);
    assert.equal((await until('5 web pods Running', () => runningPods(5), 10_000)).length, 5, 'nothing was evicted');
    const forced = await navctl(['drain', node, '--disable-eviction', '--timeout', '60s']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, new RegExp(`pod/${moved[0].metadata?.name} deleted\n[\\s\\S]*node/${node} drained\n$`));
    assert.equal(await ok('uncordon', node), `node/${node} uncordoned\n`);
    passed = true;
  } finally {
    if (!passed) process.stdout.write(`# hollow log tail:\n${readFileSync(join(dir, 'hollow.log'), 'utf8').split('\n').slice(-15).join('\n')}\n`);
    client.close();
    await killAndWait(hollow, 'SIGTERM');
    await cluster.stopAll();
    if (passed) rmSync(dir, { recursive: true, force: true });
  }
});
