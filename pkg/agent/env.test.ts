import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigMap, Pod, Secret } from '../../gen/navarch/api/v1/core.js';
import { obj, testServer } from '../apiserver/test_util.js';
import { RecordingClient } from '../controllers/testing/recording_client.js';
import { ContainerConfigError, resolveEnv, type EnvSources } from './env.js';
import { expandVars } from './expansion.js';
import { objectGetters } from './object_getters.js';

function podWith(container: Record<string, unknown>, extra: { labels?: Record<string, string>; annotations?: Record<string, string>; initContainers?: unknown[] } = {}): Pod {
  return obj<Pod>({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'shop', uid: 'u-123', labels: extra.labels ?? { app: 'web' }, annotations: extra.annotations ?? { 'a.io/x': 'y' } },
    spec: {
      nodeName: 'node-a',
      serviceAccountName: 'robot',
      initContainers: extra.initContainers ?? [],
      containers: [{ name: 'side', image: 'busybox' }, { name: 'app', image: 'busybox', ...container }],
    },
  });
}

const cm = (name: string, data: Record<string, string>): ConfigMap => obj<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'shop' }, data });
const secret = (name: string, data: Record<string, string>): Secret =>
  obj<Secret>({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'shop' }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) });

function sources(objects: { configMaps?: ConfigMap[]; secrets?: Secret[] } = {}): EnvSources {
  const find = <T extends { metadata?: { namespace?: string; name?: string } }>(list: T[] | undefined, ns: string, name: string) => list?.find((o) => o.metadata?.namespace === ns && o.metadata?.name === name);
  return {
    getConfigMap: async (ns, name) => find(objects.configMaps, ns, name),
    getSecret: async (ns, name) => find(objects.secrets, ns, name),
    podIP: '198.18.1.7',
    hostIP: '10.0.0.5',
    nodeName: 'node-a',
    nodeAllocatable: { cpu: '4', memory: '8Gi' },
  };
}

const app = (pod: Pod) => pod.spec!.containers[1];
const asObject = (env: { name: string; value: string }[]) => Object.fromEntries(env.map((e) => [e.name, e.value]));

describe('expandVars', () => {
  const vars: Record<string, string> = { A: 'x', B: 'y' };
  const lookup = (n: string) => vars[n];
  for (const [input, want] of [
    ['$(A)-$(B)', 'x-y'],
    ['$(UNKNOWN)', '$(UNKNOWN)'],
    ['$$(A)', '$(A)'],
    ['$$$(A)', '$x'],
    ['cost: $5', 'cost: $5'],
    ['trailing $', 'trailing $'],
    ['open $(A', 'open $(A'],
    ['$()', '$()'],
    ['', ''],
  ] as const) {
    it(`expands ${JSON.stringify(input)} to ${JSON.stringify(want)}`, () => assert.equal(expandVars(input, lookup), want));
  }
});

