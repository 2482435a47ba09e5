import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Server, ServerCredentials, credentials, status, type ServerDuplexStream, type ServiceError } from '@grpc/grpc-js';
import type { ConfigMap, Pod } from '../api/registry.js';
import { GetRequest, ObjectsClient, type CallRequests, type CallResponse, type CallResponses, type ObjectsServer } from '../../gen/navarch/apiserver/v1/objects.js';
import { callStreamHandler } from '../apiserver/call_stream.js';
import { OBJECTS_SERVICE, objectsServer, refuseMalformed } from '../apiserver/grpc_adapter.js';
import { obj, pod, testServer, type TestServer } from '../apiserver/test_util.js';
import { MAX_STREAMED_REQUEST_BYTES } from './call_stream.js';
import { ApiError, NavarchClient } from './mod.js';

const cm = (name: string, data: Record<string, string>) => obj<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });

/**
 * An API server whose Objects service counts what reaches it: requests run by method (`handled`),
 * those that came as unary calls (`unary`), CallBatches streams, the calls on them (`streamed`) and
 * the messages that carried those (`messages`).
 */
async function countingServer(t: TestServer, o: { withoutCalls?: boolean; hangOn?: string } = {}) {
  const counts = { handled: new Map<string, number>(), unary: new Map<string, number>(), streams: 0, streamed: 0, messages: 0 };
  const inner = objectsServer(t.server);
  const handlers: Record<string, unknown> = {};
  const impl: Record<string, unknown> = { watch: inner.watch };
  for (const [k, h] of Object.entries(inner)) {
    if (k === 'callBatches' || k === 'watch') continue;
    handlers[k] = (call: { request: { name?: string; object?: Uint8Array } }, cb: unknown) => {
      counts.handled.set(k, (counts.handled.get(k) ?? 0) + 1);
      // A request naming hangOn is never answered (a master that stalls, or dies before it answers).
      const named = call.request.name || (call.request.object ? Buffer.from(call.request.object).toString('latin1') : '');
      if (o.hangOn && named.includes(o.hangOn)) return;
      (h as (a: unknown, b: unknown) => void)(call, cb);
    };
    impl[k] = (call: unknown, cb: unknown) => {
      counts.unary.set(k, (counts.unary.get(k) ?? 0) + 1);
      (handlers[k] as (a: unknown, b: unknown) => void)(call, cb);
    };
  }
  const calls = callStreamHandler(handlers, OBJECTS_SERVICE, refuseMalformed);
  const drain = (why: string) => calls.drain(why);
  impl.callBatches = (call: ServerDuplexStream<CallRequests, CallResponses>) => {
    if (o.withoutCalls) {
      call.emit('error', { code: status.UNIMPLEMENTED, details: 'not here' });
      return;
    }
    counts.streams++;
    call.on('data', (batch: CallRequests) => {
      counts.messages++;
      counts.streamed += batch.calls?.length ?? 0; // none in a message that did not decode
    });
    calls(call);
  };
  const server = new Server();
  server.addService(OBJECTS_SERVICE, impl as unknown as ObjectsServer);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { counts, server, drain, endpoint: `127.0.0.1:${port}` };
}

