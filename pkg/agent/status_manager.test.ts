import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod, PodStatus } from '../../gen/navarch/api/v1/core.js';
import { pod, testServer } from '../apiserver/test_util.js';
import { FakeClock } from '../client/testing/fake_clock.js';
import { RecordingClient } from '../controllers/testing/recording_client.js';
import { StatusManager } from './status_manager.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

function running(ip: string): PodStatus {
  return {
    phase: 'Running',
    conditions: [
      { type: 'Initialized', status: 'True', lastTransitionTime: '2026-01-02T03:04:05Z' },
      { type: 'Ready', status: 'True', lastTransitionTime: '2026-01-02T03:04:05Z' },
    ],
    hostIP: '198.18.0.1',
    hostIPs: [{ ip: '198.18.0.1' }],
    podIP: ip,
    podIPs: [{ ip }],
    startTime: '2026-01-02T03:04:05Z',
    initContainerStatuses: [],
    containerStatuses: [],
  };
}

async function setup(o: { concurrency?: number; maxPendingPods?: number } = {}) {
  const t = await testServer();
  const client = new RecordingClient(t.server);
  const clock = new FakeClock(T0);
  const sm = new StatusManager({ client, clock, ...o });
  const get = async (name: string) => (await t.server.get({ resource: 'pods', namespace: 'default', name })) as Pod;
  return { t, client, clock, sm, get };
}

describe('StatusManager', () => {
  it('writes a pod status through the status subresource, keeping conditions it does not own', async () => {
    const { t, client, sm, get } = await setup();
    const p = (await t.server.create({ object: pod('a', { nodeName: 'n1' }) })) as Pod;
    const conditions = [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }];
    const scheduled = (await t.server.updateStatus({ object: { ...p, status: { ...running(''), phase: 'Pending', podIP: undefined, podIPs: [], conditions } } })) as Pod;
    assert.equal(sm.setPodStatus(scheduled, running('198.18.32.2')), true);
    await sm.idle();
    assert.equal((client.actions.at(-1)?.body as Pod | undefined)?.spec, undefined, 'the write carries no spec');
    assert.deepEqual(client.takeSummary(), ['update pods default/a status']);
    const after = await get('a');
    assert.equal(after.status?.phase, 'Running');
    assert.equal(after.status?.podIP, '198.18.32.2');
    assert.deepEqual(after.status?.conditions.map((c) => `${c.type}=${c.status}`), ['PodScheduled=True', 'Initialized=True', 'Ready=True']);
    assert.deepEqual(after.spec, scheduled.spec, 'the stored spec stays');
    assert.deepEqual(after.metadata?.labels, scheduled.metadata?.labels);
    // The same status again: nothing to write.
    sm.setPodStatus(after, running('198.18.32.2'));
    await sm.idle();
    assert.deepEqual(client.takeSummary(), []);
    assert.equal(sm.stats.unchanged, 1);
  });

  it('coalesces statuses queued while a write for the same pod is in flight: the latest wins', async () => {
    const { t, client, sm, get } = await setup({ concurrency: 1 });
    client.takeActions();
    const p = (await t.server.create({ object: pod('a', { nodeName: 'n1' }) })) as Pod;
    sm.setPodStatus(p, running('198.18.32.2'));
    sm.setPodStatus(p, running('198.18.32.3'));
    sm.setPodStatus(p, running('198.18.32.4'));
    await sm.idle();
    assert.equal((await get('a')).status?.podIP, '198.18.32.4');
    assert.equal(sm.stats.written, 2, 'the middle status was never written');
    // The second write started from the caller's stale copy: it conflicted and was redone on a fresh read.
    assert.equal(sm.stats.conflicts, 1);
    assert.deepEqual(client.takeSummary(), ['update pods default/a status', 'update pods default/a status', 'update pods default/a status']);
  });

  it('refuses work beyond maxPendingPods and counts it', async () => {
    const { t, sm } = await setup({ concurrency: 1, maxPendingPods: 2 });
    const pods: Pod[] = [];
    for (const name of ['a', 'b', 'c', 'd']) pods.push((await t.server.create({ object: pod(name, { nodeName: 'n1' }) })) as Pod);
    assert.deepEqual(pods.map((p) => sm.setPodStatus(p, running('198.18.32.9'))), [true, true, true, false]);
    assert.equal(sm.stats.dropped, 1);
    await sm.idle();
    assert.equal(sm.stats.written, 3);
  });

  it('deletes a stopped pod with grace 0, but not a new pod that took its name', async () => {
    const { t, sm } = await setup();
    const p = (await t.server.create({ object: pod('a', { nodeName: 'n1' }) })) as Pod;
    const marked = (await t.server.delete({ resource: 'pods', namespace: 'default', name: 'a' })).object as Pod;
    assert.ok(marked.metadata?.deletionTimestamp, 'a graceful delete only marks the pod');
    sm.deletePod(marked);
    await sm.idle();
    await assert.rejects(t.server.get({ resource: 'pods', namespace: 'default', name: 'a' }), /not found/);
    const again = (await t.server.create({ object: pod('a', { nodeName: 'n1' }) })) as Pod;
    assert.notEqual(again.metadata?.uid, p.metadata?.uid);
    sm.deletePod(p);
    await sm.idle();
    assert.equal(((await t.server.get({ resource: 'pods', namespace: 'default', name: 'a' })) as Pod).metadata?.uid, again.metadata?.uid);
    assert.equal(sm.stats.deleted, 1);
  });
});
