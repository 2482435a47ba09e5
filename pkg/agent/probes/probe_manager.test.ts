import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../../gen/navarch/api/v1/core.js';
import { obj } from '../../apiserver/test_util.js';
import { FakeClock } from '../../client/testing/fake_clock.js';
import type { ExecFn } from './outcome.js';
import { ProbeManager } from './probe_manager.js';

const T0 = 1_000_000;

/** A pod whose container "app" has the given probes, each an exec of ["check", <kind>]. */
function podWith(probes: { startup?: object; liveness?: object; readiness?: object }, uid = 'u1'): Pod {
  const probe = (kind: string, p: object | undefined) => (p ? { exec: { command: ['check', kind] }, ...p } : undefined);
  return obj<Pod>({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p-${uid}`, namespace: 'default', uid },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'busybox',
          ...(probes.startup ? { startupProbe: probe('startup', probes.startup) } : {}),
          ...(probes.liveness ? { livenessProbe: probe('liveness', probes.liveness) } : {}),
          ...(probes.readiness ? { readinessProbe: probe('readiness', probes.readiness) } : {}),
        },
      ],
    },
  });
}

/** A container's checks: each kind answers with its current exit code; every call is logged with the time. */
class FakeContainer {
  readonly exitCodes: Record<string, number> = { startup: 0, liveness: 0, readiness: 0 };
  readonly calls: string[] = [];
  constructor(private readonly clock: FakeClock) {}
  readonly exec: ExecFn = async (argv) => {
    this.calls.push(`${(this.clock.nowMs() - T0) / 1000}s ${argv[1]}`);
    return { exitCode: this.exitCodes[argv[1]], output: `${argv[1]} exit ${this.exitCodes[argv[1]]}` };
  };
  take(): string[] {
    return this.calls.splice(0);
  }
}

function setup(o: { maxConcurrentProbes?: number } = {}) {
  const clock = new FakeClock(T0);
  const restarts: string[] = [];
  const changes: string[] = [];
  const manager = new ProbeManager({
    clock,
    onRestart: (uid, name, reason, r) => restarts.push(`${(clock.nowMs() - T0) / 1000}s ${uid}/${name}: ${reason}${r.terminationGracePeriodSeconds !== undefined ? ` (grace ${r.terminationGracePeriodSeconds}s)` : ''}`),
    onChange: (uid, name) => changes.push(`${uid}/${name}`),
    ...o,
  });
  const c = new FakeContainer(clock);
  const start = (pod: Pod, containerId = 'c1', exec = c.exec) => manager.containerStarted(pod, 'app', { containerId, startedAtMs: clock.nowMs(), podIP: '198.18.0.5', exec });
  return { clock, manager, restarts, changes, c, start };
}

describe('ProbeManager', () => {
  it('probes first after initialDelaySeconds, then every periodSeconds', async () => {
    const { clock, c, start } = setup();
    start(podWith({ liveness: { initialDelaySeconds: 5, periodSeconds: 10 } }));
    await clock.advance(4_999);
    assert.deepEqual(c.take(), []);
    await clock.advance(1);
    assert.deepEqual(c.take(), ['5s liveness']);
    await clock.advance(20_000);
    assert.deepEqual(c.take(), ['15s liveness', '25s liveness']);
  });

  it('restarts after failureThreshold liveness failures in a row, then holds until a new container', async () => {
    const { clock, manager, c, restarts, start } = setup();
    const pod = podWith({ liveness: { periodSeconds: 10, failureThreshold: 3 } });
    start(pod);
    await clock.advance(0);
    c.exitCodes.liveness = 1;
    await clock.advance(20_000); // failures at 10 s and 20 s
    c.exitCodes.liveness = 0;
    await clock.advance(10_000); // a success at 30 s starts the count again
    c.exitCodes.liveness = 1;
    await clock.advance(20_000); // failures at 40 s and 50 s: not yet
    assert.deepEqual(restarts, []);
    await clock.advance(10_000); // the third in a row, at 60 s
    assert.deepEqual(restarts, ['60s u1/app: Liveness probe failed: liveness exit 1']);
    c.take();
    await clock.advance(60_000);
    assert.deepEqual(c.take(), [], 'no probes while the restart is pending');
    assert.equal(restarts.length, 1);
    // The pod worker restarts the container: probing resumes, with a fresh count.
    c.exitCodes.liveness = 0;
    start(pod, 'c2');
    await clock.advance(0);
    assert.deepEqual(c.take(), ['120s liveness']);
    assert.equal(manager.workerCount, 1);
  });

  it('marks a container ready after successThreshold successes and unready after failureThreshold failures', async () => {
    const { clock, manager, c, changes, start } = setup();
    c.exitCodes.readiness = 1;
    start(podWith({ readiness: { periodSeconds: 5, successThreshold: 2, failureThreshold: 2 } }));
    assert.equal(manager.isReady('u1', 'app'), false, 'not ready before the first success');
    await clock.advance(5_000);
    c.exitCodes.readiness = 0;
    await clock.advance(5_000);
    assert.equal(manager.isReady('u1', 'app'), false, 'one success is not enough');
    await clock.advance(5_000);
    assert.equal(manager.isReady('u1', 'app'), true);
    assert.deepEqual(changes, ['u1/app']);
    c.exitCodes.readiness = 1;
    await clock.advance(5_000);
    assert.equal(manager.isReady('u1', 'app'), true, 'one failure is not enough');
    await clock.advance(5_000);
    assert.equal(manager.isReady('u1', 'app'), false);
    assert.deepEqual(changes, ['u1/app', 'u1/app']);
    assert.equal(manager.isStarted('u1', 'app'), undefined, 'no startup probe');
  });

  it('runs liveness and readiness only once the startup probe has succeeded, and stops the startup probe then', async () => {
    const { clock, manager, c, restarts, start } = setup();
    c.exitCodes.startup = 1;
    start(podWith({ startup: { periodSeconds: 2, failureThreshold: 10 }, liveness: { periodSeconds: 10 }, readiness: { periodSeconds: 10 } }));
    await clock.advance(4_000);
    assert.deepEqual(c.take(), ['0s startup', '2s startup', '4s startup']);
    assert.equal(manager.isStarted('u1', 'app'), false);
    assert.equal(manager.isReady('u1', 'app'), false);
    c.exitCodes.startup = 0;
    await clock.advance(2_000);
    assert.deepEqual(c.take(), ['6s startup', '6s liveness', '6s readiness']);
    assert.equal(manager.isStarted('u1', 'app'), true);
    assert.equal(manager.isReady('u1', 'app'), true);
    await clock.advance(10_000);
    assert.deepEqual(c.take(), ['16s liveness', '16s readiness']);
    assert.deepEqual(restarts, []);
  });

  it('restarts a container whose startup probe fails past its threshold, without ever running liveness', async () => {
    const { clock, c, restarts, start } = setup();
    c.exitCodes.startup = 1;
    start(podWith({ startup: { periodSeconds: 1, failureThreshold: 3, terminationGracePeriodSeconds: 7 }, liveness: {} }));
    await clock.advance(10_000);
    assert.deepEqual(restarts, ['2s u1/app: Startup probe failed: startup exit 1 (grace 7s)']);
    assert.deepEqual(c.take(), ['0s startup', '1s startup', '2s startup']);
  });

  it('does not count probes that could not run', async () => {
    const { clock, restarts, start } = setup();
    const broken: ExecFn = async () => {
      throw new Error('runtime down');
    };
    start(podWith({ liveness: { periodSeconds: 1, failureThreshold: 1 } }), 'c1', broken);
    await clock.advance(10_000);
    assert.deepEqual(restarts, []);
  });

  it('stops the workers of a container that stopped and of a removed pod', async () => {
    const { clock, manager, c, start } = setup();
    start(podWith({ liveness: { periodSeconds: 1 }, readiness: { periodSeconds: 1 } }));
    manager.containerStarted(podWith({ liveness: { periodSeconds: 1 } }, 'u2'), 'app', { containerId: 'x', startedAtMs: T0, podIP: '', exec: c.exec });
    await clock.advance(0);
    assert.equal(manager.workerCount, 3);
    manager.containerStopped('u1', 'app');
    assert.equal(manager.isReady('u1', 'app'), undefined);
    manager.removePod('u2');
    assert.equal(manager.workerCount, 0);
    c.take();
    await clock.advance(10_000);
    assert.deepEqual(c.take(), []);
  });

  it('runs at most maxConcurrentProbes at once and skips the ticks of a probe still running', async () => {
    const { clock, manager, start } = setup({ maxConcurrentProbes: 2 });
    const release: Array<() => void> = [];
    let running = 0;
    let most = 0;
    let calls = 0;
    const slow: ExecFn = () =>
      new Promise((resolve) => {
        calls++;
        most = Math.max(most, ++running);
        release.push(() => {
          running--;
          resolve({ exitCode: 0, output: '' });
        });
      });
    for (const uid of ['a', 'b', 'c', 'd', 'e']) start(podWith({ liveness: { periodSeconds: 1, timeoutSeconds: 60 } }, uid), 'c1', slow);
    await clock.advance(5_000);
    assert.equal(calls, 2);
    assert.equal(manager.pendingProbes, 5, 'two running, three waiting; later ticks of the same workers were skipped');
    while (release.length > 0) {
      release.shift()!();
      await clock.advance(0);
    }
    assert.equal(most, 2);
    assert.equal(calls, 5);
    await manager.idle();
    manager.stop();
  });

  it('refuses a container that is not in the pod', () => {
    const { manager, c } = setup();
    assert.throws(() => manager.containerStarted(podWith({}), 'ghost', { containerId: 'x', startedAtMs: T0, podIP: '', exec: c.exec }), /Cannot probe container "ghost"/);
  });
});
