import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildContainerConfig } from './container_config.js';
import { Fixture, HOST_IP, states } from './fixture_test_util.js';

const IMAGE = 'busybox:1.36';

async function bed(o: Parameters<typeof Fixture.create>[0] = {}) {
  const f = await Fixture.create(o);
  f.runtime.addRegistryImage(IMAGE, { entrypoint: ['/bin/sh'] });
  return f;
}

describe('PodWorkers: graceful deletion', () => {
  it('sends SIGTERM, SIGKILL only after the grace period, then removes everything and deletes the pod', async () => {
    const f = await bed();
    f.runtime.ignoreSigterm('stubborn');
    const uid = (await f.createPod('web', { terminationGracePeriodSeconds: 20, containers: [{ name: 'stubborn', image: IMAGE }, { name: 'polite', image: IMAGE }] })).metadata?.uid ?? '';
    await f.start();
    f.runtime.takeCalls();
    await f.deletePod('web');
    await f.settle();
    assert.deepEqual(f.runtime.takeCalls(), [`signal ${uid}_stubborn_0 SIGTERM`, `signal ${uid}_polite_0 SIGTERM`]);
    assert.equal(f.runtime.latest(uid, 'polite')?.phase, 'exited');
    assert.equal(f.runtime.latest(uid, 'polite')?.attempt, 0, 'a terminating pod restarts nothing');
    assert.equal(await f.podGone('web'), false);

    await f.advance(19_999);
    assert.deepEqual(f.runtime.takeCalls(), [], 'no SIGKILL before the grace period ends');
    assert.equal(f.runtime.latest(uid, 'stubborn')?.phase, 'running');

    await f.advance(1);
    assert.deepEqual(f.runtime.takeCalls(), [`signal ${uid}_stubborn_0 SIGKILL`, `remove ${uid}_stubborn_0`, `remove ${uid}_polite_0`]);
    assert.deepEqual(f.network.calls.slice(-1), [`tearDown ${uid}`]);
    assert.deepEqual(f.volumes.tornDown, [uid]);
    assert.equal(f.logs.pods.has(uid), false, 'its logs are removed');
    assert.equal(await f.podGone('web'), true, 'the pod object is deleted');
    assert.equal(f.workers.podCount, 0);
    f.stop();
  });

  it('finishes at once when every container exits on SIGTERM', async () => {
    const f = await bed();
    const uid = (await f.createPod('web', { containers: [{ name: 'app', image: IMAGE }] })).metadata?.uid ?? '';
    await f.start();
    await f.deletePod('web');
    await f.settle();
    assert.equal(await f.podGone('web'), true);
    assert.deepEqual(await f.runtime.listContainers(), []);
    assert.ok(!f.runtime.calls.includes(`signal ${uid}_app_0 SIGKILL`));
    f.stop();
  });

  it('uses the delete\'s shorter grace period', async () => {
    const f = await bed();
    f.runtime.ignoreSigterm('app');
    const uid = (await f.createPod('web', { containers: [{ name: 'app', image: IMAGE }] })).metadata?.uid ?? '';
    await f.start();
    await f.deletePod('web', 5);
    await f.settle();
    await f.advance(4_999);
    assert.equal(f.runtime.latest(uid, 'app')?.phase, 'running');
    await f.advance(1);
    assert.equal(await f.podGone('web'), true);
    f.stop();
  });

  it('kills a pod that is gone from the API at once', async () => {
    const f = await bed();
    f.runtime.ignoreSigterm('app');
    const uid = (await f.createPod('web', { containers: [{ name: 'app', image: IMAGE }] })).metadata?.uid ?? '';
    await f.start();
    f.runtime.takeCalls();
    await f.deletePod('web', 0);
    await f.settle();
    assert.deepEqual(f.runtime.takeCalls(), [`signal ${uid}_app_0 SIGKILL`, `remove ${uid}_app_0`]);
    assert.deepEqual(await f.network.list(), []);
    assert.equal(f.workers.podCount, 0);
    f.stop();
  });
});

