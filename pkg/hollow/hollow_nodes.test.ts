import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Lease } from '../../gen/navarch/api/v1/coordination.js';
import type { Node, Pod } from '../../gen/navarch/api/v1/core.js';
import { NODE_LEASE_NAMESPACE } from '../agent/node_lease.js';
import { BOUND_PODS_SELECTOR, PodSource } from '../agent/pod_source.js';
import { serverListWatcher } from '../agent/testing/server_list_watcher.js';
import type { KubeObject } from '../api/registry.js';
import { ApiError } from '../apiserver/api_error.js';
import { pod, testServer, type TestServer } from '../apiserver/test_util.js';
import type { WriteOptions } from '../client/client.js';
import { FakeClock } from '../client/testing/fake_clock.js';
import { eventually } from '../client/testing/settle.js';
import { RecordingClient } from '../controllers/testing/recording_client.js';
import { HOLLOW_LABEL, HollowNodes, type HollowNodesOptions } from './hollow_nodes.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

async function start(t: TestServer, o: Partial<HollowNodesOptions> = {}) {
  const client = new RecordingClient(t.server);
  const clock = new FakeClock(T0);
  const pods = new PodSource(serverListWatcher<Pod>(t.server, 'pods', { fieldSelector: BOUND_PODS_SELECTOR }), { clock });
  const hollow = new HollowNodes({ client, pods, clock, nodes: 3, ...o });
  await hollow.start();
  const seen = (name: string) => pods.informer.store.get('default', name);
  return { client, clock, pods, hollow, seen };
}

const leaseTimes = async (t: TestServer) =>
  ((await t.server.list({ resource: 'leases', namespace: NODE_LEASE_NAMESPACE })).items as Lease[]).map((l) => `${l.metadata?.name} ${l.spec?.renewTime?.slice(11, 23)}`).sort();

