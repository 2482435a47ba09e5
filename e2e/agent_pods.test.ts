// Three masters and one real `navarch agent` process over a containerd of the test's own, a CNI
// bridge of its own and a docker-registry on a free port holding the busybox image: the pods a
// user runs behave as on Kubernetes. A Deployment's httpd pods answer on their pod IPs; a
// two-container pod shares localhost and an emptyDir; a failing liveness probe restarts its
// container; a crashing container backs off; a configMap volume appears and follows updates;
// deleted pods stop within their grace period; navctl logs -f and exec work through the masters;
// kill -9 of the agent and a restart make no duplicate container; a missing image and a missing
// command say so in the container's waiting state. Needs root, containerd, runc, the CNI plugins,
// docker-registry and busybox-static (as CI has them). Everything it makes is undone in `after`.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../raft/transport/free_port.js';
import { decodeObject } from '../pkg/api/convert/object.js';
import type { ConfigMap, KubeObject, Node, Pod } from '../pkg/api/registry.js';
import { isApiError, NavarchClient } from '../pkg/client/mod.js';
import type { ContainerdRuntime } from '../pkg/agent/runtime/containerd/containerd_runtime.js';
import { startContainerd, type TestContainerd } from '../pkg/agent/runtime/containerd/test_containerd.js';
import { LocalMasterCluster } from '../pkg/localcluster/master_cluster.js';
import { AgentProcess, unusedPodCIDR } from '../pkg/localcluster/agent_process.js';
import { ROOT, isAlive, killAndWait } from '../pkg/localcluster/process.js';
import { until } from '../pkg/localcluster/until.js';
import { buildBusyboxImage } from '../pkg/oci/mod.js';
import { RegistryClient } from '../pkg/registry/client.js';
import { startLocalRegistry, type LocalRegistry } from '../pkg/registry/local_registry.js';

const skip = process.getuid?.() !== 0 ? 'needs root (containerd, network namespaces, bridges)' : false;
const NS = 'e2e-agent';

const t0 = Date.now();
const say = (line: string): void => void process.stdout.write(`# [${((Date.now() - t0) / 1000).toFixed(1)} s] ${line}\n`);
const obj = <T extends KubeObject>(json: Record<string, unknown>): T => decodeObject(json).object as T;

function httpGet(url: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
  });
}

interface Waiting {
  reason: string;
  message: string;
}

/** Under CI's 300 s per file, so that `after` still cleans up; a loaded machine may give more. */
const SUITE_TIMEOUT_MS = Number(process.env.NAVARCH_E2E_AGENT_TIMEOUT_MS ?? 290_000);

