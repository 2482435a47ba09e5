/* eslint-disable @typescript-eslint/no-explicit-any -- poke reaches into generated message types */
// Objects that decode but break one validation rule each; the answer is Invalid and the message
// names the field path (Kubernetes' wording: `Pod "x" is invalid: spec.containers[0].image: ...`).

import type { SeededRandom } from '../../raft/core/random.js';
import { Code, type BadCase, type Fixture, pick, token } from './bad_case.js';
import { decodeObject } from '../../pkg/api/convert/object.js';
import { encodeObjectBytes, pathOf, req } from './objects_requests.js';

type Json = Record<string, unknown>;

interface Rule {
  rule: string;
  /** The object, given a fresh name and the fixture's namespace. */
  build: (name: string, ns: string) => Json;
  /**
   * Breaks the decoded object where the JSON decoder would already refuse the value (quantities,
   * int-or-strings): the server must still check what arrives as protobuf.
   */
  poke?: (o: any) => void;
  /** The field path (and what is wrong) the message must name. */
  message: string;
}

const container = (extra: Json = {}): Json => ({ name: 'app', image: 'nginx:1.25', ...extra });
const pod = (name: string, ns: string, spec: Json, meta: Json = {}): Json => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, ...meta }, spec: { containers: [container()], ...spec } });
const cm = (name: string, ns: string, extra: Json = {}, meta: Json = {}): Json => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, ...meta }, ...extra });
const deployment = (name: string, ns: string, spec: Json): Json => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns },
  spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [container()] } }, ...spec },
});
const jobTemplate = { spec: { restartPolicy: 'Never', containers: [container()] } };

