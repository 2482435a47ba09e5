// Leader election on its own thread (pkg/controllers/manager/election_thread.ts) against one
// `navarch master` process: two candidates in this process, one leads; then this process's event
// loop is blocked for twice the lease duration, as a loaded master's is for a second or two at a
// time. The leader keeps its lease (no transition), because its renewals do not wait for the loop.
// With the electors on the main thread (electionThread false) the other candidate takes it over.
// A main thread that stops for longer than the stall limit is another matter: its electors step down
// and the other candidate takes over at once, and they campaign again once its loop runs.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Registry } from 'prom-client';
import type { Lease } from '../pkg/api/registry.js';
import { obj } from '../pkg/apiserver/test_util.js';
import { isApiError, NavarchClient } from '../pkg/client/mod.js';
import { ElectionThread } from '../pkg/controllers/manager/election_thread.js';
import type { LeaderCallbacks } from '../pkg/controllers/manager/leader_run.js';
import { LocalMasterCluster } from '../pkg/localcluster/master_cluster.js';
import { until } from '../pkg/localcluster/until.js';
import { realClock, type Clock } from '../raft/node/ports.js';

const LEASE = 'busy-loop-test';
const TIMINGS = { leaseDurationMs: 1500, renewDeadlineMs: 3000, retryPeriodMs: 250 };

let dir: string;
let cluster: LocalMasterCluster;
let client: NavarchClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'navarch-election-thread-'));
  cluster = await LocalMasterCluster.create({ dir, masters: 1 });
  cluster.start(1, ['--no-scheduler', '--no-controllers']);
  await cluster.waitForLeader(30_000);
  client = new NavarchClient({ endpoints: [cluster.member(1).clientAddress] });
  await until(
    'namespace kube-system',
    async () => {
      await client.create(obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } })).catch((e: unknown) => {
        if (!isApiError(e, 'AlreadyExists')) throw e;
      });
      return true;
    },
    20_000,
  );
});

after(async () => {
  client?.close();
  await cluster?.kill(1, 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

/** Blocks this thread's event loop, as a long synchronous task does. */
function blockFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}

/** What the candidates' callbacks say: who leads now, whose terms ended, whom each last saw lead. */
function observe() {
  const leading = new Set<string>();
  const losses: string[] = [];
  const seenLeader = new Map<string, string>();
  const callbacks = (who: string): LeaderCallbacks => ({
    onStartedLeading: () => void leading.add(who),
    onStoppedLeading: () => {
      leading.delete(who);
      losses.push(who);
    },
    onNewLeader: (identity) => void seenLeader.set(who, identity),
  });
  return { leading, losses, seenLeader, callbacks };
}

test('a leader whose event loop is blocked for twice its lease duration keeps the lease', { timeout: 60_000 }, async () => {
  // A warning is a failed lease attempt (or a thread that died): neither candidate should have one.
  const warnings: string[] = [];
  const threads = ['alpha', 'beta'].map((name) => new ElectionThread({ endpoints: [cluster.member(1).clientAddress], clock: realClock, registry: new Registry(), logger: { info: () => {}, warn: (m) => void warnings.push(`${name}: ${m}`) } }));
  const { leading, losses, seenLeader, callbacks } = observe();
  const alpha = threads[0].elector({ name: LEASE, identity: 'alpha_1', timings: TIMINGS })(callbacks('alpha'));
  const beta = threads[1].elector({ name: LEASE, identity: 'beta_1', timings: TIMINGS })(callbacks('beta'));
  try {
    alpha.start();
    await until('alpha to lead', async () => leading.has('alpha'), 20_000);
    beta.start();
    // Beta competes: it has read the lease and knows alpha holds it.
    await until('beta to see alpha lead', async () => seenLeader.get('beta') === 'alpha_1', 20_000);
    const before = (await client.get<Lease>('leases', 'kube-system', LEASE)).spec!;
    blockFor(2 * TIMINGS.leaseDurationMs);
    // Messages the threads sent meanwhile arrive now.
    await new Promise((r) => setTimeout(r, 2 * TIMINGS.retryPeriodMs));
    const afterBlock = (await client.get<Lease>('leases', 'kube-system', LEASE)).spec!;
    assert.equal(afterBlock.holderIdentity, 'alpha_1');
    assert.equal(afterBlock.leaseTransitions, before.leaseTransitions, 'the lease changed hands while the loop was blocked');
    assert.deepEqual(losses, []);
    assert.deepEqual(warnings, []);
    assert.deepEqual([...leading], ['alpha']);
  } finally {
    await Promise.all([alpha.stop(), beta.stop()]);
    await Promise.all(threads.map((t) => t.close()));
  }
});

/** The real clock, except that while paused its timers wait: an event loop that stopped, as seen by ElectionThread. */
function pausableClock() {
  let paused = false;
  const held: (() => void)[] = [];
  const clock: Clock = {
    nowMs: () => realClock.nowMs(),
    setTimeout: (fn, delayMs) => realClock.setTimeout(() => (paused ? held.push(fn) : fn()), delayMs),
    clearTimeout: (h) => realClock.clearTimeout(h),
  };
  return {
    clock,
    pause: () => void (paused = true),
    resume: () => {
      paused = false;
      for (const fn of held.splice(0)) fn();
    },
  };
}

test('a leader whose main thread stops for longer than the stall limit steps down, and campaigns again once it runs', { timeout: 60_000 }, async () => {
  const warnings: string[] = [];
  const alphaLoop = pausableClock();
  const logger = (name: string) => ({ info: () => {}, warn: (m: string) => void warnings.push(`${name}: ${m}`) });
  const threads = [
    new ElectionThread({ endpoints: [cluster.member(1).clientAddress], clock: alphaLoop.clock, mainStallMs: 2000, registry: new Registry(), logger: logger('alpha') }),
    new ElectionThread({ endpoints: [cluster.member(1).clientAddress], clock: realClock, registry: new Registry(), logger: logger('beta') }),
  ];
  const { leading, losses, seenLeader, callbacks } = observe();
  const lease = `${LEASE}-stall`;
  const alpha = threads[0].elector({ name: lease, identity: 'alpha_2', timings: TIMINGS })(callbacks('alpha'));
  const beta = threads[1].elector({ name: lease, identity: 'beta_2', timings: TIMINGS })(callbacks('beta'));
  try {
    alpha.start();
    await until('alpha to lead', async () => leading.has('alpha'), 20_000);
    beta.start();
    await until('beta to see alpha lead', async () => seenLeader.get('beta') === 'alpha_2', 20_000);
    alphaLoop.pause();
    await until('beta to lead', async () => leading.has('beta'), 20_000);
    assert.equal((await client.get<Lease>('leases', 'kube-system', lease)).spec!.holderIdentity, 'beta_2');
    assert.deepEqual(losses, ['alpha'], "alpha's term ended when its thread stepped down");
    assert.match(warnings.join('\n'), /alpha: this thread's event loop did not run for \d+ ms: 1 elector\(s\) stepped down/);
    alphaLoop.resume();
    await until('alpha to campaign again and see beta lead', async () => seenLeader.get('alpha') === 'beta_2', 20_000);
    assert.deepEqual([...leading], ['beta']);
    assert.deepEqual(warnings.filter((w) => !/did not run for/.test(w)), []);
  } finally {
    alphaLoop.resume();
    await Promise.all([alpha.stop(), beta.stop()]);
    await Promise.all(threads.map((t) => t.close()));
  }
});
