import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeObject } from '../../../pkg/api/convert/object.js';
import type { Event, KubeObject } from '../../../pkg/api/registry.js';
import { describeObject, describeTime } from './describe.js';

const NOW = Date.parse('2026-01-01T01:00:00Z');
const decode = (json: unknown): KubeObject => decodeObject(json).object;

const pod = decode({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web',
    namespace: 'demo',
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: { app: 'web', tier: 'front' },
    annotations: { note: 'hi', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
  },
  spec: { nodeName: 'n1', containers: [{ name: 'nginx', image: 'nginx:1', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] }] },
  status: {
    phase: 'Running',
    podIP: '10.0.0.7',
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ name: 'nginx', ready: true, restartCount: 2, state: { running: { startedAt: '2026-01-01T00:01:00Z' } } }],
  },
});

const event = decode({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'web.1', namespace: 'demo' },
  involvedObject: { kind: 'Pod', name: 'web', namespace: 'demo' },
  type: 'Normal',
  reason: 'Scheduled',
  message: 'Successfully assigned demo/web to n1',
  source: { component: 'scheduler' },
  lastTimestamp: '2026-01-01T00:58:00Z',
}) as Event;

test('describeObject() shows a pod\'s metadata, containers, conditions and events', () => {
  const text = describeObject(pod, [event], true, NOW);
  for (const want of [
    /^Name:\s+web$/m,
    /^Namespace:\s+demo$/m,
    /^Labels:\s+app=web\n\s+tier=front$/m,
    /^Annotations:\s+note: hi$/m,
    /^CreationTimestamp:\s+Thu, 01 Jan 2026 00:00:00 \+0000$/m,
    /^Node:\s+n1$/m,
    /^Status:\s+Running$/m,
    /^IP:\s+10\.0\.0\.7$/m,
    /^Containers:\n {2}nginx:\n {4}Image:\s+nginx:1\n {4}Port:\s+80\/TCP$/m,
    /^ {4}State:\s+Running\n {6}Started:/m,
    /^ {4}Restart Count:\s+2$/m,
    /^ {6}A:\s+1$/m,
    /^Conditions:\n {2}Type\s+Status\s+Reason\n {2}----/m,
    /^Events:\n {2}Type\s+Reason\s+Age\s+From\s+Message\n {2}----\s+------\s+----\s+----\s+-------\n {2}Normal\s+Scheduled\s+2m\s+scheduler\s+Successfully assigned demo\/web to n1$/m,
  ]) {
    assert.match(text, want);
  }
  assert.doesNotMatch(text, /last-applied-configuration/);
});

test('describeObject() prints other kinds\' fields generically and says when there are no events', () => {
  const lease = decode({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'demo' }, spec: { holderIdentity: 'me', leaseDurationSeconds: 15 } });
  const text = describeObject(lease, [], true, NOW);
  assert.match(text, /^Spec:\n {2}HolderIdentity:\s+me$/m);
  assert.match(text, /^ {2}LeaseDurationSeconds:\s+15$/m);
  assert.match(text, /^Events:\s+<none>\n$/m);
});

test('describeTime() prints RFC 1123 with a numeric zone, as kubectl', () => {
  assert.equal(describeTime('2026-11-22T09:00:00Z'), 'Sun, 22 Nov 2026 09:00:00 +0000');
  assert.equal(describeTime(undefined), '<none>');
});

test("describeObject() names a Deployment's new ReplicaSet and the old ones that still want pods, as kubectl", () => {
  const tpl = (image: string, hash: string) => ({ metadata: { labels: { app: 'web', 'pod-template-hash': hash } }, spec: { containers: [{ name: 'web', image }] } });
  const d = decode({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:2' }] } } },
  });
  const rs = (name: string, image: string, replicas: number, created: string) =>
    decode({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace: 'default', creationTimestamp: created }, spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: tpl(image, name) }, status: { replicas } }) as never;
  const text = describeObject(d, [], true, NOW, [rs('web-1', 'nginx:1', 1, '2026-01-01T00:00:00Z'), rs('web-0', 'nginx:0', 0, '2025-12-31T00:00:00Z'), rs('web-2', 'nginx:2', 2, '2026-01-01T00:30:00Z')]);
  assert.match(text, /\nOldReplicaSets: +web-1 \(1\/1 replicas created\)\nNewReplicaSet: +web-2 \(2\/2 replicas created\)\nEvents: +<none>\n$/);
  assert.doesNotMatch(describeObject(d, [], true, NOW), /ReplicaSets?:/, 'without the list, no lines');
});

test('describeObject() shows a PodDisruptionBudget as kubectl: its bound, selector and status counts', () => {
  const pdb = decode({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'web', namespace: 'demo', labels: { a: 'b' } },
    spec: { maxUnavailable: '25%', selector: { matchLabels: { app: 'web' } } },
    status: { disruptionsAllowed: 1, currentHealthy: 4, desiredHealthy: 3, expectedPods: 4 },
  });
  assert.equal(
    describeObject(pdb, [], true, Date.UTC(2026, 11, 5)),
    'Name:             web\nNamespace:        demo\nMax unavailable:  25%\nSelector:         app=web\nStatus:\n    Allowed disruptions:  1\n    Current:              4\n    Desired:              3\n    Total:                4\nEvents:  <none>\n',
  );
});
