// A runner with a standby scheduler (components.ts schedulerStandby): the scheduler built while
// standing by follows the cluster but writes nothing; a takeover runs it with the term's client at
// once (no new scheduler built); each later term gets a fresh standby; stopping drops the unused one.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { SeededRandom } from '../../../raft/core/random.js';
import type { Pod } from '../../api/registry.js';
import { testServer } from '../../apiserver/test_util.js';
import type { FencingToken } from '../../apiserver/fencing.js';
import { InformerFactory } from '../../client/informer/mod.js';
import type { NavarchClient } from '../../client/mod.js';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { eventually, settle } from '../../client/testing/settle.js';
import { serverListWatcher } from '../../scheduler/testing/in_process.js';
import { makeNode, makePod } from '../../scheduler/testing/wrappers.js';
import { RecordingClient } from '../testing/recording_client.js';
import { schedulerStandby } from './components.js';
import { LeaderElectedRunner, type Elector, type LeaderCallbacks } from './leader_run.js';

/** The election as a script: the test says when this runner leads and when it loses. */
class ScriptedElector implements Elector {
  callbacks!: LeaderCallbacks;
  private abort: AbortController | undefined;
  start(): void {}
  async stop(): Promise<void> {
    this.lose();
  }
  lead(transitions: number): void {
    this.abort = new AbortController();
    const token: FencingToken = { leaseNamespace: 'kube-system', leaseName: 'kube-scheduler', holderIdentity: 'm1_a', leaseTransitions: transitions };
    this.callbacks.onStartedLeading({ token, signal: this.abort.signal });
  }
  lose(): void {
    if (!this.abort || this.abort.signal.aborted) return;
    this.abort.abort(new Error('lease lost'));
    this.callbacks.onStoppedLeading();
  }
}

test('a standby scheduler writes nothing until its term, then binds with that term at once, in batches; each term gets a fresh one', async () => {
  const t = await testServer();
  const clock = new FakeClock(0);
  const warm = new InformerFactory((r) => serverListWatcher(t.server, r), { clock, logger: { warn: () => {} } });
  for (const r of ['pods', 'nodes', 'namespaces']) warm.informer(r);
  warm.start();
  await warm.waitForSync();
  await t.server.create({ object: makeNode({ name: 'n1' }) });
  const addPod = (name: string) => {
    const p = makePod({ name, cpu: '100m' });
    p.metadata!.uid = undefined;
    return t.server.create({ object: p });
  };
  const nodeOf = async (name: string) => ((await t.server.get({ resource: 'pods', namespace: 'default', name })) as Pod).spec?.nodeName ?? '';
  await addPod('p1');

  // Every binding names the term (lease transition) whose client made it, and the call it came in.
  const binds: string[] = [];
  const client = {
    withFencing: (token: FencingToken) =>
      Object.assign(new RecordingClient(t.server), {
        bind: async (namespace: string, name: string, node: string, o: { uid?: string } = {}) => {
          binds.push(`${name} -> ${node} (term ${token.leaseTransitions}, bind)`);
          await t.server.bind({ namespace, name, uid: o.uid, target: { name: node } });
        },
        bindBatch: async (bindings: Array<{ namespace: string; name: string; nodeName: string; uid?: string }>) =>
          Promise.all(
            bindings.map(async (b) => {
              binds.push(`${b.name} -> ${b.nodeName} (term ${token.leaseTransitions})`);
              await t.server.bind({ namespace: b.namespace, name: b.name, uid: b.uid, target: { name: b.nodeName } });
              return undefined;
            }),
          ),
      }),
  } as unknown as NavarchClient;
  const elector = new ScriptedElector();
  let coldStarts = 0;
  const runner = new LeaderElectedRunner({
    name: 'kube-scheduler',
    identity: 'm1_a',
    client,
    elector: (callbacks) => Object.assign(elector, { callbacks }),
    start: async () => void coldStarts++,
    registry: new Registry(),
    clock,
    random: new SeededRandom(3),
    logger: { info: () => {}, warn: () => {} },
    warmInformers: warm,
    standby: schedulerStandby({ logger: { warn: () => {} } }),
  });
  try {
    runner.start();
    await clock.advance(5000);
    assert.deepEqual(binds, [], 'standing by: nothing bound');
    assert.equal(await nodeOf('p1'), '');

    elector.lead(1);
    await eventually('p1 bound in term 1', () => binds.length === 1);
    assert.deepEqual(binds, ['p1 -> n1 (term 1)']);
    assert.equal(await nodeOf('p1'), 'n1');
    assert.equal(coldStarts, 0, 'the term ran the standby scheduler instead of building one');

    elector.lose();
    await eventually('the term to end', () => !runner.isLeading);
    await settle(10);
    await addPod('p2');
    await clock.advance(5000);
    assert.equal(await nodeOf('p2'), '', 'after the term: standing by again, nothing bound');

    elector.lead(2);
    await eventually('p2 bound in term 2', () => binds.length === 2);
    assert.equal(binds[1], 'p2 -> n1 (term 2)');
    assert.equal(coldStarts, 0, 'a fresh standby was ready for term 2');

    // Lost and taken back at once, while term 2's parts are still stopping: term 3 starts from a standby too.
    elector.lose();
    elector.lead(3);
    await addPod('p3');
    await eventually('p3 bound in term 3', () => binds.length === 3);
    assert.equal(binds[2], 'p3 -> n1 (term 3)');
    assert.equal(coldStarts, 0, 'a standby was built as soon as term 2 began stopping');

    elector.lose();
    await eventually('the term to end', () => !runner.isLeading);
    await settle(10);
    await runner.stop();
    await addPod('p4');
    await clock.advance(5000);
    assert.equal(await nodeOf('p4'), '', 'stopped: the unused standby was dropped, nothing bound');
    assert.equal(binds.length, 3);
  } finally {
    await runner.stop();
    warm.stop();
    t.server.closeWatches();
  }
});

