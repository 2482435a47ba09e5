// A client inside a master (its components) reads and watches away from that master only while it
// leads Raft: once another member leads, a watch that went elsewhere comes back to the master's own
// watch cache, with no gap and no duplicate.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConfigMap } from '../api/registry.js';
import { obj, take } from '../apiserver/test_util.js';
import type { MasterMember } from '../master/member.js';
import { TestMasters, until } from '../etcdserver/test_util.js';
import { NavarchClient } from './mod.js';

const cm = (name: string) => obj<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'apps' }, data: {} });

describe('a master’s own client', () => {
  let masters: TestMasters;
  let home: MasterMember;
  let client: NavarchClient;

  before(async () => {
    masters = await TestMasters.start(3);
    home = await masters.leader();
    const others = [...masters.members.values()].filter((m) => m !== home).map((m) => m.clientAddress);
    client = new NavarchClient({ endpoints: [home.clientAddress, ...others], localWatch: { endpoint: home.clientAddress, watch: (req) => home.api.watch(req) } });
    await client.create(obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } }));
  });

  after(async () => {
    client.close();
    await masters.close();
  });

  it('watches elsewhere while its master leads Raft, and comes back once another member leads', async () => {
    // The answers so far named this client's master as leader: reads and watches moved off it.
    const first = await client.create(cm('first'));
    const w = client.watch<ConfigMap>('configmaps', { namespace: 'apps', resourceVersion: first.metadata!.resourceVersion!, forCache: true });
    const it = w[Symbol.asyncIterator]();
    try {
      await client.create(cm('a'));
      const [a] = await take(it, 1, 10_000);
      assert.equal(a?.object.metadata?.name, 'a');
      // Decoded from the wire for this watch: not a watch cache's frozen object.
      assert.equal(Object.isFrozen(a.object), false, 'served by another member');

      const to = [...masters.members.values()].find((m) => m !== home)!;
      await home.node.transferLeadership(to.id);
      await until('another member leads', () => to.node.isLeader());
      // This write's answer names the new leader; the event it makes still comes over the wire.
      await client.create(cm('b'));
      const [b] = await take(it, 1, 10_000);
      assert.equal(b?.object.metadata?.name, 'b');
      await client.create(cm('c'));
      await client.delete('configmaps', 'apps', 'a');
      const rest = await take(it, 2, 10_000);
      assert.deepEqual(
        rest.map((e) => `${e.type} ${e.object.metadata?.name}`),
        ['ADDED c', 'DELETED a'],
      );
      // In process now: the home master's watch cache's own objects.
      assert.ok(rest.every((e) => Object.isFrozen(e.object)), 'served by the master the client runs in');
    } finally {
      w.close();
    }
  });
});
