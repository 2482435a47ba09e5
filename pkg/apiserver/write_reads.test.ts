// The read of a read-modify-write (bind, update, patch) comes from this member's replica first,
// without a ReadIndex round; the write's modRevision compare proves it current. A lagging replica
// must never change an answer: its refusals and no-ops are decided again on a linearizable read.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Lease, Pod } from '../api/registry.js';
import type { RangeRequest, RangeResponse } from '../store/mod.js';
import { isApiError } from './api_error.js';
import { ApiServer } from './api_server.js';
import { StoreBackend, type ReadOptions } from './backend.js';
import { obj, pod } from './test_util.js';

/** A replica that can be frozen at a revision: its serializable reads then show that past state. */
class LaggingBackend extends StoreBackend {
  frozenAt = 0;
  linearizableReads = 0;

  override range(req: RangeRequest, options: ReadOptions = {}): Promise<RangeResponse> {
    if (!options.serializable) {
      this.linearizableReads++;
      return super.range(req);
    }
    return super.range(this.frozenAt && !req.revision ? { ...req, revision: this.frozenAt } : req);
  }
}

async function setup(): Promise<{ server: ApiServer; backend: LaggingBackend }> {
  const backend = new LaggingBackend();
  let uid = 0;
  const server = new ApiServer({ backend, nowMs: () => Date.UTC(2026, 0, 2), newUid: () => `uid-${++uid}`, watchCache: false });
  await server.create({ object: obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }) });
  return { server, backend };
}

const isCode = (code: string) => (err: unknown) => isApiError(err) && err.code === code;

describe('reads for writes', () => {
  it('a bind, an update and a patch on a current replica need no linearizable read', async () => {
    const { server, backend } = await setup();
    await server.create({ object: pod('a') });
    const before = backend.linearizableReads;
    const bound = await server.bind({ namespace: 'default', name: 'a', target: { name: 'n1' } });
    await server.update({ object: { ...bound, metadata: { ...bound.metadata!, labels: { x: '1' } } } });
    await server.patch({ resource: 'pods', namespace: 'default', name: 'a', type: 'merge', patch: { metadata: { labels: { y: '2' } } } });
    assert.equal(backend.linearizableReads - before, 0);
    const got = (await server.get({ resource: 'pods', namespace: 'default', name: 'a' })) as Pod;
    assert.deepEqual(got.metadata?.labels, { x: '1', y: '2' });
  });

  it('a lagging replica that shows a pod unbound does not let a second bind through', async () => {
    const { server, backend } = await setup();
    await server.create({ object: pod('a') });
    backend.frozenAt = Number((await server.get({ resource: 'pods', namespace: 'default', name: 'a' })).metadata!.resourceVersion);
    await server.bind({ namespace: 'default', name: 'a', target: { name: 'n1' } });
    await assert.rejects(server.bind({ namespace: 'default', name: 'a', target: { name: 'n2' } }), (e: unknown) => isCode('Conflict')(e) && /already assigned to node "n1"/.test((e as Error).message));
    assert.equal(((await server.get({ resource: 'pods', namespace: 'default', name: 'a' })) as Pod).spec?.nodeName, 'n1');
  });

  it('a pod the lagging replica has not seen yet is bound, not NotFound', async () => {
    const { server, backend } = await setup();
    backend.frozenAt = Number((await server.list({ resource: 'pods', namespace: 'default' })).resourceVersion);
    await server.create({ object: pod('new') });
    const bound = await server.bind({ namespace: 'default', name: 'new', target: { name: 'n1' } });
    assert.equal(bound.spec?.nodeName, 'n1');
  });

  it('an update with the current resourceVersion succeeds over a lagging replica; a stale one is a Conflict', async () => {
    const { server, backend } = await setup();
    const lease = obj<Lease>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'default' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 10 } });
    const v1 = (await server.create({ object: lease })) as Lease;
    backend.frozenAt = Number(v1.metadata!.resourceVersion);
    const v2 = (await server.update({ object: { ...v1, spec: { ...v1.spec!, holderIdentity: 'b' } } })) as Lease;
    // The replica still shows v1; the client holds v2, which is current.
    const v3 = (await server.update({ object: { ...v2, spec: { ...v2.spec!, holderIdentity: 'c' } } })) as Lease;
    assert.equal(v3.spec?.holderIdentity, 'c');
    await assert.rejects(server.update({ object: { ...v1, spec: { ...v1.spec!, holderIdentity: 'd' } } }), isCode('Conflict'));
  });

  it('a patch that the lagging replica would make a no-op is still written', async () => {
    const { server, backend } = await setup();
    const p = await server.create({ object: pod('a', { labels: { x: '1' } }) });
    backend.frozenAt = Number(p.metadata!.resourceVersion);
    await server.patch({ resource: 'pods', namespace: 'default', name: 'a', type: 'merge', patch: { metadata: { labels: { x: '2' } } } });
    // Back to x=1: the frozen replica already says x=1, the current object says x=2.
    const back = await server.patch({ resource: 'pods', namespace: 'default', name: 'a', type: 'merge', patch: { metadata: { labels: { x: '1' } } } });
    assert.deepEqual(back.metadata?.labels, { x: '1' });
    assert.deepEqual((await server.get({ resource: 'pods', namespace: 'default', name: 'a' })).metadata?.labels, { x: '1' });
  });
});