describe('Objects.CallBatches: unary calls as messages of one stream', () => {
  let t: TestServer;
  let s: Awaited<ReturnType<typeof countingServer>>;
  let client: NavarchClient;

  before(async () => {
    t = await testServer();
    s = await countingServer(t);
    client = new NavarchClient({ endpoints: [s.endpoint], retryDeadlineMs: 2000 });
  });

  after(async () => {
    client.close();
    t.server.closeWatches();
    await new Promise<void>((resolve) => s.server.tryShutdown(() => resolve()));
  });

  it('carries gets and writes of many callers at once on one stream, each answered as its own', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `c${i}`);
    const created = await Promise.all(names.map((n) => client.create(cm(n, { i: n }))));
    const updated = await Promise.all(created.map((c) => client.update({ ...c, data: { i: `${c.metadata!.name}-2` } })));
    const got = await Promise.all(names.map((n) => client.get<ConfigMap>('configmaps', 'default', n)));
    assert.deepEqual(
      got.map((g) => g.data?.i),
      names.map((n) => `${n}-2`),
    );
    assert.deepEqual(
      got.map((g) => g.metadata?.resourceVersion),
      updated.map((u) => u.metadata?.resourceVersion),
    );
    await client.create(pod('web'));
    await client.bind('default', 'web', 'node-1');
    assert.equal((await client.get<Pod>('pods', 'default', 'web')).spec?.nodeName, 'node-1');
    await client.delete('configmaps', 'default', 'c0');
    assert.equal(s.counts.streamed, 50 * 3 + 4);
    // Each Promise.all's 50 calls are made in one turn: they share messages.
    assert.ok(s.counts.messages <= 3 + 4 + 3, `calls came in ${s.counts.messages} messages`);
    assert.equal(s.counts.unary.size, 0, `unary calls: ${[...s.counts.unary].join(', ')}`);
    assert.equal(s.counts.handled.get('update'), 50);
    assert.ok(s.counts.streams >= 1 && s.counts.streams <= 5, `streams opened: ${s.counts.streams}`);
  });

  it('answers a call with its own error (code, message and details), and the calls beside it succeed', async () => {
    const made = await client.create(cm('conflict', { a: '1' }));
    await client.update({ ...made, data: { a: '2' } });
    const [stale, fine] = await Promise.allSettled([client.update({ ...made, data: { a: 'stale' } }), client.get<ConfigMap>('configmaps', 'default', 'conflict')]);
    assert.equal(stale.status, 'rejected');
    const err = (stale as PromiseRejectedResult).reason as ApiError;
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, 'Conflict');
    assert.match(err.message, /has been modified/);
    assert.equal(fine.status, 'fulfilled');
    await assert.rejects(client.get('configmaps', 'default', 'absent'), (e: ApiError) => e.code === 'NotFound' && /absent/.test(e.message));
  });

  it('refuses a call whose request does not decode, naming the message, and keeps the stream for the next', async () => {
    const raw = new ObjectsClient(s.endpoint, credentials.createInsecure());
    const stream = raw.callBatches();
    const answers: CallResponse[] = [];
    stream.on('data', (r: CallResponses) => answers.push(...r.answers));
    stream.write({
      calls: [
        { id: 7, method: 'Create', request: Buffer.from([0x0a, 0xff]), timeoutMs: 0 },
        { id: 8, method: 'Frobnicate', request: Buffer.alloc(0), timeoutMs: 0 },
      ],
    });
    stream.write({ calls: [{ id: 9, method: 'Get', request: Buffer.from(GetRequest.encode({ resource: 'configmaps', namespace: 'default', name: 'absent', resourceVersion: '', serializable: false, subresource: '' }).finish()), timeoutMs: 0 }] });
    stream.end();
    await new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    raw.close();
    const byId = new Map(answers.map((a) => [a.id, a]));
    assert.equal(byId.get(7)?.code, status.INVALID_ARGUMENT);
    assert.match(byId.get(7)!.details, /Cannot decode the request as navarch\.apiserver\.v1\.CreateRequest/);
    assert.equal(byId.get(8)?.code, status.UNIMPLEMENTED);
    assert.match(byId.get(8)!.details, /Frobnicate/);
    assert.equal(byId.get(9)?.code, status.NOT_FOUND, 'a Get of nothing: answered, after the bad ones');
  });

  it('answers the calls of one message together when they finish together', async () => {
    const raw = new ObjectsClient(s.endpoint, credentials.createInsecure());
    const stream = raw.callBatches();
    const messages: CallResponses[] = [];
    stream.on('data', (r: CallResponses) => messages.push(r));
    const get = (name: string) => Buffer.from(GetRequest.encode({ resource: 'configmaps', namespace: 'default', name, resourceVersion: '', serializable: false, subresource: '' }).finish());
    stream.write({ calls: Array.from({ length: 20 }, (_, i) => ({ id: i + 1, method: 'Get', request: get(i % 2 ? 'absent' : 'c1'), timeoutMs: 0 })) });
    stream.end();
    await new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    raw.close();
    const answers = messages.flatMap((m) => m.answers);
    assert.deepEqual(
      answers.map((a) => a.id).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    for (const a of answers) assert.equal(a.code, a.id % 2 ? status.OK : status.NOT_FOUND, `call ${a.id}`);
    assert.ok(messages.length < 20, `20 answers came in ${messages.length} messages`);
  });

  it('splits calls and answers past a message\'s 1 MiB into more messages, each call answered once', async () => {
    const before = s.counts.messages;
    const names = ['big-0', 'big-1', 'big-2'];
    const made = await Promise.all(names.map((n, i) => client.create(cm(n, { blob: String(i).repeat(600_000) }))));
    assert.deepEqual(
      made.map((m) => m.metadata?.name),
      names,
    );
    assert.ok(s.counts.messages - before >= 2, `three 600 KB creates came in ${s.counts.messages - before} message(s)`);
    const got = await Promise.all(names.map((n) => client.get<ConfigMap>('configmaps', 'default', n)));
    assert.deepEqual(
      got.map((g) => g.data?.blob.length),
      [600_000, 600_000, 600_000],
    );
    assert.deepEqual(
      got.map((g) => g.data?.blob[0]),
      ['0', '1', '2'],
    );
    // The three answers in one message would be 1.8 MB: the master sends them in more than one.
    const raw = new ObjectsClient(s.endpoint, credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 << 20 });
    const stream = raw.callBatches();
    const messages: CallResponses[] = [];
    stream.on('data', (r: CallResponses) => messages.push(r));
    const get = (name: string) => Buffer.from(GetRequest.encode({ resource: 'configmaps', namespace: 'default', name, resourceVersion: '', serializable: false, subresource: '' }).finish());
    stream.write({ calls: names.map((n, i) => ({ id: i + 1, method: 'Get', request: get(n), timeoutMs: 0 })) });
    stream.end();
    await new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    raw.close();
    assert.deepEqual(messages.flatMap((m) => m.answers.map((a) => [a.id, a.code])).sort(), [[1, status.OK], [2, status.OK], [3, status.OK]]);
    assert.ok(messages.length >= 2, `1.8 MB of answers came in ${messages.length} message(s)`);
  });

  it('ends the stream with Invalid when a CallRequests message itself does not decode', async () => {
    const raw = new ObjectsClient(s.endpoint, credentials.createInsecure());
    const rawCall = raw.makeBidiStreamRequest(
      '/navarch.apiserver.v1.Objects/CallBatches',
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    rawCall.write(Buffer.from([0x0a, 0x05, 0x08]));
    const err = await new Promise<ServiceError>((resolve) => rawCall.on('error', resolve));
    raw.close();
    assert.equal(err.code, status.INVALID_ARGUMENT);
    assert.match(err.details, /Cannot decode the request as navarch\.apiserver\.v1\.CallRequests/);
  });
});