describe('navarch agent on 3 masters, containerd and a CNI bridge', { skip, timeout: SUITE_TIMEOUT_MS }, () => {
  let dir: string;
  let containerd: TestContainerd | undefined;
  let runtime: ContainerdRuntime | undefined;
  let node: string;
  let registry: LocalRegistry | undefined;
  let cluster: LocalMasterCluster | undefined;
  let client: NavarchClient | undefined;
  let agent: AgentProcess | undefined;
  let image: string;
  let watch: { close(): void } | undefined;
  /** Every waiting reason and message each pod's containers showed, in order, from one watch. */
  const waitingSeen = new Map<string, Waiting[]>();
  const children = new Set<ChildProcess>();

  const c = (): NavarchClient => client!;
  const getPod = (name: string): Promise<Pod> => c().get<Pod>('pods', NS, name);
  function pod(name: string, spec: Record<string, unknown>): Pod {
    return obj<Pod>({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { e2e: 'agent' } }, spec: { nodeName: node, ...spec } });
  }

  async function waitRunning(name: string, timeoutMs = 90_000): Promise<Pod> {
    return until(`pod ${name} to be Running with an IP`, async () => {
      const p = await getPod(name);
      return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
    }, timeoutMs, 200);
  }

  /** navctl as a user runs it, against the masters; resolves with its output once it exits. */
  function navctl(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cmd/navctl.ts', '--server', cluster!.endpoints, '-n', NS, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`navctl ${args.join(' ')} did not finish within ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`));
      }, timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        children.delete(child);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Running containers per pod uid and container name (more than one is a duplicate). */
  async function runningByPodContainer(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const s of await runtime!.listContainers()) {
      if (s.phase !== 'running') continue;
      const key = `${s.podUid}/${s.containerName}`;
      out.set(key, [...(out.get(key) ?? []), s.id]);
    }
    return out;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'navarch-e2e-agent-'));
    const podCIDR = await unusedPodCIDR();
    containerd = await startContainerd();
    registry = await startLocalRegistry({ dataDir: join(dir, 'registry'), address: `127.0.0.1:${await freePort()}` });
    image = `${registry.address}/navarch/busybox:e2e`;
    await buildBusyboxImage(join(dir, 'busybox'), { ref: image });
    await new RegistryClient().pushLayout(join(dir, 'busybox'), image);
    say(`containerd, and ${image} pushed to docker-registry`);

    cluster = await LocalMasterCluster.create({ dir: join(dir, 'masters'), masters: 3 });
    // Kubernetes' 40 s node grace: a loaded machine must not mark the node unreachable; podCIDRs from a free /24.
    for (const m of cluster.members) cluster.start(m.id, ['--node-monitor-grace-period-ms', '40000', '--cluster-cidr', podCIDR, '--node-cidr-mask-size', '24']);
    await cluster.waitForLeader(120_000);
    client = new NavarchClient({ endpoints: cluster.members.map((m) => m.clientAddress), retryDeadlineMs: 30_000 });
    for (const ns of ['default', 'kube-system', 'kube-node-lease', NS]) {
      await until(`namespace ${ns}`, async () => {
        await c().create(obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).catch((e: unknown) => {
          if (!isApiError(e, 'AlreadyExists')) throw e;
        });
        return true;
      }, 30_000);
    }
    say(`3 masters agree on a leader; pod range ${podCIDR}`);

    agent = new AgentProcess({ dir: join(dir, 'agent'), server: cluster.endpoints, containerdSocket: containerd.socketPath, nodeName: `e2e-agent-${process.pid}` });
    node = agent.o.nodeName;
    runtime = await agent.connectRuntime();
    await agent.start();
    await until('the Node to be Ready', async () => {
      const n = await c().get<Node>('nodes', undefined, node);
      return n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
    }, 60_000, 200);
    say(`agent ${node} registered and Ready`);

    const w = c().watch<Pod>('pods', { namespace: NS });
    watch = w;
    void (async () => {
      try {
        for await (const e of w) {
          if (e.type === 'BOOKMARK' || e.type === 'DELETED') continue;
          const name = e.object.metadata?.name ?? '';
          for (const s of [...(e.object.status?.containerStatuses ?? []), ...(e.object.status?.initContainerStatuses ?? [])]) {
            const wt = s.state?.waiting;
            if (!wt?.reason) continue;
            const seen = waitingSeen.get(name) ?? [];
            const last = seen[seen.length - 1];
            if (!last || last.reason !== wt.reason || last.message !== (wt.message ?? '')) seen.push({ reason: wt.reason, message: wt.message ?? '' });
            waitingSeen.set(name, seen);
          }
        }
      } catch {
        /* closed */
      }
    })();

    // Every case's objects at once, so their slow parts (pulls, probes, back-offs) overlap.
    const forever = (what: string) => ['sh', '-c', `trap "exit 0" TERM; ${what}; while true; do sleep 1; done`];
    await c().create(obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: NS }, data: { greeting: 'hello-1' } }));
    await c().create(obj({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'httpd', image, command: ['httpd', '-f', '-p', '80', '-h', '/var/www'] }] },
        },
      },
    }));
    const pods: Pod[] = [
      pod('pair', {
        terminationGracePeriodSeconds: 2,
        volumes: [{ name: 'shared', emptyDir: {} }],
        containers: [
          { name: 'server', image, command: ['httpd', '-f', '-p', '8080', '-h', '/www'], volumeMounts: [{ name: 'shared', mountPath: '/www' }] },
          // Writes a file into the emptyDir, then fetches it back from the other container over localhost.
          { name: 'writer', image, command: forever('echo from-writer > /shared/msg; until wget -q -O /shared/fetched http://127.0.0.1:8080/msg; do sleep 1; done'), volumeMounts: [{ name: 'shared', mountPath: '/shared' }] },
        ],
      }),
      pod('liveness', {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'main', image, command: forever('true'), livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 1 } }],
      }),
      pod('crash', { restartPolicy: 'OnFailure', containers: [{ name: 'main', image, command: ['sh', '-c', 'echo crashing; exit 1'] }] }),
      pod('config', {
        terminationGracePeriodSeconds: 2,
        volumes: [{ name: 'settings', configMap: { name: 'settings' } }],
        containers: [{ name: 'httpd', image, command: ['httpd', '-f', '-p', '80', '-h', '/etc/settings'], volumeMounts: [{ name: 'settings', mountPath: '/etc/settings' }] }],
      }),
      pod('ticker', { terminationGracePeriodSeconds: 2, containers: [{ name: 'main', image, command: ['sh', '-c', 'trap "exit 0" TERM; i=0; while true; do echo tick-$i; i=$((i+1)); sleep 1; done'] }] }),
      pod('stops-on-term', { terminationGracePeriodSeconds: 60, containers: [{ name: 'main', image, command: forever('true') }] }),
      pod('ignores-term', { terminationGracePeriodSeconds: 3, containers: [{ name: 'main', image, command: ['sh', '-c', 'trap "" TERM; while true; do sleep 1; done'] }] }),
      pod('missing-image', { containers: [{ name: 'main', image: `${registry.address}/navarch/nothing:1` }] }),
      pod('missing-command', { containers: [{ name: 'main', image, command: ['/bin/does-not-exist'] }] }),
    ];
    for (const p of pods) await c().create(p);
    say('the Deployment, a ConfigMap and 9 pods created');
  });

  after(async () => {
    watch?.close();
    for (const ch of children) ch.kill('SIGKILL');
    // The pods' containers, network namespaces, the bridge and cgroups, then containerd and its shims.
    await agent?.cleanup().catch((e: Error) => console.error(`cleanup: ${e.message}`));
    await containerd?.stop().catch((e: Error) => console.error(`cleanup: ${e.message}`));
    await registry?.stop().catch(() => undefined);
    client?.close();
    if (cluster) for (const m of cluster.members) await cluster.kill(m.id).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs a Deployment of 3 busybox httpd pods, each answering HTTP on its pod IP', async () => {
    const web = await until('3 Running web pods with IPs', async () => {
      const items = (await c().list<Pod>('pods', { namespace: NS, labelSelector: 'app=web' })).items.filter((p) => p.status?.phase === 'Running' && p.status.podIP);
      return items.length === 3 ? items : undefined;
    }, 120_000, 250);
    const ips = new Set(web.map((p) => p.status!.podIP!));
    assert.equal(ips.size, 3, `three different pod IPs, got ${[...ips].join(', ')}`);
    for (const p of web) {
      assert.equal(p.spec?.nodeName, node);
      const body = await until(`HTTP from ${p.metadata?.name}`, () => httpGet(`http://${p.status!.podIP}/`), 30_000, 200);
      assert.match(body, /Hello from a navarch pod/);
      const ready = p.status?.conditions?.find((x) => x.type === 'Ready');
      assert.equal(ready?.status, 'True');
    }
    say(`web pods answer on ${[...ips].join(', ')}`);
  });

  it('a two-container pod shares localhost and an emptyDir', async () => {
    const p = await waitRunning('pair');
    // The server container serves from the emptyDir what the writer container fetched from it over localhost.
    const fetched = await until('the writer to fetch its file from the server over localhost', () => httpGet(`http://${p.status!.podIP}:8080/fetched`), 60_000, 250);
    assert.equal(fetched, 'from-writer');
    assert.equal(p.status?.containerStatuses?.length, 2);
  });

  it('a failing liveness probe restarts the container and restartCount rises', async () => {
    const p = await until('the liveness pod to restart twice', async () => {
      const x = await getPod('liveness');
      return (x.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2 ? x : undefined;
    }, 120_000, 250);
    assert.equal(p.status?.phase, 'Running');
    assert.ok(p.status?.containerStatuses?.[0]?.lastState?.terminated, 'lastState.terminated records the killed run');
  });

  it('a container exiting 1 under OnFailure backs off (CrashLoopBackOff)', async () => {
    const p = await until('the crash pod to show CrashLoopBackOff after a restart', async () => {
      const x = await getPod('crash');
      const s = x.status?.containerStatuses?.[0];
      return s?.state?.waiting?.reason === 'CrashLoopBackOff' && (s.restartCount ?? 0) >= 1 ? x : undefined;
    }, 90_000, 100);
    const s = p.status!.containerStatuses![0]!;
    assert.match(s.state!.waiting!.message ?? '', /back-off \d+s restarting failed container=main pod=crash_/);
    assert.equal(s.lastState?.terminated?.exitCode, 1);
    assert.notEqual(p.status?.phase, 'Succeeded');
    // The latest run's log; a run just restarted may not have printed yet, so ask until it has.
    await until('navctl logs crash to print the crashed run\'s line', async () => {
      const logs = await navctl(['logs', 'crash']);
      if (logs.code !== 0) throw new Error(`navctl logs exited ${logs.code}: ${logs.stderr}`);
      return logs.stdout.trim() === 'crashing' || undefined;
    }, 60_000, 500);
  });

  it("a configMap volume's content appears and later updates", async () => {
    const p = await waitRunning('config');
    const url = `http://${p.status!.podIP}/greeting`;
    assert.equal(await until('the configMap file', () => httpGet(url), 30_000, 200), 'hello-1');
    const cm = await c().get<ConfigMap>('configmaps', NS, 'settings');
    await c().update<ConfigMap>({ ...cm, data: { greeting: 'hello-2' } });
    await until('the updated configMap file', async () => ((await httpGet(url)) === 'hello-2' ? true : undefined), 90_000, 250);
  });

  it('navctl logs -f streams new lines and navctl exec prints the pod name from /etc/hostname', async () => {
    await waitRunning('ticker');
    // Both at once: each navctl is a process of its own, slow to start on a loaded machine.
    const follow = spawn(process.execPath, ['--import', 'tsx', 'cmd/navctl.ts', '--server', cluster!.endpoints, '-n', NS, 'logs', '-f', 'ticker'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(follow);
    let out = '';
    follow.stdout!.on('data', (d) => (out += d));
    try {
      const exec = await navctl(['exec', 'ticker', '--', 'cat', '/etc/hostname']);
      assert.equal(exec.code, 0, exec.stderr);
      assert.equal(exec.stdout.trim(), 'ticker');
      // The first line seen may be an old one; three more after it arrive only by following.
      const first = await until('navctl logs -f to print a line', () => /tick-(\d+)\n/.exec(out)?.[1], 90_000, 100);
      await until('navctl logs -f to stream three more lines', () => out.includes(`tick-${Number(first) + 3}\n`), 30_000, 100);
      assert.ok(isAlive(follow), 'navctl logs -f keeps running');
    } finally {
      await killAndWait(follow, 'SIGKILL');
      children.delete(follow);
    }
  });

  it('a missing image gives ErrImagePull, then ImagePullBackOff', async () => {
    await until('ErrImagePull then ImagePullBackOff', () => {
      const seen = waitingSeen.get('missing-image') ?? [];
      const i = seen.findIndex((w) => w.reason === 'ErrImagePull');
      return i >= 0 && seen.slice(i + 1).some((w) => w.reason === 'ImagePullBackOff');
    }, 60_000, 100);
    const err = waitingSeen.get('missing-image')!.find((w) => w.reason === 'ErrImagePull')!;
    assert.match(err.message, /navarch\/nothing:1/);
    assert.equal((await getPod('missing-image')).status?.phase, 'Pending');
  });

  it('a command that does not exist gives a waiting reason and a message saying so', async () => {
    const w = await until('a waiting state naming the missing command', () => (waitingSeen.get('missing-command') ?? []).find((x) => /does-not-exist/.test(x.message)), 60_000, 100);
    assert.match(w.reason, /^(RunContainerError|CreateContainerError|StartError)$/);
    assert.match(w.message, /no such file|not found/i);
    const p = await getPod('missing-command');
    assert.notEqual(p.status?.phase, 'Running');
  });

  it('deleting pods stops their containers within the grace period', async () => {
    const names = ['stops-on-term', 'ignores-term'];
    const uids = new Map<string, string>();
    for (const n of names) uids.set(n, (await waitRunning(n)).metadata!.uid!);
    const runningOf = async (uid: string) => (await runtime!.listContainers()).filter((s) => s.podUid === uid && s.phase === 'running');
    for (const n of names) assert.equal((await runningOf(uids.get(n)!)).length, 1, `${n} has one running container`);
    const startMs = Date.now();
    for (const n of names) await c().delete('pods', NS, n);
    // Stops on SIGTERM: well before its 60 s grace period. Ignores SIGTERM: killed after its 3 s.
    const gone = async (n: string) => {
      await until(`the containers of ${n} to stop`, async () => ((await runningOf(uids.get(n)!)).length === 0 ? true : undefined), 45_000, 100);
      const stoppedMs = Date.now() - startMs;
      await until(`pod ${n} to be removed`, async () => getPod(n).then(() => undefined, (e: unknown) => isApiError(e, 'NotFound') || undefined), 30_000, 200);
      return stoppedMs;
    };
    const [onTermMs, ignoreMs] = await Promise.all(names.map(gone));
    say(`stopped after ${onTermMs} ms (SIGTERM honoured, grace 60 s) and ${ignoreMs} ms (SIGTERM ignored, grace 3 s)`);
    assert.ok(onTermMs! < 45_000, 'the pod that exits on SIGTERM stops long before its grace period ends');
    assert.ok(ignoreMs! >= 2_500, 'the pod that ignores SIGTERM runs until its grace period ends, then is killed');
    const left = (await runtime!.listContainers()).filter((s) => [...uids.values()].includes(s.podUid));
    assert.deepEqual(left.map((s) => s.id), [], 'no containers left for the deleted pods');
  });

  it('kill -9 of the agent and a restart create no duplicate container', async () => {
    const stable = ['pair', 'config', 'ticker'];
    for (const n of stable) await waitRunning(n);
    const beforeKill = await runningByPodContainer();
    const uids = new Set((await c().list<Pod>('pods', { namespace: NS })).items.filter((p) => stable.includes(p.metadata!.name!) || p.metadata?.labels?.app === 'web').map((p) => p.metadata!.uid!));
    const keys = [...beforeKill.keys()].filter((k) => uids.has(k.split('/')[0]!)).sort();
    assert.equal(keys.length, 3 + 2 + 1 + 1, `running containers of the web, pair, config and ticker pods: ${keys.join(', ')}`);

    assert.equal(await agent!.kill('SIGKILL'), null);
    say('agent killed with SIGKILL');
    await agent!.start();
    say('agent started again');
    // A pod created after the restart runs: the agent has gone through the pods it found by then.
    await c().create(pod('after-restart', { terminationGracePeriodSeconds: 2, containers: [{ name: 'main', image, command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'] }] }));
    await waitRunning('after-restart');
    for (const n of stable) assert.equal((await getPod(n)).status?.phase, 'Running');

    const afterRestart = await runningByPodContainer();
    for (const [key, ids] of afterRestart) assert.equal(ids.length, 1, `${key} has one running container, not ${ids.join(', ')}`);
    for (const k of keys) assert.deepEqual(afterRestart.get(k), beforeKill.get(k), `${k} is the same container as before the kill`);
    const web = (await c().list<Pod>('pods', { namespace: NS, labelSelector: 'app=web' })).items;
    for (const p of web) assert.match(await httpGet(`http://${p.status!.podIP}/`), /Hello from a navarch pod/);
  });
});
