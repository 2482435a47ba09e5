import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conditions, Fixture, HOST_IP, states } from './fixture_test_util.js';

const IMAGE = '127.0.0.1:5000/navarch/busybox:latest';

async function bed() {
  const f = await Fixture.create();
  f.runtime.addRegistryImage(IMAGE, { entrypoint: ['/bin/sh'], cmd: ['-c', 'echo image-cmd'], env: ['PATH=/bin', 'HOME=/root'], workingDir: '/' });
  return f;
}

describe('PodWorkers: a pod runs', () => {
  it('starts the containers and reports Running with the fields Kubernetes shows', async () => {
    const f = await bed();
    const p = await f.createPod('web', {
      containers: [
        { name: 'app', image: IMAGE, command: ['httpd', '-p', '$(PORT)'], env: [{ name: 'PORT', value: '8080' }], ports: [{ containerPort: 8080, hostPort: 30080 }] },
        { name: 'side', image: IMAGE, args: ['sleep', '$$(PORT)'] },
      ],
    });
    const uid = p.metadata?.uid ?? '';
    await f.start();
    const s = await f.statusOf('web');
    assert.equal(s.phase, 'Running');
    assert.deepEqual(conditions(s), ['PodScheduled=True', 'Initialized=True', 'ContainersReady=True', 'Ready=True']);
    assert.equal(s.podIP, '198.18.0.2');
    assert.deepEqual(s.podIPs, [{ ip: '198.18.0.2' }]);
    assert.equal(s.hostIP, HOST_IP);
    assert.equal(s.startTime, '2026-01-02T03:04:05Z');
    assert.deepEqual(states(s.containerStatuses), ['app running', 'side running']);
    const app = s.containerStatuses[0];
    assert.equal(app.containerID, `containerd://${uid}_app_0`);
    assert.equal(app.ready, true);
    assert.equal(app.started, true);
    assert.equal(app.restartCount, 0);
    assert.equal(app.image, IMAGE);
    assert.match(app.imageID ?? '', /^127\.0\.0\.1:5000\/navarch\/busybox@sha256:[0-9a-f]{64}$/);
    // argv: command replaces the entrypoint and drops the image's cmd; args alone keep the entrypoint.
    assert.deepEqual(f.runtime.configOf(`${uid}_app_0`)?.argv, ['httpd', '-p', '8080']);
    assert.deepEqual(f.runtime.configOf(`${uid}_side_0`)?.argv, ['/bin/sh', 'sleep', '$(PORT)']);
    const cfg = f.runtime.configOf(`${uid}_app_0`);
    assert.deepEqual(cfg?.env, [
      { name: 'PATH', value: '/bin' },
      { name: 'HOME', value: '/root' },
      { name: 'PORT', value: '8080' },
    ]);
    assert.equal(cfg?.logPath, `/pods/default_web_${uid}/app/0.log`);
    assert.equal(cfg?.netnsPath, `/var/run/netns/navarch-${uid}`);
    assert.equal(cfg?.hostname, 'web');
    assert.deepEqual(f.network.requests.get(uid)?.portMappings, [{ hostPort: 30080, containerPort: 8080, protocol: 'tcp' }]);
    assert.deepEqual(f.errors, []);
    f.stop();
  });

  it('writes the status only when it changes', async () => {
    const f = await bed();
    await f.createPod('web', { containers: [{ name: 'app', image: IMAGE }] });
    await f.start();
    assert.ok(f.takeStatusWrites().length >= 1);
    // Resyncs of an unchanged pod: no write at all.
    await f.advance(60_000);
    await f.settle();
    assert.deepEqual(f.takeStatusWrites(), []);
    // Readiness changes: one write, Ready=False with the container's name.
    const uid = (await f.pod('web')).metadata?.uid ?? '';
    f.readiness.ready.set(`${uid}/app`, false);
    f.workers.requestSync(uid);
    await f.settle();
    assert.deepEqual(f.takeStatusWrites(), ['update pods default/web status']);
    const s = await f.statusOf('web');
    assert.deepEqual(conditions(s), ['PodScheduled=True', 'Initialized=True', 'ContainersReady=False ContainersNotReady', 'Ready=False ContainersNotReady']);
    assert.equal(s.conditions[3].message, 'containers with unready status: [app]');
    assert.equal(s.phase, 'Running');
    f.stop();
  });

  it('keeps a container with a readiness probe unready until the prober says otherwise', async () => {
    const f = await bed();
    await f.createPod('web', { containers: [{ name: 'app', image: IMAGE, readinessProbe: { tcpSocket: { port: 80 } } }] });
    await f.start();
    assert.equal((await f.statusOf('web')).containerStatuses[0].ready, false);
    const uid = (await f.pod('web')).metadata?.uid ?? '';
    f.readiness.ready.set(`${uid}/app`, true);
    f.workers.requestSync(uid);
    await f.settle();
    assert.deepEqual(conditions(await f.statusOf('web')).slice(2), ['ContainersReady=True', 'Ready=True']);
    f.stop();
  });
});

