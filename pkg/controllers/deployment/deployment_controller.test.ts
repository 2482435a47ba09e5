import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Fixture, revision, rolloutStatus, START_MS } from './fixture_test_util.js';
import { POD_TEMPLATE_HASH_LABEL } from './hash.js';

describe('DeploymentController: a new Deployment', () => {
  let f: Fixture;
  beforeEach(async () => (f = await Fixture.create()));
  afterEach(() => f.close());

  it('creates one ReplicaSet named after the template hash, owned by the Deployment, revision 1', async () => {
    const d = await f.createDeployment('web', { replicas: 3 });
    await f.sync('web');
    const [rs] = await f.replicaSets();
    const hash = rs.metadata!.labels[POD_TEMPLATE_HASH_LABEL];
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(rs.metadata!.name, `web-${hash}`);
    assert.deepEqual(rs.spec!.selector!.matchLabels, { app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash });
    assert.equal(rs.spec!.template!.metadata!.labels[POD_TEMPLATE_HASH_LABEL], hash);
    assert.equal(rs.spec!.replicas, 3);
    assert.deepEqual(rs.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(revision(rs), '1');
    assert.equal(rs.metadata!.annotations['deployment.kubernetes.io/desired-replicas'], '3');
    assert.equal(rs.metadata!.annotations['deployment.kubernetes.io/max-replicas'], '4');
    const after = await f.deployment('web');
    assert.equal(revision(after), '1');
    assert.equal(after.metadata?.generation, 1, 'the controller does not bump the generation');
    assert.deepEqual(f.recorder.take(), [`Normal ScalingReplicaSet Scaled up replica set web-${hash} to 3`]);
    assert.deepEqual(f.client.takeSummary(), [
      `create replicasets default/web-${hash}`,
      // The revision annotation with the new condition (through the status subresource, which
      // takes a Deployment's annotations without bumping its generation), then the counts and the
      // Available condition.
      'update deployments default/web status',
      'update deployments default/web status',
    ]);
    const progressing = after.status!.conditions.find((c) => c.type === 'Progressing')!;
    assert.equal(progressing.reason, 'NewReplicaSetCreated');
    assert.equal(progressing.message, `Created new replica set "web-${hash}"`);
  });

  it('reports status as kubectl rollout status reads it, at each stage, and finishes with NewReplicaSetAvailable', async () => {
    await f.createDeployment('web', { replicas: 3 });
    await f.sync('web');
    await f.sync('web');
    let d = await f.deployment('web');
    assert.equal(d.status!.observedGeneration, d.metadata!.generation);
    assert.equal(rolloutStatus(d).message, 'Waiting for deployment "web" rollout to finish: 0 out of 3 new replicas have been updated...');
    await f.runReplicaSets();
    await f.sync('web');
    d = await f.deployment('web');
    assert.deepEqual([d.status!.replicas, d.status!.updatedReplicas, d.status!.readyReplicas, d.status!.availableReplicas, d.status!.unavailableReplicas], [3, 3, 0, 0, 3]);
    assert.equal(rolloutStatus(d).message, 'Waiting for deployment "web" rollout to finish: 0 of 3 updated replicas are available...');
    assert.deepEqual(d.status!.conditions.find((c) => c.type === 'Available')!.reason, 'MinimumReplicasUnavailable');
    await f.readyPods(2);
    await f.runReplicaSets();
    await f.sync('web');
    d = await f.deployment('web');
    assert.equal(rolloutStatus(d).message, 'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...');
    // 25% of 3 rounds down to 0 unavailable: 2 of 3 is not minimum availability yet.
    assert.equal(d.status!.conditions.find((c) => c.type === 'Available')!.reason, 'MinimumReplicasUnavailable');
    await f.readyPods();
    await f.runReplicaSets();
    await f.sync('web');
    d = await f.deployment('web');
    assert.deepEqual(rolloutStatus(d), { done: true, message: 'deployment "web" successfully rolled out' });
    assert.deepEqual([d.status!.replicas, d.status!.updatedReplicas, d.status!.readyReplicas, d.status!.availableReplicas, d.status!.unavailableReplicas], [3, 3, 3, 3, 0]);
    const byType = Object.fromEntries(d.status!.conditions.map((c) => [c.type, c]));
    assert.equal(byType.Available.status, 'True');
    assert.equal(byType.Available.reason, 'MinimumReplicasAvailable');
    assert.equal(byType.Progressing.status, 'True');
    assert.equal(byType.Progressing.reason, 'NewReplicaSetAvailable');
    assert.match(byType.Progressing.message!, /^ReplicaSet "web-[a-z0-9]+" has successfully progressed\.$/);
    // A sync with nothing new writes nothing.
    f.client.takeActions();
    await f.sync('web');
    assert.deepEqual(f.client.takeSummary(), []);
  });

  it('does nothing for a Deployment that is gone', async () => {
    await f.createDeployment('web', { replicas: 1 });
    await f.rollOutFully('web');
    await f.server.delete({ resource: 'deployments', namespace: 'default', name: 'web' });
    f.client.takeActions();
    await f.sync('web');
    assert.deepEqual(f.client.takeSummary(), []);
  });

  it('stamps conditions with the injected clock', async () => {
    await f.createDeployment('web', { replicas: 1 });
    await f.clock.advance(65_000);
    await f.sync('web');
    const c = (await f.deployment('web')).status!.conditions.find((x) => x.type === 'Progressing')!;
    assert.equal(c.lastUpdateTime, new Date(START_MS + 65_000).toISOString().replace('.000Z', 'Z'));
  });
});
