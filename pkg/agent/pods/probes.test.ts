import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProbeManager } from '../probes/probe_manager.js';
import { conditions, Fixture } from './fixture_test_util.js';
import type { PodWorkers } from './pod_workers.js';

const IMAGE = 'busybox:1.36';

describe('PodWorkers with the ProbeManager', () => {
  it('is Ready once the readiness probe passes, and restarts a container whose liveness probe fails', async () => {
    let workers: PodWorkers | undefined;
    const base = await Fixture.create();
    const probes = new ProbeManager({
      clock: base.clock,
      onRestart: (uid, name, reason, o) => void workers?.restartContainer(uid, name, reason, { gracePeriodSeconds: o.terminationGracePeriodSeconds }),
      onChange: (uid) => workers?.requestSync(uid),
    });
    const f = await Fixture.create({ from: base, workers: { readiness: probes, observer: probes } });
    workers = f.workers;
    f.runtime.addRegistryImage(IMAGE, { entrypoint: ['/bin/sh'] });
    let healthy = true;
    f.runtime.onExec((_id, argv) => (argv[0] === 'live' ? { exitCode: healthy ? 0 : 1, output: healthy ? '' : 'sick' } : { exitCode: 0 }));
    const uid = (
      await f.createPod('web', {
        containers: [
          {
            name: 'app',
            image: IMAGE,
            readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 5 },
            livenessProbe: { exec: { command: ['live'] }, periodSeconds: 10, failureThreshold: 3 },
          },
        ],
      })
    ).metadata?.uid ?? '';
    await f.start();
    assert.deepEqual(conditions(await f.statusOf('web')).slice(2), ['ContainersReady=False ContainersNotReady', 'Ready=False ContainersNotReady']);
    await f.advance(1);
    await probes.idle();
    await f.settle();
    assert.deepEqual(conditions(await f.statusOf('web')).slice(2), ['ContainersReady=True', 'Ready=True']);

    healthy = false;
    for (let i = 0; i < 3; i++) {
      await f.advance(10_000);
      await probes.idle();
      await f.settle();
    }
    // Three failures: killed (it exits on SIGTERM) and restarted under Always.
    assert.equal(f.runtime.latest(uid, 'app')?.attempt, 1);
    const s = await f.statusOf('web');
    assert.equal(s.containerStatuses[0].restartCount, 1);
    assert.equal(s.containerStatuses[0].lastState?.terminated?.exitCode, 143);
    // The new run is probed afresh: its readiness probe passes at once (no initial delay).
    assert.equal(s.containerStatuses[0].ready, true);
    probes.stop();
    f.stop();
  });
});
