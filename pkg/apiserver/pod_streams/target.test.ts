import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../../api/registry.js';
import { obj, testServer } from '../test_util.js';
import { execTarget, logsTarget } from './target.js';

const node = (name: string, status: Record<string, unknown>) => obj({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status });

const podJson = (name: string, status: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { nodeName: 'n1', initContainers: [{ name: 'setup', image: 'x' }], containers: [{ name: 'app', image: 'x' }, { name: 'side', image: 'x' }], ...extra },
  status,
});

async function fixture() {
  const { server } = await testServer();
  await server.create({ object: node('n1', { addresses: [{ type: 'Hostname', address: 'n1' }, { type: 'InternalIP', address: '10.1.2.3' }], daemonEndpoints: { kubeletEndpoint: { Port: 10250 } } }) });
  await server.create({ object: node('v6', { addresses: [{ type: 'InternalIP', address: 'fd00::7' }], daemonEndpoints: { kubeletEndpoint: { Port: 10250 } } }) });
  await server.create({ object: node('portless', { addresses: [{ type: 'InternalIP', address: '10.1.2.4' }] }) });
  const add = async (name: string, status: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const created = (await server.create({ object: obj(podJson(name, {}, extra)) })) as Pod;
    return server.updateStatus({ object: { ...created, status: obj<Pod>(podJson(name, status)).status } });
  };
  return { server, add };
}

const invalid = (message: string | RegExp) => (e: { code?: string; message: string }) => e.code === 'Invalid' && (typeof message === 'string' ? e.message === message : message.test(e.message));

test('the target is the InternalIP and kubelet port of the pod\'s node, with the pod\'s uid', async () => {
  const { server, add } = await fixture();
  const p = (await add('web', { phase: 'Running' })) as Pod;
  const t = await logsTarget(server, { namespace: 'default', name: 'web', container: 'side', previous: false });
  assert.deepEqual({ address: t.agentAddress, node: t.nodeName, uid: t.uid, container: t.container }, { address: '10.1.2.3:10250', node: 'n1', uid: p.metadata?.uid, container: 'side' });
  assert.equal((await logsTarget(server, { namespace: 'default', name: 'web', container: 'setup', previous: false })).container, 'setup');
  await add('six', { phase: 'Running' }, { nodeName: 'v6' });
  assert.equal((await execTarget(server, { namespace: 'default', name: 'six', container: 'app' })).agentAddress, '[fd00::7]:10250');
});

test('bad requests get Kubernetes\' messages, naming the containers to choose from', async () => {
  const { server, add } = await fixture();
  await add('web', { phase: 'Running' });
  await assert.rejects(logsTarget(server, { namespace: 'default', name: 'web', container: '', previous: false }), invalid('a container name must be specified for pod web, choose one of: [app side] or one of the init containers: [setup]'));
  await assert.rejects(execTarget(server, { namespace: 'default', name: 'web', container: 'db' }), invalid('container db is not valid for pod web: choose one of: [app side] or one of the init containers: [setup]'));
  await add('done', { phase: 'Succeeded' });
  await assert.rejects(execTarget(server, { namespace: 'default', name: 'done', container: 'app' }), invalid('cannot exec into a container in a completed pod; current phase is Succeeded'));
  await add('starting', { phase: 'Pending', containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ImagePullBackOff' } } }] });
  await assert.rejects(logsTarget(server, { namespace: 'default', name: 'starting', container: 'app', previous: false }), invalid('container "app" in pod "starting" is waiting to start: ImagePullBackOff'));
  await assert.rejects(execTarget(server, { namespace: 'default', name: 'starting', container: 'app' }), invalid('container "app" in pod "starting" is not running'));
  await assert.rejects(logsTarget(server, { namespace: 'default', name: 'starting', container: 'app', previous: true }), (e: Error) => e.message === 'previous terminated container "app" in pod "starting" not found');
  // Waiting to restart after a crash: the last run's logs are there.
  await add('crashing', { phase: 'Running', containerStatuses: [{ name: 'app', restartCount: 3, containerID: 'navarch://c3', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1 } } }] });
  assert.equal((await logsTarget(server, { namespace: 'default', name: 'crashing', container: 'app', previous: false })).container, 'app');
  assert.equal((await logsTarget(server, { namespace: 'default', name: 'crashing', container: 'app', previous: true })).container, 'app');
  await add('lost', { phase: 'Running' }, { nodeName: 'portless' });
  await assert.rejects(logsTarget(server, { namespace: 'default', name: 'lost', container: 'app', previous: false }), (e: { code: string; message: string }) => e.code === 'Unavailable' && /node "portless": the node reports no status\.daemonEndpoints\.kubeletEndpoint\.Port/.test(e.message));
  await add('gone', { phase: 'Running' }, { nodeName: 'n9' });
  await assert.rejects(logsTarget(server, { namespace: 'default', name: 'gone', container: 'app', previous: false }), (e: { code: string; message: string }) => e.code === 'NotFound' && e.message === 'nodes "n9" not found');
});
