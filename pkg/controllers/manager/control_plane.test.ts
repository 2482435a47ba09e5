// Two control planes (as two masters' would be) against one real master member over gRPC: one of
// each component leads, a Deployment becomes pods bound to a node, and when the leader stops the
// other takes its leases over at once (released, not expired) and carries on.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { Deployment, Lease, Pod } from '../../api/registry.js';
import { obj } from '../../apiserver/test_util.js';
import { isApiError, NavarchClient } from '../../client/mod.js';
import { freePort } from '../../localcluster/kv_cluster.js';
import { startMasterMember } from '../../master/member.js';
import { CONTROLLER_MANAGER_LEASE, SCHEDULER_LEASE } from './components.js';
import { ControlPlane } from './control_plane.js';
import { DEFER_COLD, leaseElector, NO_DEFERRAL } from './elector.js';
import { LeaderElectedRunner, type TermStarter } from './leader_run.js';
import { SeededRandom } from '../../../raft/core/random.js';
import { realClock } from '../../../raft/node/ports.js';
import { until as untilWithin } from '../../localcluster/until.js';

const until = <T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> => untilWithin(what, f, timeoutMs);

const node = (name: string) =>
  obj({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: {
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: new Date().toISOString() }],
    },
  });

const web = (replicas: number) =>
  obj<Deployment>({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25', resources: { requests: { cpu: '100m' } } }] } },
    },
  });

/** The default namespace's pods when there are n, all bound to n1. */
async function podsBoundToN1(client: NavarchClient, n: number): Promise<Pod[] | false> {
  const pods = (await client.list<Pod>('pods', { namespace: 'default' })).items;
  return pods.length === n && pods.every((p) => p.spec?.nodeName === 'n1') && pods;
}