describe('PodWorkers: restart recovery', () => {
  it('adopts the containers that run, starts no duplicate, and removes those of pods that are gone', async () => {
    const f = await bed();
    const keep = (await f.createPod('keep', { containers: [{ name: 'app', image: IMAGE }] })).metadata?.uid ?? '';
    const crashy = (await f.createPod('crashy', { containers: [{ name: 'app', image: IMAGE }] })).metadata?.uid ?? '';
    const doomed = (await f.createPod('doomed', { containers: [{ name: 'app', image: IMAGE }] })).metadata?.uid ?? '';
    await f.start();
    f.runtime.exitContainer(`${crashy}_app_0`, 1);
    await f.settle();
    f.runtime.exitContainer(`${crashy}_app_1`, 1);
    await f.settle();
    const before = await f.statusOf('keep');

    // The agent stops; meanwhile "doomed" is deleted for good, and a namespace of an unknown pod is left over.
    f.stop();
    await f.deletePod('doomed', 0);
    f.network.addExisting('uid-ghost', '198.18.0.99');
    const g = await Fixture.create({ from: f });
    g.runtime.takeCalls();
    await g.start();

    const calls = g.runtime.takeCalls();
    assert.deepEqual(
      calls.filter((c) => c.includes(doomed)),
      [`signal ${doomed}_app_0 SIGKILL`, `remove ${doomed}_app_0`],
    );
    assert.deepEqual(
      calls.filter((c) => c.startsWith('create') || c.startsWith('start')),
      [`create ${crashy}_app_2`, `start ${crashy}_app_2`],
      'nothing that runs is started again; the crash-looping container is restarted (its backoff, in memory as the kubelet\'s, started over)',
    );
    assert.deepEqual((await g.network.list()).sort(), [crashy, keep].sort());
    assert.ok(g.volumes.tornDown.includes(doomed) && g.volumes.tornDown.includes('uid-ghost'));
    assert.equal(g.workers.stats.orphansRemoved, 3, 'the container and namespace of doomed, and the namespace of the ghost');
    const after = await g.statusOf('keep');
    assert.deepEqual(states(after.containerStatuses), ['app running']);
    assert.equal(after.podIP, before.podIP);
    assert.equal(after.containerStatuses[0].containerID, `containerd://${keep}_app_0`);
    // The crash-looping container's count goes on from its runs' labels.
    assert.equal((await g.statusOf('crashy')).containerStatuses[0].restartCount, 2);
    assert.equal((await g.runtime.listContainers()).filter((x) => x.phase === 'running').length, 2);
    g.stop();
  });

  it('starts a container that was created but not started when the agent stopped', async () => {
    const f = await bed();
    const pod = await f.createPod('web', { containers: [{ name: 'app', image: IMAGE }] });
    const uid = pod.metadata?.uid ?? '';
    // What the agent left: the container made, never started.
    const image = await f.runtime.pullImage(IMAGE);
    await f.runtime.createContainer(buildContainerConfig({ pod, container: pod.spec?.containers[0] ?? { name: 'app', command: [], args: [], ports: [], env: [], envFrom: [], volumeMounts: [] }, init: false, attempt: 0, image, env: [], mounts: [], netnsPath: '', logPath: '/x' }));
    f.runtime.takeCalls();
    await f.start();
    assert.deepEqual(f.runtime.takeCalls(), [`start ${uid}_app_0`]);
    assert.equal(f.runtime.latest(uid, 'app')?.phase, 'running');
    f.stop();
  });
});

describe('PodWorkers: admission and preparation', () => {
  it('refuses a pod that does not fit, and never starts it', async () => {
    const f = await bed({ allocatable: { cpu: '1', memory: '1Gi', ephemeralStorage: '10Gi', pods: '10' } });
    await f.createPod('small', { containers: [{ name: 'app', image: IMAGE, resources: { requests: { cpu: '600m' } } }] });
    await f.start();
    const uid = (await f.createPod('big', { containers: [{ name: 'app', image: IMAGE, resources: { requests: { cpu: '500m' } } }] })).metadata?.uid ?? '';
    await f.settle();
    const s = await f.statusOf('big');
    assert.equal(s.phase, 'Failed');
    assert.equal(s.reason, 'OutOfcpu');
    assert.equal(f.runtime.latest(uid, 'app'), undefined);
    f.stop();
  });

  it('shows CreateContainerConfigError with the error naming the field, and starts once it is fixed', async () => {
    const f = await bed();
    await f.createPod('web', { containers: [{ name: 'app', image: IMAGE, env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'x' } } }] }] });
    await f.start();
    const w = (await f.statusOf('web')).containerStatuses[0].state?.waiting;
    assert.equal(w?.reason, 'CreateContainerConfigError');
    assert.equal(w?.message, 'spec.containers[0].env[0].valueFrom.configMapKeyRef: configmap "cfg" not found');
    await f.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { x: 'hello' } });
    await f.advance(5_000);
    const uid = (await f.pod('web')).metadata?.uid ?? '';
    assert.equal(f.runtime.latest(uid, 'app')?.phase, 'running');
    assert.deepEqual(f.runtime.configOf(`${uid}_app_0`)?.env.find((e) => e.name === 'X'), { name: 'X', value: 'hello' });
    f.stop();
  });

  it('waits in ContainerCreating while the pod network cannot be set up, retrying with backoff', async () => {
    const f = await bed();
    const p = await f.createPod('web', { containers: [{ name: 'app', image: IMAGE, volumeMounts: [{ name: 'data', mountPath: '/data' }] }], volumes: [{ name: 'data', emptyDir: {} }] });
    const uid = p.metadata?.uid ?? '';
    f.network.failNextSetUp(uid, new Error('no IP addresses available in range'));
    await f.start();
    const w = (await f.statusOf('web')).containerStatuses[0].state?.waiting;
    assert.equal(w?.reason, 'ContainerCreating');
    assert.equal(w?.message, 'Failed to create pod sandbox: no IP addresses available in range');
    await f.advance(9_999);
    assert.equal(f.runtime.latest(uid, 'app'), undefined);
    await f.advance(1);
    assert.equal(f.runtime.latest(uid, 'app')?.phase, 'running');
    assert.deepEqual(f.runtime.configOf(`${uid}_app_0`)?.mounts, [{ hostPath: `/vol/${uid}/data`, containerPath: '/data', readOnly: false }]);
    f.stop();
  });

  it('gives a hostNetwork pod the node\'s address and namespace', async () => {
    const f = await bed();
    const uid = (await f.createPod('host', { hostNetwork: true, containers: [{ name: 'app', image: IMAGE }] })).metadata?.uid ?? '';
    await f.start();
    const s = await f.statusOf('host');
    assert.equal(s.podIP, HOST_IP);
    assert.deepEqual(f.network.calls, []);
    assert.equal(f.runtime.configOf(`${uid}_app_0`)?.netnsPath, '/proc/1/ns/net');
    f.stop();
  });

  it('tells the stream server where a container\'s logs are and which run is current', async () => {
    const f = await bed();
    const uid = (await f.createPod('web', { containers: [{ name: 'app', image: IMAGE }] })).metadata?.uid ?? '';
    await f.start();
    assert.deepEqual(await f.workers.lookup({ namespace: 'default', name: 'web', uid: '', container: 'app' }), { logDir: `/pods/default_web_${uid}/app`, containerId: `${uid}_app_0` });
    assert.equal(await f.workers.lookup({ namespace: 'default', name: 'web', uid: '', container: 'nope' }), undefined);
    assert.equal(await f.workers.lookup({ namespace: 'default', name: 'web', uid: 'other', container: 'app' }), undefined);
    f.stop();
  });
});

