import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGetArgs, parseOutput } from './get.js';

const kinds = (args: string[]) => parseGetArgs(args).map((r) => [r.info.kind, r.names]);

test('parseGetArgs() resolves plural, singular and short names, comma lists and all', () => {
  assert.deepEqual(kinds(['po']), [['Pod', []]]);
  assert.deepEqual(kinds(['deployments.apps', 'web', 'db']), [['Deployment', ['web', 'db']]]);
  assert.deepEqual(kinds(['svc,cm,ns']), [['Service', []], ['ConfigMap', []], ['Namespace', []]]);
  assert.deepEqual(
    kinds(['all']).map(([k]) => k),
    ['Pod', 'Service', 'Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet', 'Job', 'CronJob', 'HorizontalPodAutoscaler'],
  );
  assert.deepEqual(kinds(['pod/web', 'svc/web', 'po/db']), [['Pod', ['web', 'db']], ['Service', ['web']]]);
});

test('parseGetArgs() refuses unknown kinds and mixed forms with kubectl\'s messages', () => {
  assert.throws(() => parseGetArgs(['gizmos']), /the server doesn't have a resource type "gizmos"/);
  assert.throws(() => parseGetArgs(['pods,svc', 'web']), /only specify a single resource type/);
  assert.throws(() => parseGetArgs(['pod', 'svc/web']), /no need to specify a resource type as a separate argument/);
  assert.throws(() => parseGetArgs([]), /You must specify the type of resource to get/);
});

test('parseOutput() names the formats it accepts', () => {
  assert.equal(parseOutput(undefined), 'table');
  assert.equal(parseOutput('wide'), 'wide');
  assert.throws(() => parseOutput('xml'), /Invalid -o "xml": expected one of wide, yaml, json, name/);
});
