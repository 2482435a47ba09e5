import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Json } from './patch_error.js';
import { applyStrategicMergePatch } from './strategic_merge_patch.js';

type Case = { name: string; kind: string; original: Json; patch: Json; want: Json };

const c = (name: string, image: string, extra: { [k: string]: Json } = {}) => ({ name, image, ...extra });
const podSpec = (spec: { [k: string]: Json }): Json => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });
const deploy = (podTemplateSpec: { [k: string]: Json }, spec: { [k: string]: Json } = {}): Json => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: { replicas: 2, ...spec, template: { metadata: { labels: { app: 'web' } }, spec: podTemplateSpec } },
});

const lastApplied = '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"}}';

const cases: Case[] = [
  // Maps merge key by key; null deletes a key.
  {
    name: 'labels merge key by key and null deletes one',
    kind: 'ConfigMap',
    original: { metadata: { name: 'c', labels: { a: '1', c: '3' } } },
    patch: { metadata: { labels: { b: '2', a: null } } },
    want: { metadata: { name: 'c', labels: { c: '3', b: '2' } } },
  },
  {
    name: 'annotations merge key by key',
    kind: 'ConfigMap',
    original: { metadata: { name: 'c', annotations: { keep: 'me', change: 'old' } } },
    patch: { metadata: { annotations: { change: 'new', add: 'x' } } },
    want: { metadata: { name: 'c', annotations: { keep: 'me', change: 'new', add: 'x' } } },
  },
  {
    name: 'ConfigMap data merges key by key',
    kind: 'ConfigMap',
    original: { metadata: { name: 'c' }, data: { a: '1', b: '2' } },
    patch: { data: { b: null, c: '3' } },
    want: { metadata: { name: 'c' }, data: { a: '1', c: '3' } },
  },
  {
    name: 'nodeSelector and resource requests merge key by key',
    kind: 'Pod',
    original: podSpec({ nodeSelector: { disk: 'ssd', zone: 'a' }, containers: [c('app', 'x', { resources: { requests: { cpu: '100m', memory: '64Mi' } } })] }),
    patch: { spec: { nodeSelector: { zone: 'b' }, containers: [{ name: 'app', resources: { requests: { cpu: '200m' } } }] } },
    want: podSpec({ nodeSelector: { disk: 'ssd', zone: 'b' }, containers: [c('app', 'x', { resources: { requests: { cpu: '200m', memory: '64Mi' } } })] }),
  },
  {
    name: '$patch: replace replaces a map',
    kind: 'ConfigMap',
    original: { metadata: { name: 'c', labels: { a: '1' } } },
    patch: { metadata: { labels: { $patch: 'replace', b: '2' } } },
    want: { metadata: { name: 'c', labels: { b: '2' } } },
  },
  {
    name: '$patch: delete empties a message',
    kind: 'Pod',
    original: podSpec({ containers: [c('app', 'x')], securityContext: { runAsUser: 1000 } }),
    patch: { spec: { securityContext: { $patch: 'delete' } } },
    want: podSpec({ containers: [c('app', 'x')], securityContext: {} }),
  },
  // kubectl's own bodies (kubectl-protocol.md).
  {
    name: 'kubectl set image: the named container changes image and keeps everything else',
    kind: 'Deployment',
    original: deploy({ containers: [c('busybox', 'busybox:local', { ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] })] }),
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'busybox' }], containers: [{ image: 'busybox:v2', name: 'busybox' }] } } } },
    want: deploy({ containers: [c('busybox', 'busybox:v2', { ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] })] }),
  },
  {
    name: 'kubectl apply: the last-applied annotation is merged in, other annotations and the container stay',
    kind: 'Deployment',
    original: { ...(deploy({ containers: [c('web', 'busybox:v1', { imagePullPolicy: 'IfNotPresent' })] }) as object), metadata: { name: 'web', annotations: { 'deployment.kubernetes.io/revision': '1' } } },
    patch: {
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } },
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }], containers: [{ image: 'busybox:v2', name: 'web' }] } } },
    },
    want: {
      ...(deploy({ containers: [c('web', 'busybox:v2', { imagePullPolicy: 'IfNotPresent' })] }) as object),
      metadata: { name: 'web', annotations: { 'deployment.kubernetes.io/revision': '1', 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } },
    },
  },
  // Keyed lists.
  {
    name: 'env merges by name, ports by containerPort, volumeMounts by mountPath, initContainers and volumes by name',
    kind: 'Pod',
    original: podSpec({
      initContainers: [c('init', 'i:1')],
      containers: [c('app', 'x', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80, name: 'http' }], volumeMounts: [{ name: 'data', mountPath: '/d' }] })],
      volumes: [{ name: 'data', emptyDir: {} }],
    }),
    patch: {
      spec: {
        initContainers: [{ name: 'init', image: 'i:2' }],
        containers: [{ name: 'app', env: [{ name: 'B', value: 'two' }], ports: [{ containerPort: 80, protocol: 'TCP' }], volumeMounts: [{ mountPath: '/d', readOnly: true }] }],
        volumes: [{ name: 'data', emptyDir: { medium: 'Memory' } }],
      },
    },
    want: podSpec({
      initContainers: [c('init', 'i:2')],
      containers: [c('app', 'x', { env: [{ name: 'A', value: '1' }, { name: 'B', value: 'two' }], ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }], volumeMounts: [{ name: 'data', mountPath: '/d', readOnly: true }] })],
      volumes: [{ name: 'data', emptyDir: { medium: 'Memory' } }],
    }),
  },
  {
    name: 'Service ports merge by port',
    kind: 'Service',
    original: { metadata: { name: 's' }, spec: { selector: { app: 'a' }, ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } },
    patch: { spec: { ports: [{ port: 80, targetPort: 9090 }] } },
    want: { metadata: { name: 's' }, spec: { selector: { app: 'a' }, ports: [{ port: 80, targetPort: 9090 }, { port: 443 }] } },
  },
  {
    name: 'a new item without $setElementOrder goes before the items the patch leaves out, as in Kubernetes',
    kind: 'Pod',
    original: podSpec({ containers: [c('a', 'x'), c('b', 'x')] }),
    patch: { spec: { containers: [{ name: 'c', image: 'y' }] } },
    want: podSpec({ containers: [c('c', 'y'), c('a', 'x'), c('b', 'x')] }),
  },
  {
    name: '$setElementOrder places new items and reorders',
    kind: 'Pod',
    original: podSpec({ containers: [c('a', 'x'), c('b', 'x')] }),
    patch: { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'c' }, { name: 'a' }], containers: [{ name: 'c', image: 'y' }] } },
    want: podSpec({ containers: [c('b', 'x'), c('c', 'y'), c('a', 'x')] }),
  },
  {
    name: '$setElementOrder alone reorders a list',
    kind: 'Pod',
    original: podSpec({ containers: [c('app', 'x', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] })] }),
    patch: { spec: { containers: [{ name: 'app', '$setElementOrder/env': [{ name: 'B' }, { name: 'A' }] }] } },
    want: podSpec({ containers: [c('app', 'x', { env: [{ name: 'B', value: '2' }, { name: 'A', value: '1' }] })] }),
  },
  {
    name: '$patch: delete removes a keyed item; $patch: replace makes the list the patch\'s items',
    kind: 'Pod',
    original: podSpec({ containers: [c('a', 'x', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }), c('b', 'x')], volumes: [{ name: 'v1', emptyDir: {} }] }),
    patch: { spec: { containers: [{ name: 'b', $patch: 'delete' }, { name: 'a', env: [{ $patch: 'replace' }, { name: 'C', value: '3' }] }], volumes: [{ name: 'v2', emptyDir: {} }, { $patch: 'replace' }] } },
    want: podSpec({ containers: [c('a', 'x', { env: [{ name: 'C', value: '3' }] })], volumes: [{ name: 'v2', emptyDir: {} }] }),
  },
  {
    name: 'lists without a merge key (tolerations, args) are replaced',
    kind: 'Pod',
    original: podSpec({ containers: [c('a', 'x', { args: ['-a', '-b'] })], tolerations: [{ key: 'k', operator: 'Exists' }] }),
    patch: { spec: { containers: [{ name: 'a', args: ['-c'] }], tolerations: [{ key: 'gpu', operator: 'Exists' }] } },
    want: podSpec({ containers: [c('a', 'x', { args: ['-c'] })], tolerations: [{ key: 'gpu', operator: 'Exists' }] }),
  },
  {
    name: 'topologySpreadConstraints merge by topologyKey',
    kind: 'Pod',
    original: podSpec({ containers: [c('a', 'x')], topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }] }),
    patch: { spec: { topologySpreadConstraints: [{ maxSkew: 2, topologyKey: 'host', whenUnsatisfiable: 'ScheduleAnyway' }] } },
    want: podSpec({
      containers: [c('a', 'x')],
      topologySpreadConstraints: [
        { maxSkew: 2, topologyKey: 'host', whenUnsatisfiable: 'ScheduleAnyway' },
        { maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' },
      ],
    }),
  },
  // Lists of strings Kubernetes merges as sets.
  {
    name: 'finalizers merge as a set; $deleteFromPrimitiveList removes values',
    kind: 'ConfigMap',
    original: { metadata: { name: 'c', finalizers: ['a/one', 'b/two'] } },
    patch: { metadata: { finalizers: ['b/two', 'c/three'], '$deleteFromPrimitiveList/finalizers': ['a/one'] } },
    want: { metadata: { name: 'c', finalizers: ['b/two', 'c/three'] } },
  },
  {
    name: '$setElementOrder orders a list of strings',
    kind: 'ConfigMap',
    original: { metadata: { name: 'c', finalizers: ['a', 'b'] } },
    patch: { metadata: { '$setElementOrder/finalizers': ['c', 'b', 'a'], finalizers: ['c'] } },
    want: { metadata: { name: 'c', finalizers: ['c', 'b', 'a'] } },
  },
  // $retainKeys.
  {
    name: '$retainKeys clears the fields it does not name (Deployment strategy)',
    kind: 'Deployment',
    original: deploy({ containers: [c('a', 'x')] }, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } } }),
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
    want: deploy({ containers: [c('a', 'x')] }, { strategy: { type: 'Recreate' } }),
  },
  {
    name: '$retainKeys in a volume switches its source',
    kind: 'Pod',
    original: podSpec({ containers: [c('a', 'x')], volumes: [{ name: 'v', emptyDir: {} }] }),
    patch: { spec: { volumes: [{ name: 'v', $retainKeys: ['configMap', 'name'], configMap: { name: 'cm' } }] } },
    want: podSpec({ containers: [c('a', 'x')], volumes: [{ name: 'v', configMap: { name: 'cm' } }] }),
  },
];

