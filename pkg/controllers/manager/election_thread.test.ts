// The main side of the election thread, driven through a fake worker (what the thread would post)
// on a fake clock. e2e/election_thread.test.ts runs the real thread against a real master.

import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { ElectionThread, type ElectionWorkerHandle } from './election_thread.js';
import type { ElectionWorkerData, FromElectionWorker, ToElectionWorker } from './election_messages.js';
import { SHARED_MAIN_BEAT } from './main_stall.js';
import type { LeaderCallbacks } from './leader_run.js';

class FakeWorker extends EventEmitter implements ElectionWorkerHandle {
  readonly posted: ToElectionWorker[] = [];
  constructor(readonly data: ElectionWorkerData) {
    super();
  }
  postMessage(m: ToElectionWorker): void {
    this.posted.push(m);
  }
  say(m: FromElectionWorker): void {
    this.emit('message', m);
  }
  crash(): void {
    this.emit('error', new Error('boom'));
    this.emit('exit', 1);
  }
  async terminate(): Promise<number> {
    this.emit('exit', 1);
    return 1;
  }
}

const token = { leaseNamespace: 'kube-system', leaseName: 'kube-scheduler', holderIdentity: 'm1_a', leaseTransitions: 3 };
const takeover = { previousHolder: '', afterExpiryMs: 0, writeMs: 5 };

function fixture() {
  const clock = new FakeClock(1_000_000);
  const workers: FakeWorker[] = [];
  const warnings: string[] = [];
  const registry = new Registry();
  const thread = new ElectionThread({
    endpoints: ['127.0.0.1:1'],
    clock,
    registry,
    logger: { info: () => {}, warn: (m) => void warnings.push(m) },
    spawnWorker: (data) => {
      const w = new FakeWorker(data);
      workers.push(w);
      return w;
    },
  });
  const events: string[] = [];
  const signals: AbortSignal[] = [];
  const callbacks: LeaderCallbacks = {
    onStartedLeading: ({ token: t, signal }) => {
      events.push(`started ${t.leaseTransitions}`);
      signals.push(signal);
    },
    onStoppedLeading: () => void events.push('stopped leading'),
    onNewLeader: (identity) => void events.push(`leader ${identity}`),
    onRenewed: () => void events.push('renewed'),
  };
  const elector = thread.elector({ name: 'kube-scheduler', identity: 'm1_a', timings: { leaseDurationMs: 2000, retryPeriodMs: 500 } })(callbacks);
  const status = async () => (await registry.getSingleMetricAsString('leader_election_master_status')).match(/\} (\d)$/m)?.[1];
  return { clock, thread, workers, warnings, events, signals, elector, status };
}