describe('PodWorkers: liveness restarts', () => {
  it('kills a container the prober reports, SIGKILL after the grace period, and restartPolicy decides what follows', async () => {
    for (const policy of ['Always', 'Never']) {
      const f = await bed();
      f.runtime.ignoreSigterm('app');
      const uid = (await f.createPod('web', { restartPolicy: policy, terminationGracePeriodSeconds: 3, containers: [{ name: 'app', image: IMAGE }] })).metadata?.uid ?? '';
      await f.start();
      f.runtime.takeCalls();
      await f.workers.restartContainer(uid, 'app', 'Liveness probe failed: HTTP probe failed with statuscode: 500');
      await f.settle();
      assert.deepEqual(f.runtime.takeCalls(), [`signal ${uid}_app_0 SIGTERM`]);
      await f.advance(2_999);
      assert.equal(f.runtime.latest(uid, 'app')?.phase, 'running', policy);
      await f.advance(1);
      const s = await f.statusOf('web');
      if (policy === 'Always') {
        assert.equal(f.runtime.latest(uid, 'app')?.attempt, 1);
        assert.equal(s.containerStatuses[0].restartCount, 1);
        assert.equal(s.containerStatuses[0].lastState?.terminated?.exitCode, 137);
        assert.equal(s.phase, 'Running');
      } else {
        assert.deepEqual(states(s.containerStatuses), ['app terminated 137 Error']);
        assert.equal(s.phase, 'Failed');
      }
      f.stop();
    }
  });
});

describe('PodWorkers: activeDeadlineSeconds', () => {
  it('fails the pod with DeadlineExceeded and stops its containers once the deadline passes', async () => {
    const f = await bed();
    const uid = (await f.createPod('slow', { activeDeadlineSeconds: 60, restartPolicy: 'Never', containers: [{ name: 'app', image: IMAGE }] })).metadata?.uid ?? '';
    await f.start();
    await f.advance(59_999);
    assert.equal((await f.statusOf('slow')).phase, 'Running');
    await f.advance(1);
    const s = await f.statusOf('slow');
    assert.equal(s.phase, 'Failed');
    assert.equal(s.reason, 'DeadlineExceeded');
    assert.equal(s.message, 'Pod was active on the node longer than the specified deadline');
    assert.equal(f.runtime.latest(uid, 'app')?.phase, 'exited');
    assert.equal(f.runtime.latest(uid, 'app')?.attempt, 0);
    f.stop();
  });
});

describe('PodWorkers: pods ended by others', () => {
  it('stops the containers of a pod whose phase the API shows Failed, and never writes over it', async () => {
    const f = await bed();
    const uid = (await f.createPod('web', { containers: [{ name: 'app', image: IMAGE }] })).metadata?.uid ?? '';
    await f.start();
    const p = await f.pod('web');
    await f.t.server.updateStatus({ object: { ...p, status: { ...p.status!, phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' } } });
    f.takeStatusWrites();
    await f.settle();
    assert.equal(f.runtime.latest(uid, 'app')?.phase, 'exited');
    const s = await f.statusOf('web');
    assert.equal(s.phase, 'Failed');
    assert.equal(s.reason, 'Evicted');
    await f.advance(600_000);
    assert.equal(f.runtime.latest(uid, 'app')?.attempt, 0, 'not restarted');
    assert.deepEqual(f.takeStatusWrites(), []);
    assert.deepEqual(await f.network.list(), []);
    f.stop();
  });
});