describe('applyStrategicMergePatch()', () => {
  for (const t of cases) {
    it(t.name, () => {
      const original = structuredClone(t.original);
      assert.deepEqual(applyStrategicMergePatch(t.kind, t.original, t.patch), t.want);
      assert.deepEqual(t.original, original, 'the target is not changed');
    });
  }

  const refused: Array<[string, string, Json, RegExp]> = [
    ['an unknown $patch directive', 'Pod', { spec: { securityContext: { $patch: 'frob' } } }, /spec\.securityContext has unknown \$patch directive "frob"; expected replace or delete/],
    ['a keyed item without its key', 'Pod', { spec: { containers: [{ image: 'x' }] } }, /spec\.containers has an item without its merge key "name"/],
    ['a keyed item that is not an object', 'Pod', { spec: { containers: ['x'] } }, /spec\.containers has an item that is not an object/],
    ['a $patch: delete item without its key', 'Pod', { spec: { containers: [{ $patch: 'delete' }] } }, /spec\.containers has a \$patch: delete item without its merge key "name"/],
    ['a $setElementOrder that is not a list', 'Pod', { spec: { '$setElementOrder/containers': 'a' } }, /spec\.containers has \$setElementOrder\/containers "a"; expected a list/],
    ['a $setElementOrder item without the key', 'Pod', { spec: { '$setElementOrder/containers': [{ image: 'x' }], containers: [] } }, /spec\.containers has a \$setElementOrder\/containers item without the merge key "name"/],
    ['a $retainKeys that is not a list of names', 'Pod', { spec: { $retainKeys: 'x' } }, /spec has \$retainKeys "x"; expected a list of field names/],
    ['a field $retainKeys does not name', 'Deployment', { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: { maxSurge: 1 } } } }, /spec\.strategy sets "rollingUpdate", which its \$retainKeys list does not name/],
    ['$deleteFromPrimitiveList with a non-list', 'ConfigMap', { metadata: { '$deleteFromPrimitiveList/finalizers': 'a' } }, /metadata\.\$deleteFromPrimitiveList\/finalizers is not a list/],
    ['a patch that deletes the object', 'Pod', { $patch: 'delete' }, /it deletes the whole object/],
    ['a patch that is not an object', 'Pod', [1], /expected a JSON object/],
  ];
  for (const [what, kind, patch, message] of refused) {
    it(`refuses ${what}, naming the field`, () => {
      assert.throws(() => applyStrategicMergePatch(kind, podSpec({ containers: [c('a', 'x')] }), patch), message);
    });
  }
});
