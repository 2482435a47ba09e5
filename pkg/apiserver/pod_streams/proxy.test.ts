// kubectl logs and exec end to end in one process: a real master member (Raft, RocksDB, gRPC), an
// agent's stream server on 127.0.0.1 registered on a Node object, and the client navctl uses.
// The agent's exec runs real host processes through a runtime double; logs are real files.

import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import type { Pod } from '../../api/registry.js';
import { formatRecord } from '../../agent/stream/log_record.js';
import type { ContainerLookup } from '../../agent/stream/lookup.js';
import { startStreamServer } from '../../agent/stream/server.js';
import { HostExecRuntime } from '../../agent/stream/test_runtime.js';
import { isApiError, NavarchClient, type ApiError } from '../../client/mod.js';
import { PodStreams } from '../../client/pod_streams.js';
import { freePort } from '../../localcluster/kv_cluster.js';
import { until } from '../../localcluster/until.js';
import { startMasterMember } from '../../master/member.js';
import { realClock } from '../../../raft/node/ports.js';
import { obj } from '../test_util.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

const podObject = (name: string, containers: string[], nodeName?: string) =>
  obj<Pod>({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { ...(nodeName ? { nodeName } : {}), containers: containers.map((c) => ({ name: c, image: '127.0.0.1:5000/navarch/busybox:latest' })) },
  });

const statusOf = (json: Record<string, unknown>): Pod['status'] => obj<Pod>({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, status: json }).status;

const running = (name: string, restartCount = 0) => ({ name, ready: true, restartCount, containerID: `navarch://${name}`, state: { running: { startedAt: '2026-12-02T12:00:00Z' } } });

