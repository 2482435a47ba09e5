// The controllers' indexes on the informers a master keeps warm are added with those informers,
// so a term of the controller manager adds none: adding one indexes every object at once, which at
// 150,000 pods held a master's event loop (and its new scheduler) when it took the lease.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { SeededRandom } from '../../../raft/core/random.js';
import type { FencingToken } from '../../apiserver/fencing.js';
import { pod, testServer } from '../../apiserver/test_util.js';
import { InformerFactory } from '../../client/informer/mod.js';
import type { NavarchClient } from '../../client/mod.js';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { serverListWatcher } from '../../scheduler/testing/in_process.js';
import { RecordingClient } from '../testing/recording_client.js';
import { controllerIndexers, controllerManagerStarter } from './components.js';
import type { Part } from './leader_run.js';
import { TermInformers } from './term_informers.js';

test('a controller manager term adds no index to the warm informers that were given the controllers\' indexes', async () => {
  const t = await testServer();
  await t.server.create({ object: pod('a', { nodeName: 'n1' }) });
  const clock = new FakeClock(0);
  const warmResources = ['pods', 'nodes', 'namespaces'];
  const warm = new InformerFactory((r) => serverListWatcher(t.server, r), { clock, logger: { warn: () => {} } });
  for (const r of warmResources) warm.informer(r, { indexers: controllerIndexers(r) });
  warm.start();
  await warm.waitForSync();
  const before = warmResources.map((r) => [r, warm.informer(r).store.indexNames.sort()]);
  assert.ok(before[0][1].length >= 4, `the pods informer has the controllers' indexes: ${before[0][1]}`);

  const informers = new TermInformers(warm);
  const client = new RecordingClient(t.server) as unknown as NavarchClient;
  const abort = new AbortController();
  const token: FencingToken = { leaseNamespace: 'kube-system', leaseName: 'kube-controller-manager', holderIdentity: 'm1_a', leaseTransitions: 1 };
  const parts: Part[] = [];
  await controllerManagerStarter({ logger: { warn: () => {} } })(
    { client, readClient: client, token, signal: abort.signal, informers, registry: new Registry(), clock, random: new SeededRandom(1), identity: 'm1_a' },
    parts,
  );
  try {
    assert.deepEqual(warmResources.map((r) => [r, warm.informer(r).store.indexNames.sort()]), before);
    // The term's controllers found what they index: the pod by its node.
    assert.deepEqual(warm.informer('pods').store.byIndex('byNodeName', 'n1').map((p) => p.metadata?.name), ['a']);
  } finally {
    abort.abort();
    for (const p of parts) await p.stop();
    informers.stop();
    warm.stop();
  }
});
