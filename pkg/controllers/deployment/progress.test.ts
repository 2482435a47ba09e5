import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { DeploymentCondition } from '../../../gen/navarch/api/v1/apps.js';
import type { Deployment } from '../../api/registry.js';
import { drainQueue, Fixture, rolloutStatus } from './fixture_test_util.js';

const progressing = (d: Deployment): DeploymentCondition => d.status!.conditions.find((c) => c.type === 'Progressing')!;
const available = (d: Deployment): DeploymentCondition => d.status!.conditions.find((c) => c.type === 'Available')!;
const sizes = async (f: Fixture) => (await f.replicaSets()).map((rs) => rs.spec!.replicas);

describe('pause and resume', () => {
  let f: Fixture;
  beforeEach(async () => (f = await Fixture.create()));
  afterEach(() => f.close());

  it('makes no rollout progress while paused, still scales, and rolls out on resume', async () => {
    await f.createDeployment('web', { replicas: 3 });
    await f.rollOutFully('web');
    await f.patchDeployment('web', { spec: { paused: true } });
    await f.sync('web');
    let d = await f.deployment('web');
    assert.deepEqual([progressing(d).status, progressing(d).reason, progressing(d).message], ['Unknown', 'DeploymentPaused', 'Deployment is paused']);

    await f.setImage('web', 'nginx:1.26');
    for (let i = 0; i < 3; i++) {
      await f.sync('web');
      await f.runReplicaSets();
    }
    assert.equal((await f.replicaSets()).length, 1, 'no new ReplicaSet while paused');
    d = await f.deployment('web');
    assert.equal(d.status!.observedGeneration, d.metadata!.generation);
    assert.equal(progressing(d).reason, 'DeploymentPaused');

    await f.patchDeployment('web', { spec: { replicas: 5 } });
    await f.sync('web');
    assert.deepEqual(await sizes(f), [5]);
    await f.runReplicaSets();
    await f.readyPods();
    await f.runReplicaSets();

    f.client.takeActions();
    await f.patchDeployment('web', { spec: { paused: false } });
    await f.sync('web');
    const reasons = f.client
      .takeActions()
      .filter((a) => a.subresource === 'status')
      .map((a) => progressing(a.body as Deployment).reason);
    assert.deepEqual(reasons.slice(0, 2), ['DeploymentResumed', 'NewReplicaSetCreated']);
    assert.equal((await f.replicaSets()).length, 2);
    for (let step = 0; step < 40 && !rolloutStatus(await f.deployment('web')).done; step++) {
      await f.sync('web');
      await f.runReplicaSets();
      await f.checkLimits('web', `after resume, step ${step}`);
      await f.readyPods(1);
      await f.runReplicaSets();
    }
    assert.ok(rolloutStatus(await f.deployment('web')).done);
    assert.deepEqual(await sizes(f), [0, 5]);
  });
});

