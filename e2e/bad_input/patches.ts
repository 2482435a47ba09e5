// Patches that cannot be applied to an existing object: text that is not JSON, JSON patch
// operations whose test fails or whose path does not exist, merge and strategic patches that give
// a field the wrong type or make the object invalid, unknown patch types. Invalid, naming the
// path, the value or the problem; the object is left as it was.

import type { SeededRandom } from '../../raft/core/random.js';
import { Code, type BadCase, type Fixture, pick, token } from './bad_case.js';
import { pathOf, req } from './objects_requests.js';

interface PatchCase {
  what: string;
  type: string;
  /** The patch text, for the pod or the configmap of the fixture. */
  patch: (t: string) => string;
  target: 'pod' | 'configmap';
  message: (t: string) => string;
}

const CASES: readonly PatchCase[] = [
  { what: 'not JSON', type: 'merge', target: 'configmap', patch: (t) => `{"data":{"${t}":`, message: () => 'Cannot parse patch' },
  { what: 'not JSON', type: 'json', target: 'pod', patch: (t) => `[{"op":"add","path":"/metadata/labels/${t}"`, message: () => 'Cannot parse patch' },
  { what: 'not JSON', type: 'strategic', target: 'pod', patch: (t) => `spec: {containers: ${t}}`, message: () => 'Cannot parse patch' },
  { what: 'JSON patch test fails', type: 'json', target: 'pod', patch: (t) => `[{"op":"test","path":"/metadata/name","value":"${t}"}]`, message: () => 'test of "/metadata/name" failed' },
  {
    what: 'JSON patch test fails',
    type: 'json',
    target: 'configmap',
    patch: (t) => `[{"op":"replace","path":"/data/LOG_LEVEL","value":"debug"},{"op":"test","path":"/data/LOG_LEVEL","value":"${t}"}]`,
    message: () => 'test of "/data/LOG_LEVEL" failed',
  },
  { what: 'JSON patch path does not exist', type: 'json', target: 'pod', patch: (t) => `[{"op":"replace","path":"/spec/${t}/x","value":1}]`, message: (t) => `path "/spec/${t}/x" does not exist` },
  { what: 'JSON patch path does not exist', type: 'json', target: 'configmap', patch: (t) => `[{"op":"remove","path":"/metadata/labels/${t}"}]`, message: (t) => `path "/metadata/labels/${t}" does not exist` },
  { what: 'JSON patch path does not exist', type: 'json', target: 'pod', patch: (t) => `[{"op":"move","from":"/metadata/annotations/${t}","path":"/metadata/labels/x"}]`, message: (t) => `"/metadata/annotations/${t}"` },
  { what: 'strategic patch of the wrong type', type: 'strategic', target: 'pod', patch: (t) => `{"spec":{"containers":"${t}"}}`, message: (t) => `spec.containers: Invalid value: "${t}"` },
  { what: 'strategic patch of the wrong type', type: 'strategic', target: 'pod', patch: () => `{"spec":{"volumes":{"name":"scratch"}}}`, message: () => 'spec.volumes' },
  { what: 'merge patch of the wrong type', type: 'merge', target: 'pod', patch: () => `{"spec":{"restartPolicy":5}}`, message: () => 'spec.restartPolicy: Invalid value: 5' },
  { what: 'merge patch of the wrong type', type: 'merge', target: 'configmap', patch: () => `{"data":["a","b"]}`, message: () => 'data' },
  { what: 'patch makes the object invalid', type: 'merge', target: 'configmap', patch: (t) => `{"data":{"bad key ${t}!":"v"}}`, message: (t) => `data[bad key ${t}!]` },
  { what: 'patch makes the object invalid', type: 'merge', target: 'configmap', patch: (t) => `{"metadata":{"labels":{"app":"bad value ${t}!"}}}`, message: (t) => `"bad value ${t}!"` },
  { what: 'patch is not an object', type: 'merge', target: 'configmap', patch: (t) => `["${t}"]`, message: () => 'expected a JSON object' },
  {
    what: 'nested too deep',
    type: 'merge',
    target: 'configmap',
    patch: (t) => `{"metadata":{"annotations":${'{"a":'.repeat(1000 + t.length * 100)}"${t}"${'}'.repeat(1000 + t.length * 100)}}}`,
    message: () => 'Cannot parse patch: it nests deeper than 1000 levels',
  },
  { what: 'unknown patch type', type: 'xml', target: 'configmap', patch: () => '{}', message: () => 'Unsupported patch type "xml"' },
  { what: 'unknown patch type', type: '', target: 'configmap', patch: () => '{}', message: () => 'Unsupported patch type ""' },
];

export function badPatch(r: SeededRandom, f: Fixture): BadCase {
  const c = pick(r, CASES);
  const t = token(r, 6);
  const target = c.target === 'pod' ? { resource: 'pods', name: f.pod.name } : { resource: 'configmaps', name: f.configMap.name };
  return {
    category: `objects/patch: ${c.what}`,
    path: pathOf('patch'),
    body: req.patch({ ...target, namespace: f.namespace, type: c.type, patch: c.patch(t), dryRun: r.intn(4) === 0 }),
    codes: [Code.INVALID_ARGUMENT],
    message: c.message(t),
  };
}
