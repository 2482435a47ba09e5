import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ReplicaSet } from '../../api/registry.js';
import { Fixture, revision, rolloutStatus } from './fixture_test_util.js';

const sizes = (rss: ReplicaSet[]) => rss.map((rs) => rs.spec!.replicas);

/**
 * Rolls `web` from nginx:1.25 to nginx:1.26, making `readyPerStep` new pods ready per step, and
 * checks maxSurge and maxUnavailable after every change; returns the number of steps.
 */
async function stepRollout(f: Fixture, readyPerStep: number, maxSteps = 200): Promise<number> {
  await f.setImage('web', 'nginx:1.26');
  for (let step = 1; step <= maxSteps; step++) {
    await f.sync('web');
    await f.checkLimits('web', `step ${step} after sync`);
    await f.runReplicaSets();
    await f.checkLimits('web', `step ${step} after the ReplicaSets acted`);
    await f.readyPods(readyPerStep);
    await f.runReplicaSets();
    await f.checkLimits('web', `step ${step} after ${readyPerStep} pods became ready`);
    if (rolloutStatus(await f.deployment('web')).done) return step;
  }
  throw new Error(`rollout did not finish in ${maxSteps} steps`);
}

async function assertRolledOut(f: Fixture, replicas: number): Promise<void> {
  const d = await f.deployment('web');
  assert.deepEqual(rolloutStatus(d), { done: true, message: 'deployment "web" successfully rolled out' });
  const rss = await f.replicaSets();
  assert.equal(rss.length, 2);
  assert.deepEqual(sizes(rss), [0, replicas]);
  assert.equal(rss[1].spec!.template!.spec!.containers[0].image, 'nginx:1.26');
  assert.deepEqual([revision(rss[0]), revision(rss[1]), revision(d)], ['1', '2', '2']);
  assert.deepEqual([d.status!.replicas, d.status!.updatedReplicas, d.status!.readyReplicas, d.status!.availableReplicas, d.status!.unavailableReplicas], [replicas, replicas, replicas, replicas, 0]);
  assert.equal(d.status!.observedGeneration, d.metadata!.generation);
  const pods = await f.pods();
  assert.equal(pods.length, replicas);
  assert.ok(pods.every((p) => p.spec!.containers[0].image === 'nginx:1.26'));
}

