import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Server, ServerCredentials, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { ListRequest, ObjectsService } from '../../gen/navarch/apiserver/v1/objects.js';
import { ERROR_CODE_METADATA, addObjectsService } from './grpc_adapter.js';
import { testServer, type TestServer } from './test_util.js';

const raw = (b: Buffer): Buffer => b;

describe('requests that are not protobuf', () => {
  let t: TestServer;
  let server: Server;
  let client: Client;

  before(async () => {
    t = await testServer();
    server = new Server();
    addObjectsService(server, t.server);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  after(async () => {
    client.close();
    t.server.closeWatches();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  const unary = (path: string, body: Buffer): Promise<ServiceError> =>
    new Promise((resolve, reject) => client.makeUnaryRequest(path, raw, raw, body, (err) => (err ? resolve(err) : reject(new Error('the call succeeded')))));

  it('get Invalid naming the request message and the decoding problem, for every unary method', async () => {
    // Field 1 (a string) announced with a length far past the end of the message.
    const hugeLength = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x07, 0x61]);
    for (const [method, path] of [['Get', ObjectsService.get.path], ['Create', ObjectsService.create.path], ['Update', ObjectsService.update.path], ['Patch', ObjectsService.patch.path], ['Delete', ObjectsService.delete.path], ['List', ObjectsService.list.path]]) {
      const err = await unary(path, hugeLength);
      assert.equal(err.code, status.INVALID_ARGUMENT, `${method}: ${err.details}`);
      assert.match(err.details, new RegExp(`^Cannot decode the request as navarch\\.apiserver\\.v1\\.${method}Request: `));
      assert.deepEqual(err.metadata.get(ERROR_CODE_METADATA), ['Invalid']);
    }
    const truncated = Buffer.from(ListRequest.encode({ resource: 'pods', namespace: 'default', labelSelector: 'app=web', fieldSelector: '', limit: 0, continue: '', resourceVersion: '', serializable: false }).finish()).subarray(0, 9);
    assert.equal((await unary(ObjectsService.list.path, truncated)).code, status.INVALID_ARGUMENT);
    // Wire type 7 does not exist.
    assert.equal((await unary(ObjectsService.get.path, Buffer.from([0x0f, 1]))).code, status.INVALID_ARGUMENT);
  });

  it('end a watch with Invalid', async () => {
    const err = await new Promise<ServiceError>((resolve, reject) => {
      const s = client.makeServerStreamRequest(ObjectsService.watch.path, raw, raw, Buffer.from([0x0f, 1]));
      s.on('data', () => reject(new Error('the watch sent an event')));
      s.on('error', resolve);
    });
    assert.equal(err.code, status.INVALID_ARGUMENT);
    assert.match(err.details, /^Cannot decode the request as navarch\.apiserver\.v1\.WatchRequest: /);
  });
});
