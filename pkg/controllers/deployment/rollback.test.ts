// `kubectl rollout undo` as kubectl does it: read the Deployment and its ReplicaSets, pick the
// previous revision, and send a JSON patch that puts that ReplicaSet's template back (without the
// pod-template-hash label). The controller must reuse that ReplicaSet with a new revision.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { encodeObject } from '../../api/convert/object.js';
import { labelSelectorToString } from '../../api/labels.js';
import type { Deployment, ReplicaSet } from '../../api/registry.js';
import { Fixture, revision, rolloutStatus } from './fixture_test_util.js';
import { POD_TEMPLATE_HASH_LABEL } from './hash.js';

const SKIPPED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision',
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

/** Replays kubectl's rollbacker (toRevision 0: the second-highest revision); returns the patch it sent. */
async function kubectlRolloutUndo(f: Fixture, name: string): Promise<unknown[]> {
  const d = (await f.server.get({ resource: 'deployments', namespace: 'default', name })) as Deployment;
  if (d.spec?.paused) throw new Error(`you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume deployment/${name}' and try again`);
  const listed = await f.server.list({ resource: 'replicasets', namespace: 'default', labelSelector: labelSelectorToString(d.spec!.selector) });
  const owned = (listed.items as ReplicaSet[]).filter((rs) => rs.metadata!.ownerReferences.some((r) => r.controller && r.uid === d.metadata!.uid));
  let latest = 0;
  let previous = 0;
  let previousRS: ReplicaSet | undefined;
  let latestRS: ReplicaSet | undefined;
  for (const rs of owned) {
    const v = Number(revision(rs));
    if (latest < v) {
      previous = latest;
      previousRS = latestRS;
      latest = v;
      latestRS = rs;
    } else if (previous < v) {
      previous = v;
      previousRS = rs;
    }
  }
  if (!previousRS) throw new Error(`no rollout history found for deployment "${name}"`);
  const template = (encodeObject(previousRS) as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template;
  delete template.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  const annotations: Record<string, string> = {};
  for (const k of SKIPPED) if (d.metadata!.annotations[k] !== undefined) annotations[k] = d.metadata!.annotations[k];
  for (const [k, v] of Object.entries(previousRS.metadata!.annotations)) if (!SKIPPED.has(k)) annotations[k] = v;
  const patch = [
    { op: 'replace', path: '/spec/template', value: template },
    { op: 'replace', path: '/metadata/annotations', value: annotations },
  ];
  // kubectl sends the body as JSON text with Content-Type application/json-patch+json.
  await f.server.patch({ resource: 'deployments', namespace: 'default', name, type: 'json', patch: JSON.parse(JSON.stringify(patch)) });
  return patch;
}

async function stepUntilRolledOut(f: Fixture, name: string): Promise<void> {
  for (let step = 0; step < 60; step++) {
    await f.sync(name);
    await f.checkLimits(name, `step ${step} after sync`);
    await f.runReplicaSets();
    await f.checkLimits(name, `step ${step} after the ReplicaSets acted`);
    await f.readyPods(1);
    await f.runReplicaSets();
    if (rolloutStatus(await f.deployment(name)).done) return;
  }
  throw new Error(`${name} did not roll out`);
}

describe('rollback (kubectl rollout undo)', () => {
  let f: Fixture;
  beforeEach(async () => (f = await Fixture.create()));
  afterEach(() => f.close());

  it('reuses the previous ReplicaSet with the next revision, keeping maxUnavailable and maxSurge', async () => {
    await f.createDeployment('web', { replicas: 4 });
    await f.rollOutFully('web');
    const [v1] = await f.replicaSets();
    await f.setImage('web', 'nginx:1.26');
    await stepUntilRolledOut(f, 'web');
    assert.equal(revision(await f.deployment('web')), '2');

    const patch = await kubectlRolloutUndo(f, 'web');
    assert.deepEqual((patch[1] as { value: unknown }).value, { 'deployment.kubernetes.io/revision': '2' });
    const patched = await f.deployment('web');
    assert.equal(patched.spec!.template!.spec!.containers[0].image, 'nginx:1.25');
    assert.equal(patched.spec!.template!.metadata!.labels[POD_TEMPLATE_HASH_LABEL], undefined);
    assert.equal(rolloutStatus(patched).message, 'Waiting for deployment spec update to be observed...');

    f.client.takeActions();
    await stepUntilRolledOut(f, 'web');
    assert.ok(!f.client.takeSummary().some((a) => a.startsWith('create replicasets')), 'no ReplicaSet is created for a rollback');
    const rss = await f.replicaSets();
    assert.equal(rss.length, 2);
    const [again, v2] = rss;
    assert.equal(again.metadata!.name, v1.metadata!.name);
    assert.equal(again.metadata!.uid, v1.metadata!.uid);
    assert.deepEqual([again.spec!.replicas, v2.spec!.replicas], [4, 0]);
    assert.equal(revision(again), '3');
    assert.equal(again.metadata!.annotations['deployment.kubernetes.io/revision-history'], '1');
    assert.equal(revision(v2), '2');
    const d = await f.deployment('web');
    assert.equal(revision(d), '3');
    assert.deepEqual(rolloutStatus(d), { done: true, message: 'deployment "web" successfully rolled out' });
    const pods = await f.pods();
    assert.equal(pods.length, 4);
    assert.ok(pods.every((p) => p.spec!.containers[0].image === 'nginx:1.25' && p.metadata!.labels[POD_TEMPLATE_HASH_LABEL] === v1.metadata!.labels[POD_TEMPLATE_HASH_LABEL]));

    // Undo once more: back to revision 2's ReplicaSet, now revision 4.
    await kubectlRolloutUndo(f, 'web');
    await stepUntilRolledOut(f, 'web');
    const after = await f.replicaSets();
    assert.equal(after.length, 2);
    assert.deepEqual(after.map((rs) => [rs.spec!.replicas, revision(rs)]), [[0, '3'], [4, '4']]);
    assert.equal(after[1].metadata!.annotations['deployment.kubernetes.io/revision-history'], '2');
    assert.equal(revision(await f.deployment('web')), '4');
  });

  it('reports no history for a Deployment with a single revision, as kubectl does', async () => {
    await f.createDeployment('web', { replicas: 1 });
    await f.rollOutFully('web');
    await assert.rejects(kubectlRolloutUndo(f, 'web'), /no rollout history found for deployment "web"/);
  });
});

describe('rollback through the deprecated.deployment.rollback.to annotation (Kubernetes still honours it)', () => {
  let f: Fixture;
  beforeEach(async () => (f = await Fixture.create()));
  afterEach(() => f.close());
  const ask = (to: string) => f.patchDeployment('web', { metadata: { annotations: { 'deprecated.deployment.rollback.to': to } } });

  async function twoRevisions(): Promise<void> {
    await f.createDeployment('web', { replicas: 2 });
    await f.rollOutFully('web');
    await f.patchDeployment('web', { metadata: { annotations: { 'kubernetes.io/change-cause': 'second' } } });
    await f.setImage('web', 'nginx:1.26');
    await stepUntilRolledOut(f, 'web');
    assert.equal(revision(await f.deployment('web')), '2');
    f.recorder.take();
  }

  it("0 puts back the previous revision's template and annotations, clears the annotation, and rolls out on the next syncs", async () => {
    await twoRevisions();
    const [v1] = await f.replicaSets();
    await ask('0');
    await f.sync('web');
    const d = await f.deployment('web');
    assert.equal(d.spec!.template!.spec!.containers[0].image, 'nginx:1.25');
    assert.equal(d.spec!.template!.metadata!.labels[POD_TEMPLATE_HASH_LABEL], undefined);
    assert.equal(d.metadata!.annotations['deprecated.deployment.rollback.to'], undefined);
    assert.equal(d.metadata!.annotations['kubernetes.io/change-cause'], undefined, "revision 1's annotations, which had no change-cause");
    assert.deepEqual(f.recorder.take(), ['Normal DeploymentRollback Rolled back deployment "web" to revision 1']);
    await stepUntilRolledOut(f, 'web');
    const again = (await f.replicaSets()).find((rs) => rs.metadata!.uid === v1.metadata!.uid)!;
    assert.deepEqual([again.spec!.replicas, revision(again)], [2, '3']);
  });

  it('0 with a single revision finds no last revision: a Warning, and only the annotation goes', async () => {
    await f.createDeployment('web', { replicas: 1 });
    await f.rollOutFully('web');
    f.recorder.take();
    await ask('0');
    await f.sync('web');
    const d = await f.deployment('web');
    assert.equal(d.metadata!.annotations['deprecated.deployment.rollback.to'], undefined);
    assert.equal(d.spec!.template!.spec!.containers[0].image, 'nginx:1.25');
    assert.deepEqual(f.recorder.take(), ['Warning DeploymentRollbackRevisionNotFound Unable to find last revision.']);
  });

  it('a revision that does not exist, or the current template, changes nothing but the annotation, with a Warning', async () => {
    await twoRevisions();
    await ask('9');
    await f.sync('web');
    let d = await f.deployment('web');
    assert.equal(d.spec!.template!.spec!.containers[0].image, 'nginx:1.26');
    assert.equal(d.metadata!.annotations['deprecated.deployment.rollback.to'], undefined);
    assert.deepEqual(f.recorder.take(), ['Warning DeploymentRollbackRevisionNotFound Unable to find the revision to rollback to.']);
    await ask('2');
    await f.sync('web');
    d = await f.deployment('web');
    assert.equal(d.metadata!.annotations['deprecated.deployment.rollback.to'], undefined);
    assert.deepEqual(f.recorder.take(), ['Warning DeploymentRollbackTemplateUnchanged The rollback revision contains the same template as current deployment "web"']);
  });
});
