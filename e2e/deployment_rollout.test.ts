// Three masters and 20 hollow nodes (`navarch hollow`): a Deployment of 30 replicas rolls out, a
// new image rolls out with maxUnavailable held at every moment a watch of the pods observes, a
// rollback (kubectl's JSON patch) brings the old template and ReplicaSet back, it scales to 0 and
// back, and kill -9 of the master that holds both the scheduler and the controller manager leases
// in the middle of a rollout: another master takes over, the rollout completes, and no pod is
// created twice. Master 1 starts alone with the components (so it holds both leases); masters 2
// and 3 start without them and are then restarted with them, as standbys. Waits have generous
// deadlines for loaded machines; on a quiet one the whole run takes about a minute and a half.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeObject } from '../pkg/api/convert/object.js';
import type { Deployment, KubeObject, Lease, Node, Pod, ReplicaSet } from '../pkg/api/registry.js';
import { isApiError, NavarchClient, type ClientWatchEvent } from '../pkg/client/mod.js';
import { LocalMasterCluster } from '../pkg/localcluster/master_cluster.js';
import { ROOT, killAndWait, spawnLogged } from '../pkg/localcluster/process.js';
import { until } from '../pkg/localcluster/until.js';

const NS = 'rollout';
const REPLICAS = 30;
const HOLLOW_NODES = 20;
/** 10% of 30, rounded down; surge 25% rounds up to 8. */
const MAX_UNAVAILABLE = 3;
const HASH_LABEL = 'pod-template-hash';
const REVISION = 'deployment.kubernetes.io/revision';
/** Kubernetes' 40 s rather than 10 s: a hollow node's 10 s lease renewal late on a loaded machine must not taint nodes here. */
const MASTER_ARGS = ['--node-monitor-grace-period-ms', '40000'];
const NO_COMPONENTS = [...MASTER_ARGS, '--no-scheduler', '--no-controllers'];

const t0 = Date.now();
const say = (line: string): void => void process.stdout.write(`# [${((Date.now() - t0) / 1000).toFixed(1)} s] ${line}\n`);


const obj = <T extends KubeObject>(json: Record<string, unknown>): T => decodeObject(json).object as T;

function deployment(image: string): Deployment {
  return obj<Deployment>({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: NS },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '10%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image, resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
      },
    },
  });
}

const isAvailable = (p: Pod): boolean =>
  !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** Follows the namespace's pods through one watch: creations, and availability at every event. */
class PodTracker {
  readonly pods = new Map<string, Pod>();
  /** Every ADDED pod name, in order, with its template hash. */
  readonly created: Array<{ name: string; hash: string }> = [];
  /** While set, each event checks available >= floor. */
  floor: number | undefined;
  minAvailable = Infinity;
  readonly violations: string[] = [];

  apply(e: ClientWatchEvent<Pod>): void {
    if (e.type === 'BOOKMARK') return;
    const p = e.object;
    const uid = p.metadata!.uid!;
    if (e.type === 'ADDED') this.created.push({ name: p.metadata!.name!, hash: p.metadata?.labels?.[HASH_LABEL] ?? '' });
    if (e.type === 'DELETED') this.pods.delete(uid);
    else this.pods.set(uid, p);
    if (this.floor !== undefined) {
      const n = this.available();
      this.minAvailable = Math.min(this.minAvailable, n);
      if (n < this.floor && this.violations.length < 20) this.violations.push(`at resourceVersion ${p.metadata?.resourceVersion} (${e.type} ${p.metadata?.name}): ${n} available < ${this.floor}`);
    }
  }

  available(): number {
    let n = 0;
    for (const p of this.pods.values()) if (isAvailable(p)) n++;
    return n;
  }

  createdWithHash(hash: string): string[] {
    return this.created.filter((c) => c.hash === hash).map((c) => c.name);
  }
}