test('logs and exec reach the pod through the master, with Kubernetes errors for bad requests', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-pod-streams-'));
  const runtime = new HostExecRuntime();
  const member = await startMasterMember({ id: 1, dataDir: join(dir, 'master'), peers: [{ id: 1, address: `127.0.0.1:${await freePort()}` }], clientAddresses: new Map(), listenClient: '127.0.0.1:0', tickMs: 20 });
  const client = new NavarchClient({ endpoints: [member.clientAddress] });
  const streams = new PodStreams([member.clientAddress]);
  // The agent's part: which pods run here (by uid), their log directories and container ids.
  const pods = new Map<string, { uid: string; containerIds: Record<string, string> }>();
  const podsDir = join(dir, 'pods');
  const lookup: ContainerLookup = (r) => {
    const p = pods.get(`${r.namespace}/${r.name}`);
    if (!p || (r.uid && r.uid !== p.uid) || !(r.container in p.containerIds)) return undefined;
    return { logDir: join(podsDir, `${r.namespace}_${r.name}_${p.uid}`, r.container), containerId: p.containerIds[r.container] };
  };
  const agent = await startStreamServer('127.0.0.1:0', { runtime, lookup, clock: realClock, pollIntervalMs: 50 });
  try {
    await until('namespace default', async () => {
      try {
        await client.create(obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }));
      } catch (e) {
        if (!isApiError(e, 'AlreadyExists')) throw e;
      }
      return true;
    }, 20_000);
    await client.create(
      obj({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: agent.port } } } }),
    );
    // "web" runs one container on node-1; "duo" has two; "pending" is not scheduled.
    const web = await client.create(podObject('web', ['app'], 'node-1'));
    await client.updateStatus({ ...web, status: statusOf({ phase: 'Running', containerStatuses: [running('app', 1)] }) });
    const duo = await client.create(podObject('duo', ['a', 'b'], 'node-1'));
    await client.updateStatus({ ...duo, status: statusOf({ phase: 'Running', containerStatuses: [running('a'), running('b')] }) });
    await client.create(podObject('pending', ['app']));
    const uid = web.metadata!.uid!;
    pods.set('default/web', { uid, containerIds: { app: 'c-app' } });
    pods.set('default/duo', { uid: duo.metadata!.uid!, containerIds: { a: 'c-a', b: 'c-b' } });
    runtime.phases.set('c-app', 'running');
    runtime.phases.set('c-b', 'running');
    const logDir = join(podsDir, `default_web_${uid}`, 'app');
    mkdirSync(logDir, { recursive: true });
    const t = Date.UTC(2026, 11, 2, 12, 0, 0);
    writeFileSync(join(logDir, '0.log'), formatRecord(t, 'stdout', 'first run'));
    writeFileSync(join(logDir, '1.log'), [1, 2, 3].map((i) => formatRecord(t + i * 1000, 'stdout', `hello ${i}`)).join(''));

    const logs = async (o: Parameters<PodStreams['logs']>[0]): Promise<string> => {
      const out = new Sink();
      await streams.logs(o, out);
      return out.text;
    };
    assert.equal(await logs({ namespace: 'default', name: 'web' }), 'hello 1\nhello 2\nhello 3\n');
    assert.equal(await logs({ namespace: 'default', name: 'web', container: 'app', tailLines: 1, timestamps: true }), '2026-12-02T12:00:03.000000000Z hello 3\n');
    assert.equal(await logs({ namespace: 'default', name: 'web', previous: true }), 'first run\n');

    // Follow: a line appended later arrives; the client stops the stream.
    const ac = new AbortController();
    const followed = new Sink();
    const following = streams.logs({ namespace: 'default', name: 'web', follow: true, tailLines: 1 }, followed, ac.signal);
    following.catch(() => {}); // awaited below; a failure before then must not go unhandled
    await until('the last line', () => followed.text === 'hello 3\n', 20_000);
    appendFileSync(join(logDir, '1.log'), formatRecord(t + 4000, 'stderr', 'appended'));
    await until('the appended line', () => followed.text === 'hello 3\nappended\n', 20_000);
    ac.abort();
    await following;

    const rejects = (p: Promise<unknown>, code: string, message: string | RegExp) =>
      assert.rejects(p, (e: ApiError) => {
        assert.equal(e.code, code, e.message);
        if (typeof message === 'string') assert.equal(e.message, message);
        else assert.match(e.message, message);
        return true;
      });
    await rejects(logs({ namespace: 'default', name: 'nope' }), 'NotFound', 'pods "nope" not found');
    await rejects(logs({ namespace: 'default', name: 'duo' }), 'Invalid', 'a container name must be specified for pod duo, choose one of: [a b]');
    await rejects(logs({ namespace: 'default', name: 'web', container: 'db' }), 'Invalid', 'container db is not valid for pod web: choose one of: [app]');
    await rejects(logs({ namespace: 'default', name: 'pending' }), 'Invalid', 'pod pending does not have a host assigned');
    await rejects(logs({ namespace: 'default', name: 'duo', container: 'a', previous: true }), 'NotFound', 'previous terminated container "a" in pod "duo" not found');
    await rejects(logs({ namespace: 'default', name: 'web', tailLines: -2 }), 'Invalid', /tailLines: Invalid value: -2/);

    // Exec: stdin in, stdout and stderr apart, the exit code back.
    const stdin = new PassThrough();
    const stdout = new Sink();
    const stderr = new Sink();
    const running_ = streams.exec({ namespace: 'default', name: 'web', argv: ['sh', '-c', 'read x; echo "got $x"; echo warn >&2; exit 7'] }, { stdin, stdout, stderr });
    stdin.end('ping\n');
    assert.equal(await running_, 7);
    assert.equal(stdout.text, 'got ping\n');
    assert.equal(stderr.text, 'warn\n');
    assert.deepEqual(runtime.execs.at(-1), { id: 'c-app', options: { argv: ['sh', '-c', 'read x; echo "got $x"; echo warn >&2; exit 7'], tty: false, stdin: true } });

    const out2 = new Sink();
    assert.equal(await streams.exec({ namespace: 'default', name: 'duo', container: 'b', argv: ['echo', 'from b'] }, { stdout: out2, stderr: new Sink() }), 0);
    assert.equal(out2.text, 'from b\n');
    // The agent's answer passes through: container a is not running there.
    await rejects(streams.exec({ namespace: 'default', name: 'duo', container: 'a', argv: ['true'] }, { stdout: new Sink(), stderr: new Sink() }), 'Invalid', 'container "a" in pod "duo" is not running');
    await rejects(streams.exec({ namespace: 'default', name: 'pending', argv: ['true'] }, { stdout: new Sink(), stderr: new Sink() }), 'Invalid', 'pod pending does not have a host assigned');

    // An agent that cannot be reached is named.
    await agent.stop();
    await rejects(logs({ namespace: 'default', name: 'web' }), 'Unavailable', /Cannot stream from the agent of node "node-1" at 127\.0\.0\.1:\d+/);
  } finally {
    streams.close();
    client.close();
    await agent.stop();
    await runtime.close();
    await member.stop({ transferLeadership: false });
    rmSync(dir, { recursive: true, force: true });
  }
});