describe('PodWorkers: restartPolicy', () => {
  it('Always restarts an exited container, counting restarts and keeping lastState', async () => {
    const f = await bed();
    const uid = (await f.createPod('web', { containers: [{ name: 'app', image: IMAGE }] })).metadata?.uid ?? '';
    await f.start();
    await f.advance(5000);
    f.runtime.exitContainer(`${uid}_app_0`, 0);
    await f.settle();
    const s = await f.statusOf('web');
    assert.equal(s.phase, 'Running');
    const app = s.containerStatuses[0];
    assert.equal(app.restartCount, 1);
    assert.ok(app.state?.running);
    const t = app.lastState?.terminated;
    assert.deepEqual({ exitCode: t?.exitCode, reason: t?.reason, startedAt: t?.startedAt, finishedAt: t?.finishedAt, containerID: t?.containerID }, {
      exitCode: 0,
      reason: 'Completed',
      startedAt: '2026-01-02T03:04:05Z',
      finishedAt: '2026-01-02T03:04:10Z',
      containerID: `containerd://${uid}_app_0`,
    });
    assert.equal(app.containerID, `containerd://${uid}_app_1`);
    f.stop();
  });

  it('OnFailure restarts a failed container and ends Succeeded when it exits 0', async () => {
    const f = await bed();
    const uid = (await f.createPod('job', { restartPolicy: 'OnFailure', containers: [{ name: 'work', image: IMAGE }] })).metadata?.uid ?? '';
    await f.start();
    f.runtime.exitContainer(`${uid}_work_0`, 1);
    await f.settle();
    let s = await f.statusOf('job');
    assert.equal(s.phase, 'Running');
    assert.equal(s.containerStatuses[0].restartCount, 1);
    assert.equal(s.containerStatuses[0].lastState?.terminated?.reason, 'Error');
    f.runtime.exitContainer(`${uid}_work_1`, 0);
    await f.settle();
    s = await f.statusOf('job');
    assert.equal(s.phase, 'Succeeded');
    assert.deepEqual(states(s.containerStatuses), ['work terminated 0 Completed']);
    assert.deepEqual(conditions(s).slice(2), ['ContainersReady=False PodCompleted', 'Ready=False PodCompleted']);
    // Nothing runs again, however long we wait, and the pod's IP went back to the pool.
    f.runtime.takeCalls();
    await f.advance(600_000);
    assert.deepEqual(f.runtime.takeCalls(), []);
    assert.deepEqual(await f.network.list(), []);
    assert.equal((await f.statusOf('job')).podIP, '198.18.0.2', 'the status keeps the IP it had');
    f.stop();
  });

  it('Never leaves a failed container stopped and the pod Failed', async () => {
    const f = await bed();
    const uid = (await f.createPod('once', { restartPolicy: 'Never', containers: [{ name: 'a', image: IMAGE }, { name: 'b', image: IMAGE }] })).metadata?.uid ?? '';
    await f.start();
    f.runtime.exitContainer(`${uid}_a_0`, 3);
    await f.settle();
    assert.equal((await f.statusOf('once')).phase, 'Running', 'b still runs');
    f.runtime.exitContainer(`${uid}_b_0`, 0);
    await f.settle();
    const s = await f.statusOf('once');
    assert.equal(s.phase, 'Failed');
    assert.deepEqual(states(s.containerStatuses), ['a terminated 3 Error', 'b terminated 0 Completed']);
    assert.equal(f.runtime.latest(uid, 'a')?.attempt, 0, 'never restarted');
    f.stop();
  });

  it('Never with every container exiting 0 is Succeeded; OOMKilled is the runtime\'s reason', async () => {
    const f = await bed();
    const uid = (await f.createPod('once', { restartPolicy: 'Never', containers: [{ name: 'a', image: IMAGE }] })).metadata?.uid ?? '';
    await f.start();
    f.runtime.exitContainer(`${uid}_a_0`, 0);
    await f.settle();
    assert.equal((await f.statusOf('once')).phase, 'Succeeded');
    const uid2 = (await f.createPod('big', { restartPolicy: 'Never', containers: [{ name: 'a', image: IMAGE }] })).metadata?.uid ?? '';
    await f.settle();
    f.runtime.exitContainer(`${uid2}_a_0`, 137, 'OOMKilled');
    await f.settle();
    const s = await f.statusOf('big');
    assert.equal(s.phase, 'Failed');
    assert.deepEqual(states(s.containerStatuses), ['a terminated 137 OOMKilled']);
    f.stop();
  });
});

