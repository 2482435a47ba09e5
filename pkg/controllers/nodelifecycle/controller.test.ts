import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { Event, KubeObject, Lease, Node, Pod } from '../../api/registry.js';
import type { ApiServer } from '../../apiserver/api_server.js';
import { obj, testServer } from '../../apiserver/test_util.js';
import { ApiEventRecorder } from '../../client/events/api_recorder.js';
import { InformerFactory } from '../../client/informer/informer_factory.js';
import type { ListWatcher, WatchStream } from '../../client/informer/list_watcher.js';
import { FakeClock } from '../../client/testing/fake_clock.js';
import type { ClientWatchEvent } from '../../client/watch.js';
import { formatTimeMs } from '../controller_utils.js';
import { RecordingClient } from '../testing/recording_client.js';
import { MAX_LEASE_GRACE_MS, NodeLifecycleController, type NodeLifecycleOptions } from './controller.js';

/** Informers straight over the in-process API server. */
function serverListWatcher(server: ApiServer, resource: string): ListWatcher {
  return {
    async list() {
      const r = await server.list({ resource });
      return { items: r.items as KubeObject[], resourceVersion: r.resourceVersion };
    },
    watch(w): WatchStream<KubeObject> {
      const inner = server.watch({ resource, resourceVersion: w.resourceVersion, allowBookmarks: w.allowBookmarks });
      return {
        close: () => inner.close(),
        async *[Symbol.asyncIterator]() {
          for await (const ev of inner) yield ev as ClientWatchEvent<KubeObject>;
        },
      };
    },
  };
}

interface Cluster {
  server: ApiServer;
  client: RecordingClient;
  clock: FakeClock;
  registry: Registry;
  controller: NodeLifecycleController;
  /** Nodes whose agent is alive: their Lease is renewed as time passes (every second unless the node says otherwise). */
  alive: Set<string>;
  /** Moves time forward in 1 s steps, renewing the live nodes' Leases at each. */
  advance(ms: number): Promise<void>;
  node(name: string): Promise<Node>;
  /** Pods not being deleted (a deleted pod on an unreachable node stays Terminating, as in Kubernetes). */
  podNames(): Promise<string[]>;
  /** The agent posts its Ready condition (with a fresh heartbeat), as a kubelet does. */
  postReady(name: string, status: 'True' | 'False'): Promise<void>;
  close(): Promise<void>;
}

let open: Cluster | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

interface TestNode {
  name: string;
  zone?: string;
  neverPosted?: boolean;
  /** The Lease's leaseDurationSeconds. @default 10 (an agent's) */
  leaseDurationSeconds?: number;
  /** @default 1 */
  renewEverySeconds?: number;
}

