import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { FakeClock } from '../client/testing/fake_clock.js';
import { Store, type RangeRequest, type TxnRequest, type TxnResponse, type WatchOptions } from '../store/mod.js';
import { isApiError } from './api_error.js';
import { ApiServer } from './api_server.js';
import { StoreBackend, type Backend, type BackendWatch } from './backend.js';
import { obj, pod } from './test_util.js';
import { AdmittedBackend, type WriteAdmissionOptions } from './write_admission.js';

/** A store backend whose writes wait until the test lets each one through (a slow Raft log). */
class HeldBackend implements Backend {
  readonly inner: StoreBackend;
  holding = false;
  readonly held: Array<{ key: string; release: () => void }> = [];

  constructor(store: Store) {
    this.inner = new StoreBackend(store);
  }

  async txn(req: TxnRequest): Promise<TxnResponse> {
    if (this.holding) {
      const op = req.success?.find((o) => o.type !== 'range');
      await new Promise<void>((release) => this.held.push({ key: op?.key ?? '', release }));
    }
    return this.inner.txn(req);
  }

  range(req: RangeRequest) {
    return this.inner.range(req);
  }

  watch(o: WatchOptions): BackendWatch {
    return this.inner.watch(o);
  }

  /** Lets the oldest held write (or the one writing `key`) through. */
  release(key?: string): void {
    const i = key === undefined ? 0 : this.held.findIndex((h) => h.key.endsWith(key));
    assert.ok(i >= 0 && i < this.held.length, `a held write of ${key ?? 'anything'}`);
    this.held.splice(i, 1)[0].release();
  }
}

async function setup(o: WriteAdmissionOptions) {
  const store = new Store();
  const held = new HeldBackend(store);
  const clock = new FakeClock(0);
  const registry = new Registry();
  const backend = new AdmittedBackend(held, { clock, registry, ...o });
  const server = new ApiServer({ backend });
  for (const name of ['default', 'kube-system']) await server.create({ object: obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }) });
  held.holding = true;
  return { store, held, clock, registry, backend, server };
}

const lease = (name: string) => obj({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-system' }, spec: { holderIdentity: 'master-1' } });

const settle = () => new Promise<void>((r) => setImmediate(r));

function tooMany(err: unknown): boolean {
  assert.ok(isApiError(err, 'TooManyRequests'), String(err));
  assert.equal(err.details.notApplied, true);
  assert.match(err.message, /^Too many requests: the server is overloaded/);
  return true;
}

describe('write admission', () => {
  it('keeps at most maxInflightWrites writes on the store, starts the waiting ones in order, and lets a leader-election Lease skip the line', async () => {
    const { held, server, backend } = await setup({ maxInflightWrites: 2 });
    const creates = ['a', 'b', 'c', 'd'].map((n) => server.create({ object: pod(n) }));
    await settle();
    assert.deepEqual(held.held.map((h) => h.key), ['/registry/pods/default/a', '/registry/pods/default/b']);
    assert.equal(backend.queuedWrites, 2);

    const renewal = server.create({ object: lease('kube-scheduler') });
    await settle();
    assert.equal(held.held.length, 3, 'the Lease write reached the store at once');
    held.release('kube-scheduler');
    assert.equal((await renewal).metadata?.name, 'kube-scheduler');

    held.release(); // a
    await creates[0];
    await settle();
    assert.deepEqual(held.held.map((h) => h.key), ['/registry/pods/default/b', '/registry/pods/default/c']);
    held.holding = false;
    held.release();
    held.release();
    await Promise.all(creates);
    assert.equal(backend.inflightWrites, 0);
    assert.equal(backend.queuedWrites, 0);
    assert.deepEqual((await server.list({ resource: 'pods', namespace: 'default' })).items.map((p) => p.metadata?.name), ['a', 'b', 'c', 'd']);
  });

  it('refuses a write with TooManyRequests when the queue is full or it waited maxQueueWaitMs, and nothing of it is stored', async () => {
    const { held, server, clock, registry, store } = await setup({ maxInflightWrites: 1, maxQueuedWrites: 2, maxQueueWaitMs: 1000 });
    const first = server.create({ object: pod('a') });
    const waiting = [server.create({ object: pod('b') }), server.create({ object: pod('c') })];
    await settle();
    await assert.rejects(server.create({ object: pod('full') }), tooMany);
    const timedOut = assert.rejects(waiting[1], tooMany);
    await clock.advance(500);
    held.release(); // a: b takes the seat after 500 ms
    await first;
    await clock.advance(500);
    await timedOut; // c: 1000 ms in the queue
    held.holding = false;
    held.release(); // b
    await waiting[0];
    const names = store.range({ key: '/registry/pods/', rangeEnd: '/registry/pods0' }).kvs.map((kv) => kv.key);
    assert.deepEqual(names, ['/registry/pods/default/a', '/registry/pods/default/b']);
    const text = await registry.metrics();
    assert.match(text, /apiserver_flowcontrol_rejected_requests_total\{priority_level="global-default",reason="queue-full"\} 1/);
    assert.match(text, /apiserver_flowcontrol_rejected_requests_total\{priority_level="global-default",reason="time-out"\} 1/);
    assert.match(text, /apiserver_flowcontrol_current_executing_requests\{priority_level="global-default"\} 0/);
    assert.match(text, /apiserver_flowcontrol_current_inqueue_requests\{priority_level="global-default"\} 0/);
  });

  it('frees the seat of a write the store refused', async () => {
    const { held, server, backend } = await setup({ maxInflightWrites: 1 });
    held.holding = false;
    await server.create({ object: pod('a') });
    await assert.rejects(server.create({ object: pod('a') }), (err: unknown) => isApiError(err, 'AlreadyExists'));
    assert.equal(backend.inflightWrites, 0);
    assert.equal((await server.create({ object: pod('b') })).metadata?.name, 'b');
  });
});