describe('Objects.CallBatches against a master without it', () => {
  it('falls back to unary calls, and the calls made meanwhile are sent again', async () => {
    const t = await testServer();
    const s = await countingServer(t, { withoutCalls: true });
    const client = new NavarchClient({ endpoints: [s.endpoint], retryDeadlineMs: 5000 });
    try {
      const made = await Promise.all(['a', 'b', 'c'].map((n) => client.create(cm(n, { n }))));
      assert.deepEqual(
        made.map((m) => m.metadata?.name),
        ['a', 'b', 'c'],
      );
      assert.equal((await client.get<ConfigMap>('configmaps', 'default', 'b')).data?.n, 'b');
      assert.equal(s.counts.unary.get('create'), 3, 'each create ran once');
      assert.equal(s.counts.unary.get('get'), 1);
    } finally {
      client.close();
      t.server.closeWatches();
      await new Promise<void>((resolve) => s.server.tryShutdown(() => resolve()));
    }
  });
});

describe('Objects.CallBatches when the master fails', () => {
  it('fails a call that gets no answer in time as a unary call would, and the stream goes on serving', async () => {
    const t = await testServer();
    const s = await countingServer(t, { hangOn: 'stalls' });
    const client = new NavarchClient({ endpoints: [s.endpoint], callTimeoutMs: 300, retryDeadlineMs: 1000 });
    try {
      await assert.rejects(client.get('configmaps', 'default', 'stalls'), (e: ApiError) => e.code === 'Unavailable' && /did not answer in time/.test(e.message));
      await assert.rejects(client.create(cm('stalls', { a: '1' })), (e: ApiError) => e.code === 'Unavailable' && /may still take effect/.test(e.message));
      assert.equal(s.counts.handled.get('create'), 1, 'a write without an answer is not sent again');
      assert.equal((await client.create(cm('fine', { a: '1' }))).metadata?.name, 'fine');
    } finally {
      client.close();
      t.server.closeWatches();
      s.server.forceShutdown();
    }
  });

  it('fails the calls in flight when the master goes away, and reaches another master next', async () => {
    const t = await testServer();
    const dying = await countingServer(t, { hangOn: 'in-flight' });
    const other = await countingServer(t);
    const client = new NavarchClient({ endpoints: [dying.endpoint, other.endpoint], retryDeadlineMs: 5000 });
    try {
      await client.get('namespaces', undefined, 'default');
      assert.equal(dying.counts.streamed, 1, 'the first master serves while it lives');
      const write = client.create(cm('in-flight', { a: '1' }));
      const read = client.get('configmaps', 'default', 'in-flight');
      while (dying.counts.streamed < 3) await new Promise((r) => setTimeout(r, 5));
      dying.server.forceShutdown();
      await assert.rejects(write, (e: ApiError) => e.code === 'Unavailable');
      await assert.rejects(read, (e: ApiError) => e.code === 'NotFound', 'the read is tried again on the other master, where the write never happened');
      assert.equal(dying.counts.handled.get('create'), 1);
      assert.equal(other.counts.handled.get('create') ?? 0, 0, 'a write that may have happened is not sent again');
      assert.equal((await client.create(cm('after', { a: '1' }))).metadata?.name, 'after');
      assert.equal(other.counts.streamed, 2);
    } finally {
      client.close();
      t.server.closeWatches();
      other.server.forceShutdown();
    }
  });
});