describe('HollowNodes', () => {
  it('registers every node with its capacity, host IP and pod CIDR', async () => {
    const t = await testServer();
    const { hollow } = await start(t, { capacity: { cpu: '8', memory: '32Gi', pods: '50', ephemeralStorage: '10Gi' } });
    const nodes = (await t.server.list({ resource: 'nodes' })).items as Node[];
    assert.deepEqual(nodes.map((n) => n.metadata?.name).sort(), ['hollow-0', 'hollow-1', 'hollow-2']);
    const n1 = nodes.find((n) => n.metadata?.name === 'hollow-1')!;
    assert.deepEqual(n1.status?.capacity, { cpu: '8', memory: '32Gi', pods: '50', 'ephemeral-storage': '10Gi' });
    assert.equal(n1.status?.addresses.find((a) => a.type === 'InternalIP')?.address, '198.18.0.2');
    assert.equal(n1.spec?.podCIDR, '198.18.2.0/24');
    assert.equal(n1.metadata?.labels[HOLLOW_LABEL], 'true');
    assert.equal(n1.status?.conditions.find((c) => c.type === 'Ready')?.status, 'True');
    hollow.stop();
  });

  it('creates the leases of its nodes at once and spreads their renewals evenly over the renew interval', async () => {
    const t = await testServer();
    const { clock, hollow } = await start(t, { renewIntervalMs: 9000 });
    await clock.advance(0);
    assert.deepEqual(await leaseTimes(t), ['hollow-0 03:04:05.000', 'hollow-1 03:04:05.000', 'hollow-2 03:04:05.000']);
    await clock.advance(3000);
    assert.deepEqual(await leaseTimes(t), ['hollow-0 03:04:05.000', 'hollow-1 03:04:08.000', 'hollow-2 03:04:05.000']);
    await clock.advance(3000);
    assert.deepEqual(await leaseTimes(t), ['hollow-0 03:04:05.000', 'hollow-1 03:04:08.000', 'hollow-2 03:04:11.000']);
    await clock.advance(3000);
    assert.deepEqual(await leaseTimes(t), ['hollow-0 03:04:14.000', 'hollow-1 03:04:08.000', 'hollow-2 03:04:11.000']);
    await clock.advance(90_000);
    assert.deepEqual(await leaseTimes(t), ['hollow-0 03:05:44.000', 'hollow-1 03:05:38.000', 'hollow-2 03:05:41.000']);
    const s = hollow.stats();
    assert.equal(s.leaseCreates, 3);
    // Over 99 s each renews 11 times: hollow-0 at 9, 18, ... 99 s, hollow-1 at 3, 12, ... 93 s, hollow-2 at 6, ... 96 s.
    assert.equal(s.leaseRenewals, 33);
    const l = (await t.server.get({ resource: 'leases', namespace: NODE_LEASE_NAMESPACE, name: 'hollow-2' })) as Lease;
    assert.equal(l.spec?.holderIdentity, 'hollow-2');
    assert.equal(l.spec?.leaseDurationSeconds, 40);
    hollow.stop();
  });

  it('runs a pod bound to one of its nodes: Running, Ready, an IP from that node, its host IP', async () => {
    const t = await testServer();
    const { hollow, seen } = await start(t);
    await t.server.create({ object: pod('web', { nodeName: 'hollow-2' }) });
    await t.server.create({ object: pod('elsewhere', { nodeName: 'real-node' }) });
    await eventually('web Running', () => seen('web')?.status?.phase === 'Running');
    const p = seen('web')!;
    assert.equal(p.status?.podIP, '198.18.3.1');
    assert.deepEqual(p.status?.podIPs, [{ ip: '198.18.3.1' }]);
    assert.equal(p.status?.hostIP, '198.18.0.3');
    assert.deepEqual(p.status?.conditions.map((c) => `${c.type}=${c.status}`).sort(), ['ContainersReady=True', 'Initialized=True', 'PodScheduled=True', 'Ready=True']);
    assert.deepEqual(p.status?.containerStatuses.map((c) => `${c.name} ready=${c.ready} running=${!!c.state?.running}`), ['app ready=true running=true']);
    assert.equal(p.status?.startTime, '2026-01-02T03:04:05Z');
    assert.equal(seen('elsewhere')?.status?.phase, 'Pending', 'a pod of another node is left alone (Pending, as created)');
    assert.equal(hollow.stats().podsRunning, 1);
    hollow.stop();
  });

  it('finishes a graceful delete: the pod goes away and its IP is free again', async () => {
    const t = await testServer();
    const { hollow, seen } = await start(t);
    await t.server.create({ object: pod('a', { nodeName: 'hollow-0' }) });
    await eventually('a Running', () => seen('a')?.status?.phase === 'Running');
    const deleted = await t.server.delete({ resource: 'pods', namespace: 'default', name: 'a' });
    assert.equal(deleted.deleted, false, 'the API only marked it (30 s grace)');
    await eventually('a gone', () => seen('a') === undefined);
    await assert.rejects(t.server.get({ resource: 'pods', namespace: 'default', name: 'a' }), /not found/);
    assert.equal(hollow.stats().podsRunning, 0);
    assert.equal(hollow.status.stats.deleted, 1);
    hollow.stop();
  });

  it('never gives an IP in use to another pod; a pod with no free IP waits for one', async () => {
    const t = await testServer();
    // 2 nodes' pod CIDRs cut from a /27: each gets a /28, 14 pod IPs.
    const { hollow, seen } = await start(t, { nodes: 2, cidr: '10.0.0.0/28', podCidr: '10.0.1.0/27' });
    for (let i = 0; i < 15; i++) await t.server.create({ object: pod(`p${i}`, { nodeName: 'hollow-0' }) });
    await eventually('14 running, 1 waiting', () => hollow.stats().podsRunning === 14 && seen('p14')?.status?.phase === 'Pending');
    await eventually('statuses written', () => Array.from({ length: 14 }, (_, i) => seen(`p${i}`)?.status?.podIP).every((ip) => ip !== undefined));
    const ips = Array.from({ length: 14 }, (_, i) => seen(`p${i}`)!.status!.podIP!);
    assert.equal(new Set(ips).size, 14);
    const waiting = seen('p14')!.status!.containerStatuses[0].state?.waiting;
    assert.equal(waiting?.reason, 'ContainerCreating');
    assert.match(waiting?.message ?? '', /no IP addresses available in range 10\.0\.1\.0\/28 of node hollow-0/);
    await t.server.delete({ resource: 'pods', namespace: 'default', name: 'p3', gracePeriodSeconds: 0 });
    await eventually('p14 Running', () => seen('p14')?.status?.phase === 'Running');
    assert.equal(seen('p14')!.status!.podIP, ips[3], 'the only free address');
    hollow.stop();
  });

  it('after a restart keeps the IPs of the pods already running and gives new pods other ones', async () => {
    const t = await testServer();
    const first = await start(t);
    for (const name of ['a', 'b']) await t.server.create({ object: pod(name, { nodeName: 'hollow-1' }) });
    await eventually('both Running', () => first.seen('a')?.status?.phase === 'Running' && first.seen('b')?.status?.phase === 'Running');
    const before = ['a', 'b'].map((n) => first.seen(n)!.status!.podIP);
    first.hollow.stop();
    const second = await start(t);
    await t.server.create({ object: pod('c', { nodeName: 'hollow-1' }) });
    await eventually('c Running', () => second.seen('c')?.status?.phase === 'Running');
    assert.deepEqual(['a', 'b'].map((n) => second.seen(n)!.status!.podIP), before);
    assert.ok(!before.includes(second.seen('c')!.status!.podIP), `c got ${second.seen('c')!.status!.podIP}, already held by a or b`);
    assert.deepEqual(second.client.takeSummary().filter((s) => s.startsWith('update pods')), ['update pods default/c status'], 'a and b needed no new status');
    second.hollow.stop();
  });

  it('retries a registration the API could not take, with backoff, until it succeeds', async () => {
    const t = await testServer();
    const clock = new FakeClock(T0);
    let refusals = 2;
    const client = new (class extends RecordingClient {
      override async create<T extends KubeObject>(object: T, o?: WriteOptions & { resource?: string; namespace?: string }): Promise<T> {
        if (object.kind === 'Node' && refusals-- > 0) throw new ApiError('Unavailable', 'no leader');
        return super.create(object, o);
      }
    })(t.server);
    const pods = new PodSource(serverListWatcher<Pod>(t.server, 'pods', { fieldSelector: BOUND_PODS_SELECTOR }), { clock });
    const hollow = new HollowNodes({ client, pods, clock, nodes: 1 });
    const started = hollow.start();
    await clock.advance(199);
    assert.equal(hollow.stats().registered, 0);
    await clock.advance(1);
    assert.equal(hollow.stats().registered, 0, 'the second attempt failed too; the next is 400 ms later');
    await clock.advance(400);
    await started;
    assert.equal(hollow.stats().registered, 1);
    assert.equal(hollow.stats().registerFailures, 2);
    assert.equal(((await t.server.list({ resource: 'nodes' })).items as Node[]).length, 1);
    hollow.stop();
  });

  it('gives a host-network pod the node\'s own address and none from the pod CIDR', async () => {
    const t = await testServer();
    const { hollow, seen } = await start(t, { nodes: 2, cidr: '10.0.0.0/28', podCidr: '2001:2::/112' });
    const hostPod = pod('agent', { nodeName: 'hollow-0' }) as Pod;
    hostPod.spec!.hostNetwork = true;
    await t.server.create({ object: hostPod });
    await t.server.create({ object: pod('web', { nodeName: 'hollow-0' }) });
    await eventually('both Running', () => seen('agent')?.status?.phase === 'Running' && seen('web')?.status?.phase === 'Running');
    assert.equal(seen('agent')!.status!.podIP, '10.0.0.1');
    assert.equal(seen('agent')!.status!.hostIP, '10.0.0.1');
    assert.equal(seen('web')!.status!.podIP, '2001:2::1', 'the first address of the CIDR is still free');
    assert.deepEqual(seen('web')!.status!.podIPs, [{ ip: '2001:2::1' }]);
    const node = (await t.server.get({ resource: 'nodes', name: 'hollow-1' })) as Node;
    assert.deepEqual(node.spec?.podCIDRs, ['2001:2::100/120'], 'the API took the IPv6 podCIDR');
    hollow.stop();
  });

  it('fails a pod that does not fit on its node (OutOfcpu), and it stays failed when room frees up', async () => {
    const t = await testServer();
    const { hollow, seen } = await start(t, { nodes: 1, capacity: { cpu: '1', memory: '4Gi', pods: '10', ephemeralStorage: '10Gi' } });
    const big = (name: string) => {
      const p = pod(name, { nodeName: 'hollow-0' }) as Pod;
      p.spec!.containers[0].resources = { requests: { cpu: '600m' }, limits: {}, claims: [] };
      return p;
    };
    await t.server.create({ object: big('first') });
    await eventually('first Running', () => seen('first')?.status?.phase === 'Running');
    await t.server.create({ object: big('second') });
    await eventually('second Failed', () => seen('second')?.status?.phase === 'Failed');
    assert.equal(seen('second')!.status!.reason, 'OutOfcpu');
    assert.equal(seen('second')!.status!.message, "Pod was rejected: Node didn't have enough resource: cpu, requested: 600, used: 600, capacity: 1000");
    assert.equal(seen('second')!.status!.podIP, undefined);
    await t.server.delete({ resource: 'pods', namespace: 'default', name: 'first', gracePeriodSeconds: 0 });
    await t.server.create({ object: big('third') });
    await eventually('third Running', () => seen('third')?.status?.phase === 'Running');
    assert.equal(seen('second')!.status!.phase, 'Failed');
    assert.equal(hollow.stats().podsRunning, 1);
    hollow.stop();
  });

  it('refreshes each Node status heartbeat once per report interval, spread over it', async () => {
    const t = await testServer();
    const { clock, client, hollow } = await start(t, { nodeStatusReportIntervalMs: 30_000, renewIntervalMs: 1_000_000 });
    client.takeActions();
    const heartbeats = async () =>
      ((await t.server.list({ resource: 'nodes' })).items as Node[]).map((n) => `${n.metadata?.name} ${n.status?.conditions.find((c) => c.type === 'Ready')?.lastHeartbeatTime?.slice(11, 19)}`).sort();
    await clock.advance(10_000);
    assert.deepEqual(await heartbeats(), ['hollow-0 03:04:15', 'hollow-1 03:04:05', 'hollow-2 03:04:05']);
    await clock.advance(20_000);
    assert.deepEqual(await heartbeats(), ['hollow-0 03:04:15', 'hollow-1 03:04:25', 'hollow-2 03:04:35']);
    await clock.advance(10_000);
    assert.deepEqual(await heartbeats(), ['hollow-0 03:04:45', 'hollow-1 03:04:25', 'hollow-2 03:04:35']);
    assert.deepEqual(client.takeSummary().filter((a) => a.startsWith('update nodes')), ['update nodes hollow-0 status', 'update nodes hollow-1 status', 'update nodes hollow-2 status', 'update nodes hollow-0 status']);
    hollow.stop();
  });
});
