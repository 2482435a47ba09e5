// The leader-election health check behind a master's and a component's /healthz: failing only
// while a runner leads without having heard of a renewal for longer than the limit.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { SeededRandom } from '../../../raft/core/random.js';
import type { NavarchClient } from '../../client/mod.js';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { eventually } from '../../client/testing/settle.js';
import { LeaderElectedRunner, type LeaderCallbacks } from './leader_run.js';

test("a runner's lease health fails once it has led without a renewal for longer than the limit, and recovers on renewal", async () => {
  const clock = new FakeClock(0);
  let callbacks!: LeaderCallbacks;
  const abort = new AbortController();
  const client = {};
  const runner = new LeaderElectedRunner({
    name: 'kube-scheduler',
    identity: 'm1_a',
    client: { withFencing: () => client } as unknown as NavarchClient,
    elector: (c) => ((callbacks = c), { start: () => {}, stop: async () => {} }),
    start: async () => {},
    registry: new Registry(),
    clock,
    random: new SeededRandom(1),
    logger: { info: () => {}, warn: () => {} },
  });
  runner.start();
  await eventually('competing', () => callbacks !== undefined);
  await clock.advance(60_000);
  assert.equal(runner.leaseHealth(22_000), undefined, 'not leading: healthy');
  callbacks.onStartedLeading({ token: { leaseNamespace: 'kube-system', leaseName: 'kube-scheduler', holderIdentity: 'm1_a', leaseTransitions: 0 }, signal: abort.signal });
  await clock.advance(22_000);
  assert.equal(runner.leaseHealth(22_000), undefined, 'within the limit of the acquisition');
  await clock.advance(1);
  assert.equal(runner.leaseHealth(22_000), 'failed election to renew leadership on lease kube-scheduler', 'no renewal heard of (a stuck elector or thread)');
  callbacks.onRenewed?.();
  assert.equal(runner.leaseHealth(22_000), undefined, 'renewed');
  await clock.advance(30_000);
  abort.abort();
  callbacks.onStoppedLeading();
  assert.equal(runner.leaseHealth(22_000), undefined, 'no longer leading: healthy again');
  await runner.stop();
});
