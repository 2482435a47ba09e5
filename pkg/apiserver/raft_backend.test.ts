import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '../../raft/core/random.js';
import { realClock } from '../../raft/node/ports.js';
import { RaftNode } from '../../raft/node/raft_node.js';
import { MemoryRaftStorage } from '../../raft/storage/memory_raft_storage.js';
import { GrpcTransport } from '../../raft/transport/grpc_transport.js';
import { Store, StoreStateMachine, type StoreResult } from '../store/mod.js';
import { isApiError } from './api_error.js';
import { ApiServer } from './api_server.js';
import { RaftBackend } from './raft_backend.js';
import { obj, pod, take } from './test_util.js';
import { freePort } from '../../raft/transport/free_port.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('RaftBackend', () => {
  it('serves the API over a one-member Raft cluster, and reports Unavailable once the member stops', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const store = new Store();
    const node = await RaftNode.start({
      id: 1,
      peers: [{ id: 1, address }],
      bootstrap: true,
      storage: new MemoryRaftStorage(),
      transport: new GrpcTransport({ id: 1, listenAddress: address, clusterId: 7, clock: realClock, logger: quiet }),
      stateMachine: new StoreStateMachine(store),
      clock: realClock,
      random: new SeededRandom(1),
      tickMs: 10,
      proposalTimeoutMs: 1000,
      readIndexTimeoutMs: 1000,
    });
    let stopped = false;
    try {
      await until(() => node.isLeader(), 'a leader');
      const api = new ApiServer({
        backend: new RaftBackend({ store, propose: (d) => node.propose(d) as Promise<StoreResult>, readIndex: () => node.readIndex() }),
      });
      await api.create({ object: obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }) });
      const w = api.watch({ resource: 'pods', resourceVersion: String(store.revision) });
      const it = w[Symbol.asyncIterator]();
      const created = await api.create({ object: pod('web') });
      assert.equal(created.metadata?.resourceVersion, String(store.revision));
      assert.deepEqual(await api.get({ resource: 'pods', namespace: 'default', name: 'web' }), created);
      const [e] = await take(it, 1);
      assert.equal(e.type, 'ADDED');
      await assert.rejects(api.create({ object: pod('web') }), (err: unknown) => isApiError(err, 'AlreadyExists'));
      api.closeWatches();
      await node.stop({ transferLeadership: false });
      stopped = true;
      await assert.rejects(api.create({ object: pod('other') }), (err: unknown) => isApiError(err, 'Unavailable') && /member 1 is stopped/.test(err.message));
      await assert.rejects(api.get({ resource: 'pods', namespace: 'default', name: 'web' }), (err: unknown) => isApiError(err, 'Unavailable'));
      assert.ok(await api.get({ resource: 'pods', namespace: 'default', name: 'web', serializable: true }), 'a serializable read needs no quorum');
    } finally {
      if (!stopped) await node.stop({ transferLeadership: false });
    }
  });
});
