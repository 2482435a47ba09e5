import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyStrategicMergePatch } from '../../pkg/apiserver/patch/strategic_merge_patch.js';
import { LAST_APPLIED_ANNOTATION, lastApplied, threeWayPatch, withLastApplied, type Json } from './apply_patch.js';

type Obj = { [key: string]: Json };

function pod(containers: Obj[], extra: Obj = {}): Obj {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'demo' }, spec: { containers }, ...extra };
}

/** What the server stores after create: ids, defaults inside containers, a status. */
function live(manifest: Obj): Obj {
  const m = structuredClone(manifest) as { metadata: Obj; spec: { containers: Obj[] } };
  m.metadata.uid = 'u1';
  m.metadata.resourceVersion = '7';
  m.metadata.creationTimestamp = '2026-01-01T00:00:00Z';
  for (const c of m.spec.containers) {
    c.imagePullPolicy = 'IfNotPresent';
    c.terminationMessagePath = '/dev/termination-log';
    for (const p of (c.ports as Obj[] | undefined) ?? []) p.protocol = 'TCP';
  }
  return { ...(m as unknown as Obj), spec: { ...(m.spec as unknown as Obj), restartPolicy: 'Always' }, status: { phase: 'Pending' } };
}

/** Applies the patch as the server does. */
function apply(current: Obj, p: { patch: Obj }, messageName = 'Pod'): Obj {
  return applyStrategicMergePatch(messageName, current, p.patch as never) as Obj;
}

const web = { name: 'web', image: 'nginx:1', ports: [{ containerPort: 80 }] };

test('threeWayPatch() is empty when the live object has only server-set fields and defaults beyond the manifest', () => {
  const manifest = pod([web]);
  const p = threeWayPatch('Pod', manifest, manifest, live(manifest));
  assert.deepEqual(p.patch, {});
});

test('threeWayPatch() changes a container by name and keeps the defaults the server added', () => {
  const before = pod([web]);
  const after = pod([{ ...web, image: 'nginx:2' }]);
  const current = live(before);
  const p = threeWayPatch('Pod', before, after, current);
  // kubectl's own shape for this change (see kubectl-protocol.md, apply).
  assert.deepEqual(p.patch, { spec: { '$setElementOrder/containers': [{ name: 'web' }], containers: [{ name: 'web', image: 'nginx:2' }] } });
  const result = apply(current, p) as { spec: { containers: Obj[] } };
  assert.equal(result.spec.containers[0].image, 'nginx:2');
  assert.equal(result.spec.containers[0].imagePullPolicy, 'IfNotPresent');
});

test('threeWayPatch() removes a container dropped from the manifest and adds a new one', () => {
  const side = { name: 'side', image: 'busybox' };
  const before = pod([web, side]);
  const after = pod([web, { name: 'log', image: 'fluentd' }]);
  const current = live(before);
  const result = apply(current, threeWayPatch('Pod', before, after, current)) as { spec: { containers: Obj[] } };
  assert.deepEqual(result.spec.containers.map((c) => c.name), ['web', 'log']);
});

test('threeWayPatch() removes fields dropped from the manifest and keeps fields others set', () => {
  const before = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { app: 'a', tier: 'x' } }, data: { a: '1', b: '2' } };
  const after = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { app: 'a' } }, data: { a: '1', c: '3' } };
  const current = structuredClone(before) as Obj & { metadata: Obj & { labels: Obj } };
  current.metadata.labels.owner = 'ops';
  current.metadata.resourceVersion = '9';
  const p = threeWayPatch('ConfigMap', before, after, current);
  assert.deepEqual(p.patch, { metadata: { labels: { tier: null } }, data: { c: '3', b: null } });
  const result = apply(current, p, 'ConfigMap') as { metadata: Obj; data: Obj };
  assert.deepEqual(result.metadata.labels, { app: 'a', owner: 'ops' });
  assert.deepEqual(result.data, { a: '1', c: '3' });
});

test('threeWayPatch() sets back a field someone else changed', () => {
  const m = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 3 } };
  const current = { ...m, spec: { replicas: 5, revisionHistoryLimit: 10 } };
  assert.deepEqual(threeWayPatch('Deployment', m, m, current).patch, { spec: { replicas: 3 } });
});

