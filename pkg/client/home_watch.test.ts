// A client inside a master (its components) reads and watches away from that master only while it
// leads Raft: once another member leads, a watch that went elsewhere comes back to the master's own
// watch cache, with no gap and no duplicate.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConfigMap } from '../api/registry.js';
import { obj } from '../apiserver/test_util.js';
import type { MasterMember } from '../master/member.js';
import { TestMasters, until } from '../etcdserver/test_util.js';
import { NavarchClient, type ClientWatchEvent } from './mod.js';

const cm = (name: string) => obj<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'apps' }, data: {} });

/** The next event of `it`, or an error naming what was awaited after timeoutMs. */
async function next(it: AsyncIterator<ClientWatchEvent<ConfigMap>>, what: string, timeoutMs = 10_000): Promise<ClientWatchEvent<ConfigMap>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no event for ${what} within ${timeoutMs} ms`)), timeoutMs)));
  try {
    const r = await Promise.race([it.next(), late]);
    if (r.done) throw new Error(`the watch ended before ${what}`);
    return r.value;
  } finally {
    clearTimeout(timer);
  }
}

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
      const a = await next(it, 'a');
      assert.equal(a.object.metadata?.name, 'a');
      // Decoded from the wire for this watch: not a watch cache's frozen object.
      assert.equal(Object.isFrozen(a.object), false, 'served by another member');

      const to = [...masters.members.values()].find((m) => m !== home)!;
      await home.node.transferLeadership(to.id);
      await until('another member leads', () => to.node.isLeader());
      // This write's answer names the new leader; the event it makes still comes over the wire.
      await client.create(cm('b'));
      assert.equal((await next(it, 'b')).object.metadata?.name, 'b');
      await client.create(cm('c'));
      await client.delete('configmaps', 'apps', 'a');
      const c = await next(it, 'c');
      const deleted = await next(it, 'the delete of a');
      assert.deepEqual([c.type, c.object.metadata?.name, deleted.type, deleted.object.metadata?.name], ['ADDED', 'c', 'DELETED', 'a']);
      // In process now: the home master's watch cache's own objects.
      assert.ok(Object.isFrozen(c.object) && Object.isFrozen(deleted.object), 'served by the master the client runs in');
    } finally {
      w.close();
    }
  });
});
