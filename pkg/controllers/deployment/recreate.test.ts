import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { drainQueue, Fixture, revision, rolloutStatus } from './fixture_test_util.js';
import { POD_TEMPLATE_HASH_LABEL } from './hash.js';

describe('Recreate', () => {
  let f: Fixture;
  beforeEach(async () => (f = await Fixture.create()));
  afterEach(() => f.close());

  /** Old and new pods never exist at the same time (terminating ones count: they still run). */
  async function assertNoOverlap(where: string): Promise<void> {
    const hashes = new Set((await f.pods()).map((p) => p.metadata!.labels[POD_TEMPLATE_HASH_LABEL]));
    assert.ok(hashes.size <= 1, `${where}: pods of ${hashes.size} templates run at once`);
  }

  it('scales the old ReplicaSet to 0, waits until its pods are gone, then creates the new one at full size', async () => {
    await f.createDeployment('web', { replicas: 3, strategy: { type: 'Recreate' } });
    await f.rollOutFully('web');
    f.recorder.take();
    await f.setImage('web', 'nginx:1.26');
    await f.sync('web');
    let rss = await f.replicaSets();
    assert.deepEqual(rss.map((rs) => rs.spec!.replicas), [0]);
    // The ReplicaSet controller deletes the pods; they take their grace period to stop.
    await f.runReplicaSets({ gracefulDelete: true });
    assert.equal((await f.podCounts()).terminating, 3);
    await f.sync('web');
    await f.sync('web');
    assert.equal((await f.replicaSets()).length, 1, 'no new ReplicaSet while old pods still run');
    await assertNoOverlap('while old pods terminate');
    let d = await f.deployment('web');
    assert.equal(rolloutStatus(d).message, 'Waiting for deployment "web" rollout to finish: 0 out of 3 new replicas have been updated...');

    await drainQueue(f);
    await f.finishTermination();
    await f.caughtUp();
    assert.deepEqual(await drainQueue(f), ['default/web'], 'the last old pod going away wakes the Deployment');
    await f.sync('web');
    rss = await f.replicaSets();
    assert.deepEqual(rss.map((rs) => rs.spec!.replicas), [0, 3]);
    const [oldName, newName] = rss.map((rs) => rs.metadata!.name);
    assert.deepEqual(f.recorder.take(), [`Normal ScalingReplicaSet Scaled down replica set ${oldName} to 0 from 3`, `Normal ScalingReplicaSet Scaled up replica set ${newName} to 3`]);
    await f.runReplicaSets();
    await assertNoOverlap('new pods created');
    await f.readyPods();
    await f.runReplicaSets();
    await f.sync('web');
    d = await f.deployment('web');
    assert.deepEqual(rolloutStatus(d), { done: true, message: 'deployment "web" successfully rolled out' });
    assert.equal(revision(d), '2');
    assert.equal(revision(rss[1]), '2');
  });

  it('scales a Recreate Deployment in place', async () => {
    await f.createDeployment('web', { replicas: 2, strategy: { type: 'Recreate' } });
    await f.rollOutFully('web');
    await f.patchDeployment('web', { spec: { replicas: 5 } });
    await f.rollOutFully('web');
    assert.deepEqual((await f.replicaSets()).map((rs) => rs.spec!.replicas), [5]);
    assert.equal((await f.podCounts()).available, 5);
  });
});
