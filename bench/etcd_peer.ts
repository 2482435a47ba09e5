// The peer for Raft benchmarks: three etcd processes (Debian's etcd-server)
// on 127.0.0.1, and a minimal gRPC client for etcd's KV.Put, so both systems
// get the same closed-loop load in the same run.

import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { credentials, makeGenericClientConstructor, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../pkg/localcluster/kv_cluster.js';

export function etcdAvailable(): boolean {
  return spawnSync('etcd', ['--version'], { encoding: 'utf8' }).status === 0;
}

export interface EtcdCluster {
  endpoints: string[];
  stop(): Promise<void>;
}

export async function startEtcd(dir: string): Promise<EtcdCluster> {
  const members = [];
  for (let i = 1; i <= 3; i++) members.push({ name: `e${i}`, peer: await freePort(), client: await freePort() });
  const initial = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');
  const children: ChildProcess[] = [];
  for (const m of members) {
    const data = join(dir, m.name);
    mkdirSync(data, { recursive: true });
    const out = openSync(join(dir, `${m.name}.log`), 'a');
    children.push(
      spawn(
        'etcd',
        [
          '--name', m.name,
          '--data-dir', data,
          '--listen-client-urls', `http://127.0.0.1:${m.client}`,
          '--advertise-client-urls', `http://127.0.0.1:${m.client}`,
          '--listen-peer-urls', `http://127.0.0.1:${m.peer}`,
          '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peer}`,
          '--initial-cluster', initial,
          '--initial-cluster-state', 'new',
        ],
        { stdio: ['ignore', out, out] },
      ),
    );
    closeSync(out);
  }
  return {
    endpoints: members.map((m) => `127.0.0.1:${m.client}`),
    async stop() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((r) => {
              if (c.exitCode !== null || c.signalCode !== null) return r();
              c.once('exit', () => r());
              c.kill('SIGKILL');
            }),
        ),
      );
    },
  };
}

// etcdserverpb.PutRequest: key = field 1 (bytes), value = field 2 (bytes). The response is not needed.
const putMethod = {
  put: {
    path: '/etcdserverpb.KV/Put',
    requestStream: false,
    responseStream: false,
    requestSerialize: (r: { key: Uint8Array; value: Uint8Array }) => Buffer.from(new BinaryWriter().uint32(10).bytes(r.key).uint32(18).bytes(r.value).finish()),
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};

const PutClient = makeGenericClientConstructor(putMethod, 'etcdserverpb.KV');

/** Round-robins puts over all endpoints, as the etcd3 client does. */
export class EtcdPutClient {
  private readonly clients: Client[];
  private next = 0;
  private readonly enc = new TextEncoder();

  constructor(endpoints: string[]) {
    this.clients = endpoints.map((e) => new PutClient(e, credentials.createInsecure()));
  }

  put(key: string, value: Uint8Array, timeoutMs = 5000): Promise<void> {
    const c = this.clients[this.next++ % this.clients.length] as unknown as {
      put(req: unknown, md: Metadata, opts: object, cb: (err: ServiceError | null) => void): void;
    };
    return new Promise((resolve, reject) =>
      c.put({ key: this.enc.encode(key), value }, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  /** Waits until a put succeeds (the cluster has a leader). */
  async ready(timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.put('ready', new Uint8Array(1), 1000);
        return;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`etcd did not accept a put within ${timeoutMs} ms: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}
