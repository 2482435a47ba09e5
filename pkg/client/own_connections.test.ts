import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { NavarchClient } from './mod.js';

// Counts the TCP connections clients open to a gRPC server (one with no services: every call is
// answered UNIMPLEMENTED, which is enough to connect).
describe('NavarchClient ownConnections', () => {
  let grpc: Server;
  let proxy: NetServer;
  let endpoint: string;
  let connections = 0;
  const sockets: Socket[] = [];

  before(async () => {
    grpc = new Server();
    const port = await new Promise<number>((resolve, reject) => grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    proxy = createServer((down) => {
      connections++;
      const up = connect(port, '127.0.0.1');
      sockets.push(down, up);
      down.pipe(up).on('error', () => {});
      up.pipe(down).on('error', () => {});
      down.on('error', () => up.destroy());
      up.on('error', () => down.destroy());
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    endpoint = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    proxy.close();
    grpc.forceShutdown();
  });

  const call = (c: NavarchClient) => c.get('namespaces', undefined, 'x').catch(() => undefined);

  it('shares one connection among default clients and opens another for a client with its own', async () => {
    const opts = { endpoints: [endpoint], retryDeadlineMs: 200, callTimeoutMs: 1000 };
    const a = new NavarchClient(opts);
    const b = new NavarchClient(opts);
    const own = new NavarchClient({ ...opts, ownConnections: true });
    try {
      await call(a);
      await call(b);
      assert.equal(connections, 1, 'two default clients of one master share its connection');
      await call(own);
      assert.equal(connections, 2, 'a client with ownConnections opens one of its own');
    } finally {
      a.close();
      b.close();
      own.close();
    }
  });
});
