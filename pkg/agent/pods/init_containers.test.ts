import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conditions, Fixture, states } from './fixture_test_util.js';

const IMAGE = 'busybox:1.36';

async function bed() {
  const f = await Fixture.create();
  f.runtime.addRegistryImage(IMAGE, { entrypoint: ['/bin/sh'] });
  return f;
}

const spec = (restartPolicy: string) => ({
  restartPolicy,
  initContainers: [
    { name: 'first', image: IMAGE },
    { name: 'second', image: IMAGE },
  ],
  containers: [{ name: 'app', image: IMAGE }],
});

describe('PodWorkers: init containers', () => {
  it('runs them one at a time, in order, before the containers', async () => {
    const f = await bed();
    const uid = (await f.createPod('p', spec('Always'))).metadata?.uid ?? '';
    await f.start();
    const created = () => f.runtime.calls.filter((c) => c.startsWith('create ')).map((c) => c.slice(`create ${uid}_`.length));
    assert.deepEqual(created(), ['first_0']);
    let s = await f.statusOf('p');
    assert.equal(s.phase, 'Pending');
    assert.deepEqual(conditions(s), ['PodScheduled=True', 'Initialized=False ContainersNotInitialized', 'ContainersReady=False ContainersNotReady', 'Ready=False ContainersNotReady']);
    assert.equal(s.conditions[1].message, 'containers with incomplete status: [first second]');
    assert.deepEqual(states(s.initContainerStatuses), ['first running', 'second waiting PodInitializing']);
    assert.deepEqual(states(s.containerStatuses), ['app waiting PodInitializing']);

    f.runtime.exitContainer(`${uid}_first_0`, 0);
    await f.settle();
    assert.deepEqual(created(), ['first_0', 'second_0']);
    s = await f.statusOf('p');
    assert.deepEqual(states(s.initContainerStatuses), ['first terminated 0 Completed', 'second running']);
    assert.equal(s.initContainerStatuses[0].ready, true);

    f.runtime.exitContainer(`${uid}_second_0`, 0);
    await f.settle();
    assert.deepEqual(created(), ['first_0', 'second_0', 'app_0']);
    s = await f.statusOf('p');
    assert.equal(s.phase, 'Running');
    assert.deepEqual(conditions(s), ['PodScheduled=True', 'Initialized=True', 'ContainersReady=True', 'Ready=True']);

    // An app restart does not run the init containers again.
    f.runtime.exitContainer(`${uid}_app_0`, 1);
    await f.settle();
    assert.deepEqual(created(), ['first_0', 'second_0', 'app_0', 'app_1']);
    f.stop();
  });

  it('fails the pod when an init container fails under restartPolicy Never; the containers never start', async () => {
    const f = await bed();
    const uid = (await f.createPod('p', spec('Never'))).metadata?.uid ?? '';
    await f.start();
    f.runtime.exitContainer(`${uid}_first_0`, 2);
    await f.settle();
    const s = await f.statusOf('p');
    assert.equal(s.phase, 'Failed');
    assert.deepEqual(states(s.initContainerStatuses), ['first terminated 2 Error', 'second waiting PodInitializing']);
    assert.deepEqual(states(s.containerStatuses), ['app waiting PodInitializing']);
    await f.advance(600_000);
    assert.equal(f.runtime.latest(uid, 'second'), undefined);
    assert.equal(f.runtime.latest(uid, 'app'), undefined);
    assert.equal(f.runtime.latest(uid, 'first')?.attempt, 0);
    f.stop();
  });

  it('retries a failing init container with backoff under Always and OnFailure, then goes on', async () => {
    for (const policy of ['Always', 'OnFailure']) {
      const f = await bed();
      const uid = (await f.createPod('p', spec(policy))).metadata?.uid ?? '';
      await f.start();
      f.runtime.exitContainer(`${uid}_first_0`, 1);
      await f.settle();
      assert.equal(f.runtime.latest(uid, 'first')?.attempt, 1, `${policy}: the first retry is immediate`);
      f.runtime.exitContainer(`${uid}_first_1`, 1);
      await f.settle();
      const s = await f.statusOf('p');
      assert.equal(s.phase, 'Pending', policy);
      assert.equal(s.initContainerStatuses[0].state?.waiting?.reason, 'CrashLoopBackOff');
      assert.equal(s.initContainerStatuses[0].restartCount, 1);
      assert.equal(s.initContainerStatuses[0].lastState?.terminated?.exitCode, 1);
      await f.advance(9_999);
      assert.equal(f.runtime.latest(uid, 'first')?.attempt, 1);
      await f.advance(1);
      f.runtime.exitContainer(`${uid}_first_2`, 0);
      await f.settle();
      f.runtime.exitContainer(`${uid}_second_0`, 0);
      await f.settle();
      assert.equal((await f.statusOf('p')).phase, 'Running', policy);
      f.stop();
    }
  });
});

describe('PodWorkers: sidecars (init containers with restartPolicy Always)', () => {
  it('starts a sidecar before the next init container, keeps it running beside the containers, and stops it when they complete', async () => {
    const f = await bed();
    const uid = (
      await f.createPod('job', {
        restartPolicy: 'Never',
        initContainers: [
          { name: 'proxy', image: IMAGE, restartPolicy: 'Always' },
          { name: 'setup', image: IMAGE },
        ],
        containers: [{ name: 'work', image: IMAGE }],
      })
    ).metadata?.uid ?? '';
    await f.start();
    assert.equal(f.runtime.latest(uid, 'proxy')?.phase, 'running');
    assert.equal(f.runtime.latest(uid, 'setup')?.phase, 'running', 'the next init container runs beside the sidecar');
    assert.equal(f.runtime.latest(uid, 'work'), undefined);
    f.runtime.exitContainer(`${uid}_setup_0`, 0);
    await f.settle();
    let s = await f.statusOf('job');
    assert.equal(s.phase, 'Running');
    assert.deepEqual(conditions(s).slice(1, 2), ['Initialized=True']);
    assert.deepEqual(states(s.initContainerStatuses), ['proxy running', 'setup terminated 0 Completed']);
    assert.equal(s.initContainerStatuses[0].ready, true);

    // The sidecar crashes: restarted even under Never, while the work goes on.
    f.runtime.exitContainer(`${uid}_proxy_0`, 1);
    await f.settle();
    assert.equal(f.runtime.latest(uid, 'proxy')?.attempt, 1);
    assert.equal(f.runtime.latest(uid, 'work')?.phase, 'running');

    f.runtime.exitContainer(`${uid}_work_0`, 0);
    await f.settle();
    s = await f.statusOf('job');
    assert.equal(s.phase, 'Succeeded');
    assert.equal(f.runtime.latest(uid, 'proxy')?.phase, 'exited', 'the sidecar got SIGTERM');
    await f.advance(600_000);
    assert.equal(f.runtime.latest(uid, 'proxy')?.attempt, 1, 'and is not restarted');
    f.stop();
  });
});