describe('resolveEnv', () => {
  it('takes literal values and expands references to variables defined earlier, not later', async () => {
    const pod = podWith({
      env: [
        { name: 'HOST', value: 'db' },
        { name: 'URL', value: 'http://$(HOST):$(PORT)/$$(HOST)' },
        { name: 'PORT', value: '5432' },
      ],
    });
    assert.deepEqual(asObject(await resolveEnv(pod, app(pod), sources())), { HOST: 'db', URL: 'http://db:$(PORT)/$(HOST)', PORT: '5432' });
  });

  it('reads the pod fields of the downward API', async () => {
    const fields = {
      NAME: 'metadata.name',
      NS: 'metadata.namespace',
      UID: 'metadata.uid',
      APP: "metadata.labels['app']",
      NOLABEL: "metadata.labels['missing']",
      ANN: "metadata.annotations['a.io/x']",
      NODE: 'spec.nodeName',
      SA: 'spec.serviceAccountName',
      IP: 'status.podIP',
      IPS: 'status.podIPs',
      HOST_IP: 'status.hostIP',
    };
    const pod = podWith({ env: Object.entries(fields).map(([name, fieldPath]) => ({ name, valueFrom: { fieldRef: { fieldPath } } })) });
    assert.deepEqual(asObject(await resolveEnv(pod, app(pod), sources())), {
      NAME: 'web-1',
      NS: 'shop',
      UID: 'u-123',
      APP: 'web',
      NOLABEL: '',
      ANN: 'y',
      NODE: 'node-a',
      SA: 'robot',
      IP: '198.18.1.7',
      IPS: '198.18.1.7',
      HOST_IP: '10.0.0.5',
    });
  });

  it('reads resources through resourceFieldRef, rounding up in units of the divisor, with the node allocatable as the missing limit', async () => {
    const pod = podWith({
      resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { memory: '128Mi' } },
      env: [
        { name: 'CPU_REQ', valueFrom: { resourceFieldRef: { resource: 'requests.cpu' } } },
        { name: 'CPU_REQ_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
        { name: 'MEM_LIM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'CPU_LIM', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        { name: 'SIDE_MEM', valueFrom: { resourceFieldRef: { containerName: 'side', resource: 'requests.memory' } } },
      ],
    });
    assert.deepEqual(asObject(await resolveEnv(pod, app(pod), sources())), { CPU_REQ: '1', CPU_REQ_M: '250', MEM_LIM_MI: '128', CPU_LIM: '4', SIDE_MEM: '0' });
  });

  it('takes envFrom first with prefixes, lets later sources and env entries override, and skips keys that are not names', async () => {
    const pod = podWith({
      envFrom: [{ configMapRef: { name: 'settings' } }, { prefix: 'S_', secretRef: { name: 'creds' } }, { configMapRef: { name: 'more' } }],
      env: [{ name: 'MODE', value: 'from-env:$(MODE)' }, { name: 'PW', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } }, { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'LEVEL' } } }],
    });
    const src = sources({
      configMaps: [cm('settings', { MODE: 'a', LEVEL: 'debug', 'bad=key': 'x' }), cm('more', { MODE: 'b' })],
      secrets: [secret('creds', { password: 's3cret', user: 'me' })],
    });
    assert.deepEqual(asObject(await resolveEnv(pod, app(pod), src)), { MODE: 'from-env:b', LEVEL: 'debug', S_password: 's3cret', S_user: 'me', PW: 's3cret' });
  });

  it('leaves out optional references to missing objects and keys', async () => {
    const pod = podWith({
      envFrom: [{ configMapRef: { name: 'absent', optional: true } }, { secretRef: { name: 'absent', optional: true } }],
      env: [
        { name: 'A', valueFrom: { configMapKeyRef: { name: 'absent', key: 'k', optional: true } } },
        { name: 'B', valueFrom: { secretKeyRef: { name: 'present', key: 'nokey', optional: true } } },
        { name: 'C', value: 'kept' },
      ],
    });
    assert.deepEqual(await resolveEnv(pod, app(pod), sources({ secrets: [secret('present', { k: 'v' })] })), [{ name: 'C', value: 'kept' }]);
  });

  const failures: Array<[string, Record<string, unknown>, string]> = [
    ['a missing configmap', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }, { name: 'X', valueFrom: { configMapKeyRef: { name: 'x', key: 'k' } } }] }, 'spec.containers[1].env[2].valueFrom.configMapKeyRef: configmap "x" not found'],
    ['a missing secret key', { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } }] }, 'spec.containers[1].env[0].valueFrom.secretKeyRef: key "token" not found in secret "creds"'],
    ['a missing envFrom secret', { envFrom: [{ secretRef: { name: 'nope' } }] }, 'spec.containers[1].envFrom[0].secretRef: secret "nope" not found'],
    ['an unsupported field path', { env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.hostname' } } }] }, 'spec.containers[1].env[0].valueFrom.fieldRef.fieldPath: unsupported fieldPath "spec.hostname"'],
    ['an unsupported resource', { env: [{ name: 'X', valueFrom: { resourceFieldRef: { resource: 'limits.gpu' } } }] }, 'spec.containers[1].env[0].valueFrom.resourceFieldRef: unsupported resource "limits.gpu"'],
    ['a resource of an unknown container', { env: [{ name: 'X', valueFrom: { resourceFieldRef: { containerName: 'ghost', resource: 'limits.cpu' } } }] }, 'spec.containers[1].env[0].valueFrom.resourceFieldRef: container "ghost" not found in the pod'],
    ['a missing key name', { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings' } } }] }, 'spec.containers[1].env[0].valueFrom.configMapKeyRef.key: Required value'],
  ];
  for (const [what, container, message] of failures) {
    it(`names the field for ${what}`, async () => {
      const pod = podWith(container);
      await assert.rejects(resolveEnv(pod, app(pod), sources({ configMaps: [cm('settings', {})], secrets: [secret('creds', { user: 'me' })] })), (err: unknown) => {
        assert.ok(err instanceof ContainerConfigError);
        assert.equal(err.message, message);
        return true;
      });
    });
  }

  it('names init containers by their own list', async () => {
    const pod = podWith({}, { initContainers: [{ name: 'init', image: 'busybox', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'x', key: 'k' } } }] }] });
    await assert.rejects(resolveEnv(pod, pod.spec!.initContainers[0], sources()), { message: 'spec.initContainers[0].env[0].valueFrom.configMapKeyRef: configmap "x" not found' });
  });

  it('reads ConfigMaps and Secrets through the API, once per object', async () => {
    const t = await testServer({ namespaces: ['shop'] });
    const client = new RecordingClient(t.server, { recordReads: true });
    await t.server.create({ object: cm('settings', { LEVEL: 'info' }) });
    await t.server.create({ object: secret('creds', { password: 'pw' }) });
    const pod = podWith({
      envFrom: [{ configMapRef: { name: 'settings' } }],
      env: [{ name: 'L', valueFrom: { configMapKeyRef: { name: 'settings', key: 'LEVEL' } } }, { name: 'P', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } }, { name: 'M', valueFrom: { configMapKeyRef: { name: 'missing', key: 'k', optional: true } } }],
    });
    const env = await resolveEnv(pod, app(pod), { ...objectGetters(client), podIP: '198.18.1.7' });
    assert.deepEqual(asObject(env), { LEVEL: 'info', L: 'info', P: 'pw' });
    assert.deepEqual(client.actions.map((a) => `${a.verb} ${a.resource} ${a.name}`), ['get configmaps settings', 'get secrets creds', 'get configmaps missing']);
  });
});