test('a runner with warm informers competes for the lease only once they and its standby scheduler have caught up', async () => {
  const t = await testServer();
  const clock = new FakeClock(0);
  let releaseList!: () => void;
  const listHeld = new Promise<void>((r) => (releaseList = r));
  const source = (r: string) => {
    const lw = serverListWatcher(t.server, r);
    return r === 'pods' ? { ...lw, list: async () => (await listHeld, lw.list()) } : lw;
  };
  const warm = new InformerFactory(source, { clock, logger: { warn: () => {} } });
  for (const r of ['pods', 'nodes', 'namespaces']) warm.informer(r);
  warm.start();
  const logs: string[] = [];
  let electors = 0;
  const registry = new Registry();
  const ready = async () => (await registry.getSingleMetric('navarch_leader_election_ready')?.get())?.values.find((v) => v.labels.name === 'kube-scheduler')?.value;
  const runner = new LeaderElectedRunner({
    name: 'kube-scheduler',
    identity: 'm1_a',
    client: {} as NavarchClient,
    elector: () => (electors++, { start: () => {}, stop: async () => {} }),
    start: async () => {},
    registry,
    clock,
    random: new SeededRandom(3),
    logger: { info: (m) => logs.push(m), warn: (m) => logs.push(m) },
    warmInformers: warm,
    standby: schedulerStandby({ logger: { warn: () => {} } }),
  });
  try {
    runner.start();
    await clock.advance(5000);
    await settle(10);
    assert.equal(electors, 0, 'the pods are not listed yet: not competing');
    assert.equal(await ready(), 0, 'the readiness gauge says it is not competing yet');
    releaseList();
    await eventually('competing once the caches are filled', () => electors === 1);
    assert.equal(await ready(), 1);
    assert.ok(logs.some((m) => /kube-scheduler: caches filled in \d+ ms; competing for the lease/.test(m)), logs.join('\n'));
  } finally {
    await runner.stop();
    warm.stop();
    t.server.closeWatches();
  }
});
