import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deployment, Scale } from '../../pkg/api/registry.js';
import { obj } from '../../pkg/apiserver/test_util.js';
import { parseReplicas, preconditionFailure, scaleSynced } from './scale.js';
import { imagePatch, parseImageArgs } from './set_image.js';

const web = obj<Deployment>({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', resourceVersion: '42' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { initContainers: [{ name: 'init', image: 'busybox:1' }], containers: [{ name: 'web', image: 'nginx:1' }, { name: 'log', image: 'fluent:1' }] },
    },
  },
});

test("scale's preconditions fail with kubectl's messages", () => {
  assert.equal(preconditionFailure(web, { currentReplicas: -1 }), undefined);
  assert.equal(preconditionFailure(web, { currentReplicas: 2, resourceVersion: '42' }), undefined);
  assert.equal(preconditionFailure(web, { currentReplicas: 3 }), 'Expected replicas to be 3, was 2');
  assert.equal(preconditionFailure(web, { currentReplicas: -1, resourceVersion: '41' }), 'Expected resource version to be 41, was 42');
  assert.equal(parseReplicas('--replicas', '5', -1), 5);
  assert.equal(parseReplicas('--replicas', undefined, -1), -1);
  assert.throws(() => parseReplicas('--replicas', 'three', -1), { message: 'Invalid --replicas "three": expected a whole number' });
});

test('set image patches only the named containers, by name, keeping the order of all of them', () => {
  const spec = web.spec?.template?.spec;
  assert.deepEqual(imagePatch('Deployment', spec, new Map([['web', 'nginx:2']])).patch, {
    spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }, { name: 'log' }], containers: [{ image: 'nginx:2', name: 'web' }] } } },
  });
  assert.deepEqual(imagePatch('Pod', spec, new Map([['*', 'busybox:2']])).patch, {
    spec: {
      '$setElementOrder/initContainers': [{ name: 'init' }],
      initContainers: [{ image: 'busybox:2', name: 'init' }],
      '$setElementOrder/containers': [{ name: 'web' }, { name: 'log' }],
      containers: [{ image: 'busybox:2', name: 'web' }, { image: 'busybox:2', name: 'log' }],
    },
  });
  assert.deepEqual(imagePatch('Deployment', spec, new Map([['web', 'nginx:1']])), { patch: undefined, missing: [] }, 'already that image: nothing to send');
  // As kubectl: the containers found are patched, the missing ones reported.
  const partial = imagePatch('Deployment', spec, new Map([['db', 'postgres:16'], ['log', 'fluent:2']]));
  assert.deepEqual(partial.missing, ['db']);
  assert.deepEqual(partial.patch, { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }, { name: 'log' }], containers: [{ image: 'fluent:2', name: 'log' }] } } } });
  assert.throws(() => imagePatch('ConfigMap', spec, new Map([['web', 'x']])), /has no pod template/);
  assert.deepEqual(parseImageArgs(['deployment/web', 'web=nginx:2', 'log=fluent:2']), { resources: ['deployment/web'], images: new Map([['web', 'nginx:2'], ['log', 'fluent:2']]) });
  assert.throws(() => parseImageArgs(['deployment/web']), /at least one image update is required/);
  assert.throws(() => parseImageArgs(['deployment/web', 'web=']), /invalid image change "web="/);
  assert.throws(() => parseImageArgs(['deployment/web', '*=a', 'web=b']), /all containers are already specified by \*/);
});

test("scale --timeout waits, as kubectl, until the status has the replicas asked for, or someone else asked for another number", () => {
  const scale = (spec: number, status: number) => obj<Scale>({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: spec }, status: { replicas: status } });
  assert.equal(scaleSynced(scale(5, 3), 5), false);
  assert.equal(scaleSynced(scale(5, 5), 5), true);
  assert.equal(scaleSynced(scale(7, 3), 5), true, 'another writer set 7: nothing to wait for');
  assert.equal(scaleSynced(scale(0, 0), 0), true);
});