describe('RollingUpdate', () => {
  let f: Fixture;
  beforeEach(async () => (f = await Fixture.create()));
  afterEach(() => f.close());

  for (const [label, strategy, replicas, readyPerStep] of [
    ['default 25%/25% of 10', undefined, 10, 1],
    ['maxSurge 0, maxUnavailable 1', { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }, 5, 1],
    ['maxSurge 1, maxUnavailable 0', { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, 4, 1],
    ['maxSurge 30%, maxUnavailable 10% of 7 (surge 3, unavailable 0)', { type: 'RollingUpdate', rollingUpdate: { maxSurge: '30%', maxUnavailable: '10%' } }, 7, 2],
    ['maxSurge 50%, maxUnavailable 50% of 6, all new pods ready at once', { type: 'RollingUpdate', rollingUpdate: { maxSurge: '50%', maxUnavailable: '50%' } }, 6, 100],
  ] as const) {
    it(`respects maxSurge and maxUnavailable at every step: ${label}`, async () => {
      await f.createDeployment('web', { replicas, strategy: strategy as Record<string, unknown> | undefined });
      await f.rollOutFully('web');
      await stepRollout(f, readyPerStep);
      await assertRolledOut(f, replicas);
    });
  }

  it('surges first, then scales the old ReplicaSet down by what availability allows (10 replicas, 3 surge, 2 unavailable)', async () => {
    await f.createDeployment('web', { replicas: 10, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } });
    await f.rollOutFully('web');
    f.recorder.take();
    await f.setImage('web', 'nginx:1.26');
    // Created at 3 (10 + 3 surge), and 13 - 8 minimum available - 3 new unavailable = 2 old may go.
    await f.sync('web');
    assert.deepEqual(sizes(await f.replicaSets()), [8, 3]);
    await f.runReplicaSets();
    await f.sync('web');
    assert.deepEqual(sizes(await f.replicaSets()), [8, 5]);
    await f.runReplicaSets();
    // No new pod is available: nothing more may go, nothing more may come.
    await f.sync('web');
    assert.deepEqual(sizes(await f.replicaSets()), [8, 5]);
    const [oldRS, newRS] = (await f.replicaSets()).map((rs) => rs.metadata!.name);
    assert.deepEqual(f.recorder.take(), [
      `Normal ScalingReplicaSet Scaled up replica set ${newRS} to 3`,
      `Normal ScalingReplicaSet Scaled down replica set ${oldRS} to 8 from 10`,
      `Normal ScalingReplicaSet Scaled up replica set ${newRS} to 5 from 3`,
    ]);
    const d = await f.deployment('web');
    assert.equal(rolloutStatus(d).message, 'Waiting for deployment "web" rollout to finish: 5 out of 10 new replicas have been updated...');
    assert.deepEqual([d.status!.replicas, d.status!.updatedReplicas, d.status!.availableReplicas, d.status!.unavailableReplicas], [13, 5, 8, 5]);
  });

  it('scales proportionally across old and new ReplicaSets when replicas change mid-rollout (the Kubernetes docs example)', async () => {
    await f.createDeployment('web', { replicas: 10, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } });
    await f.rollOutFully('web');
    await f.setImage('web', 'nginx:does-not-exist');
    for (let i = 0; i < 4; i++) {
      await f.sync('web');
      await f.runReplicaSets();
    }
    assert.deepEqual(sizes(await f.replicaSets()), [8, 5]);
    await f.patchDeployment('web', { spec: { replicas: 15 } });
    await f.sync('web');
    // 5 more: 3 to the old ReplicaSet (8 of 13), 2 to the new one (5 of 13).
    const rss = await f.replicaSets();
    assert.deepEqual(sizes(rss), [11, 7]);
    for (const rs of rss) {
      assert.equal(rs.metadata!.annotations['deployment.kubernetes.io/desired-replicas'], '15');
      assert.equal(rs.metadata!.annotations['deployment.kubernetes.io/max-replicas'], '18');
    }
    await f.runReplicaSets();
    await f.checkLimits('web', 'after scaling up mid-rollout', { availability: false });
    // And down: 18 → 8 + 3 surge = 11 pods allowed, taken mostly from the larger old ReplicaSet.
    await f.patchDeployment('web', { spec: { replicas: 8 } });
    await f.sync('web');
    const down = sizes(await f.replicaSets());
    assert.equal(down[0]! + down[1]!, 11);
    assert.deepEqual(down, [7, 4]);
    await f.runReplicaSets();
    await f.checkLimits('web', 'after scaling down mid-rollout', { availability: false });
    // The rollout then completes once the new pods come up.
    for (let i = 0; i < 30 && !rolloutStatus(await f.deployment('web')).done; i++) {
      await f.sync('web');
      await f.runReplicaSets();
      await f.checkLimits('web', `finishing, step ${i}`);
      await f.readyPods(1);
      await f.runReplicaSets();
    }
    assert.ok(rolloutStatus(await f.deployment('web')).done);
    assert.deepEqual(sizes(await f.replicaSets()), [0, 8]);
  });

  it('scales to 0 and back', async () => {
    await f.createDeployment('web', { replicas: 3 });
    await f.rollOutFully('web');
    await f.patchDeployment('web', { spec: { replicas: 0 } });
    await f.sync('web');
    await f.runReplicaSets();
    await f.sync('web');
    let d = await f.deployment('web');
    assert.deepEqual(sizes(await f.replicaSets()), [0]);
    assert.equal((await f.pods()).length, 0);
    assert.deepEqual(rolloutStatus(d), { done: true, message: 'deployment "web" successfully rolled out' });
    assert.equal(d.status!.replicas, 0);
    await f.patchDeployment('web', { spec: { replicas: 4 } });
    d = await f.rollOutFully('web');
    assert.deepEqual(sizes(await f.replicaSets()), [4]);
    assert.equal(revision(d), '1');
  });

  it('gets rid of unavailable old pods first, without waiting for the new ones', async () => {
    await f.createDeployment('web', { replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } });
    await f.rollOutFully('web');
    // Two old pods stop being ready (crashing); then a new template arrives.
    const pods = await f.pods();
    for (const p of pods.slice(0, 2)) {
      p.status!.conditions = [{ type: 'Ready', status: 'False', lastTransitionTime: p.status!.conditions[0].lastTransitionTime }];
      await f.server.updateStatus({ object: p });
    }
    await f.runReplicaSets();
    await f.setImage('web', 'nginx:1.26');
    // 4 pods - 3 minimum available - 0 new unavailable = 1 may go, though only 2 are available:
    // an unavailable old pod serves nobody.
    await f.sync('web');
    assert.deepEqual(sizes(await f.replicaSets()), [3, 0]);
    await f.runReplicaSets();
    assert.equal((await f.podCounts()).ready, 2);
    await f.sync('web');
    assert.deepEqual(sizes(await f.replicaSets()), [3, 1]);
  });
});

describe('RollingUpdate after a controller manager failover', () => {
  let f: Fixture;
  beforeEach(async () => (f = await Fixture.create()));
  afterEach(() => f.close());

  it('counts an old ReplicaSet as at most its replicas available, whatever its status written before the scale-down says', async () => {
    await f.createDeployment('web', { replicas: 4, image: 'nginx:1.25', strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
    await f.rollOutFully('web');
    await f.setImage('web', 'nginx:1.26');
    await f.sync('web');
    const newName = (await f.replicaSets())[1].metadata!.name!;
    await f.runReplicaSets();
    await f.readyPods(1, newName);
    await f.runReplicaSets();
    await f.sync('web');
    assert.deepEqual(sizes(await f.replicaSets()), [3, 1]);
    // The ReplicaSet controller has not acted on the scale-down yet: the old status still says 4 available.
    assert.equal((await f.replicaSets())[0].status!.availableReplicas, 4);
    await f.sync('web');
    assert.deepEqual(sizes(await f.replicaSets()), [3, 2]);
    // The new ReplicaSet's second pod is reported available before the old ReplicaSet's status is rewritten.
    const fresh = (await f.replicaSets())[1];
    await f.server.updateStatus({ object: { ...fresh, status: { ...fresh.status!, replicas: 2, readyReplicas: 2, availableReplicas: 2 } } });
    await f.sync('web');
    // 3 old pods (one of the 4 is on its way out) + 2 new ones: one old pod may go, not three.
    assert.deepEqual(sizes(await f.replicaSets()), [2, 2]);
  });
});