async function cluster(nodes: TestNode[], pods: Array<{ name: string; node: string; tolerations?: unknown[] }>, o: Partial<NodeLifecycleOptions> = {}): Promise<Cluster> {
  // The API server's admission gives pods the same default tolerations the controller is told of.
  const t = await testServer({ namespaces: ['default', 'kube-node-lease'], defaultTolerationSeconds: o.defaultTolerationSeconds });
  const clock = new FakeClock(t.clock.nowMs);
  const server = t.server;
  let renewals = 0;
  for (const n of nodes) {
    const now = formatTimeMs(clock.nowMs());
    await server.create({
      object: obj({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: n.name, labels: n.zone ? { 'topology.kubernetes.io/zone': n.zone } : {} },
        status: n.neverPosted ? {} : { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }] },
      }),
    });
    // renewTime deliberately far from the controller's clock: only its change may count.
    await server.create({ object: obj({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: n.name, namespace: 'kube-node-lease' }, spec: { holderIdentity: n.name, leaseDurationSeconds: n.leaseDurationSeconds ?? 10, renewTime: new Date(Date.UTC(2001, 0, 1) + ++renewals).toISOString() } }) });
  }
  for (const p of pods) {
    // Created Pending (as Kubernetes creates every pod); then Running and Ready, as its kubelet reports.
    const created = (await server.create({ object: obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: 'default' }, spec: { nodeName: p.node, containers: [{ name: 'app', image: 'nginx:1.25' }], tolerations: p.tolerations ?? [] } }) })) as Pod;
    await server.update({ object: { ...created, status: { ...created.status!, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: formatTimeMs(clock.nowMs()) }] } } as Pod, subresource: 'status' });
  }
  const client = new RecordingClient(server);
  const registry = new Registry();
  const factory = new InformerFactory((r) => serverListWatcher(server, r), { clock, logger: { warn: () => {} } });
  const recorder = new ApiEventRecorder({ client, component: 'node-lifecycle-controller', clock });
  const controller = new NodeLifecycleController({ client, factory, recorder, clock, registry, logger: { warn: (m) => assert.fail(m) }, ...o });
  factory.start();
  controller.start();
  await factory.waitForSync();
  await clock.advance(0);
  const alive = new Set(nodes.map((n) => n.name));
  const renewEverySeconds = new Map(nodes.map((n) => [n.name, n.renewEverySeconds ?? 1]));
  let elapsedS = 0;
  const c: Cluster = {
    server,
    client,
    clock,
    registry,
    controller,
    alive,
    async advance(ms) {
      for (let left = ms; left > 0; left -= 1000) {
        elapsedS++;
        for (const name of alive) {
          if (elapsedS % renewEverySeconds.get(name)! !== 0) continue;
          const lease = (await server.get({ resource: 'leases', namespace: 'kube-node-lease', name })) as Lease;
          lease.spec!.renewTime = new Date(Date.UTC(2001, 0, 1) + ++renewals).toISOString();
          await server.update({ object: lease });
        }
        const step = Math.min(1000, left);
        t.clock.nowMs += step;
        await clock.advance(step);
      }
      await recorder.flush();
    },
    async node(name) {
      return (await server.get({ resource: 'nodes', name })) as Node;
    },
    async podNames() {
      const items = (await server.list({ resource: 'pods', namespace: 'default' })).items as Pod[];
      return items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!).sort();
    },
    async postReady(name, status) {
      const node = await c.node(name);
      const now = formatTimeMs(clock.nowMs());
      node.status!.conditions = [{ type: 'Ready', status, reason: status === 'True' ? 'KubeletReady' : 'KubeletNotReady', message: 'posted by the agent', lastHeartbeatTime: now, lastTransitionTime: now } as never];
      await server.update({ object: node, subresource: 'status' });
      await clock.advance(0);
    },
    async close() {
      await controller.stop();
      factory.stop();
      server.closeWatches();
    },
  };
  open = c;
  return c;
}

