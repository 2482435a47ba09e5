// Test helpers: an in-process cluster of master members on 127.0.0.1 and a
// raw etcd v3 gRPC client built from the same loaded descriptors.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { GrpcTransport } from '../../raft/transport/grpc_transport.js';
import { realClock } from '../../raft/node/ports.js';
import type { Member } from '../../raft/node/raft_node.js';
import { startMasterMember, type MasterMember, type MasterMemberOptions } from '../master/member.js';
import type { Msg } from './convert.js';
import { EtcdRawClient } from './raw_client.js';
import { freePort } from '../../raft/transport/free_port.js';

export { EtcdRawClient as EtcdTestClient };

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Reads responses off a stream one at a time, waiting with a deadline. */
export class StreamReader {
  private readonly queue: Msg[] = [];
  private waiter: (() => void) | undefined;
  error: Error | undefined;
  constructor(readonly s: ClientDuplexStream<Msg, Msg>) {
    s.on('data', (m: Msg) => {
      this.queue.push(m);
      this.waiter?.();
    });
    s.on('error', (e: Error) => {
      this.error = e;
      this.waiter?.();
    });
  }

  async next(timeoutMs = 10_000): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.error) throw this.error;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`No stream response within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiter = () => {
          clearTimeout(t);
          r();
        };
      });
    }
    return this.queue.shift()!;
  }
}

export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export class TestMasters {
  readonly members = new Map<number, MasterMember>();
  readonly peers: Member[] = [];
  readonly clientAddresses = new Map<number, string>();
  readonly clients: EtcdRawClient[] = [];
  constructor(readonly dir: string) {}

  static async start(n: number, extra: Partial<MasterMemberOptions> = {}): Promise<TestMasters> {
    const c = new TestMasters(mkdtempSync(join(tmpdir(), 'navarch-etcd-')));
    for (let id = 1; id <= n; id++) {
      // Bind once on port 0 to learn a free port for the Raft transport.
      c.peers.push({ id, address: `127.0.0.1:${await freePort()}` });
    }
    const started = await Promise.allSettled(
      c.peers.map(async (p) => {
        const m = await startMasterMember({ id: p.id, dataDir: join(c.dir, `m${p.id}`), peers: c.peers, clientAddresses: c.clientAddresses, listenClient: '127.0.0.1:0', tickMs: 20, ...extra });
        c.members.set(p.id, m);
      }),
    );
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // Members that did start would keep the test process alive.
      await c.close();
      throw failed.reason;
    }
    return c;
  }

  async leader(timeoutMs = 10_000): Promise<MasterMember> {
    let found: MasterMember | undefined;
    await until('a leader', () => (found = [...this.members.values()].find((m) => m.node.isLeader())) !== undefined, timeoutMs);
    return found!;
  }

  client(id: number): EtcdRawClient {
    const c = new EtcdRawClient(this.members.get(id)!.clientAddress);
    this.clients.push(c);
    return c;
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.close();
    await Promise.all([...this.members.values()].map((m) => m.stop({ transferLeadership: false })));
    this.members.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