test('threeWayPatch() replaces a list without a merge key only when the manifest changed it', () => {
  const tol = (extra: Obj = {}): Obj => ({ key: 'k', operator: 'Exists', ...extra });
  const before = pod([web], {});
  (before.spec as Obj).tolerations = [tol()];
  const current = live(before);
  // A default added inside a list item is not a reason to send the list again.
  (current.spec as Obj).tolerations = [tol({ effect: 'NoSchedule' })];
  assert.deepEqual(threeWayPatch('Pod', before, before, current).patch, {});
  const after = structuredClone(before);
  (after.spec as Obj).tolerations = [tol(), { key: 'gpu', operator: 'Exists' }];
  assert.deepEqual(threeWayPatch('Pod', before, after, current).patch, { spec: { tolerations: (after.spec as Obj).tolerations } });
  // Scalar lists (args) are compared whole.
  const withArgs = pod([{ ...web, args: ['-a'] }]);
  const moreArgs = pod([{ ...web, args: ['-a', '-b'] }]);
  const p = threeWayPatch('Pod', withArgs, moreArgs, live(withArgs));
  assert.deepEqual(p.patch, { spec: { '$setElementOrder/containers': [{ name: 'web' }], containers: [{ name: 'web', args: ['-a', '-b'] }] } });
});

test('threeWayPatch() without a last applied manifest never removes fields', () => {
  const m = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } };
  const current = { ...m, data: { a: '0', z: '9' } };
  assert.deepEqual(threeWayPatch('ConfigMap', undefined, m, current).patch, { data: { a: '1' } });
});

test('withLastApplied() records the manifest without the annotation itself, and lastApplied() reads it back', () => {
  const m = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', annotations: { note: 'x' } }, data: { a: '1' } };
  const sent = withLastApplied(m);
  const annotations = (sent.metadata as Obj).annotations as Obj;
  assert.equal(annotations.note, 'x');
  assert.deepEqual(JSON.parse(annotations[LAST_APPLIED_ANNOTATION] as string), m);
  assert.deepEqual(lastApplied(sent), m);
  // Applying what was applied again records the same text: no change to send.
  assert.deepEqual(withLastApplied(sent), sent);
  assert.equal(lastApplied({ metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: '{bad' } } }), undefined);
});

test('the server applies the patch keeping annotations and labels set by hand, containers merged by name in the manifest\'s order', () => {
  const side = { name: 'side', image: 'busybox', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] };
  const before = withLastApplied(pod([web, side], { metadata: { name: 'web', namespace: 'demo', labels: { app: 'web' } } }));
  const after = withLastApplied(pod([{ name: 'first', image: 'init' }, { ...web, image: 'nginx:2' }, { ...side, env: [{ name: 'A', value: '9' }] }], { metadata: { name: 'web', namespace: 'demo', labels: { app: 'web', v: '2' } } }));
  const current = live(before);
  ((current.metadata as Obj).annotations as Obj).note = 'set by hand';
  ((current.metadata as Obj).labels as Obj).owner = 'ops';
  const p = threeWayPatch('Pod', lastApplied(current), after, current);
  const result = apply(current, p) as { metadata: Obj; spec: { containers: Obj[] } };
  assert.equal((result.metadata.annotations as Obj).note, 'set by hand');
  assert.equal((result.metadata.annotations as Obj)[LAST_APPLIED_ANNOTATION], ((after.metadata as Obj).annotations as Obj)[LAST_APPLIED_ANNOTATION]);
  assert.deepEqual(result.metadata.labels, { app: 'web', owner: 'ops', v: '2' });
  assert.deepEqual(result.spec.containers.map((c) => [c.name, c.image, c.imagePullPolicy]), [
    ['first', 'init', undefined],
    ['web', 'nginx:2', 'IfNotPresent'],
    ['side', 'busybox', 'IfNotPresent'],
  ]);
  assert.deepEqual(result.spec.containers[2].env, [{ name: 'A', value: '9' }]);
});