export const RULES: readonly Rule[] = [
  { rule: 'container without image', build: (n, ns) => pod(n, ns, { containers: [{ name: 'app' }] }), message: 'spec.containers[0].image: Required value' },
  { rule: 'pod without containers', build: (n, ns) => pod(n, ns, { containers: [] }), message: 'spec.containers: Required value' },
  { rule: 'duplicate container names', build: (n, ns) => pod(n, ns, { containers: [container(), container()] }), message: 'spec.containers[1].name: Duplicate value' },
  { rule: 'bad restart policy', build: (n, ns) => pod(n, ns, { restartPolicy: 'Sometimes' }), message: 'spec.restartPolicy: Unsupported value: "Sometimes"' },
  { rule: 'container port out of range', build: (n, ns) => pod(n, ns, { containers: [container({ ports: [{ containerPort: 70000 }] })] }), message: 'spec.containers[0].ports[0].containerPort: Invalid value: 70000' },
  {
    rule: 'bad cpu quantity',
    build: (n, ns) => pod(n, ns, { containers: [container({ resources: { requests: { cpu: '1' } } })] }),
    poke: (o) => (o.spec.containers[0].resources.requests.cpu = '12xyz'),
    message: 'spec.containers[0].resources.requests[cpu]: Invalid value: "12xyz"',
  },
  { rule: 'negative memory limit', build: (n, ns) => pod(n, ns, { containers: [container({ resources: { limits: { memory: '-1Gi' } } })] }), message: 'spec.containers[0].resources.limits[memory]: Invalid value: "-1Gi"' },
  { rule: 'bad env var name', build: (n, ns) => pod(n, ns, { containers: [container({ env: [{ name: 'A=B', value: 'x' }] })] }), message: 'spec.containers[0].env[0].name: Invalid value: "A=B"' },
  { rule: 'mount of a missing volume', build: (n, ns) => pod(n, ns, { containers: [container({ volumeMounts: [{ name: 'nowhere', mountPath: '/data' }] })] }), message: 'spec.containers[0].volumeMounts[0].name: Not found: "nowhere"' },
  { rule: 'negative grace period', build: (n, ns) => pod(n, ns, { terminationGracePeriodSeconds: -3 }), message: 'spec.terminationGracePeriodSeconds: Invalid value: -3' },
  { rule: 'bad toleration operator', build: (n, ns) => pod(n, ns, { tolerations: [{ key: 'k', operator: 'Maybe', value: 'v' }] }), message: 'spec.tolerations[0].operator: Unsupported value: "Maybe"' },
  { rule: 'name with capitals', build: (n, ns) => cm(`Bad_${n}`, ns), message: `metadata.name: Invalid value: "Bad_` },
  { rule: 'name too long', build: (n, ns) => cm(`${n}-${'x'.repeat(260)}`, ns), message: 'metadata.name: Invalid value' },
  { rule: 'no name', build: (_n, ns) => cm('', ns), message: 'metadata.name: Required value' },
  { rule: 'bad label value', build: (n, ns) => cm(n, ns, {}, { labels: { app: 'bad value!' } }), message: 'metadata.labels: Invalid value: "bad value!"' },
  { rule: 'bad label key', build: (n, ns) => cm(n, ns, {}, { labels: { '-bad-key': 'v' } }), message: 'metadata.labels: Invalid value: "-bad-key"' },
  { rule: 'bad annotation key', build: (n, ns) => cm(n, ns, {}, { annotations: { 'a b': 'v' } }), message: 'metadata.annotations: Invalid value: "a b"' },
  { rule: 'bad configmap key', build: (n, ns) => cm(n, ns, { data: { 'bad key!': 'v' } }), message: 'data[bad key!]: Invalid value: "bad key!"' },
  { rule: 'negative replicas', build: (n, ns) => deployment(n, ns, { replicas: -1 }), message: 'spec.replicas: Invalid value: -1' },
  { rule: 'selector does not match template', build: (n, ns) => deployment(n, ns, { selector: { matchLabels: { app: 'other' } } }), message: 'spec.template.metadata.labels: Invalid value' },
  {
    rule: 'bad max surge',
    build: (n, ns) => deployment(n, ns, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } } }),
    poke: (o) => (o.spec.strategy.rollingUpdate.maxSurge = { strVal: '150x' }),
    message: 'spec.strategy.rollingUpdate.maxSurge: Invalid value: "150x"',
  },
  {
    rule: 'negative job parallelism',
    build: (n, ns) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: n, namespace: ns }, spec: { parallelism: -2, template: jobTemplate } }),
    message: 'spec.parallelism: Invalid value: -2',
  },
  {
    rule: 'bad cron schedule',
    build: (n, ns) => ({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: n, namespace: ns }, spec: { schedule: 'every tuesday', jobTemplate: { spec: { template: jobTemplate } } } }),
    message: 'spec.schedule: Invalid value: "every tuesday"',
  },
  { rule: 'service without ports', build: (n, ns) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: n, namespace: ns }, spec: { selector: { app: n }, ports: [] } }), message: 'spec.ports: Required value' },
  {
    rule: 'service port zero',
    build: (n, ns) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: n, namespace: ns }, spec: { ports: [{ port: 0 }] } }),
    message: 'spec.ports[0].port',
  },
  {
    rule: 'hpa max below min',
    build: (n, ns) => ({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: n, namespace: ns },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 5, maxReplicas: 2 },
    }),
    message: 'spec.maxReplicas: Invalid value: 2',
  },
  {
    rule: 'claim without storage request',
    build: (n, ns) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: n, namespace: ns }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: {} } } }),
    message: 'spec.resources[storage]: Required value',
  },
  { rule: 'namespace name with dots', build: (n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `${n}.with.dots` } }), message: `metadata.name: Invalid value: "${''}` },
];

export function invalidObject(r: SeededRandom, f: Fixture): BadCase {
  const rule = pick(r, RULES);
  const name = `bad-${token(r, 8)}`;
  const decoded = decodeObject(rule.build(name, f.namespace)).object;
  rule.poke?.(decoded);
  const object = encodeObjectBytes(decoded);
  return {
    category: `objects/invalid object: ${rule.rule}`,
    path: pathOf('create'),
    body: req.create({ object, dryRun: r.intn(4) === 0 }),
    codes: [Code.INVALID_ARGUMENT],
    message: rule.message,
  };
}