describe('progressDeadlineSeconds', () => {
  let f: Fixture;
  beforeEach(async () => (f = await Fixture.create()));
  afterEach(() => f.close());

  it('marks a stuck rollout ProgressDeadlineExceeded once the deadline passes, and Progressing again when pods come up', async () => {
    await f.createDeployment('web', { replicas: 2, progressDeadlineSeconds: 60 });
    await f.rollOutFully('web');
    await f.setImage('web', 'nginx:broken');
    for (let i = 0; i < 3; i++) {
      await f.sync('web');
      await f.runReplicaSets();
    }
    let d = await f.deployment('web');
    assert.equal(progressing(d).reason, 'ReplicaSetUpdated');
    assert.equal(progressing(d).status, 'True');
    assert.match(progressing(d).message!, /^ReplicaSet "web-[a-z0-9]+" is progressing\.$/);

    // Nothing moves: the sync writes nothing and asks to look again when the deadline has passed.
    await drainQueue(f);
    f.client.takeActions();
    await f.sync('web');
    assert.deepEqual(f.client.takeSummary(), []);
    await f.clock.advance(30_000);
    assert.deepEqual(await drainQueue(f), []);
    await f.clock.advance(32_000);
    assert.deepEqual(await drainQueue(f), ['default/web']);

    await f.sync('web');
    d = await f.deployment('web');
    assert.equal(progressing(d).status, 'False');
    assert.equal(progressing(d).reason, 'ProgressDeadlineExceeded');
    assert.match(progressing(d).message!, /^ReplicaSet "web-[a-z0-9]+" has timed out progressing\.$/);
    assert.deepEqual(rolloutStatus(d), { done: false, message: 'deployment "web" exceeded its progress deadline' });
    // Timed out stays timed out while nothing moves, and is not requeued again.
    await f.caughtUp();
    await drainQueue(f);
    await f.sync('web');
    await f.clock.advance(120_000);
    assert.deepEqual(await drainQueue(f), []);

    await f.readyPods(1, 'web-');
    await f.runReplicaSets();
    await f.sync('web');
    d = await f.deployment('web');
    assert.equal(progressing(d).reason, 'ReplicaSetUpdated');
    assert.equal(progressing(d).status, 'True');
    await f.rollOutFully('web');
    d = await f.deployment('web');
    assert.equal(progressing(d).reason, 'NewReplicaSetAvailable');
    assert.equal(available(d).status, 'True');
  });

  it('keeps the deadline from expiring while the rollout keeps moving', async () => {
    await f.createDeployment('web', { replicas: 4, progressDeadlineSeconds: 60, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
    await f.rollOutFully('web');
    await f.setImage('web', 'nginx:1.26');
    for (let step = 0; step < 30 && !rolloutStatus(await f.deployment('web')).done; step++) {
      await f.sync('web');
      await f.runReplicaSets();
      await f.clock.advance(45_000);
      await f.readyPods(1);
      await f.runReplicaSets();
      assert.notEqual(progressing(await f.deployment('web')).reason, 'ProgressDeadlineExceeded');
    }
    assert.ok(rolloutStatus(await f.deployment('web')).done);
  });

  it('has no Progressing condition without a deadline', async () => {
    await f.createDeployment('web', { replicas: 1, progressDeadlineSeconds: 2147483647 });
    const d = await f.rollOutFully('web');
    assert.equal(progressing(d), undefined);
    assert.equal(available(d).reason, 'MinimumReplicasAvailable');
  });
});

describe('minReadySeconds', () => {
  let f: Fixture;
  beforeEach(async () => (f = await Fixture.create()));
  afterEach(() => f.close());

  it('passes minReadySeconds to the ReplicaSets and counts a pod only once it has been ready that long', async () => {
    await f.createDeployment('web', { replicas: 2, minReadySeconds: 10, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
    await f.sync('web');
    assert.equal((await f.replicaSets())[0].spec!.minReadySeconds, 10);
    await f.runReplicaSets();
    await f.readyPods();
    await f.runReplicaSets();
    await f.sync('web');
    let d = await f.deployment('web');
    assert.deepEqual([d.status!.readyReplicas, d.status!.availableReplicas], [2, 0]);
    assert.equal(rolloutStatus(d).message, 'Waiting for deployment "web" rollout to finish: 0 of 2 updated replicas are available...');
    await f.clock.advance(10_000);
    await f.runReplicaSets();
    await f.sync('web');
    d = await f.deployment('web');
    assert.ok(rolloutStatus(d).done);

    // A rolling update: the surged pod is ready but not yet available, so no old pod may go.
    await f.setImage('web', 'nginx:1.26');
    await f.sync('web');
    await f.runReplicaSets();
    await f.readyPods(1, (await f.replicaSets())[1].metadata!.name!);
    await f.runReplicaSets();
    await f.sync('web');
    assert.deepEqual(await sizes(f), [2, 1]);
    await f.clock.advance(10_000);
    await f.runReplicaSets();
    await f.sync('web');
    assert.deepEqual(await sizes(f), [1, 1]);
  });

  it('updates minReadySeconds on the current ReplicaSet without a new revision', async () => {
    await f.createDeployment('web', { replicas: 1 });
    await f.rollOutFully('web');
    await f.patchDeployment('web', { spec: { minReadySeconds: 5 } });
    await f.sync('web');
    const rss = await f.replicaSets();
    assert.equal(rss.length, 1);
    assert.equal(rss[0].spec!.minReadySeconds, 5);
  });
});
