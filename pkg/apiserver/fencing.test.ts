import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Lease, Pod } from '../api/registry.js';
import { Store, type TxnRequest } from '../store/mod.js';
import { isApiError } from './api_error.js';
import { StoreBackend, type Backend } from './backend.js';
import { fencingKey, type FencingToken } from './fencing.js';
import { obj, pod, testServer } from './test_util.js';

const rejects = (p: Promise<unknown>, code: string, message?: string | RegExp) =>
  assert.rejects(p, (err: unknown) => {
    assert.ok(isApiError(err), `expected an ApiError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    return true;
  });

const lease = (holder: string, transitions: number) =>
  obj<Lease>({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'kube-scheduler', namespace: 'kube-system' },
    spec: { holderIdentity: holder, leaseDurationSeconds: 3, leaseTransitions: transitions },
  });

const withPhase = (p: Pod, phase: string): Pod => ({ ...p, status: obj<Pod>({ apiVersion: 'v1', kind: 'Pod', status: { phase } }).status });

const token = (holder: string, transitions: number): FencingToken => ({ leaseNamespace: 'kube-system', leaseName: 'kube-scheduler', holderIdentity: holder, leaseTransitions: transitions });

const STALE = /^pods "web" is forbidden: the lease kube-system\/kube-scheduler is held by "m2" \(transition 5\); this writer's token \(holder "m1", transition 4\) is stale$/;

/** A server whose kube-scheduler lease moved from m1 (transition 4) to m2 (transition 5). */
async function takenOver() {
  const t = await testServer({ namespaces: ['default', 'kube-system'] });
  const l = await t.server.create({ object: lease('m1', 4) });
  await t.server.update({ object: { ...l, spec: { ...(l as Lease).spec, holderIdentity: 'm2', leaseTransitions: 5 } } as Lease });
  return t;
}

describe('fencing', () => {
  it('keeps a fencing key in step with each Lease: created, changed with the holder, removed with the lease', async () => {
    const { server, store } = await testServer({ namespaces: ['kube-system'] });
    const value = () => {
      const kv = store.range({ key: fencingKey('kube-system', 'kube-scheduler') }).kvs[0];
      return kv ? new TextDecoder().decode(kv.value) : undefined;
    };
    const created = (await server.create({ object: lease('m1', 0) })) as Lease;
    assert.equal(value(), 'm1/0');
    const renewed = (await server.update({ object: { ...created, spec: { ...created.spec, renewTime: '2026-01-02T03:04:06.000000Z' } } as Lease })) as Lease;
    assert.equal(value(), 'm1/0');
    await server.update({ object: { ...renewed, spec: { ...renewed.spec, holderIdentity: 'm/2', leaseTransitions: 1 } } as Lease });
    assert.equal(value(), 'm/2/1', 'a holder with a slash stays unambiguous: transitions follow the last one');
    await server.delete({ resource: 'leases', namespace: 'kube-system', name: 'kube-scheduler' });
    assert.equal(value(), undefined);
  });

  it('lets the current holder write through every verb', async () => {
    const { server } = await takenOver();
    const fencing = token('m2', 5);
    const created = await server.create({ object: pod('web'), fencing });
    const updated = await server.update({ object: { ...created, metadata: { ...created.metadata!, labels: { app: 'web' } } }, fencing });
    assert.deepEqual(updated.metadata?.labels, { app: 'web' });
    const status = await server.updateStatus({ object: withPhase(updated as Pod, 'Pending'), fencing });
    assert.equal((status as Pod).status?.phase, 'Pending');
    const patched = await server.patch({ resource: 'pods', namespace: 'default', name: 'web', type: 'merge', patch: { metadata: { labels: { tier: 'x' } } }, fencing });
    assert.equal(patched.metadata?.labels.tier, 'x');
    const deleted = await server.delete({ resource: 'pods', namespace: 'default', name: 'web', fencing });
    assert.equal(deleted.deleted, true);
  });

  it('refuses every verb from a holder whose token is stale, and changes nothing', async () => {
    const { server, store } = await takenOver();
    const stale = token('m1', 4);
    await rejects(server.create({ object: pod('web'), fencing: stale }), 'Forbidden', STALE);
    await rejects(server.get({ resource: 'pods', namespace: 'default', name: 'web' }), 'NotFound');
    const current = await server.create({ object: pod('web') });
    const revision = store.revision;
    await rejects(server.update({ object: { ...current, metadata: { ...current.metadata!, labels: { app: 'web' } } }, fencing: stale }), 'Forbidden', STALE);
    await rejects(server.updateStatus({ object: withPhase(current as Pod, 'Running'), fencing: stale }), 'Forbidden', STALE);
    await rejects(server.patch({ resource: 'pods', namespace: 'default', name: 'web', type: 'merge', patch: { metadata: { labels: { tier: 'x' } } }, fencing: stale }), 'Forbidden', STALE);
    await rejects(server.delete({ resource: 'pods', namespace: 'default', name: 'web', fencing: stale }), 'Forbidden', STALE);
    assert.equal(store.revision, revision, 'nothing written');
    assert.deepEqual(await server.get({ resource: 'pods', namespace: 'default', name: 'web' }), current);
  });

  it('refuses a token of the same holder at an older transition (it lost the lease and took it back)', async () => {
    const { server } = await takenOver();
    const l = (await server.get({ resource: 'leases', namespace: 'kube-system', name: 'kube-scheduler' })) as Lease;
    await server.update({ object: { ...l, spec: { ...l.spec, holderIdentity: 'm1', leaseTransitions: 6 } } as Lease });
    await rejects(server.create({ object: pod('web'), fencing: token('m1', 4) }), 'Forbidden', /held by "m1" \(transition 6\); this writer's token \(holder "m1", transition 4\) is stale/);
    await server.create({ object: pod('web'), fencing: token('m1', 6) });
  });

  it('refuses writes fenced by a released or missing lease', async () => {
    const { server } = await takenOver();
    const l = (await server.get({ resource: 'leases', namespace: 'kube-system', name: 'kube-scheduler' })) as Lease;
    await server.update({ object: { ...l, spec: { ...l.spec, holderIdentity: '' } } as Lease });
    await rejects(server.create({ object: pod('web'), fencing: token('m2', 5) }), 'Forbidden', /the lease kube-system\/kube-scheduler is released \(transition 5\)/);
    await rejects(
      server.create({ object: pod('web'), fencing: { ...token('m2', 5), leaseName: 'absent' } }),
      'Forbidden',
      `pods "web" is forbidden: the lease kube-system/absent does not exist; this writer's token (holder "m2", transition 5) is stale`,
    );
  });

  it('refuses a malformed token with the field that is wrong', async () => {
    const { server } = await takenOver();
    await rejects(server.create({ object: pod('web'), fencing: { ...token('m2', 5), holderIdentity: '' } }), 'Invalid', /fencing\.holderIdentity: expected a non-empty string/);
    await rejects(server.create({ object: pod('web'), fencing: { ...token('m2', 5), leaseTransitions: -1 } }), 'Invalid', /fencing\.leaseTransitions: expected a non-negative integer/);
    await rejects(server.create({ object: pod('web'), fencing: 'm2' as unknown as FencingToken }), 'Invalid', /Invalid fencing token/);
  });

  it('checks the token inside the write txn: a takeover between the read and the write still refuses it', async () => {
    const store = new Store();
    const inner = new StoreBackend(store);
    let beforeNextTxn: (() => Promise<void>) | undefined;
    const backend: Backend = {
      async txn(req: TxnRequest) {
        const hook = beforeNextTxn;
        beforeNextTxn = undefined;
        await hook?.();
        return inner.txn(req);
      },
      range: (req, o) => inner.range(req),
      watch: (o) => inner.watch(o),
      leaseGrant: (ttl) => inner.leaseGrant(ttl),
    };
    const { server } = await testServer({ backend, namespaces: ['default', 'kube-system'] });
    const l = (await server.create({ object: lease('m1', 4) })) as Lease;
    const p = await server.create({ object: pod('web') });
    // m1's update has read the pod (and m1 still held the lease) when m2 takes over.
    beforeNextTxn = async () => {
      await server.update({ object: { ...l, spec: { ...l.spec, holderIdentity: 'm2', leaseTransitions: 5 } } as Lease });
    };
    await rejects(server.update({ object: { ...p, metadata: { ...p.metadata!, labels: { by: 'm1' } } }, fencing: token('m1', 4) }), 'Forbidden', STALE);
    assert.deepEqual((await server.get({ resource: 'pods', namespace: 'default', name: 'web' })).metadata?.labels, {});
  });
});
