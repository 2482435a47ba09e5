import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EtcdRawClient } from '../etcdserver/raw_client.js';
import { freePort } from '../localcluster/kv_cluster.js';
import { decodeObject } from '../api/convert/object.js';
import { startMasterMember } from './member.js';
import { Counter, Histogram, Registry } from 'prom-client';
import { MasterMetrics } from './metrics.js';

test('/metrics shows raft, store, proposal, fsync, per-method gRPC and object API figures of a one-master cluster', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-metrics-'));
  const metrics = new MasterMetrics();
  const member = await startMasterMember({
    id: 1,
    dataDir: dir,
    peers: [{ id: 1, address: `127.0.0.1:${await freePort()}` }],
    clientAddresses: new Map(),
    listenClient: '127.0.0.1:0',
    tickMs: 20,
    onRequest: metrics.onRequest,
    onProposal: metrics.onProposal,
    onSync: metrics.onSync,
    onApiRequest: metrics.onApiRequest,
  });
  metrics.attach(member.node, member.store);
  const client = new EtcdRawClient(member.clientAddress);
  try {
    const port = await metrics.listen('127.0.0.1:0');
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await client.call('KV', 'Put', { key: Buffer.from('k'), value: Buffer.from('v') });
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    await client.call('KV', 'Range', { key: Buffer.from('') }).catch(() => undefined);
    await member.api.create({ object: decodeObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } }).object });
    await member.api.get({ resource: 'ns', name: 'absent' }).catch(() => undefined);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(text, /^navarch_grpc_requests_total\{method="Put",code="OK"\} 1$/m);
    assert.match(text, /^navarch_grpc_requests_total\{method="Range",code="INVALID_ARGUMENT"\} 1$/m);
    assert.match(text, /^navarch_raft_proposal_duration_seconds_count 2$/m);
    assert.match(text, /^navarch_raft_fsync_duration_seconds_count [1-9]/m);
    assert.match(text, /^apiserver_request_total\{verb="create",resource="namespaces",subresource="",code="OK"\} 1$/m);
    assert.match(text, /^apiserver_request_total\{verb="get",resource="ns",subresource="",code="NotFound"\} 1$/m);
    assert.match(text, /^apiserver_request_duration_seconds_count\{verb="create",resource="namespaces"\} 1$/m);
    assert.match(text, /^navarch_raft_is_leader 1$/m);
    assert.match(text, /^navarch_raft_term [1-9]/m);
    assert.match(text, /^navarch_store_revision 3$/m);
    assert.match(text, /^process_resident_memory_bytes \d+/m);
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
  } finally {
    client.close();
    await metrics.close();
    await member.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/metrics also serves added registries, merging families of the same name', async () => {
  const metrics = new MasterMetrics();
  const a = new Registry();
  const b = new Registry();
  new Counter({ name: 'workqueue_adds_total', help: 'adds', labelNames: ['name'], registers: [a] }).inc({ name: 'deployment' }, 3);
  new Counter({ name: 'workqueue_adds_total', help: 'adds', labelNames: ['name'], registers: [b] }).inc({ name: 'replicaset' }, 2);
  new Histogram({ name: 'scheduler_scheduling_attempt_duration_seconds', help: 'attempts', labelNames: ['result'], buckets: [0.1, 1], registers: [b] }).observe({ result: 'scheduled' }, 0.05);
  let current: Registry[] = [a];
  metrics.addRegistries(() => current);
  try {
    const port = await metrics.listen('127.0.0.1:0');
    const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    let text = await scrape();
    assert.match(text, /^workqueue_adds_total\{name="deployment"\} 3$/m);
    assert.doesNotMatch(text, /replicaset/);
    assert.match(text, /^process_resident_memory_bytes \d+/m);
    current = [a, b];
    text = await scrape();
    assert.equal(text.match(/^# TYPE workqueue_adds_total counter$/gm)?.length, 1);
    assert.match(text, /^workqueue_adds_total\{name="deployment"\} 3$/m);
    assert.match(text, /^workqueue_adds_total\{name="replicaset"\} 2$/m);
    assert.match(text, /^scheduler_scheduling_attempt_duration_seconds_bucket\{le="0.1",result="scheduled"\} 1$/m);
  } finally {
    await metrics.close();
  }
});
