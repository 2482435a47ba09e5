// Events expire on real masters: one written through a follower (which forwards the write to the
// Raft leader) is deleted by the leader's lease expiry once --event-ttl-seconds have passed, while
// the other objects stay.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeObject } from '../pkg/api/convert/object.js';
import type { KubeObject } from '../pkg/api/registry.js';
import { isApiError, NavarchClient } from '../pkg/client/mod.js';
import { LocalMasterCluster } from '../pkg/localcluster/master_cluster.js';
import { until } from '../pkg/localcluster/until.js';

const object = (json: Record<string, unknown>) => decodeObject(json).object as KubeObject;

test('an Event is deleted once its TTL has passed; a ConfigMap written beside it stays', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-event-ttl-'));
  const masters = await LocalMasterCluster.create({ dir, masters: 3 });
  let client: NavarchClient | undefined;
  try {
    for (const m of masters.members) masters.start(m.id, ['--no-scheduler', '--no-controllers', '--event-ttl-seconds', '2']);
    const leader = await masters.waitForLeader(60_000);
    const follower = masters.members.find((m) => m.id !== leader)!;
    client = new NavarchClient({ endpoints: [follower.clientAddress], retryDeadlineMs: 30_000 });
    await until('the default namespace', async () => {
      try {
        await client!.get('namespaces', '', 'default');
        return true;
      } catch (e) {
        if (isApiError(e, 'NotFound')) return false;
        throw e;
      }
    }, 30_000, 200);
    const t0 = Date.now();
    await client.create(object({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kept', namespace: 'default' }, data: { a: '1' } }));
    await client.create(
      object({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'web.1', namespace: 'default' },
        involvedObject: { kind: 'Pod', namespace: 'default', name: 'web' },
        reason: 'Scheduled',
        message: 'Successfully assigned default/web to n0',
        type: 'Normal',
        count: 1,
      }),
    );
    const events = async () => (await client!.list('events', { namespace: 'default' })).items.length;
    assert.equal(await events(), 1);
    await until('the event to expire', async () => (await events()) === 0, 60_000, 200);
    assert.ok(Date.now() - t0 >= 2000, `expired after ${Date.now() - t0} ms, before its TTL`);
    assert.equal((await client.get('configmaps', 'default', 'kept')).metadata?.name, 'kept');
  } finally {
    client?.close();
    await masters.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
});
