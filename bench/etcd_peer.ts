// The peer for Raft benchmarks: three etcd processes (Debian's etcd-server)
// on 127.0.0.1, and a minimal gRPC client for etcd's KV.Put, so both systems
// get the same closed-loop load in the same run.

import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
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
  /** SIGKILLs member i (0-based) and waits for it to exit. */
  kill(i: number): Promise<void>;
  /** Starts member i again on its data dir. */
  restart(i: number): void;
  stop(): Promise<void>;
}

export async function startEtcd(dir: string): Promise<EtcdCluster> {
  const members: Array<{ name: string; peer: number; client: number }> = [];
  for (let i = 1; i <= 3; i++) members.push({ name: `e${i}`, peer: await freePort(), client: await freePort() });
  const initial = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');
  const children: ChildProcess[] = [];
  const launch = (i: number, state: 'new' | 'existing'): void => {
    const m = members[i];
    const data = join(dir, m.name);
    mkdirSync(data, { recursive: true });
    const out = openSync(join(dir, `${m.name}.log`), 'a');
    children[i] =
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
          '--initial-cluster-state', state,
        ],
        { stdio: ['ignore', out, out] },
      );
    closeSync(out);
  };
  for (let i = 0; i < members.length; i++) launch(i, 'new');
  const kill = (i: number): Promise<void> =>
    new Promise<void>((r) => {
      const c = children[i];
      if (c.exitCode !== null || c.signalCode !== null) return r();
      c.once('exit', () => r());
      c.kill('SIGKILL');
    });
  return {
    endpoints: members.map((m) => `127.0.0.1:${m.client}`),
    kill,
    restart: (i) => launch(i, 'existing'),
    async stop() {
      await Promise.all(children.map((_, i) => kill(i)));
    },
  };
}

// etcdserverpb.Maintenance/Status: StatusResponse.header (1) .member_id (2), and .leader (4).
const statusMethod = {
  status: {
    path: '/etcdserverpb.Maintenance/Status',
    requestStream: false,
    responseStream: false,
    requestSerialize: () => Buffer.alloc(0),
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};
const StatusClient = makeGenericClientConstructor(statusMethod, 'etcdserverpb.Maintenance');

function readVarintField(r: BinaryReader, field: number, end: number): bigint | undefined {
  let found: bigint | undefined;
  while (r.pos < end) {
    const [no, wire] = r.tag();
    if (no === field && wire === 0) found = BigInt(r.uint64().toString());
    else r.skip(wire);
  }
  return found;
}

/** The member id an etcd endpoint answers as, and the leader it knows (0n when none). */
export function etcdStatus(endpoint: string, timeoutMs = 300): Promise<{ memberId: bigint; leader: bigint }> {
  const c = new StatusClient(endpoint, credentials.createInsecure()) as unknown as {
    status(req: unknown, md: Metadata, opts: object, cb: (err: ServiceError | null, res?: Buffer) => void): void;
    close(): void;
  };
  return new Promise((resolve, reject) =>
    c.status({}, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => {
      c.close();
      if (err || !res) return reject(err ?? new Error('Empty status response'));
      const r = new BinaryReader(res);
      let memberId = 0n;
      let leader = 0n;
      while (r.pos < r.len) {
        const [no, wire] = r.tag();
        if (no === 1 && wire === 2) {
          const len = r.uint32();
          memberId = readVarintField(r, 2, r.pos + len) ?? 0n;
        } else if (no === 4 && wire === 0) leader = BigInt(r.uint64().toString());
        else r.skip(wire);
      }
      resolve({ memberId, leader });
    }),
  );
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
