import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { Node } from '../../api/registry.js';
import { obj } from '../../apiserver/test_util.js';
import { eventually } from '../../client/testing/settle.js';
import { type Fixture, fixture } from '../testing/fixture.js';
import { RecordingClient } from '../testing/recording_client.js';
import { NodeIpamController, type NodeIpamOptions } from './controller.js';

describe('NodeIpamController', () => {
  let f: Fixture;
  const controllers: NodeIpamController[] = [];
  afterEach(async () => {
    for (const c of controllers.splice(0)) await c.stop();
    f?.close();
  });

  async function start(nodes: Array<{ name: string; podCIDR?: string }>, o: Partial<NodeIpamOptions> = {}): Promise<NodeIpamController> {
    f = await fixture();
    for (const n of nodes) await createNode(n.name, n.podCIDR);
    return controller(o);
  }

  /** A controller over the fixture's informers, as a new leader would start one. */
  async function controller(o: Partial<NodeIpamOptions> = {}): Promise<NodeIpamController> {
    const c = new NodeIpamController({ client: f.client, factory: f.factory, recorder: f.events, clock: f.clock, logger: { warn: () => {} }, ...o });
    controllers.push(c);
    await f.synced();
    return c;
  }

  async function createNode(name: string, podCIDR?: string): Promise<void> {
    await f.server.create({ object: obj({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {} }) });
  }

  async function cidrOf(name: string): Promise<{ podCIDR?: string; podCIDRs?: string[] }> {
    const n = (await f.server.get({ resource: 'nodes', name })) as Node;
    return { podCIDR: n.spec?.podCIDR, podCIDRs: n.spec?.podCIDRs };
  }

  it('gives each node without a podCIDR its own /24 of 198.18.0.0/16, in podCIDR and podCIDRs', async () => {
    const c = await start([{ name: 'n1' }, { name: 'n2' }, { name: 'n3' }]);
    for (const n of ['n1', 'n2', 'n3']) await c.syncKey(n);
    assert.deepEqual(f.client.takeSummary(), ['patch nodes n1', 'patch nodes n2', 'patch nodes n3']);
    assert.deepEqual(await cidrOf('n1'), { podCIDR: '198.18.0.0/24', podCIDRs: ['198.18.0.0/24'] });
    assert.deepEqual(await cidrOf('n2'), { podCIDR: '198.18.1.0/24', podCIDRs: ['198.18.1.0/24'] });
    assert.deepEqual(await cidrOf('n3'), { podCIDR: '198.18.2.0/24', podCIDRs: ['198.18.2.0/24'] });
    await f.synced();
    await c.syncKey('n1');
    assert.deepEqual(f.client.takeSummary(), [], 'a node with its range is left alone');
  });

  it('never gives out a range that a node already holds, also after a new leader starts', async () => {
    const first = await start([{ name: 'old-a', podCIDR: '198.18.1.0/24' }, { name: 'old-b', podCIDR: '198.18.0.0/24' }, { name: 'new' }]);
    await first.syncKey('new');
    assert.equal((await cidrOf('new')).podCIDR, '198.18.2.0/24');
    // Leadership moves: a fresh controller knows only what the Nodes say.
    await createNode('newer');
    await f.synced();
    const second = await controller();
    await second.syncKey('newer');
    assert.equal((await cidrOf('newer')).podCIDR, '198.18.3.0/24');
    assert.deepEqual([(await cidrOf('old-a')).podCIDR, (await cidrOf('old-b')).podCIDR], ['198.18.1.0/24', '198.18.0.0/24']);
  });

  it('takes a range a node brings itself as soon as it appears, while the controller runs', async () => {
    const c = await start([{ name: 'n1' }]);
    c.start();
    await eventually('n1 gets a range', () => f.client.actions.some((a) => a.name === 'n1'));
    await createNode('brings-own', '198.18.1.0/24');
    await createNode('n2');
    await eventually('n2 gets a range', () => f.client.actions.some((a) => a.name === 'n2'));
    assert.equal((await cidrOf('n2')).podCIDR, '198.18.2.0/24');
    assert.deepEqual(f.client.takeSummary(), ['patch nodes n1', 'patch nodes n2'], 'a node with its own range is not written');
  });

  it('reports CIDRNotAvailable when every range is taken, and gives a deleted node\'s range to the node waiting', async () => {
    const c = await start([{ name: 'a' }, { name: 'b' }, { name: 'c' }], { clusterCIDR: '198.18.0.0/23' });
    c.start();
    await eventually('a and b get the two ranges, c is refused', () => f.client.actions.filter((a) => a.verb === 'patch').length === 2 && f.events.events.length === 1);
    assert.deepEqual(f.events.take(), ['Warning CIDRNotAvailable Node c status is now: CIDRNotAvailable (every /24 of 198.18.0.0/23 is taken)']);
    const holders = new Map<string, string>();
    for (const n of ['a', 'b', 'c']) {
      const cidr = (await cidrOf(n)).podCIDR;
      if (cidr) holders.set(cidr, n);
    }
    assert.deepEqual([...holders.keys()].sort(), ['198.18.0.0/24', '198.18.1.0/24']);
    assert.ok(![...holders.values()].includes('c'));
    const freed = [...holders].find(([, n]) => n === 'a')![0];
    f.client.takeActions();
    await f.server.delete({ resource: 'nodes', name: 'a' });
    await eventually('c is given a range', () => f.client.actions.some((a) => a.verb === 'patch' && a.name === 'c'));
    assert.equal((await cidrOf('c')).podCIDR, freed);
  });

  it('writes the same range again after a write lost to a concurrent update', async () => {
    f = await fixture();
    await createNode('n1');
    // Another writer updates the node just before our first write: it fails with Conflict.
    const client = new RecordingClient(f.server);
    let raced = false;
    const patch = client.patch.bind(client);
    client.patch = (async (...args: Parameters<RecordingClient['patch']>) => {
      if (!raced) {
        raced = true;
        const n = (await f.server.get({ resource: 'nodes', name: 'n1' })) as Node;
        n.metadata!.labels = { rack: 'r1' };
        await f.server.update({ object: n });
      }
      return patch(...args);
    }) as RecordingClient['patch'];
    const c = await controller({ client });
    await assert.rejects(c.syncKey('n1'), /the object has been modified/);
    assert.equal((await cidrOf('n1')).podCIDR, undefined);
    await f.synced();
    await c.syncKey('n1');
    assert.equal((await cidrOf('n1')).podCIDR, '198.18.0.0/24');
    await createNode('n2');
    await f.synced();
    await c.syncKey('n2');
    assert.equal((await cidrOf('n2')).podCIDR, '198.18.1.0/24', 'the range kept for n1 was not given to n2');
    assert.equal((await cidrOf('n1')).podCIDR, '198.18.0.0/24');
  });

  it('reports a node that shows a range another node holds, and keeps the range taken while either has it', async () => {
    const c = await start([{ name: 'a', podCIDR: '198.18.0.0/24' }, { name: 'b', podCIDR: '198.18.0.0/24' }, { name: 'x' }], { clusterCIDR: '198.18.0.0/23' });
    await c.syncKey('a');
    await c.syncKey('b');
    assert.deepEqual(f.events.take(), ['Warning CIDRAssignmentFailed Node b has podCIDR 198.18.0.0/24, which node a holds too']);
    await f.server.delete({ resource: 'nodes', name: 'a' });
    await f.synced();
    await c.syncKey('a');
    await c.syncKey('x');
    assert.equal((await cidrOf('x')).podCIDR, '198.18.1.0/24');
  });

  it('exports how much of the cluster CIDR is taken', async () => {
    const registry = new Registry();
    const c = await start([{ name: 'n1' }], { clusterCIDR: '198.18.0.0/22', registry });
    await c.syncKey('n1');
    assert.match(await registry.metrics(), /node_ipam_controller_cidrset_usage_cidrs\{clusterCIDR="198.18.0.0\/22"\} 0.25/);
  });

  it('refuses a bad cluster CIDR or mask naming the setting', async () => {
    f = await fixture();
    const base = { client: f.client, factory: f.factory, recorder: f.events };
    assert.throws(() => new NodeIpamController({ ...base, clusterCIDR: '198.18.0.0/33' }), /^TypeError: clusterCIDR: expected an IPv4 CIDR/);
    assert.throws(() => new NodeIpamController({ ...base, nodeCIDRMaskSize: 12 }), /^RangeError: nodeCIDRMaskSize: expected an integer from 16/);
  });
});