describe('PodWorkers: CrashLoopBackOff', () => {
  it('restarts at once after the first crash, then waits 10 s, 20 s, 40 s ... up to 5 min', async () => {
    const f = await bed();
    const uid = (await f.createPod('crash', { containers: [{ name: 'app', image: IMAGE }] })).metadata?.uid ?? '';
    await f.start();
    const crash = async (attempt: number) => {
      f.runtime.exitContainer(`${uid}_app_${attempt}`, 1);
      await f.settle();
    };
    await crash(0);
    assert.equal(f.runtime.latest(uid, 'app')?.attempt, 1, 'the first restart is immediate');
    const expected = [10, 20, 40, 80, 160, 300, 300];
    for (let i = 0; i < expected.length; i++) {
      await crash(i + 1);
      const s = await f.statusOf('crash');
      const app = s.containerStatuses[0];
      assert.equal(app.state?.waiting?.reason, 'CrashLoopBackOff');
      const d = expected[i];
      assert.match(app.state?.waiting?.message ?? '', new RegExp(`^back-off ${d < 60 ? `${d}s` : `${Math.floor(d / 60)}m${d % 60}s`} restarting failed container=app pod=crash_default\\(${uid}\\)$`));
      assert.equal(app.restartCount, i + 1);
      assert.equal(app.lastState?.terminated?.exitCode, 1);
      assert.equal(s.phase, 'Running', 'a crash-looping pod under Always is Running');
      assert.deepEqual(conditions(s).slice(3), ['Ready=False ContainersNotReady']);
      await f.advance(d * 1000 - 1);
      assert.equal(f.runtime.latest(uid, 'app')?.attempt, i + 1, `no restart before ${d} s`);
      await f.advance(1);
      assert.equal(f.runtime.latest(uid, 'app')?.attempt, i + 2, `restarted after ${d} s`);
      assert.equal(f.runtime.latest(uid, 'app')?.phase, 'running');
    }
    f.stop();
  });

  it('starts over from 10 s once a container ran for 10 minutes', async () => {
    const f = await bed();
    const uid = (await f.createPod('crash', { containers: [{ name: 'app', image: IMAGE }] })).metadata?.uid ?? '';
    await f.start();
    f.runtime.exitContainer(`${uid}_app_0`, 1);
    await f.settle();
    f.runtime.exitContainer(`${uid}_app_1`, 1);
    await f.settle();
    await f.advance(10_000);
    f.runtime.exitContainer(`${uid}_app_2`, 1);
    await f.settle();
    assert.match((await f.statusOf('crash')).containerStatuses[0].state?.waiting?.message ?? '', /^back-off 20s/);
    await f.advance(20_000);
    // Attempt 3 runs for just over 10 minutes: its exit restarts it at once, and the next wait is 10 s.
    await f.advance(600_001);
    f.runtime.exitContainer(`${uid}_app_3`, 1);
    await f.settle();
    assert.equal(f.runtime.latest(uid, 'app')?.attempt, 4);
    f.runtime.exitContainer(`${uid}_app_4`, 1);
    await f.settle();
    assert.match((await f.statusOf('crash')).containerStatuses[0].state?.waiting?.message ?? '', /^back-off 10s/);
    f.stop();
  });

  it('keeps only the current and the previous run of a container', async () => {
    const f = await bed();
    const uid = (await f.createPod('crash', { containers: [{ name: 'app', image: IMAGE }] })).metadata?.uid ?? '';
    await f.start();
    for (let i = 0; i < 4; i++) {
      f.runtime.exitContainer(`${uid}_app_${i}`, 1);
      await f.advance(300_000);
    }
    const ids = (await f.runtime.listContainers()).map((c) => c.id).sort();
    assert.deepEqual(ids, [`${uid}_app_3`, `${uid}_app_4`]);
    f.stop();
  });

  it('shows a start failure (no such command) with its message, then backs off', async () => {
    const f = await bed();
    const uid = (await f.createPod('bad', { containers: [{ name: 'app', image: IMAGE, command: ['nope'] }] })).metadata?.uid ?? '';
    f.runtime.failNext('start', `${uid}_app`, new Error('exec: "nope": executable file not found in $PATH'));
    f.runtime.failNext('start', `${uid}_app`, new Error('exec: "nope": executable file not found in $PATH'));
    await f.workers.start([await f.pod('bad')]);
    await f.workers.idle();
    await f.status.idle();
    let app = (await f.statusOf('bad')).containerStatuses[0];
    assert.deepEqual(app.state?.waiting, { reason: 'RunContainerError', message: 'exec: "nope": executable file not found in $PATH' });
    // The first retry is immediate (it fails again), the next one waits.
    await f.settle();
    app = (await f.statusOf('bad')).containerStatuses[0];
    assert.equal(app.state?.waiting?.reason, 'CrashLoopBackOff');
    await f.advance(10_000);
    assert.equal(f.runtime.latest(uid, 'app')?.phase, 'running');
    assert.equal((await f.statusOf('bad')).phase, 'Running');
    f.stop();
  });
});

