import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { ConfigMap } from '../api/registry.js';
import { obj } from '../apiserver/test_util.js';
import { TestMasters } from '../etcdserver/test_util.js';
import { NavarchClient } from './mod.js';

test('writes an overloaded master refuses with TooManyRequests are retried by the client until they are admitted, each applied once', async () => {
  const registry = new Registry();
  const masters = await TestMasters.start(1, { writeAdmission: { maxInflightWrites: 1, maxQueuedWrites: 1, registry } });
  const client = new NavarchClient({ endpoints: [...masters.members.values()].map((m) => m.clientAddress), retryDeadlineMs: 20_000 });
  try {
    await masters.leader();
    await client.create(obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } }));
    const names = Array.from({ length: 20 }, (_, i) => `cm-${i}`);
    await Promise.all(names.map((name) => client.create(obj<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'apps' } }))));
    const listed = await client.list<ConfigMap>('configmaps', { namespace: 'apps' });
    assert.deepEqual(listed.items.map((c) => c.metadata?.name).sort(), [...names].sort());
    const refused = (await registry.getSingleMetric('apiserver_flowcontrol_rejected_requests_total')!.get()).values.reduce((n, v) => n + v.value, 0);
    assert.ok(refused > 0, 'some creates were refused at first');
  } finally {
    client.close();
    await masters.close();
  }
});