test('a Deployment on 3 masters and 20 hollow nodes rolls out, updates within maxUnavailable, rolls back, scales, and survives kill -9 of the leases\' master', { timeout: 400_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-e2e-rollout-'));
  const cluster = await LocalMasterCluster.create({ dir, masters: 3 });
  let hollow: ChildProcess | undefined;
  let client: NavarchClient | undefined;
  let watch: { close(): void } | undefined;
  let passed = false;
  try {
    cluster.start(1, MASTER_ARGS);
    for (const id of [2, 3]) cluster.start(id, NO_COMPONENTS);
    await cluster.waitForLeader(120_000);
    say('the masters agree on a leader');
    const endpoints = cluster.members.map((m) => m.clientAddress);
    client = new NavarchClient({ endpoints, retryDeadlineMs: 30_000 });
    const c = client;
    for (const ns of ['default', 'kube-system', 'kube-node-lease', NS]) {
      await until(`namespace ${ns}`, async () => {
        await c.create(obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).catch((e: unknown) => {
          if (!isApiError(e, 'AlreadyExists')) throw e;
        });
        return true;
      }, 30_000);
    }
    const holders = async (): Promise<string[]> =>
      Promise.all(['kube-scheduler', 'kube-controller-manager'].map(async (l) => (await c.get<Lease>('leases', 'kube-system', l)).spec?.holderIdentity ?? ''));
    await until('master-1 to hold both leases', async () => (await holders()).every((h) => h.startsWith('master-1_')), 30_000);
    say('master-1 holds both leases');

    hollow = spawnLogged(['--import', 'tsx', join(ROOT, 'cmd/navarch.ts'), 'hollow', '--server', endpoints.join(','), '--nodes', String(HOLLOW_NODES)], join(dir, 'hollow.log'), false);
    // The standbys: masters 2 and 3 again, now with the components, one at a time (quorum stays)
    // while the first steps run; they must be back before master 1 is killed.
    const standbys = (async () => {
      for (const id of [2, 3]) {
        await cluster.kill(id, 'SIGTERM');
        cluster.start(id, MASTER_ARGS);
        await cluster.waitForLeader(90_000);
      }
      say('masters 2 and 3 restarted with the components');
    })();
    standbys.catch(() => {});
    const readyNodes = async (): Promise<boolean> => {
      const nodes = (await c.list<Node>('nodes')).items;
      return nodes.filter((n) => n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')).length === HOLLOW_NODES;
    };
    await until(`${HOLLOW_NODES} hollow nodes Ready`, readyNodes, 120_000);
    say(`${HOLLOW_NODES} hollow nodes Ready`);

    const tracker = new PodTracker();
    const fromRv = (await c.list('pods', { namespace: NS })).resourceVersion;
    const w = c.watch<Pod>('pods', { namespace: NS, resourceVersion: fromRv });
    watch = w;
    const watching = (async () => {
      for await (const e of w) tracker.apply(e);
    })();
    watching.catch((e: unknown) => say(`pod watch ended: ${(e as Error).message}`));

    const get = (): Promise<Deployment> => c.get<Deployment>('deployments', NS, 'web');
    /** `kubectl rollout status`'s success condition, and every pod Running on a hollow node. */
    const rolledOut = async (replicas: number): Promise<Deployment | false> => {
      const d = await get();
      const s = d.status ?? { observedGeneration: 0, updatedReplicas: 0, replicas: 0, availableReplicas: 0 };
      const done =
        (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
        (s.updatedReplicas ?? 0) === replicas &&
        (s.replicas ?? 0) === replicas &&
        (s.availableReplicas ?? 0) === replicas &&
        !(d.status?.conditions ?? []).some((x) => x.type === 'Progressing' && x.reason === 'ProgressDeadlineExceeded');
      if (!done) return false;
      const live = [...tracker.pods.values()].filter((p) => !p.metadata?.deletionTimestamp);
      return live.length === replicas && live.every((p) => isAvailable(p) && p.spec?.nodeName?.startsWith('hollow-')) && d;
    };
    const replicaSets = async (): Promise<ReplicaSet[]> => (await c.list<ReplicaSet>('replicasets', { namespace: NS })).items;
    const templateHash = async (image: string): Promise<string> =>
      until(`the ReplicaSet of ${image}`, async () => (await replicaSets()).find((rs) => rs.spec?.template?.spec?.containers?.[0]?.image === image)?.metadata?.labels?.[HASH_LABEL], 60_000);
    const setImage = (image: string): Promise<unknown> =>
      c.patch('deployments', NS, 'web', 'strategic', { spec: { template: { spec: { containers: [{ name: 'web', image }] } } } });

    // 1. The first rollout.
    await c.create(deployment('registry.local/web:v1'));
    let d = await until('30 replicas rolled out', () => rolledOut(REPLICAS), 90_000);
    const v1Hash = await templateHash('registry.local/web:v1');
    assert.equal(d.metadata?.annotations?.[REVISION], '1');
    assert.equal(tracker.createdWithHash(v1Hash).length, REPLICAS);
    say('v1 rolled out');

    // 2. A new image, with availability checked at every pod event.
    tracker.floor = REPLICAS - MAX_UNAVAILABLE;
    await setImage('registry.local/web:v2');
    d = await until('v2 rolled out', () => rolledOut(REPLICAS), 90_000);
    const v2Hash = await templateHash('registry.local/web:v2');
    assert.deepEqual(tracker.violations, []);
    assert.equal(d.metadata?.annotations?.[REVISION], '2');
    assert.ok([...tracker.pods.values()].every((p) => p.metadata?.deletionTimestamp || p.spec?.containers?.[0]?.image === 'registry.local/web:v2'));
    assert.equal(tracker.createdWithHash(v2Hash).length, REPLICAS);
    say(`v2 rolled out; fewest available during it: ${tracker.minAvailable}`);

    // 3. Rollback as `kubectl rollout undo` does it: the revision-1 ReplicaSet's template (without
    // its hash label) and its annotations, as one JSON patch.
    const old = (await replicaSets()).find((rs) => rs.metadata?.annotations?.[REVISION] === '1');
    assert.ok(old, 'the revision-1 ReplicaSet is kept');
    const template = structuredClone(old.spec!.template!) as { metadata?: { labels?: Record<string, string> } };
    delete template.metadata?.labels?.[HASH_LABEL];
    await c.patch('deployments', NS, 'web', 'json', [
      { op: 'replace', path: '/spec/template', value: template },
      { op: 'replace', path: '/metadata/annotations', value: { [REVISION]: d.metadata!.annotations![REVISION] } },
    ]);
    d = await until('the rollback rolled out', () => rolledOut(REPLICAS), 90_000);
    assert.deepEqual(tracker.violations, []);
    assert.equal(d.spec?.template?.spec?.containers?.[0]?.image, 'registry.local/web:v1');
    assert.equal(d.metadata?.annotations?.[REVISION], '3');
    const reused = (await replicaSets()).find((rs) => rs.metadata?.name === old.metadata?.name);
    assert.equal(reused?.metadata?.annotations?.[REVISION], '3', 'the old ReplicaSet is reused with the next revision');
    assert.equal(reused?.spec?.replicas, REPLICAS);
    say('rolled back to v1 (revision 3, same ReplicaSet)');

    // 4. Scale to 0 and back.
    tracker.floor = undefined;
    await c.patch('deployments', NS, 'web', 'merge', { spec: { replicas: 0 } });
    await until('no pods left', async () => tracker.pods.size === 0 && (await get()).status?.replicas === 0 && true, 90_000);
    await c.patch('deployments', NS, 'web', 'merge', { spec: { replicas: REPLICAS } });
    await until('scaled back to 30', () => rolledOut(REPLICAS), 90_000);
    say('scaled to 0 and back');

    // 5. kill -9 the master holding both leases in the middle of a rollout.
    await standbys;
    // Normally still master 1. On a loaded machine a lease may have moved (a renewal missed its
    // deadline): then take whichever master holds both, or, if they stay apart, the controller
    // manager's (it drives the rollout; killing both holders would cost the Raft quorum).
    const holderIds = async (): Promise<Array<number | undefined>> => (await holders()).map((h) => Number(/^master-(\d+)_/.exec(h)?.[1]) || undefined);
    const victim = await until('one master to hold both leases', async () => {
      const [s, cm] = await holderIds();
      return s !== undefined && s === cm && s;
    }, 20_000).catch(async () => {
      const [s, cm] = await holderIds();
      say(`the leases are apart (scheduler on master-${s}, controller manager on master-${cm}): killing the controller manager's`);
      return cm!;
    });
    const transitionsBefore = (await c.get<Lease>('leases', 'kube-system', 'kube-controller-manager')).spec?.leaseTransitions ?? 0;
    tracker.floor = REPLICAS - MAX_UNAVAILABLE;
    const createdBefore = tracker.created.length;
    await setImage('registry.local/web:v3');
    const v3Hash = await templateHash('registry.local/web:v3');
    await until('the v3 rollout to be under way', () => tracker.createdWithHash(v3Hash).length >= 8, 60_000);
    const killedAt = Date.now();
    await cluster.kill(victim, 'SIGKILL');
    say(`killed master-${victim} with ${tracker.createdWithHash(v3Hash).length} v3 pods created`);
    const newHolders = await until('other masters to hold both leases', async () => {
      const h = await holders();
      return h.every((x) => x !== '' && !x.startsWith(`master-${victim}_`)) && h;
    }, 60_000);
    say(`leases taken over after ${((Date.now() - killedAt) / 1000).toFixed(1)} s: ${newHolders.join(', ')}`);
    d = await until('the v3 rollout to complete after the failover', () => rolledOut(REPLICAS), 120_000);
    say(`v3 rolled out ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
    assert.deepEqual(tracker.violations, []);
    const v3 = tracker.createdWithHash(v3Hash);
    assert.equal(v3.length, REPLICAS, `exactly ${REPLICAS} v3 pods created, got ${v3.length}`);
    const names = tracker.created.slice(createdBefore).map((x) => x.name);
    assert.equal(new Set(names).size, names.length, 'no pod name created twice');
    assert.equal(names.length, REPLICAS, `only the new ReplicaSet's pods were created during the failover rollout: ${names.length}`);
    assert.ok(((await c.get<Lease>('leases', 'kube-system', 'kube-controller-manager')).spec?.leaseTransitions ?? 0) > transitionsBefore);
    assert.equal(d.metadata?.annotations?.[REVISION], '4');
    passed = true;
  } finally {
    watch?.close();
    client?.close();
    await killAndWait(hollow, 'SIGTERM');
    await cluster.stopAll('SIGKILL');
    if (passed) rmSync(dir, { recursive: true, force: true });
    else {
      say(`kept ${dir} for the logs`);
      for (const m of cluster.members) {
        try {
          const lines = readFileSync(m.logFile, 'utf8').trim().split('\n');
          say(`${m.name} log tail:\n${lines.slice(-8).join('\n')}`);
        } catch {
          // no log
        }
      }
    }
  }
});
