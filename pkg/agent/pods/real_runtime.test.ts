// The pod workers over the real parts: a containerd of the test's own (busybox imported), the CNI
// bridge network with its own bridge and a /24 of 198.18.128.0/17, log files on disk, the real
// clock. Needs root, containerd, runc and the CNI plugins (as CI has them). Everything it makes is
// removed in `after`, also when a test fails.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Pod } from '../../../gen/navarch/api/v1/core.js';
import { realClock } from '../../../raft/node/ports.js';
import { obj, testServer, type TestServer } from '../../apiserver/test_util.js';
import { RecordingClient } from '../../controllers/testing/recording_client.js';
import { until } from '../../localcluster/until.js';
import { CniNetwork } from '../cni/cni_network.js';
import { startFixture, type Fixture as RuntimeFixture } from '../runtime/containerd/test_fixture.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { StatusManager } from '../status_manager.js';
import { FakeVolumes } from './fixture_test_util.js';
import { FsLogDirs } from './log_dirs.js';
import { PodWorkers } from './pod_workers.js';
import { unusedPodCIDR } from '../../localcluster/agent_process.js';

const run = promisify(execFile);
const skip = process.getuid?.() !== 0 ? 'needs root (containerd, namespaces, bridges, iptables)' : false;
const tag = randomBytes(3).toString('hex');
const bridgeName = `nvp${tag}`;

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body.trim()));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
  });
}

describe('PodWorkers on containerd and CNI', { skip }, () => {
  let dir: string;
  let rt: RuntimeFixture;
  let net: CniNetwork;
  let t: TestServer;
  let status: StatusManager;
  const workers: PodWorkers[] = [];
  const seen = new Map<string, Pod>();

  function newWorkers(runtime: ContainerRuntime): PodWorkers {
    const w = new PodWorkers({
      nodeName: 'n1',
      hostIP: '127.0.0.1',
      runtime,
      network: net,
      status,
      client: new RecordingClient(t.server),
      clock: realClock,
      volumes: new FakeVolumes(),
      logs: new FsLogDirs(join(dir, 'pods')),
      onError: (what, err) => console.error(`${what}: ${(err as Error).message}`),
    });
    workers.push(w);
    return w;
  }

  /** The informer's part: the pods as the API has them now, and the ones gone. */
  async function feed(w: PodWorkers): Promise<void> {
    const pods = (await t.server.list({ resource: 'pods' })).items as Pod[];
    const now = new Map(pods.map((p) => [p.metadata?.uid ?? '', p]));
    for (const [uid, p] of seen) if (!now.has(uid)) w.onPodGone(p);
    seen.clear();
    for (const [uid, p] of now) (seen.set(uid, p), w.onPod(p));
  }

  const getPod = async (name: string) => (await t.server.get({ resource: 'pods', namespace: 'default', name })) as Pod;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'navarch-pods-'));
    rt = await startFixture(`navarch-pods-${tag}`);
    net = await CniNetwork.open({ dataDir: join(dir, 'cni'), netnsDir: join(dir, 'netns'), podCIDR: await unusedPodCIDR(), bridgeName, pluginTimeoutMs: 60_000 });
    t = await testServer();
    status = new StatusManager({ client: new RecordingClient(t.server), clock: realClock });
  });

  after(async () => {
    for (const w of workers) w.stop();
    status?.stop();
    for (const uid of (await net?.list().catch(() => [])) ?? []) await net.tearDown(uid).catch((e) => console.error(`cleanup: ${e.message}`));
    await rt?.cleanup();
    await run('ip', ['link', 'del', bridgeName]).catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs init containers then the app on the pod IP, survives an agent restart without duplicates, and deletes gracefully', async () => {
    const image = rt.image.ref;
    await t.server.create({
      object: obj({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace: 'default' },
        spec: {
          nodeName: 'n1',
          terminationGracePeriodSeconds: 2,
          initContainers: [{ name: 'init', image, imagePullPolicy: 'Never', command: ['sh', '-c', 'echo init-ran'] }],
          containers: [
            {
              name: 'web',
              image,
              imagePullPolicy: 'Never',
              env: [{ name: 'GREETING', value: 'hello' }],
              // $(GREETING) is Kubernetes' expansion; $(hostname) is no env var, so it stays for the shell.
              command: ['sh', '-c', 'mkdir -p /www && echo $(GREETING)-$(hostname) > /www/index.html && exec httpd -f -p 8080 -h /www'],
            },
          ],
        },
      }),
    });
    const w1 = newWorkers(rt.runtime);
    await w1.start((await t.server.list({ resource: 'pods' })).items as Pod[]);
    const running = await until(
      'pod web Running with an IP',
      async () => {
        await feed(w1);
        const p = await getPod('web');
        return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
      },
      60_000,
    );
    const uid = running.metadata?.uid ?? '';
    const ip = running.status?.podIP ?? '';
    assert.equal(await until('the pod answering HTTP on its IP', () => httpGet(`http://${ip}:8080/`).catch(() => undefined), 30_000), 'hello-web');
    const s = running.status!;
    assert.deepEqual(
      s.initContainerStatuses.map((c) => [c.name, c.state?.terminated?.exitCode, c.state?.terminated?.reason]),
      [['init', 0, 'Completed']],
    );
    assert.equal(s.containerStatuses[0].containerID, `containerd://${uid}_web_0`);
    const initLog = join(dir, 'pods', `default_web_${uid}`, 'init', '0.log');
    await until('the init container\'s output in its log file', async () => / stdout F init-ran\n/.test(await readFile(initLog, 'utf8').catch(() => '')), 10_000);

    // The agent restarts: the new workers adopt the running container and start nothing.
    w1.stop();
    const before = (await rt.runtime.listContainers()).map((c) => c.id).sort();
    const runtime2 = await rt.reconnect();
    const w2 = newWorkers(runtime2);
    await w2.start((await t.server.list({ resource: 'pods' })).items as Pod[]);
    await w2.idle();
    await feed(w2);
    await w2.idle();
    assert.deepEqual((await runtime2.listContainers()).map((c) => c.id).sort(), before);
    assert.equal(await until('the pod still answering', () => httpGet(`http://${ip}:8080/`).catch(() => undefined), 10_000), 'hello-web');

    // Graceful deletion: httpd as PID 1 ignores SIGTERM, so it is killed after the 2 s grace period.
    const t0 = Date.now();
    await t.server.delete({ resource: 'pods', namespace: 'default', name: 'web' });
    await until(
      'pod web deleted',
      async () => {
        await feed(w2);
        return ((await t.server.list({ resource: 'pods' })).items as Pod[]).length === 0;
      },
      30_000,
    );
    assert.ok(Date.now() - t0 >= 1900, `deleted after ${Date.now() - t0} ms, before the grace period ended`);
    assert.deepEqual(await runtime2.listContainers(), []);
    assert.deepEqual(await net.list(), []);
    await assert.rejects(readFile(join(dir, 'pods', `default_web_${uid}`, 'init', '0.log')), /ENOENT/);
  });
});
