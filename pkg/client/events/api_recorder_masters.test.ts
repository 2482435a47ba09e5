// The recorder through a real NavarchClient over gRPC to an in-process master: what the
// controller manager will use. Repeats become one Event with a count, found as `describe` lists.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Event, KubeObject } from '../../api/registry.js';
import { obj } from '../../apiserver/test_util.js';
import { TestMasters } from '../../etcdserver/test_util.js';
import { NavarchClient } from '../client.js';
import { ApiEventRecorder } from './api_recorder.js';

describe('ApiEventRecorder on a master', () => {
  let masters: TestMasters;
  let client: NavarchClient;

  before(async () => {
    masters = await TestMasters.start(1);
    await masters.leader();
    client = new NavarchClient({ endpoints: [...masters.members.values()].map((m) => m.clientAddress), retryDeadlineMs: 10_000 });
    await client.create(obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } })).catch(() => {});
  });

  after(async () => {
    client.close();
    await masters.close();
  });

  it('writes an Event once and counts its repeats through the client', async () => {
    const pod = await client.create(obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: 'default' }, spec: { containers: [{ name: 'a', image: 'nginx:1.25' }] } }) as KubeObject);
    const recorder = new ApiEventRecorder({ client, component: 'navarch-scheduler', instance: 'master-1' });
    for (let i = 0; i < 4; i++) {
      recorder.event(pod, 'Warning', 'FailedScheduling', '0/0 nodes are available.');
      await recorder.flush();
    }
    const m = pod.metadata!;
    const page = await client.list<Event>('events', { namespace: 'default', fieldSelector: `involvedObject.name=${m.name},involvedObject.namespace=${m.namespace},involvedObject.uid=${m.uid}` });
    assert.equal(page.items.length, 1);
    assert.equal(page.items[0].count, 4);
    assert.equal(page.items[0].reason, 'FailedScheduling');
    assert.equal(page.items[0].source?.component, 'navarch-scheduler');
    assert.equal(recorder.failed, 0);
    await recorder.stop();
  });

  it("sends the new Events of one turn in one CreateBatch, written in one transaction, each refused on its own", async () => {
    const recorder = new ApiEventRecorder({ client, component: 'navarch-scheduler', instance: 'master-1' });
    const pods = Array.from({ length: 40 }, (_, i) => obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `batch-${i}`, namespace: 'default', uid: `uid-${i}` } }) as KubeObject);
    // No such namespace: this one Event is refused, the others are written.
    const lost = obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'lost', namespace: 'nowhere', uid: 'uid-lost' } }) as KubeObject;
    for (const p of pods) recorder.event(p, 'Normal', 'Scheduled', `Successfully assigned default/${p.metadata!.name} to n1`);
    recorder.event(lost, 'Normal', 'Scheduled', 'Successfully assigned nowhere/lost to n1');
    await recorder.flush();
    assert.deepEqual(recorder.batches, { calls: 1, events: 41 });
    assert.equal(recorder.failed, 1);
    const page = await client.list<Event>('events', { namespace: 'default', fieldSelector: 'reason=Scheduled' });
    const written = page.items.filter((e) => e.involvedObject?.name?.startsWith('batch-'));
    assert.equal(written.length, 40);
    assert.equal(new Set(written.map((e) => e.metadata?.resourceVersion)).size, 1, 'one transaction');
    await recorder.stop();
  });

  it('refills the slots a batch frees with one batch, not one Event each', async () => {
    const recorder = new ApiEventRecorder({ client, component: 'navarch-scheduler', maxInFlightWrites: 4 });
    for (let i = 0; i < 40; i++) {
      const p = obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `slot-${i}`, namespace: 'default', uid: `slot-uid-${i}` } }) as KubeObject;
      recorder.event(p, 'Normal', 'Scheduled', `Successfully assigned default/slot-${i} to n1`);
    }
    await recorder.flush();
    assert.deepEqual(recorder.batches, { calls: 10, events: 40 });
    assert.equal(recorder.failed, 0);
    await recorder.stop();
  });
});
