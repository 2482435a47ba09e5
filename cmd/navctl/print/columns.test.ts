import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deployment, KubeObject, Node, Pod, Service } from '../../../pkg/api/registry.js';
import { columnsFor, formatLabelSelector, podStatus, tableHeaders, tableRow } from './columns.js';
import { Table } from './table.js';

const NOW = Date.parse('2026-01-01T01:00:00Z');
const meta = (name: string, extra: object = {}) => ({ name, namespace: 'demo', creationTimestamp: '2026-01-01T00:58:00Z', labels: {}, annotations: {}, ownerReferences: [], finalizers: [], ...extra });

function pod(extra: { status?: object; spec?: object; metadata?: object } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta('web', extra.metadata),
    spec: { containers: [{ name: 'a' }, { name: 'b' }], nodeName: 'n1', ...extra.spec },
    status: { phase: 'Running', podIP: '10.0.0.5', ...extra.status },
  } as unknown as Pod;
}

function running(ready: boolean, restartCount = 0) {
  return { name: 'x', ready, restartCount, state: { running: { startedAt: '2026-01-01T00:59:00Z' } } };
}

function print(objects: KubeObject[], o: { wide?: boolean; withNamespace?: boolean } = {}): string {
  const cols = columnsFor(objects[0].kind!, o);
  return new Table(tableHeaders(cols, o)).render(objects.map((x) => tableRow(x, cols, NOW, o)));
}

test('pods print NAME READY STATUS RESTARTS AGE, and -o wide adds IP and NODE', () => {
  const p = pod({ status: { containerStatuses: [running(true, 2), running(false, 1)] } });
  assert.equal(print([p]), 'NAME   READY   STATUS    RESTARTS   AGE\nweb    1/2     Running   3          2m\n');
  const wide = print([p], { wide: true });
  assert.match(wide, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\n/);
  assert.match(wide, /10\.0\.0\.5\s+n1\s+<none>\s+<none>\n$/);
  assert.match(print([p], { withNamespace: true }), /^NAMESPACE\s+NAME\s+READY/);
});

test('a pod STATUS shows a waiting reason, a failed init container or Terminating', () => {
  assert.equal(podStatus(pod({ status: { containerStatuses: [{ name: 'a', state: { waiting: { reason: 'CrashLoopBackOff' } } }] } })), 'CrashLoopBackOff');
  assert.equal(
    podStatus(pod({ spec: { initContainers: [{ name: 'i' }] }, status: { phase: 'Pending', initContainerStatuses: [{ name: 'i', state: { terminated: { exitCode: 1, reason: 'Error' } } }] } })),
    'Init:Error',
  );
  assert.equal(podStatus(pod({ metadata: { deletionTimestamp: '2026-01-01T01:00:00Z' } })), 'Terminating');
  assert.equal(podStatus(pod({ status: { phase: undefined } })), 'Pending');
  assert.equal(podStatus(pod({ status: { containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 137, signal: 9 } } }] } })), 'Signal:9');
});

test('deployments print READY UP-TO-DATE AVAILABLE AGE; wide adds containers, images and the selector', () => {
  const d = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta('web'),
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' }, matchExpressions: [] }, template: { spec: { containers: [{ name: 'web', image: 'nginx:1' }] } } },
    status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2, conditions: [] },
  } as unknown as Deployment;
  assert.equal(print([d]), 'NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    2/3     3            2           2m\n');
  assert.match(print([d], { wide: true }), /web\s+nginx:1\s+app=web\n$/);
});

test('services print TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE', () => {
  const s = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta('web'),
    spec: { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], externalIPs: [], selector: { app: 'web' } },
  } as unknown as Service;
  assert.equal(print([s]), 'NAME   TYPE       CLUSTER-IP   EXTERNAL-IP   PORT(S)               AGE\nweb    NodePort   10.96.0.10   <none>        80:30080/TCP,53/UDP   2m\n');
  const lb = { ...s, spec: { ...s.spec, type: 'LoadBalancer' } } as Service;
  assert.match(print([lb]), /<pending>/);
});

test('nodes print STATUS ROLES AGE VERSION', () => {
  const n = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { ...meta('n1'), namespace: undefined, labels: { 'node-role.kubernetes.io/control-plane': '' } },
    spec: { unschedulable: true },
    status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v0.1.0' } },
  } as unknown as Node;
  assert.equal(print([n]), 'NAME   STATUS                     ROLES           AGE   VERSION\nn1     Ready,SchedulingDisabled   control-plane   2m    v0.1.0\n');
});

test('leases print their holder, and kinds without their own columns print NAME AGE', () => {
  const l = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: meta('x'), spec: { holderIdentity: 'me' } } as unknown as KubeObject;
  assert.equal(print([l]), 'NAME   HOLDER   AGE\nx      me       2m\n');
  assert.deepEqual(columnsFor('Unheard').map((c) => c.header), ['NAME', 'AGE']);
});

test('PodDisruptionBudgets print their budget and the disruptions allowed, N/A for the unset bound', () => {
  const b = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta('web'), spec: { maxUnavailable: { strVal: '25%' } }, status: { disruptionsAllowed: 1 } } as unknown as KubeObject;
  assert.equal(print([b]), 'NAME   MIN AVAILABLE   MAX UNAVAILABLE   ALLOWED DISRUPTIONS   AGE\nweb    N/A             25%               1                     2m\n');
});

test('formatLabelSelector() prints labels and expressions as kubectl', () => {
  assert.equal(
    formatLabelSelector({ matchLabels: { app: 'a' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['x', 'y'] }, { key: 'gpu', operator: 'DoesNotExist', values: [] }] }),
    'app=a,tier in (x,y),!gpu',
  );
  assert.equal(formatLabelSelector(undefined), '<none>');
});
