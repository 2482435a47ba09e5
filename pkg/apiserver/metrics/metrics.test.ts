// The masters' Metrics service against one real master member and a real agent gRPC server (the
// stream server with NodeStats, over the fake runtime), plus nodes whose agents cannot be reached.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { runFakeContainer } from '../../agent/stats/fake_pods.js';
import { parseMeminfo, type NodeProc } from '../../agent/stats/proc.js';
import { StatsSampler } from '../../agent/stats/sampler.js';
import { addNodeStats } from '../../agent/stats/server.js';
import { startStreamServer, type StreamServer } from '../../agent/stream/server.js';
import { FakeRuntime } from '../../agent/runtime/fake.js';
import { isApiError, NavarchClient } from '../../client/mod.js';
import { MetricsApi } from '../../client/metrics.js';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { freePort } from '../../localcluster/kv_cluster.js';
import { until } from '../../localcluster/until.js';
import { startMasterMember, type MasterMember } from '../../master/member.js';
import { realClock } from '../../../raft/node/ports.js';
import { obj } from '../test_util.js';

const node = (name: string, port: number | undefined) =>
  obj({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    status: { allocatable: { cpu: '2', memory: '8Gi' }, addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], ...(port ? { daemonEndpoints: { kubeletEndpoint: { Port: port } } } : {}) },
  });

const NAVCTL = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'cmd', 'navctl.ts');

function navctl(server: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', NAVCTL, '--server', server, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NAVCTL_CONFIG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code }));
  });
}

