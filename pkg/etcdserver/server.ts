// An etcd v3 compatible gRPC server over one member's replicated Store:
// KV, Watch, Lease, Maintenance.Status and Cluster.MemberList. Writes are
// Raft proposals made by the leader; a follower forwards a write to the
// leader's server (so any member accepts writes, as etcd does). Reads are
// linearizable through ReadIndex unless the request is serializable.

import {
  Client,
  Metadata,
  Server,
  ServerCredentials,
  credentials,
  status as Code,
  type MethodDefinition,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { ProposalDroppedError } from '../../raft/core/errors.js';
import type { RaftNode } from '../../raft/node/raft_node.js';
import { encodeCommand, keyToBytes, unwrapResult, type Store, type StoreCommand, type StoreResult } from '../store/mod.js';
import { kvToEtcd, rangeFromEtcd, responseOpToEtcd, txnFromEtcd, type Msg } from './convert.js';
import { ERR_LEADER_CHANGED, ERR_NO_LEADER, grpcError, toGrpcError, type GrpcError } from './errors.js';
import { LeaseKeeper } from './lease_keeper.js';
import { loadEtcdApi, type EtcdApi } from './proto.js';
import { maintenanceService } from './maintenance.js';
import { WatchStream } from './watch_stream.js';

/** Whether a failed write certainly did not take effect, so trying again cannot apply it twice. */
function notApplied(e: unknown): boolean {
  if (e instanceof ProposalDroppedError) return true; // NotLeaderError too: refused before it was appended
  const g = e as Partial<GrpcError>;
  if (g?.code !== Code.UNAVAILABLE || typeof g.details !== 'string') return false;
  return g.details === ERR_NO_LEADER || g.details === ERR_LEADER_CHANGED || g.details.startsWith('No connection established');
}

/** The etcd version clients see in Maintenance.Status (the API we implement). */
export const ETCD_API_VERSION = '3.4.23';

const FORWARDED = 'navarch-forwarded';

export interface EtcdServerOptions {
  node: RaftNode;
  store: Store;
  clusterId: number;
  /** Every member's etcd-compatible client address by member id: where followers forward writes, and MemberList's clientURLs. */
  clientAddresses: Map<number, string>;
  /** Member names for MemberList; default "member-<id>". */
  names?: Map<number, string>;
  /** How often watches created with progress_notify get a bookmark. @default 600000 (etcd's 10 minutes) */
  progressNotifyIntervalMs?: number;
  /** How often the leader looks for expired leases. @default 500 */
  leaseCheckIntervalMs?: number;
  /** Watches one stream may hold. @default 1000 */
  maxWatchesPerStream?: number;
  /** Concurrent gRPC streams per connection. @default 1000 */
  maxConcurrentStreams?: number;
  /** A forwarded write or a wait for a leader gives up after this long. @default 5000 */
  forwardTimeoutMs?: number;
  /** Called with the time from proposing a write to its result here. */
  onProposal?: (seconds: number) => void;
  /** Called once per finished request (unary) or stream. */
  onRequest?: (method: string, code: Code, seconds: number) => void;
  now?: () => number;
  /** Adds more services (the object API) to the same gRPC server, before it binds. */
  moreServices?: (server: Server) => void;
}

export class EtcdServer {
  private server: Server | undefined;
  private boundPort = 0;
  private readonly api: EtcdApi = loadEtcdApi();
  private readonly clients = new Map<string, Client>();
  private readonly streams = new Set<{ close(): void }>();
  private readonly keeper: LeaseKeeper;
  private termCache = { term: 0, atMs: -Infinity };
  readonly now: () => number;

  constructor(readonly o: EtcdServerOptions) {
    this.now = o.now ?? Date.now;
    this.keeper = new LeaseKeeper(o.node, o.store, { intervalMs: o.leaseCheckIntervalMs ?? 500, now: this.now });
  }

  get port(): number {
    return this.boundPort;
  }

  get store(): Store {
    return this.o.store;
  }

  async start(listenAddress: string): Promise<number> {
    const server = new Server({
      'grpc.max_receive_message_length': 2 * 1024 * 1024,
      'grpc.max_concurrent_streams': this.o.maxConcurrentStreams ?? 1000,
    });
    const s = this.api.services;
    const u = this.unary.bind(this);
    server.addService(s.KV, {
      Range: u('Range', (r) => this.range(r)),
      Put: u('Put', (r, md) => this.put(r, md)),
      DeleteRange: u('DeleteRange', (r, md) => this.deleteRange(r, md)),
      Txn: u('Txn', (r, md) => this.txn(r, md)),
      Compact: u('Compact', (r, md) => this.compact(r, md)),
    });
    server.addService(s.Watch, { Watch: (call: ServerDuplexStream<Msg, Msg>) => this.watch(call) });
    server.addService(s.Lease, {
      LeaseGrant: u('LeaseGrant', (r, md) => this.leaseGrant(r, md)),
      LeaseRevoke: u('LeaseRevoke', (r, md) => this.leaseRevoke(r, md)),
      LeaseKeepAlive: (call: ServerDuplexStream<Msg, Msg>) => this.leaseKeepAlive(call),
      LeaseTimeToLive: u('LeaseTimeToLive', (r) => this.leaseTimeToLive(r)),
      LeaseLeases: u('LeaseLeases', () => this.leaseLeases()),
    });
    server.addService(s.Maintenance, maintenanceService(this, ETCD_API_VERSION));
    server.addService(s.Cluster, { MemberList: u('MemberList', async () => this.memberList()) });
    this.o.moreServices?.(server);
    this.server = server;
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(listenAddress, ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    this.keeper.start();
    return this.boundPort;
  }

  async stop(): Promise<void> {
    this.keeper.stop();
    for (const st of [...this.streams]) st.close();
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 2000);
      server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  // ---- plumbing ----

  private unary(method: string, fn: (req: Msg, md: Metadata) => Promise<Msg>) {
    return (call: ServerUnaryCall<Msg, Msg>, cb: sendUnaryData<Msg>): void => {
      const t0 = performance.now();
      fn(call.request, call.metadata).then(
        (res) => {
          this.o.onRequest?.(method, Code.OK, (performance.now() - t0) / 1000);
          cb(null, res);
        },
        (e) => {
          const err = toGrpcError(e);
          this.o.onRequest?.(method, err.code, (performance.now() - t0) / 1000);
          cb(err);
        },
      );
    };
  }

  private term(): number {
    const t = performance.now();
    if (t - this.termCache.atMs > 50) this.termCache = { term: this.o.node.status().term, atMs: t };
    return this.termCache.term;
  }

  header(revision: number): Msg {
    return { cluster_id: this.o.clusterId, member_id: this.o.node.id, revision, raft_term: this.term() };
  }

  /** Proposes a store command here (leader) or forwards the request to the leader's server. */
  private async write<T extends Exclude<StoreResult['type'], 'error'>>(
    method: string,
    req: Msg,
    md: Metadata,
    cmd: () => StoreCommand,
    type: T,
    respond: (r: ReturnType<typeof unwrapResult<T>>) => Msg,
  ): Promise<Msg> {
    const node = this.o.node;
    const forwarded = md.get(FORWARDED).length > 0;
    const deadline = performance.now() + (this.o.forwardTimeoutMs ?? 5000);
    // Retried only while the write certainly did not happen (no leader, refused before it was
    // committed, leader unreachable before sending), so a client sees one short delay, not an error, in a failover.
    for (;;) {
      try {
        if (node.isLeader()) {
          const data = encodeCommand(cmd());
          const t0 = performance.now();
          const result = (await node.propose(data)) as StoreResult;
          this.o.onProposal?.((performance.now() - t0) / 1000);
          return respond(unwrapResult(result, type));
        }
        if (forwarded) throw grpcError(Code.UNAVAILABLE, ERR_LEADER_CHANGED, node.leaderId());
        const res = await this.forward(method, req);
        if (res.header) res.header.member_id = node.id;
        return res;
      } catch (e) {
        if (forwarded || !notApplied(e) || performance.now() >= deadline) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** The leader's id, waiting up to the forward timeout for one to be known. */
  private async leader(): Promise<number> {
    const deadline = performance.now() + (this.o.forwardTimeoutMs ?? 5000);
    for (;;) {
      const id = this.o.node.leaderId();
      if (id !== 0) return id;
      if (performance.now() >= deadline) throw grpcError(Code.UNAVAILABLE, ERR_NO_LEADER);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async leaderClient(): Promise<Client> {
    const id = await this.leader();
    if (id === this.o.node.id) throw grpcError(Code.UNAVAILABLE, ERR_LEADER_CHANGED);
    const address = this.o.clientAddresses.get(id);
    if (!address) throw grpcError(Code.UNAVAILABLE, `etcdserver: the client address of leader ${id} is unknown`, id);
    let c = this.clients.get(address);
    if (!c) {
      c = new Client(address, credentials.createInsecure());
      this.clients.set(address, c);
    }
    return c;
  }

  private method(service: 'KV' | 'Lease', name: string): MethodDefinition<Msg, Msg> {
    return this.api.services[service][name] as unknown as MethodDefinition<Msg, Msg>;
  }

  private async forward(method: string, req: Msg): Promise<Msg> {
    const service = method.startsWith('Lease') ? 'Lease' : 'KV';
    const def = this.method(service, method);
    const client = await this.leaderClient();
    const md = new Metadata();
    md.set(FORWARDED, '1');
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, req, md, { deadline: Date.now() + (this.o.forwardTimeoutMs ?? 5000) }, (err, res) =>
        err ? reject(err.code === Code.DEADLINE_EXCEEDED ? grpcError(Code.UNAVAILABLE, 'etcdserver: request timed out') : { code: err.code, details: err.details, metadata: err.metadata }) : resolve(res as Msg),
      );
    });
  }

  private async linearize(serializable: boolean): Promise<void> {
    if (!serializable) await this.o.node.readIndex();
  }

  // ---- KV ----

  private async range(r: Msg): Promise<Msg> {
    const req = rangeFromEtcd(r);
    await this.linearize(!!r.serializable);
    const res = this.o.store.range(req);
    return { header: this.header(res.header.revision), kvs: res.kvs.map(kvToEtcd), more: res.more, count: res.count };
  }

  private put(r: Msg, md: Metadata): Promise<Msg> {
    return this.write('Put', r, md, () => ({ type: 'txn', nowMs: this.now(), txn: txnFromEtcd({ success: [{ request_put: r }] }) }), 'txn', (res) => {
      const p = res.responses[0];
      return { header: this.header(res.header.revision), prev_kv: p?.type === 'put' && p.prevKv ? kvToEtcd(p.prevKv) : undefined };
    });
  }

  private deleteRange(r: Msg, md: Metadata): Promise<Msg> {
    return this.write('DeleteRange', r, md, () => ({ type: 'txn', nowMs: this.now(), txn: txnFromEtcd({ success: [{ request_delete_range: r }] }) }), 'txn', (res) => {
      const d = res.responses[0];
      if (d?.type !== 'deleteRange') return { header: this.header(res.header.revision), deleted: 0, prev_kvs: [] };
      return { header: this.header(res.header.revision), deleted: d.deleted, prev_kvs: d.prevKvs.map(kvToEtcd) };
    });
  }

  private txn(r: Msg, md: Metadata): Promise<Msg> {
    return this.write('Txn', r, md, () => ({ type: 'txn', nowMs: this.now(), txn: txnFromEtcd(r) }), 'txn', (res) => {
      const header = this.header(res.header.revision);
      return { header, succeeded: res.succeeded, responses: res.responses.map((op) => responseOpToEtcd(op, header)) };
    });
  }

  private compact(r: Msg, md: Metadata): Promise<Msg> {
    return this.write('Compact', r, md, () => ({ type: 'compact', nowMs: this.now(), revision: r.revision || 0 }), 'compact', (res) => ({ header: this.header(res.header.revision) }));
  }

  // ---- Watch ----

  private watch(call: ServerDuplexStream<Msg, Msg>): void {
    const t0 = performance.now();
    const ws = new WatchStream(call, this, {
      maxWatches: this.o.maxWatchesPerStream ?? 1000,
      progressNotifyIntervalMs: this.o.progressNotifyIntervalMs ?? 600_000,
    });
    this.streams.add(ws);
    ws.closed.then(() => {
      this.streams.delete(ws);
      this.o.onRequest?.('Watch', Code.OK, (performance.now() - t0) / 1000);
    });
  }

  // ---- Lease ----

  private leaseGrant(r: Msg, md: Metadata): Promise<Msg> {
    return this.write('LeaseGrant', r, md, () => ({ type: 'leaseGrant', nowMs: this.now(), id: r.ID || 0, ttlSeconds: r.TTL || 0 }), 'leaseGrant', (res) => ({
      header: this.header(res.header.revision),
      ID: res.id,
      TTL: res.ttlSeconds,
      error: '',
    }));
  }

  private leaseRevoke(r: Msg, md: Metadata): Promise<Msg> {
    return this.write('LeaseRevoke', r, md, () => ({ type: 'leaseRevoke', nowMs: this.now(), id: r.ID || 0 }), 'leaseRevoke', (res) => ({ header: this.header(res.header.revision) }));
  }

  /** One keepalive, here or at the leader: TTL 0 in the response when the lease is gone (etcd's answer, not an error). */
  async keepAliveOnce(id: number, forwarded = false): Promise<Msg> {
    try {
      if (this.o.node.isLeader()) {
        const result = (await this.o.node.propose(encodeCommand({ type: 'leaseKeepAlive', nowMs: this.now(), id }))) as StoreResult;
        const res = unwrapResult(result, 'leaseKeepAlive');
        return { header: this.header(res.header.revision), ID: id, TTL: res.ttlSeconds };
      }
      if (forwarded) throw grpcError(Code.UNAVAILABLE, ERR_LEADER_CHANGED, this.o.node.leaderId());
      return await this.forwardKeepAlive(id);
    } catch (e) {
      const g = toGrpcError(e);
      if (g.code === Code.NOT_FOUND) return { header: this.header(this.o.store.revision), ID: id, TTL: 0 };
      throw g;
    }
  }

  private leaseKeepAlive(call: ServerDuplexStream<Msg, Msg>): void {
    const t0 = performance.now();
    // At most this many keepalives wait; more are dropped (the client sends another within TTL/3).
    const maxQueued = 64;
    const forwarded = call.metadata.get(FORWARDED).length > 0;
    let queued = 0;
    let chain = Promise.resolve();
    let done = false;
    const stream = {
      close: () => {
        if (done) return;
        done = true;
        this.streams.delete(stream);
        this.o.onRequest?.('LeaseKeepAlive', Code.OK, (performance.now() - t0) / 1000);
        call.end();
      },
    };
    this.streams.add(stream);
    call.on('data', (req: Msg) => {
      if (queued >= maxQueued) return;
      queued++;
      chain = chain.then(async () => {
        try {
          const res = await this.keepAliveOnce(req.ID || 0, forwarded);
          if (!done) call.write(res);
        } catch (e) {
          if (!done) {
            done = true;
            this.streams.delete(stream);
            call.emit('error', toGrpcError(e));
          }
        } finally {
          queued--;
        }
      });
    });
    call.on('end', () => stream.close());
    call.on('error', () => stream.close());
    call.on('cancelled', () => stream.close());
  }

  private async forwardKeepAlive(id: number): Promise<Msg> {
    const def = this.method('Lease', 'LeaseKeepAlive');
    const client = await this.leaderClient();
    const md = new Metadata();
    md.set(FORWARDED, '1');
    return new Promise((resolve, reject) => {
      const s = client.makeBidiStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, md, { deadline: Date.now() + (this.o.forwardTimeoutMs ?? 5000) });
      let got = false;
      s.on('data', (res: Msg) => {
        got = true;
        if (res.header) res.header.member_id = this.o.node.id;
        resolve(res);
        s.end();
        s.cancel();
      });
      s.on('error', (err: GrpcError) => {
        if (!got) reject(err.code === Code.CANCELLED ? grpcError(Code.UNAVAILABLE, ERR_LEADER_CHANGED) : { code: err.code, details: err.details });
      });
      s.on('end', () => {
        if (!got) reject(grpcError(Code.UNAVAILABLE, ERR_LEADER_CHANGED));
      });
      s.write({ ID: id });
    });
  }

  private async leaseTimeToLive(r: Msg): Promise<Msg> {
    await this.linearize(false);
    const store = this.o.store;
    const res = store.leaseTimeToLive(r.ID || 0, { keys: !!r.keys });
    let ttl = res.ttlSeconds;
    // The store counts down by its replicated clock, which stands still between commands.
    if (ttl > 0) ttl = Math.max(0, ttl - Math.floor(Math.max(0, this.now() - store.status().timeMs) / 1000));
    return { header: this.header(res.header.revision), ID: res.id, TTL: ttl, grantedTTL: res.grantedTtlSeconds, keys: res.keys.map(keyToBytes) };
  }

  private async leaseLeases(): Promise<Msg> {
    await this.linearize(false);
    return { header: this.header(this.o.store.revision), leases: this.o.store.leaseIds().map((ID) => ({ ID })) };
  }

  // ---- Maintenance, Cluster ----

  private memberList(): Msg {
    const s = this.o.node.status();
    const learners = new Set(s.confState.learners);
    const members = s.members.map((m) => {
      const client = this.o.clientAddresses.get(m.id);
      return {
        ID: m.id,
        name: this.o.names?.get(m.id) ?? `member-${m.id}`,
        peerURLs: [`http://${m.address}`],
        clientURLs: client ? [`http://${client}`] : [],
        isLearner: learners.has(m.id),
      };
    });
    return { header: this.header(this.o.store.revision), members };
  }
}