describe('Objects.CallBatches edge cases', () => {
  it('sends a request too large for the stream as a unary call, and the calls beside it do not notice', async () => {
    const t = await testServer();
    const s = await countingServer(t);
    const client = new NavarchClient({ endpoints: [s.endpoint], retryDeadlineMs: 2000 });
    try {
      const big = cm('big', { blob: 'x'.repeat(MAX_STREAMED_REQUEST_BYTES + 1000) });
      const results = await Promise.allSettled([client.create(big), ...['s1', 's2', 's3'].map((n) => client.create(cm(n, { n })))]);
      for (const r of results.slice(1)) assert.equal(r.status, 'fulfilled', String((r as PromiseRejectedResult).reason));
      assert.equal(s.counts.unary.get('create'), 1, 'only the large one went as a unary call');
      assert.equal(s.counts.handled.get('create'), 4);
    } finally {
      client.close();
      t.server.closeWatches();
      s.server.forceShutdown();
    }
  });

  it('a draining master refuses new calls unrun, and the client takes them to another master at once', async () => {
    const t = await testServer();
    const stopping = await countingServer(t);
    const other = await countingServer(t);
    const client = new NavarchClient({ endpoints: [stopping.endpoint, other.endpoint], retryDeadlineMs: 5000 });
    try {
      await client.create(cm('before', { a: '1' }));
      stopping.drain('master 1 is stopping');
      const made = await Promise.all(['d1', 'd2', 'd3'].map((n) => client.create(cm(n, { n }))));
      assert.deepEqual(
        made.map((m) => m.metadata?.name),
        ['d1', 'd2', 'd3'],
      );
      assert.equal(stopping.counts.handled.get('create'), 1, 'nothing ran on the draining master after the drain');
      assert.equal(other.counts.handled.get('create'), 3);
      // Its stream goes once idle, so the server can stop without cutting anything.
      await new Promise<void>((resolve) => stopping.server.tryShutdown(() => resolve()));
    } finally {
      client.close();
      t.server.closeWatches();
      stopping.server.forceShutdown();
      other.server.forceShutdown();
    }
  });
});
