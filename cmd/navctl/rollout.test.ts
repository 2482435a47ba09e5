import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deployment, ReplicaSet } from '../../pkg/api/registry.js';
import { obj } from '../../pkg/apiserver/test_util.js';
import { deploymentNames, formatLocalTime, restartPatch } from './rollout.js';
import { historyText, revisionsOf, rollbackTarget, undoPatch } from './rollout_history.js';
import { deploymentRolloutState } from './rollout_status.js';

const UID = 'd-uid';

function deployment(o: { generation?: number; status?: Record<string, unknown>; annotations?: Record<string, string>; image?: string; paused?: boolean } = {}): Deployment {
  return obj<Deployment>({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: UID, generation: o.generation ?? 2, annotations: o.annotations },
    spec: {
      replicas: 3,
      paused: o.paused,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: o.image ?? 'nginx:3' }] } },
    },
    status: o.status ?? { observedGeneration: 2 },
  });
}

function replicaSet(revision: string | undefined, image: string, o: { owner?: string; annotations?: Record<string, string> } = {}): ReplicaSet {
  return obj<ReplicaSet>({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `web-${image.replace(/\W/g, '')}`,
      namespace: 'default',
      annotations: { ...(revision === undefined ? {} : { 'deployment.kubernetes.io/revision': revision }), ...o.annotations },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: o.owner ?? UID, controller: true }],
    },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web', 'pod-template-hash': image.replace(/\W/g, '') } }, spec: { containers: [{ name: 'web', image }] } },
    },
  });
}

test('rollout status prints what kubectl prints at each stage of a rollout', () => {
  const cases: Array<[string, Deployment, string, boolean]> = [
    ['spec not yet observed', deployment({ generation: 3, status: { observedGeneration: 2 } }), 'Waiting for deployment spec update to be observed...', false],
    ['new pods being created', deployment({ status: { observedGeneration: 2, replicas: 4, updatedReplicas: 1 } }), 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...', false],
    ['old pods terminating', deployment({ status: { observedGeneration: 2, replicas: 5, updatedReplicas: 3 } }), 'Waiting for deployment "web" rollout to finish: 2 old replicas are pending termination...', false],
    ['new pods not yet available', deployment({ status: { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 1 } }), 'Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...', false],
    ['done', deployment({ status: { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 } }), 'deployment "web" successfully rolled out', true],
  ];
  for (const [what, d, message, done] of cases) assert.deepEqual(deploymentRolloutState(d), { message, done }, what);
});

test('rollout status fails on an exceeded progress deadline and on another revision', () => {
  const stuck = deployment({ status: { observedGeneration: 2, replicas: 3, updatedReplicas: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] } });
  assert.throws(() => deploymentRolloutState(stuck), { message: 'deployment "web" exceeded its progress deadline' });
  const atTwo = deployment({ annotations: { 'deployment.kubernetes.io/revision': '2' } });
  assert.throws(() => deploymentRolloutState(atTwo, 3), { message: 'desired revision (3) is different from the running revision (2)' });
  assert.equal(deploymentRolloutState(atTwo, 2).done, false);
});

test('revisions are the ReplicaSets the Deployment controls, by their revision annotation', () => {
  const rss = [replicaSet('1', 'nginx:1'), replicaSet('2', 'nginx:2', { annotations: { 'kubernetes.io/change-cause': 'set image nginx:2' } }), replicaSet('3', 'nginx:3'), replicaSet('9', 'other', { owner: 'someone-else' }), replicaSet('x', 'bad')];
  const revisions = revisionsOf(deployment(), rss);
  assert.deepEqual([...revisions.keys()].sort(), [1, 2, 3]);
  // kubectl's layout: the name with a trailing space, the table, a blank line.
  assert.equal(historyText('web', revisions), 'deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         set image nginx:2\n3         <none>\n\n');
  assert.equal(historyText('web', new Map(), 2), 'deployment.apps/web with revision #2\nNo rollout history found.\n');
  assert.deepEqual([...revisionsOf(deployment(), [replicaSet(undefined, 'bare')]).keys()], [0], 'no annotation is revision 0, as kubectl reads it');
  const two = historyText('web', revisions, 2);
  assert.match(two, /^deployment.apps\/web with revision #2\nPod Template:\n/);
  assert.match(two, /Annotations:\s+kubernetes.io\/change-cause=set image nginx:2/);
  assert.match(two, /Image:\s+nginx:2/);
  assert.throws(() => historyText('web', revisions, 7), /unable to find the specified revision/);
});

test('undo picks the revision before the newest, or --to-revision', () => {
  const revisions = revisionsOf(deployment(), [replicaSet('1', 'nginx:1'), replicaSet('5', 'nginx:3'), replicaSet('4', 'nginx:2')]);
  assert.equal(rollbackTarget('web', revisions, 0).spec?.template?.spec?.containers[0].image, 'nginx:2');
  assert.equal(rollbackTarget('web', revisions, 1).spec?.template?.spec?.containers[0].image, 'nginx:1');
  assert.throws(() => rollbackTarget('web', revisions, 3), { message: 'unable to find specified revision 3 in history' });
  assert.throws(() => rollbackTarget('web', revisionsOf(deployment(), [replicaSet('1', 'nginx:3')]), 0), { message: 'no rollout history found for deployment "web"' });
});

test("undo's JSON patch: the old template without its hash label, the ReplicaSet's annotations and the Deployment's own kept", () => {
  const d = deployment({ annotations: { 'deployment.kubernetes.io/revision': '3', 'kubectl.kubernetes.io/last-applied-configuration': '{}', team: 'a' } });
  const rs = replicaSet('2', 'nginx:2', { annotations: { 'kubernetes.io/change-cause': 'v2', 'deployment.kubernetes.io/desired-replicas': '3' } });
  assert.deepEqual(undoPatch(d, rs), [
    { op: 'replace', path: '/spec/template', value: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:2' }] } } },
    { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '3', 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'kubernetes.io/change-cause': 'v2' } },
  ]);
  assert.equal(undoPatch(d, replicaSet('3', 'nginx:3')), undefined, 'the template already runs: kubectl skips the rollback');
});

test('rollout takes deployments only, and restart refuses a paused Deployment', () => {
  assert.deepEqual(deploymentNames(['deployment/web', 'deploy/db']), ['web', 'db']);
  assert.deepEqual(deploymentNames(['deployments', 'web']), ['web']);
  assert.throws(() => deploymentNames(['daemonset/agent']), /rollout is only implemented for deployments/);
  assert.throws(() => deploymentNames(['deployments']), /required resource not specified/);
  assert.throws(() => restartPatch(deployment({ paused: true }), new Date()), /can't restart paused deployment \(run rollout resume first\)/);
  // kubectl writes local time with its offset (Go's RFC3339); Node picks up a changed TZ at once.
  const tz = process.env.TZ;
  try {
    process.env.TZ = 'UTC';
    assert.deepEqual(restartPatch(deployment(), new Date('2026-12-05T14:00:00.123Z')), { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-05T14:00:00Z' } } } } });
    process.env.TZ = 'Asia/Kolkata';
    assert.equal(formatLocalTime(new Date('2026-12-05T14:00:00.123Z')), '2026-12-05T19:30:00+05:30');
    process.env.TZ = 'America/New_York';
    assert.equal(formatLocalTime(new Date('2026-12-05T14:00:00.123Z')), '2026-12-05T09:00:00-05:00');
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
});
