// Bad callers of the stream services: bytes that are not the request message get Invalid with a
// reason (never INTERNAL) from the masters' PodStreams and the agents' ContainerStreams alike, and an
// exec that never sends its options does not hold its call forever.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, Server, ServerCredentials, credentials, type ServiceError } from '@grpc/grpc-js';
import { startStreamServer } from '../../agent/stream/server.js';
import { HostExecRuntime } from '../../agent/stream/test_runtime.js';
import { realClock } from '../../../raft/node/ports.js';
import { testServer } from '../test_util.js';
import { addPodStreams } from './grpc_proxy.js';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { until } from '../../localcluster/until.js';

// A truncated length-delimited field: no decoder accepts it.
const GARBAGE = Buffer.from([0x0a, 0x05, 0x61]);
const raw = (b: Buffer): Buffer => b;

function serverStream(address: string, path: string): Promise<ServiceError> {
  const client = new Client(address, credentials.createInsecure());
  return new Promise<ServiceError>((resolve) => {
    const call = client.makeServerStreamRequest(path, raw, raw, GARBAGE);
    call.on('data', () => {});
    call.on('error', (e: ServiceError) => resolve(e));
    call.on('end', () => resolve(Object.assign(new Error('ended without an error'), { code: 0, details: '', metadata: undefined as never })));
  }).finally(() => client.close());
}

function bidiStream(address: string, path: string): Promise<ServiceError> {
  const client = new Client(address, credentials.createInsecure());
  return new Promise<ServiceError>((resolve) => {
    const call = client.makeBidiStreamRequest(path, raw, raw);
    call.on('data', () => {});
    call.on('error', (e: ServiceError) => resolve(e));
    call.on('end', () => resolve(Object.assign(new Error('ended without an error'), { code: 0, details: '', metadata: undefined as never })));
    call.write(GARBAGE);
    call.end();
  }).finally(() => client.close());
}

test('undecodable requests get INVALID_ARGUMENT naming the message, on the master and on the agent', async () => {
  const { server: api } = await testServer();
  const master = new Server();
  addPodStreams(master, api);
  const port = await new Promise<number>((resolve, reject) => master.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const runtime = new HostExecRuntime();
  const agent = await startStreamServer('127.0.0.1:0', { runtime, lookup: () => undefined, clock: realClock });
  try {
    const cases: [Promise<ServiceError>, RegExp][] = [
      [serverStream(`127.0.0.1:${port}`, '/navarch.apiserver.v1.PodStreams/PodLogs'), /Cannot decode the request as navarch\.apiserver\.v1\.PodLogsRequest/],
      [bidiStream(`127.0.0.1:${port}`, '/navarch.apiserver.v1.PodStreams/PodExec'), /Cannot decode the request as navarch\.apiserver\.v1\.PodExecInput/],
      [serverStream(`127.0.0.1:${agent.port}`, '/navarch.agent.v1.ContainerStreams/Logs'), /Cannot decode the request as navarch\.agent\.v1\.LogsRequest/],
      [bidiStream(`127.0.0.1:${agent.port}`, '/navarch.agent.v1.ContainerStreams/Exec'), /Cannot decode the request as navarch\.agent\.v1\.ExecInput/],
    ];
    for (const [p, message] of cases) {
      const e = await p;
      assert.equal(e.code, 3, `${e.code} ${e.details}`);
      assert.match(e.details, message);
      assert.equal(e.metadata.get('navarch-error-code')[0], 'Invalid');
    }
  } finally {
    master.forceShutdown();
    await agent.stop();
  }
});

test('an exec call to the master that never sends its options is refused once the clock says so', async () => {
  const { server: api } = await testServer();
  const clock = new FakeClock(0);
  const master = new Server();
  addPodStreams(master, api, { clock, execOptionsTimeoutMs: 5000 });
  const port = await new Promise<number>((resolve, reject) => master.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  try {
    const call = client.makeBidiStreamRequest('/navarch.apiserver.v1.PodStreams/PodExec', raw, raw);
    let error: ServiceError | undefined;
    call.on('error', (e: ServiceError) => (error = e));
    call.on('data', () => {});
    const refused = await until('the refusal', async () => {
      await clock.advance(1000);
      return error;
    }, 10_000);
    assert.equal(refused.code, 3);
    assert.equal(refused.details, 'Cannot start exec: no options arrived within 5000 ms');
    assert.ok(clock.nowMs() >= 5000);
  } finally {
    client.close();
    master.forceShutdown();
  }
});