describe('Metrics through the masters', () => {
  let dir: string;
  let member: MasterMember;
  let client: NavarchClient;
  let metrics: MetricsApi;
  let agent: StreamServer;
  let silent: ReturnType<typeof createServer>;
  const silentSockets = new Set<Socket>();
  const clock = new FakeClock(1_700_000_000_000);
  const rt = new FakeRuntime(clock);
  let cpuNanos = 0;
  const proc: NodeProc = { cpuNanos: () => cpuNanos, memory: () => parseMeminfo('MemTotal: 8000000 kB\nMemAvailable: 6000000 kB\n') };
  const sampler = new StatsSampler({ runtime: rt, proc, clock });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'navarch-metrics-'));
    member = await startMasterMember({ id: 1, dataDir: join(dir, 'master'), peers: [{ id: 1, address: `127.0.0.1:${await freePort()}` }], clientAddresses: new Map(), listenClient: '127.0.0.1:0', tickMs: 20 });
    client = new NavarchClient({ endpoints: [member.clientAddress] });
    metrics = new MetricsApi([member.clientAddress]);
    agent = await startStreamServer('127.0.0.1:0', { runtime: rt, lookup: () => undefined, clock: realClock, register: (s) => addNodeStats(s, sampler) });
    // An agent that accepts connections and never answers: the master's per-node timeout must end it.
    // It never reads either, so it never sees the master hang up; its sockets are destroyed in after.
    silent = createServer((s) => {
      silentSockets.add(s);
      s.on('close', () => silentSockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentPort = (silent.address() as { port: number }).port;
    await until('node-1 created', async () => {
      try {
        await client.create(node('node-1', agent.port));
      } catch (e) {
        if (!isApiError(e, 'AlreadyExists')) throw e;
      }
      return true;
    }, 20_000);
    await client.create(node('node-2', await freePort()));
    await client.create(node('node-3', undefined));
    await client.create(node('node-4', silentPort));

    await runFakeContainer(rt, { namespace: 'default', pod: 'web', uid: 'u1', container: 'httpd' }, { cpuUsageNanos: 1e9, memoryWorkingSetBytes: 64 << 20 });
    await runFakeContainer(rt, { namespace: 'default', pod: 'web', uid: 'u1', container: 'sidecar' }, { cpuUsageNanos: 0, memoryWorkingSetBytes: 8 << 20 });
    await runFakeContainer(rt, { namespace: 'kube-system', pod: 'dns', uid: 'u2', container: 'dns' }, { cpuUsageNanos: 0, memoryWorkingSetBytes: 16 << 20 });
  });

  after(async () => {
    metrics?.close();
    client?.close();
    await agent?.stop();
    // close() only stops accepting; the connections it took would keep the process alive.
    for (const s of silentSockets) s.destroy();
    if (silent) await new Promise<void>((r) => silent.close(() => r()));
    await member?.stop({ transferLeadership: false });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers Unavailable for a node whose agent has one sample only, and still lists the others as unreachable', async () => {
    await sampler.sampleOnce();
    const r = await metrics.nodeMetrics();
    assert.deepEqual(r.items, []);
    assert.deepEqual(r.unreachable.map((u) => u.name), ['node-1', 'node-2', 'node-3', 'node-4']);
    assert.match(r.unreachable[0].message, /not sampled its stats twice/);
    assert.match(r.unreachable[2].message, /kubeletEndpoint/);
  });

  it('returns node usage from the agent that answers, the unreachable ones named (a silent one within the timeout)', async () => {
    cpuNanos += 5e9; // 5 s of CPU in 10 s: 500m.
    rt.setUsage('u1-httpd', { cpuUsageNanos: 3e9, memoryWorkingSetBytes: 64 << 20 });
    await clock.advance(10_000);
    await sampler.sampleOnce();
    const started = Date.now();
    const r = await metrics.nodeMetrics();
    assert.ok(Date.now() - started < 12_000, 'the silent agent is given up on after the per-node timeout');
    assert.deepEqual(r.items, [{ name: 'node-1', timestamp: new Date(clock.nowMs()).toISOString().replace('.000', ''), windowMs: 10_000, cpuNanocores: 500_000_000, memoryBytes: 2_000_000 * 1024, memoryTotalBytes: 8_000_000 * 1024 }]);
    assert.deepEqual(r.unreachable.map((u) => u.name), ['node-2', 'node-3', 'node-4']);
  });

  it('returns pod usage per container, filtered by namespace', async () => {
    const all = await metrics.podMetrics('');
    assert.deepEqual(all.items.map((p) => `${p.namespace}/${p.name}@${p.nodeName}`), ['default/web@node-1', 'kube-system/dns@node-1']);
    const web = (await metrics.podMetrics('default')).items;
    assert.equal(web.length, 1);
    assert.deepEqual(web[0].containers, [
      { name: 'httpd', cpuNanocores: 200_000_000, memoryBytes: 64 << 20 },
      { name: 'sidecar', cpuNanocores: 0, memoryBytes: 8 << 20 },
    ]);
  });

  it('navctl top prints the nodes and pods as kubectl does, warning about the unreachable nodes', async () => {
    const server = member.clientAddress;
    const nodes = await navctl(server, ['top', 'nodes']);
    assert.equal(nodes.code, 0, nodes.stderr);
    const lines = nodes.stdout.split('\n');
    assert.match(lines[0], /^NAME\s+CPU\(cores\)\s+CPU%\s+MEMORY\(bytes\)\s+MEMORY%$/);
    assert.match(lines[1], /^node-1\s+500m\s+25%\s+1953Mi\s+23%$/);
    assert.match(lines[2], /^node-2\s+<unknown>\s+<unknown>\s+<unknown>\s+<unknown>$/);
    assert.match(nodes.stderr, /warning: no metrics from node "node-4"/);

    const pods = await navctl(server, ['top', 'pods', '-A', '--containers']);
    assert.equal(pods.code, 0, pods.stderr);
    assert.deepEqual(pods.stdout.trimEnd().split('\n').map((l) => l.split(/\s+/)), [
      ['NAMESPACE', 'POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)'],
      ['default', 'web', 'httpd', '200m', '64Mi'],
      ['default', 'web', 'sidecar', '0m', '8Mi'],
      ['kube-system', 'dns', 'dns', '0m', '16Mi'],
    ]);
    const none = await navctl(server, ['top', 'pods', '-n', 'empty']);
    assert.equal(none.stdout, 'No resources found in empty namespace.\n');
  });
});
