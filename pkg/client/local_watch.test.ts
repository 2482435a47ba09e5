// A client inside a master reads that master's watches in process (LocalWatchSource), and moves on
// to another master over gRPC when the local watch ends, without a gap or a duplicate.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { decodeStored } from '../api/convert/binary.js';
import type { Pod } from '../api/registry.js';
import { addObjectsService } from '../apiserver/grpc_adapter.js';
import { pod, testServer, type TestServer } from '../apiserver/test_util.js';
import { NavarchClient } from './client.js';
import type { ClientWatchEvent } from './watch.js';

async function serve(t: TestServer): Promise<{ server: Server; endpoint: string }> {
  const server = new Server();
  addObjectsService(server, t.server);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { server, endpoint: `127.0.0.1:${port}` };
}

/** Takes events from an iterator until `n` arrived or the deadline passed. */
async function take(it: AsyncIterator<ClientWatchEvent<Pod>>, n: number, timeoutMs = 10_000): Promise<ClientWatchEvent<Pod>[]> {
  const out: ClientWatchEvent<Pod>[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), Math.max(1, deadline - Date.now()))));
    // Cleared when the event wins, or each pending timer would hold the process up to timeoutMs.
    const next = await Promise.race([it.next(), late]).finally(() => clearTimeout(timer));
    if (next === 'late') throw new Error(`only ${out.length} of ${n} events within ${timeoutMs} ms: ${out.map((e) => `${e.type} ${e.object.metadata?.name}`).join(', ')}`);
    if (next.done) throw new Error(`the watch ended after ${out.length} of ${n} events`);
    out.push(next.value);
  }
  return out;
}

describe('watches of the master a client runs inside', () => {
  let t: TestServer;
  let local: { server: Server; endpoint: string };
  let other: { server: Server; endpoint: string };
  let client: NavarchClient;

  before(async () => {
    t = await testServer();
    // Two gRPC servers on one API server: "local" is this process's master, "other" another member.
    local = await serve(t);
    other = await serve(t);
    client = new NavarchClient({ endpoints: [local.endpoint, other.endpoint], localWatch: { endpoint: local.endpoint, watch: (req) => t.server.watch(req) } });
  });

  after(() => {
    client.close();
    t.server.closeWatches();
    local.server.forceShutdown();
    other.server.forceShutdown();
  });

  it('delivers the watch cache’s own objects, frozen, to every watch', async () => {
    const created = await client.create(pod('a'));
    const rv = created.metadata!.resourceVersion!;
    const w1 = client.watch<Pod>('pods', { resourceVersion: rv, forCache: true });
    const w2 = client.watch<Pod>('pods', { resourceVersion: rv, forCache: true });
    // Both watches are open (reading the cache) before the change.
    const taken = Promise.all([take(w1[Symbol.asyncIterator](), 1), take(w2[Symbol.asyncIterator](), 1)]);
    await client.update({ ...created, metadata: { ...created.metadata!, labels: { v: '2' } } });
    const [[e1], [e2]] = await taken;
    assert.equal(e1.type, 'MODIFIED');
    assert.equal(e1.object.metadata?.labels?.v, '2');
    // Over gRPC each watch decodes its own copy; in process both hold the cache's one object.
    assert.equal(e1.object, e2.object);
    assert.ok(Object.isFrozen(e1.object) && Object.isFrozen(e1.object.metadata) && Object.isFrozen(e1.object.metadata!.labels));
    assert.throws(() => {
      (e1.object.metadata!.labels as Record<string, string>).v = '3';
    }, TypeError);
    w1.close();
    w2.close();
  });

  it('goes on from another master over gRPC when its master ends the watch, with no gap and no duplicate', async () => {
    const start = await client.create(pod('b'));
    const w = client.watch<Pod>('pods', { resourceVersion: start.metadata!.resourceVersion!, forCache: true });
    const it = w[Symbol.asyncIterator]();
    await client.create(pod('c'));
    const [c] = await take(it, 1);
    assert.deepEqual([c.type, c.object.metadata?.name, Object.isFrozen(c.object)], ['ADDED', 'c', true]);
    // The master stops serving watches (as a stopping member does); writes go on meanwhile.
    t.server.closeWatches();
    await client.create(pod('d'));
    await client.delete('pods', 'default', 'b');
    const rest = await take(it, 2);
    assert.deepEqual(
      rest.map((e) => `${e.type} ${e.object.metadata?.name}`),
      ['ADDED d', 'DELETED b'],
    );
    // These came over the wire: decoded for this watch, so not the cache's frozen objects.
    assert.equal(Object.isFrozen(rest[0].object), false);
    w.close();
  });

  it('gives the objects a decode option makes, in process, over gRPC and in the list of a watch from ""', async () => {
    // A reader that wants a few fields decodes only those; here the decoder marks what it made.
    const decode = (bytes: Uint8Array) => {
      const p = decodeStored(bytes) as Pod;
      return { ...p, metadata: { ...p.metadata!, labels: { decodedBy: 'reader' } } };
    };
    const start = await client.create(pod('e'));
    const remote = new NavarchClient({ endpoints: [other.endpoint] });
    try {
      const watches = [client, remote].map((c) => c.watch<Pod>('pods', { resourceVersion: start.metadata!.resourceVersion!, decode }));
      const taken = Promise.all(watches.map((w) => take(w[Symbol.asyncIterator](), 1)));
      await client.create(pod('f'));
      for (const [e] of await taken) assert.deepEqual([e.type, e.object.metadata?.name, e.object.metadata?.labels], ['ADDED', 'f', { decodedBy: 'reader' }]);
      for (const w of watches) w.close();
      const fromList = remote.watch<Pod>('pods', { resourceVersion: '', decode });
      const listed = await take(fromList[Symbol.asyncIterator](), 2);
      assert.ok(listed.every((e) => e.object.metadata?.labels?.decodedBy === 'reader'));
      fromList.close();
      const items = (await remote.list<Pod>('pods', { decode })).items;
      assert.ok(items.length >= 2 && items.every((p) => p.metadata?.labels?.decodedBy === 'reader'));
    } finally {
      remote.close();
    }
  });

  it('refuses a local master that is not one of the endpoints', () => {
    assert.throws(
      () => new NavarchClient({ endpoints: ['127.0.0.1:1'], localWatch: { endpoint: '127.0.0.1:2', watch: () => ({ async *batches() {} }) } }),
      /The local master 127\.0\.0\.1:2 is not one of the endpoints \(127\.0\.0\.1:1\)/,
    );
  });
});
