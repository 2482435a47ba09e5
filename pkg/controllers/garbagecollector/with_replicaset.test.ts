// The garbage collector and the ReplicaSet controller running together, as in the controller
// manager: deleting a ReplicaSet in the foreground takes its pods first and none is recreated.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReplicaSet } from '../../api/registry.js';
import { isApiError } from '../../apiserver/api_error.js';
import { obj } from '../../apiserver/test_util.js';
import { eventually, settle } from '../../client/testing/settle.js';
import { ReplicaSetController } from '../replicaset/replica_set.js';
import { fixture } from '../testing/fixture.js';
import { GarbageCollector } from './garbage_collector.js';

/** Like eventually(), for a condition that must read the API. */
async function untilAsync(what: string, cond: () => Promise<boolean>, maxTurns = 1000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (await cond()) return;
    await settle(1);
  }
  throw new Error(`Condition not met after ${maxTurns} turns: ${what}`);
}

for (const propagationPolicy of ['Foreground', 'Background'] as const) {
  test(`a ${propagationPolicy.toLowerCase()} delete of a running ReplicaSet removes it and its pods, and no pod is recreated`, async () => {
    const f = await fixture();
    const opts = { client: f.client, informers: f.factory, events: f.events, clock: f.clock, logger: { warn: () => {} } };
    const rsc = new ReplicaSetController(opts);
    const gc = new GarbageCollector(opts);
    try {
      await f.server.create({
        object: obj({
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: { name: 'web', namespace: 'default' },
          spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a', image: 'nginx' }] } } },
        }),
      });
      f.factory.start();
      rsc.start();
      gc.start();
      await eventually('3 replicas', () => f.client.actions.some((a) => a.subresource === 'status' && (a.body as ReplicaSet).status?.replicas === 3));
      await f.server.delete({ resource: 'replicasets', namespace: 'default', name: 'web', propagationPolicy });
      await untilAsync('ReplicaSet and pods gone', async () => {
        const pods = await f.server.list({ resource: 'pods' });
        const rs = await f.server.get({ resource: 'replicasets', namespace: 'default', name: 'web' }).catch((e: unknown) => (isApiError(e, 'NotFound') ? undefined : Promise.reject(e)));
        return pods.items.length === 0 && rs === undefined;
      });
      await f.synced();
      assert.equal(f.client.actions.filter((a) => a.verb === 'create').length, 3, 'no pod created after the delete');
      assert.equal(f.client.actions.filter((a) => a.verb === 'delete' && a.resource === 'pods').length, 3);
    } finally {
      await rsc.stop();
      await gc.stop();
      f.close();
    }
  });
}
