// One `navarch master` and one `navarch hollow --nodes 50` process: the 50 Nodes register with
// their Leases; a pod pinned to a hollow node by nodeName becomes Running with an IP from that
// node's pod CIDR; a graceful delete of it is finished by the hollow node (the pod goes away).

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodeObject } from '../pkg/api/convert/object.js';
import type { Lease, Node, Pod } from '../pkg/api/registry.js';
import { ApiError, NavarchClient } from '../pkg/client/mod.js';
import { LocalMasterCluster } from '../pkg/localcluster/master_cluster.js';
import { ROOT, killAndWait, spawnLogged } from '../pkg/localcluster/process.js';

const NODES = 50;
const NS = 'hollow-e2e';

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await Promise.resolve().then(cond).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${detail() ? `\n${detail()}` : ''}`);
}

let dir: string;
let cluster: LocalMasterCluster;
let hollow: ChildProcess | undefined;
let client: NavarchClient;
const hollowLog = () => join(dir, 'hollow.log');
const logTail = () => `--- ${hollowLog()}\n${readFileSync(hollowLog(), 'utf8').split('\n').slice(-20).join('\n')}`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'navarch-hollow-'));
  cluster = await LocalMasterCluster.create({ dir, masters: 1 });
  cluster.startAll();
  await cluster.waitForLeader(30_000);
  client = new NavarchClient({ endpoints: [cluster.members[0].clientAddress] });
  hollow = spawnLogged(['--import', 'tsx', join(ROOT, 'cmd/navarch.ts'), 'hollow', '--server', cluster.endpoints, '--nodes', String(NODES)], hollowLog(), false);
});

after(async () => {
  await killAndWait(hollow, 'SIGTERM');
  client?.close();
  await cluster?.stopAll();
  if (!process.env.E2E_KEEP) rmSync(dir, { recursive: true, force: true });
});

test('navarch hollow registers its nodes with leases, runs a pod pinned to one, and finishes its graceful delete', { timeout: 60_000 }, async () => {
  await waitFor(`"hollow: ${NODES} nodes ready"`, () => readFileSync(hollowLog(), 'utf8').includes(`hollow: ${NODES} nodes ready`), 40_000, logTail);
  const nodes = (await client.listAll<Node>('nodes')).items;
  assert.equal(nodes.length, NODES);
  assert.ok(nodes.every((n) => n.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True')));
  const leases = (await client.listAll<Lease>('leases', { namespace: 'kube-node-lease' })).items;
  // Lease creations are spread over the first 10 s; at least the first ones exist by now.
  assert.ok(leases.length > 0 && leases.every((l) => l.spec?.holderIdentity === l.metadata?.name));

  const node7 = nodes.find((n) => n.metadata?.name === 'hollow-7')!;
  const cidr = node7.spec!.podCIDR!;
  assert.equal(cidr, '198.18.8.0/24');
  await client.create(decodeObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }).object);
  const pod = decodeObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pinned', namespace: NS }, spec: { nodeName: 'hollow-7', containers: [{ name: 'app', image: 'busybox' }] } }).object as Pod;
  await client.create(pod);
  let seen: Pod | undefined;
  await waitFor('the pod Running', async () => (seen = await client.get<Pod>('pods', NS, 'pinned')).status?.phase === 'Running', 20_000, logTail);
  assert.match(seen!.status!.podIP!, /^198\.18\.8\.\d+$/);
  assert.equal(seen!.status!.hostIP, node7.status!.addresses.find((a) => a.type === 'InternalIP')!.address);
  assert.equal(seen!.status!.conditions.find((c) => c.type === 'Ready')?.status, 'True');

  const { deleted } = await client.delete('pods', NS, 'pinned');
  assert.equal(deleted, false, 'a graceful delete only marks the pod');
  await waitFor(
    'the pod gone',
    async () => {
      try {
        await client.get('pods', NS, 'pinned');
        return false;
      } catch (err) {
        return err instanceof ApiError && err.code === 'NotFound';
      }
    },
    20_000,
    logTail,
  );
});