describe('PodWorkers: pod updates', () => {
  it('restarts a container with the new image when the pod\'s image changes, even under restartPolicy Never', async () => {
    const f = await bed();
    f.runtime.addRegistryImage(`${IMAGE}-v2`, { entrypoint: ['/bin/sh'] });
    const uid = (await f.createPod('web', { restartPolicy: 'Never', containers: [{ name: 'app', image: IMAGE, imagePullPolicy: 'IfNotPresent' }, { name: 'side', image: IMAGE, imagePullPolicy: 'IfNotPresent' }] })).metadata?.uid ?? '';
    await f.start();
    const p = await f.pod('web');
    const containers = p.spec?.containers ?? [];
    await f.t.server.update({ object: { ...p, spec: { ...p.spec!, containers: [{ ...containers[0], image: `${IMAGE}-v2` }, containers[1]] } } });
    await f.settle();
    const app = f.runtime.latest(uid, 'app');
    assert.equal(app?.attempt, 1);
    assert.equal(app?.image, `${IMAGE}-v2`);
    assert.equal(app?.phase, 'running');
    assert.equal(f.runtime.latest(uid, 'side')?.attempt, 0, 'the other container is left alone');
    const s = await f.statusOf('web');
    assert.equal(s.phase, 'Running');
    assert.equal(s.containerStatuses[0].restartCount, 1);
    assert.equal(s.containerStatuses[0].image, `${IMAGE}-v2`);
    f.stop();
  });
});