describe('ElectionThread', () => {
  it('hands leadership from the thread to the runner, and stop() answers once the thread has released the lease', async () => {
    const f = fixture();
    f.elector.start();
    assert.equal(f.workers.length, 1, 'an elector started first starts the thread');
    f.thread.start();
    assert.equal(f.workers.length, 1, 'one thread');
    assert.deepEqual(f.workers[0].posted.map((m) => m.type), ['start']);
    f.workers[0].say({ type: 'newLeader', id: 1, identity: 'm1_a' });
    f.workers[0].say({ type: 'started', id: 1, token, takeover });
    assert.deepEqual(f.events, ['leader m1_a', 'started 3']);
    assert.equal(await f.status(), '1');
    f.workers[0].say({ type: 'leaseCurrent', id: 1, current: false });
    assert.equal(await f.status(), '0', 'the lease went a lease duration unrenewed: another may hold it');
    assert.equal(f.signals[0].aborted, false, 'the term goes on, fenced');
    f.workers[0].say({ type: 'leaseCurrent', id: 1, current: true });
    assert.equal(await f.status(), '1', 'renewed again');
    f.workers[0].say({ type: 'renewed', id: 1 });
    assert.deepEqual(f.events.splice(2), ['renewed'], 'the runner hears of each renewal (its /healthz check)');
    let stopped = false;
    const stopping = f.elector.stop().then(() => (stopped = true));
    assert.deepEqual(f.workers[0].posted.at(-1), { type: 'stop', id: 1 });
    f.workers[0].say({ type: 'stoppedLeading', id: 1 });
    assert.equal(f.signals[0].aborted, true);
    await f.clock.advance(0);
    assert.equal(stopped, false, 'not before the thread says the lease is released');
    f.workers[0].say({ type: 'stopped', id: 1 });
    await stopping;
    assert.deepEqual(f.events, ['leader m1_a', 'started 3', 'stopped leading']);
    assert.equal(await f.status(), '0');
  });

  it('a term the thread reports after stop() was asked for does not start', async () => {
    const f = fixture();
    f.elector.start();
    const stopping = f.elector.stop();
    f.workers[0].say({ type: 'started', id: 1, token, takeover });
    f.workers[0].say({ type: 'stoppedLeading', id: 1 });
    f.workers[0].say({ type: 'stopped', id: 1 });
    await stopping;
    assert.deepEqual(f.events, []);
  });

  it('a thread that dies ends the term, its late messages are ignored, and a new thread campaigns again after a backoff', async () => {
    const f = fixture();
    f.elector.start();
    const first = f.workers[0];
    first.say({ type: 'started', id: 1, token, takeover });
    first.crash();
    assert.deepEqual(f.events, ['started 3', 'stopped leading']);
    assert.equal(f.signals[0].aborted, true);
    assert.match(f.warnings.join('\n'), /election thread failed: boom; starting it again in 1000 ms/);
    first.say({ type: 'started', id: 1, token: { ...token, leaseTransitions: 4 }, takeover });
    assert.deepEqual(f.events, ['started 3', 'stopped leading'], 'a dead thread cannot start a term');
    await f.clock.advance(999);
    assert.equal(f.workers.length, 1);
    await f.clock.advance(1);
    assert.equal(f.workers.length, 2);
    assert.deepEqual(f.workers[1].posted.map((m) => m.type), ['start'], 'the elector campaigns again on the new thread');
    f.workers[1].crash();
    assert.match(f.warnings.at(-1)!, /starting it again in 2000 ms/, 'a thread that keeps dying is restarted less often');
  });

  it('stop() answers when the thread dies before it releases, and when the thread is closed', async () => {
    const f = fixture();
    f.elector.start();
    f.workers[0].say({ type: 'started', id: 1, token, takeover });
    const stopping = f.elector.stop();
    f.workers[0].crash();
    await stopping;
    assert.deepEqual(f.events, ['started 3', 'stopped leading']);
    await f.thread.close();
    assert.equal(f.workers.length, 1, 'no restart once closed');
  });

  it('a thread that falls silent for 30 s is ended and started again; one that says it is alive is left alone', async () => {
    const f = fixture();
    f.elector.start();
    f.workers[0].say({ type: 'started', id: 1, token, takeover });
    for (let s = 0; s < 60; s++) {
      await f.clock.advance(1000);
      f.workers[0].say({ type: 'alive' });
    }
    assert.deepEqual(f.events, ['started 3'], 'alive for a minute: still leading');
    await f.clock.advance(29_000);
    assert.deepEqual(f.events, ['started 3']);
    await f.clock.advance(1000);
    assert.match(f.warnings.join('\n'), /election thread silent for 30000 ms; ending it/);
    assert.deepEqual(f.events, ['started 3', 'stopped leading'], 'the silent thread\'s term ends');
    await f.clock.advance(1000);
    assert.equal(f.workers.length, 2, 'a new thread');
    assert.deepEqual(f.workers[1].posted.map((m) => m.type), ['start']);
  });

  it('beats in shared memory while its event loop runs, and logs what the thread says of a stall', async () => {
    const f = fixture();
    f.elector.start();
    const { data } = f.workers[0];
    assert.equal(data.mainStallMs, 10_000);
    const beat = () => Atomics.load(new Int32Array(data.shared), SHARED_MAIN_BEAT);
    const first = beat();
    await f.clock.advance(1000);
    assert.ok(beat() - first >= 9, `beat ${first} then ${beat()}: expected one every 100 ms`);
    f.workers[0].say({ type: 'mainStalled', silentMs: 10_400, electors: 2 });
    f.workers[0].say({ type: 'mainRecovered', silentMs: 12_000 });
    assert.match(f.warnings.join('\n'), /event loop did not run for 10400 ms: 2 elector\(s\) stepped down, releasing held leases/);
  });

  it('refuses bad timings on the caller\'s thread, naming the setting', () => {
    const f = fixture();
    assert.throws(() => f.thread.elector({ name: 'x', identity: 'm1_a', timings: { leaseDurationMs: 500, retryPeriodMs: 1000 } }), /leaseDurationMs \(500\) must be greater than retryPeriodMs \(1000\)/);
    assert.equal(f.workers.length, 0);
  });

  it('a failing runner callback is logged, not thrown out of the worker\'s event handler', async () => {
    const f = fixture();
    const elector = f.thread.elector({ name: 'kube-scheduler', identity: 'm1_a' })({
      onStartedLeading: () => {
        throw new Error('cannot build the term');
      },
      onStoppedLeading: () => {},
      onNewLeader: () => {},
    });
    elector.start();
    assert.doesNotThrow(() => f.workers[0].say({ type: 'started', id: 1, token, takeover }));
    assert.match(f.warnings.join('\n'), /kube-scheduler: onStartedLeading failed: cannot build the term/);
  });
});