const ready = (n: Node) => n.status?.conditions?.find((c) => c.type === 'Ready');
const taints = (n: Node) => (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();
const UNREACHABLE = ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule'];
const NOT_READY = ['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/not-ready:NoSchedule'];

describe('NodeLifecycleController', () => {
  it('lease stops: Ready=Unknown and unreachable taints after the grace period, pods evicted after their tolerationSeconds, a pod tolerating forever stays; lease resumes: taints go', async () => {
    const c = await cluster([{ name: 'node-1' }, { name: 'node-2' }], [
      { name: 'plain', node: 'node-1' },
      { name: 'short', node: 'node-1', tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }] },
      { name: 'forever', node: 'node-1', tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }] },
      { name: 'elsewhere', node: 'node-2' },
    ]);
    c.alive.delete('node-1');

    await c.advance(9000);
    assert.equal(ready(await c.node('node-1'))?.status, 'True', 'within the grace period nothing changes');
    assert.deepEqual(taints(await c.node('node-1')), []);

    await c.advance(1000);
    const down = await c.node('node-1');
    assert.deepEqual({ status: ready(down)?.status, reason: ready(down)?.reason, message: ready(down)?.message }, { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    assert.deepEqual(taints(down), UNREACHABLE);
    assert.equal(ready(await c.node('node-2'))?.status, 'True', 'the node whose lease moves stays Ready, whatever its renewTime says');
    const podReady = async (name: string) => ((await c.server.get({ resource: 'pods', namespace: 'default', name })) as Pod).status?.conditions?.find((x) => x.type === 'Ready')?.status;
    assert.equal(await podReady('forever'), 'False', 'pods on the unreachable node are no longer Ready');
    assert.equal(await podReady('elsewhere'), 'True');
    const podEvents = (await c.server.list({ resource: 'events', namespace: 'default', fieldSelector: 'involvedObject.name=forever,reason=NodeNotReady' })).items as Event[];
    assert.deepEqual(podEvents.map((e) => `${e.type} ${e.message}`), ['Warning Node is not ready']);

    await c.advance(4000);
    assert.deepEqual(await c.podNames(), ['elsewhere', 'forever', 'plain', 'short']);
    await c.advance(1000);
    assert.deepEqual(await c.podNames(), ['elsewhere', 'forever', 'plain'], 'tolerationSeconds 5 runs out 5 s after the taint');
    await c.advance(14_000);
    assert.deepEqual(await c.podNames(), ['elsewhere', 'forever', 'plain'], '19 s after the taint');
    await c.advance(1000);
    assert.deepEqual(await c.podNames(), ['elsewhere', 'forever'], 'no toleration: the default 20 s');

    const events = (await c.server.list({ resource: 'events', namespace: 'default', fieldSelector: 'involvedObject.name=plain,involvedObject.namespace=default,reason=TaintManagerEviction' })).items as Event[];
    assert.deepEqual(events.map((e) => `${e.reason} ${e.message}`), ['TaintManagerEviction Marking for deletion Pod default/plain']);
    const nodeEvents = (await c.server.list({ resource: 'events', namespace: 'default', fieldSelector: 'involvedObject.kind=Node,involvedObject.name=node-1' })).items as Event[];
    assert.deepEqual(nodeEvents.map((e) => `${e.reason} ${e.message}`), ['NodeNotReady Node node-1 status is now: NodeNotReady']);

    // The agent comes back: its lease moves again (it does not re-post its status).
    c.alive.add('node-1');
    await c.advance(1000);
    const back = await c.node('node-1');
    assert.deepEqual({ status: ready(back)?.status, reason: ready(back)?.reason }, { status: 'True', reason: 'KubeletReady' }, 'Ready as the node last reported it');
    assert.deepEqual(taints(back), []);
    await c.advance(60_000);
    assert.deepEqual(await c.podNames(), ['elsewhere', 'forever']);
    assert.equal(ready(await c.node('node-1'))?.status, 'True', 'a renewed lease keeps it Ready');
    const nodeEventsAfter = (await c.server.list({ resource: 'events', namespace: 'default', fieldSelector: 'involvedObject.kind=Node,involvedObject.name=node-1' })).items as Event[];
    assert.deepEqual(nodeEventsAfter.map((e) => e.reason).sort(), ['NodeNotReady', 'NodeReady']);
    assert.match(await c.registry.metrics(), /navarch_controller_sync_duration_seconds_count\{controller="node-lifecycle",result="success"\} [1-9]/);
    assert.match(await c.registry.metrics(), /taint_eviction_controller_pod_deletions_total 2/);
  });

  it('a node reporting Ready=False gets the not-ready taints and its pods are evicted after 20 s', async () => {
    const c = await cluster([{ name: 'node-1' }, { name: 'node-2' }], [{ name: 'web', node: 'node-1' }]);
    await c.postReady('node-1', 'False');
    await c.advance(1000);
    const n = await c.node('node-1');
    assert.equal(ready(n)?.status, 'False', 'the controller leaves a reported status alone');
    assert.deepEqual(taints(n), NOT_READY);
    await c.advance(1000);
    const nodeEvents = (await c.server.list({ resource: 'events', namespace: 'default', fieldSelector: 'involvedObject.kind=Node,involvedObject.name=node-1' })).items as Event[];
    assert.deepEqual(nodeEvents.map((e) => `${e.reason} ${e.message}`), ['NodeNotReady Node node-1 status is now: NodeNotReady'], 'reported by the agent: still an event, once');
    await c.advance(17_000);
    assert.deepEqual(await c.podNames(), ['web']);
    await c.advance(2000);
    assert.deepEqual(await c.podNames(), []);
    // Marked for deletion (its 30 s grace period), it says why.
    const evicted = (await c.server.get({ resource: 'pods', namespace: 'default', name: 'web' })) as Pod;
    const disruption = evicted.status?.conditions.find((x) => x.type === 'DisruptionTarget');
    assert.deepEqual([disruption?.status, disruption?.reason, disruption?.message], ['True', 'DeletionByTaintManager', 'Taint manager: deleting due to NoExecute taint']);

    // Ready again: the not-ready taints go.
    await c.postReady('node-1', 'True');
    await c.advance(1000);
    assert.deepEqual(taints(await c.node('node-1')), []);
  });

  it('a node that reports Ready=False and then stops renewing evicts its pods 20 s after the first taint, not after the swapped one', async () => {
    const c = await cluster([{ name: 'node-1' }, { name: 'node-2' }], [{ name: 'web', node: 'node-1' }]);
    await c.postReady('node-1', 'False');
    await c.advance(1000);
    assert.deepEqual(taints(await c.node('node-1')), NOT_READY);
    await c.advance(4000);
    c.alive.delete('node-1');
    await c.advance(11_000);
    assert.equal(ready(await c.node('node-1'))?.status, 'Unknown');
    assert.deepEqual(taints(await c.node('node-1')), UNREACHABLE, 'not-ready swapped for unreachable');
    await c.advance(3000);
    assert.deepEqual(await c.podNames(), ['web']);
    await c.advance(2000);
    assert.deepEqual(await c.podNames(), [], '20 s after the not-ready taint, 9 s after the unreachable one');
  });

  it('taints a cordoned node and one under memory pressure NoSchedule, and untaints them after', async () => {
    const c = await cluster([{ name: 'node-1' }, { name: 'node-2' }], []);
    await c.server.patch({ resource: 'nodes', name: 'node-1', type: 'merge', patch: { spec: { unschedulable: true } } });
    await c.advance(1000);
    assert.deepEqual(taints(await c.node('node-1')), ['node.kubernetes.io/unschedulable:NoSchedule']);
    const n2 = await c.node('node-2');
    const pressure = [...n2.status!.conditions, { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available', lastHeartbeatTime: formatTimeMs(c.clock.nowMs()), lastTransitionTime: formatTimeMs(c.clock.nowMs()) }];
    await c.server.patch({ resource: 'nodes', name: 'node-2', type: 'merge', subresource: 'status', patch: { status: { conditions: pressure } } });
    await c.advance(1000);
    assert.deepEqual(taints(await c.node('node-2')), ['node.kubernetes.io/memory-pressure:NoSchedule']);
    await c.server.patch({ resource: 'nodes', name: 'node-1', type: 'merge', patch: { spec: { unschedulable: false } } });
    await c.advance(1000);
    assert.deepEqual(taints(await c.node('node-1')), []);
  });

  it('honours a configured grace period and default toleration', async () => {
    const c = await cluster([{ name: 'node-1', leaseDurationSeconds: 3 }, { name: 'node-2', leaseDurationSeconds: 3 }], [{ name: 'web', node: 'node-1' }], { nodeMonitorGracePeriodMs: 3000, defaultTolerationSeconds: 2 });
    c.alive.delete('node-1');
    await c.advance(2000);
    assert.equal(ready(await c.node('node-1'))?.status, 'True');
    await c.advance(1000);
    assert.equal(ready(await c.node('node-1'))?.status, 'Unknown');
    await c.advance(1000);
    assert.deepEqual(await c.podNames(), ['web']);
    await c.advance(1000);
    assert.deepEqual(await c.podNames(), []);
  });

  it("gives a node whose Lease is longer than the grace period its Lease's duration: a kubelet-like node renewing every 10 s with a 40 s lease stays Ready under a 10 s grace", async () => {
    const c = await cluster([{ name: 'hollow', leaseDurationSeconds: 40, renewEverySeconds: 10 }, { name: 'agent' }], [{ name: 'web', node: 'hollow' }]);
    await c.advance(60_000);
    assert.equal(ready(await c.node('hollow'))?.status, 'True', 'renewals 10 s apart are within its 40 s lease');
    assert.equal(c.client.actions.filter((a) => a.verb === 'patch').length, 0, 'no status or taint writes while it renews');

    // (The first test shows a 10 s lease caught at the 10 s grace.)
    c.alive.delete('hollow');
    await c.advance(20_000);
    assert.equal(ready(await c.node('hollow'))?.status, 'True', 'its last renewal promised 40 s');
    await c.advance(20_000);
    assert.equal(ready(await c.node('hollow'))?.status, 'Unknown', 'caught once its 40 s lease has run out');
    assert.deepEqual(taints(await c.node('hollow')), UNREACHABLE);
  });

  it('a healthy node is looked at once per grace period, not on every renewal of its Lease', async () => {
    const c = await cluster([{ name: 'node-1' }], []);
    const syncs = async () => [...(await c.registry.metrics()).matchAll(/^navarch_controller_sync_duration_seconds_count\{controller="node-lifecycle",result="\w+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    const before = await syncs();
    await c.advance(60_000);
    assert.equal(ready(await c.node('node-1'))?.status, 'True');
    // 60 renewals, one a second; the 10 s grace period ends 6 times.
    const n = (await syncs()) - before;
    assert.ok(n >= 5 && n <= 8, `${n} syncs in 60 s`);
  });

  it('adds NoExecute taints at a bounded rate per zone (0.1 nodes/s)', async () => {
    const nodes = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => ({ name: `node-${n}` }));
    const c = await cluster(nodes, []);
    c.alive.delete('node-a');
    c.alive.delete('node-b');
    await c.advance(10_000);
    const first = [taints(await c.node('node-a')), taints(await c.node('node-b'))].sort((x, y) => x.length - y.length);
    assert.deepEqual(first, [['node.kubernetes.io/unreachable:NoSchedule'], UNREACHABLE], 'one node tainted NoExecute now, the other waits');
    await c.advance(10_000);
    assert.deepEqual(taints(await c.node('node-a')), UNREACHABLE);
    assert.deepEqual(taints(await c.node('node-b')), UNREACHABLE);
  });

  it('stops adding NoExecute taints in a small zone that is mostly down, and resumes when it recovers', async () => {
    const names = ['a', 'b', 'c', 'd', 'e'].map((n) => `node-${n}`);
    const c = await cluster(names.map((name) => ({ name, zone: 'z1' })), names.map((n) => ({ name: `pod-${n}`, node: n })));
    for (const n of ['node-a', 'node-b', 'node-c']) c.alive.delete(n);
    await c.advance(10_000);
    for (const n of ['node-a', 'node-b', 'node-c']) {
      assert.equal(ready(await c.node(n))?.status, 'Unknown');
      assert.deepEqual(taints(await c.node(n)), ['node.kubernetes.io/unreachable:NoSchedule'], `${n}: 3 of 5 down is a partial disruption; a zone of 5 evicts nothing`);
    }
    await c.advance(60_000);
    assert.deepEqual(await c.podNames(), names.map((n) => `pod-${n}`));

    // Two come back: 1 of 5 down is normal again, and the last one is tainted and evicted.
    for (const n of ['node-a', 'node-b']) {
      c.alive.add(n);
      await c.postReady(n, 'True');
    }
    await c.advance(5000);
    assert.deepEqual(taints(await c.node('node-c')), UNREACHABLE);
    await c.advance(20_000);
    assert.deepEqual(await c.podNames(), ['pod-node-a', 'pod-node-b', 'pod-node-d', 'pod-node-e']);
  });

  it('a node that never posted its status becomes Unknown (NodeStatusNeverUpdated) once the startup grace period (60 s) has passed', async () => {
    const c = await cluster([{ name: 'node-1', neverPosted: true }, { name: 'node-2' }], []);
    c.alive.delete('node-1');
    await c.advance(50_000);
    assert.equal(ready(await c.node('node-1')), undefined, 'an agent still starting gets the startup grace period');
    await c.advance(10_000);
    const n = await c.node('node-1');
    assert.deepEqual({ status: ready(n)?.status, reason: ready(n)?.reason, message: ready(n)?.message }, { status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.' });
    assert.deepEqual(
      n.status?.conditions.map((x) => `${x.type}=${x.status}`),
      ['Ready=Unknown', 'MemoryPressure=Unknown', 'DiskPressure=Unknown', 'PIDPressure=Unknown'],
      'every condition a kubelet posts, as Kubernetes',
    );
    assert.deepEqual(taints(n), UNREACHABLE);
    c.client.takeActions();
    await c.advance(30_000);
    assert.deepEqual(c.client.takeSummary().filter((a) => a.startsWith('patch nodes')), [], 'nothing more to write');
  });

  it('evicts nothing when every node is down at once (more likely the masters cannot see them)', async () => {
    const c = await cluster([{ name: 'node-1' }], [{ name: 'web', node: 'node-1' }]);
    c.alive.clear();
    await c.advance(40_000);
    const n = await c.node('node-1');
    assert.equal(ready(n)?.status, 'Unknown');
    assert.deepEqual(taints(n), ['node.kubernetes.io/unreachable:NoSchedule'], 'every node down: no NoExecute taint');
    assert.deepEqual(await c.podNames(), ['web']);
  });

  it('evicts nothing when every node is down at once, though some have longer leases than the grace period', async () => {
    const c = await cluster([{ name: 'agent' }, { name: 'hollow', leaseDurationSeconds: 40, renewEverySeconds: 10 }], [
      { name: 'web', node: 'agent' },
      { name: 'sim', node: 'hollow' },
    ]);
    await c.advance(10_000);
    c.alive.clear();
    await c.advance(60_000);
    for (const name of ['agent', 'hollow']) {
      const n = await c.node(name);
      assert.equal(ready(n)?.status, 'Unknown', name);
      assert.deepEqual(taints(n), ['node.kubernetes.io/unreachable:NoSchedule'], `${name}: every node down, no NoExecute taint`);
    }
    assert.deepEqual(await c.podNames(), ['sim', 'web']);
  });

  it('when most nodes come back after every node was down, the ones still down get NoExecute and lose their pods', async () => {
    const names = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5'];
    const c = await cluster(names.map((name) => ({ name })), [{ name: 'web', node: 'node-5' }]);
    c.alive.clear();
    await c.advance(30_000);
    assert.deepEqual(taints(await c.node('node-5')), ['node.kubernetes.io/unreachable:NoSchedule'], 'every node down: no NoExecute taint');
    // Four agents are back (their leases move); node-5 stays down, so the zone is Normal again.
    for (const name of names.slice(0, 4)) c.alive.add(name);
    await c.advance(6000);
    for (const name of names.slice(0, 4)) assert.equal(ready(await c.node(name))?.status, 'True', name);
    assert.deepEqual(taints(await c.node('node-5')), UNREACHABLE, 'node-5 is tainted NoExecute once the others are back');
    await c.advance(20_000);
    assert.deepEqual(await c.podNames(), [], 'its pod is evicted after the default 20 s');
  });

  it('stretches the grace period by a Lease at most MAX_LEASE_GRACE_MS (5 min)', async () => {
    const c = await cluster([{ name: 'node-1', leaseDurationSeconds: 1_000_000 }, { name: 'node-2' }], []);
    c.alive.delete('node-1');
    await c.advance(MAX_LEASE_GRACE_MS - 1000);
    assert.equal(ready(await c.node('node-1'))?.status, 'True');
    await c.advance(1000);
    assert.equal(ready(await c.node('node-1'))?.status, 'Unknown');
  });

  it('evicts at once a pod that does not tolerate a NoExecute taint someone else put on the node', async () => {
    const c = await cluster([{ name: 'node-1' }, { name: 'node-2' }], [
      { name: 'web', node: 'node-1' },
      { name: 'ok', node: 'node-1', tolerations: [{ key: 'maintenance', operator: 'Equal', value: 'yes', effect: 'NoExecute', tolerationSeconds: 3 }] },
    ]);
    await c.server.patch({ resource: 'nodes', name: 'node-1', type: 'merge', patch: { spec: { taints: [{ key: 'maintenance', value: 'yes', effect: 'NoExecute', timeAdded: formatTimeMs(c.clock.nowMs()) }] } } });
    await c.advance(1000);
    assert.deepEqual(await c.podNames(), ['ok']);
    await c.advance(2000);
    assert.deepEqual(await c.podNames(), []);
    assert.deepEqual(taints(await c.node('node-1')), ['maintenance:NoExecute'], 'taints it does not manage are left alone');
  });
});