/** One master member with these namespaces; close() stops it and removes its data. */
async function startMember(namespaces: string[]): Promise<{ client: NavarchClient; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-control-plane-'));
  const member = await startMasterMember({ id: 1, dataDir: dir, peers: [{ id: 1, address: `127.0.0.1:${await freePort()}` }], clientAddresses: new Map(), listenClient: '127.0.0.1:0', tickMs: 20 });
  const client = new NavarchClient({ endpoints: [member.clientAddress] });
  for (const ns of namespaces) {
    await until(`namespace ${ns}`, async () => {
      await client.create(obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).catch((e: unknown) => {
        if (!isApiError(e, 'AlreadyExists')) throw e;
      });
      return true;
    });
  }
  return {
    client,
    async close() {
      client.close();
      await member.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('one control plane leads each lease; a Deployment becomes bound pods; stopping the leader hands both leases over at once', { timeout: 90_000 }, async () => {
  const { client, close } = await startMember(['default', 'kube-system', 'kube-node-lease']);
  const planes: ControlPlane[] = [];
  try {
    const identities = ['alpha_1', 'beta_2'];
    const registries = [new Registry(), new Registry()];
    for (const [i, who] of identities.entries()) {
      const plane = new ControlPlane({
        client,
        identity: who,
        scheduler: true,
        controllers: true,
        registry: registries[i],
        election: { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 },
        controllerManager: { nodeMonitorGracePeriodMs: 600_000 },
        logger: { info: () => {}, warn: () => {} },
      });
      planes.push(plane);
      plane.start();
    }
    const holder = async (lease: string): Promise<Lease> => client.get<Lease>('leases', 'kube-system', lease);
    const leaders = (lease: string) => planes.filter((p) => p.runners.find((r) => r.name === lease)!.isLeading);
    for (const lease of [SCHEDULER_LEASE, CONTROLLER_MANAGER_LEASE]) {
      await until(`a leader of ${lease}`, async () => leaders(lease).length === 1 && (await holder(lease)).spec?.holderIdentity);
    }

    await client.create(node('n1'));
    await client.create(web(3));
    const boundPods = (n: number) => podsBoundToN1(client, n);
    await until('3 pods bound to n1', () => boundPods(3));
    const status = await until('the Deployment to see 3 updated replicas', async () => {
      const d = await client.get<Deployment>('deployments', 'default', 'web');
      return d.status?.updatedReplicas === 3 && d.status;
    });
    assert.equal(status.replicas, 3);

    // The controller manager's leader stops: its lease is released, and the other one takes over
    // well within the lease duration.
    const cmLeader = leaders(CONTROLLER_MANAGER_LEASE)[0];
    const before = (await holder(CONTROLLER_MANAGER_LEASE)).spec!;
    const stoppedAt = Date.now();
    await cmLeader.stop();
    planes.splice(planes.indexOf(cmLeader), 1);
    const after = await until('the other plane to hold the controller manager lease', async () => {
      const l = (await holder(CONTROLLER_MANAGER_LEASE)).spec!;
      return l.holderIdentity !== '' && l.holderIdentity !== before.holderIdentity && l;
    });
    assert.ok(Date.now() - stoppedAt < 1500, `takeover took ${Date.now() - stoppedAt} ms, expected less than the 1500 ms lease`);
    assert.equal(after.leaseTransitions, (before.leaseTransitions ?? 0) + 1);
    // The new holder's runner hears of it from its election thread a moment after the lease says so.
    await until('the other plane to lead the controller manager', async () => leaders(CONTROLLER_MANAGER_LEASE).length === 1);
    await until('the remaining plane to lead the scheduler too', async () => leaders(SCHEDULER_LEASE).length === 1);

    // The survivor carries on: scaling up gives two more pods, bound, and none of the old ones twice.
    await client.patch('deployments', 'default', 'web', 'merge', { spec: { replicas: 5 } });
    const pods = await until('5 pods bound to n1', () => boundPods(5));
    assert.equal(new Set(pods.map((p) => p.metadata!.name)).size, 5);

    const text = await registries[identities.indexOf(after.holderIdentity!)].metrics();
    assert.match(text, /^leader_election_master_status\{name="kube-controller-manager"\} 1$/m);
    assert.match(text, /^navarch_controller_sync_duration_seconds_count\{controller="deployment",result="success"\} [1-9]/m);
  } finally {
    await Promise.all(planes.map((p) => p.stop()));
    await close();
  }
});

test('a runner whose term fails to start gives its lease up, so another candidate leads instead of nobody', { timeout: 60_000 }, async () => {
  const { client, close } = await startMember(['kube-system']);
  const runners: LeaderElectedRunner[] = [];
  try {
    const terms: string[] = [];
    const runner = (identity: string, start: TermStarter) => {
      const r = new LeaderElectedRunner({
        name: 'test-component',
        identity,
        client,
        elector: leaseElector({ name: 'test-component', identity, client, clock: realClock, timings: { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 100 } }),
        start,
        registry: new Registry(),
        clock: realClock,
        random: new SeededRandom(1),
        logger: { info: () => {}, warn: () => {} },
      });
      runners.push(r);
      return r;
    };
    const broken = runner('broken_1', async (ctx) => {
      terms.push(`broken ${ctx.token.leaseTransitions}`);
      throw new Error('cannot start');
    });
    broken.start();
    await until('the broken runner to have tried a term', async () => terms.length > 0);
    const healthy = runner('healthy_2', async (ctx) => void terms.push(`healthy ${ctx.token.leaseTransitions}`));
    healthy.start();
    await until('the healthy runner to lead', async () => healthy.isLeading && terms.some((t) => t.startsWith('healthy')));
    const lease = await client.get<Lease>('leases', 'kube-system', 'test-component');
    assert.equal(lease.spec?.holderIdentity, 'healthy_2');
    assert.equal(broken.isLeading, false);
  } finally {
    await Promise.all(runners.map((r) => r.stop()));
    await close();
  }
});

test('a master leading Raft drops its standby, rebuilds it when it stops leading, and can still take the leases over with none', { timeout: 90_000 }, async () => {
  const { client, close } = await startMember(['default', 'kube-system', 'kube-node-lease']);
  const planes: ControlPlane[] = [];
  try {
    const logs: string[] = [];
    let leadsRaft = true;
    const registries = new Map<string, Registry>();
    const plane = (identity: string, suspend: boolean) => {
      registries.set(identity, new Registry());
      const p = new ControlPlane({
        client,
        identity,
        scheduler: true,
        controllers: true,
        registry: registries.get(identity)!,
        election: { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 },
        controllerManager: { nodeMonitorGracePeriodMs: 600_000 },
        suspendStandbyWhile: suspend ? () => leadsRaft : undefined,
        standbySuspendAfterMs: 100,
        logger: { info: (m) => logs.push(`${identity}: ${m}`), warn: (m) => logs.push(`${identity}: ${m}`) },
      });
      planes.push(p);
      p.start();
      return p;
    };
    const leads = (p: ControlPlane) => p.runners.every((r) => r.isLeading);
    const other = plane('other_1', false);
    await until('the other plane to lead both components', async () => leads(other));
    const raftLeader = plane('raftleader_2', true);
    // Ready to take over at once: 1 per lease once its caches are filled, 0 while it keeps none.
    const ready = async () => ((await registries.get('raftleader_2')!.getSingleMetric('navarch_leader_election_ready')?.get())?.values ?? []).map((v) => v.value);
    await until('the Raft leader to be ready to take over', async () => (await ready()).join() === '1,1');
    await until('the Raft leader to drop its standby', async () => raftLeader.standbySuspendedNow);
    assert.deepEqual(await ready(), [0, 0], 'no standby: not ready to take over at once');
    assert.ok(raftLeader.runners.every((r) => r.cold), 'its takeovers would start cold (so it lets warm masters go first)');
    assert.equal(raftLeader.takeoverDeferral(), DEFER_COLD, 'it leaves an expired lease to warm masters for a lease duration more');

    await client.create(node('n1'));
    await client.create(web(3));
    const boundPods = (n: number) => podsBoundToN1(client, n);
    await until('3 pods bound to n1', () => boundPods(3));

    leadsRaft = false;
    await until('the standby to be rebuilt once the master no longer leads Raft', async () => !raftLeader.standbySuspendedNow);
    await until('its caches to be filled again', async () => (await ready()).join() === '1,1' && raftLeader.runners.every((r) => !r.cold));
    assert.equal(raftLeader.takeoverDeferral(), NO_DEFERRAL, 'warm, and told of no reason to defer');
    leadsRaft = true;
    await until('the standby to be dropped again', async () => raftLeader.standbySuspendedNow);

    // The other master goes: the one left leads Raft and has no standby, but takes both leases and
    // works from informers it lists then.
    await other.stop();
    planes.splice(planes.indexOf(other), 1);
    await until('the Raft leader to lead both components', async () => leads(raftLeader));
    await client.patch('deployments', 'default', 'web', 'merge', { spec: { replicas: 5 } });
    const pods = await until('5 pods bound to n1', () => boundPods(5));
    assert.equal(new Set(pods.map((p) => p.metadata!.name)).size, 5);
    assert.ok(logs.some((m) => /^raftleader_2: kube-scheduler: leading \(lease transition \d+\); starting$/.test(m)), `the scheduler started from scratch:\n${logs.join('\n')}`);
    await until('the standby to count as kept while its components lead', async () => !raftLeader.standbySuspendedNow);
  } finally {
    await Promise.all(planes.map((p) => p.stop()));
    await close();
  }
});
