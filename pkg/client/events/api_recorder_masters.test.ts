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
});
