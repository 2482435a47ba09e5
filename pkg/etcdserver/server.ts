// An etcd v3 compatible gRPC server over one member's replicated Store:
// KV, Watch, Lease, Maintenance.Status and Cluster.MemberList. Writes are
// Raft proposals: the leader appends them, a follower hands them to the
// leader inside Raft and answers when the entry applies locally (so any
// member accepts writes, as etcd does). Reads, and txns that only read, are
// linearizable through ReadIndex unless the request is serializable.

import {
  Metadata,
  Server,
  ServerCredentials,
  status as Code,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { ProposalDroppedError } from '../../raft/core/errors.js';
import { RaftTimeoutError } from '../../raft/node/errors.js';
import type { RaftNode } from '../../raft/node/raft_node.js';
import { encodeCommand, isReadOnlyTxn, keyToBytes, unwrapResult, type ProposalWaiters, type Store, type StoreCommand, type StoreResult, type TxnResponse } from '../store/mod.js';
import { kvToEtcd, rangeFromEtcd, responseOpToEtcd, txnFromEtcd, type Msg } from './convert.js';
import { ERR_LEADER_CHANGED, ERR_NO_LEADER, ERR_REQUEST_TOO_LARGE, grpcError, toGrpcError, type GrpcError } from './errors.js';
import { LeaseKeeper } from './lease_keeper.js';
import { malformedRequest } from './malformed.js';
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

/** etcd's rule: a txn is serializable when every op in both branches is a serializable range. */
function txnSerializable(r: Msg): boolean {
  const ops: Msg[] = [...(r.success ?? []), ...(r.failure ?? [])];
  return ops.length > 0 && ops.every((op) => op.request_range?.serializable === true);
}

/** etcd's --max-request-bytes default: a larger write is refused before it is proposed. */
export const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

/** etcd lets gRPC receive this much more than maxRequestBytes (its grpcOverheadBytes), so the refusal names the limit. */
const GRPC_OVERHEAD_BYTES = 512 * 1024;

/** The etcd version clients see in Maintenance.Status (the API we implement). */
export const ETCD_API_VERSION = '3.4.23';

export interface EtcdServerOptions {
  node: RaftNode;
  store: Store;
  clusterId: number;
  /** Every member's etcd-compatible client address by member id: MemberList's clientURLs. */
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
  /** The largest write (its replicated command) accepted, as etcd's --max-request-bytes. @default 1572864 */
  maxRequestBytes?: number;
  /** A write (with its retries while there is no leader) gives up after this long. @default 5000 */
  forwardTimeoutMs?: number;
  /**
   * When the same forwarded write has waited this long, the member forwards an empty one: once it
   * applies, every older one of the same term still waiting is known dropped and is proposed again
   * (see ProposalWaiters). @default 500
   */
  forwardProbeIntervalMs?: number;
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
  private readonly streams = new Set<{ close(): void }>();
  private readonly keeper: LeaseKeeper;
  private probeTimer: NodeJS.Timeout | undefined;
  /** The oldest waiting forwarded write at the last probe tick. */
  private probeOldestSeq: number | undefined;
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

  get maxRequestBytes(): number {
    return this.o.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  }

  async start(listenAddress: string): Promise<number> {
    const server = new Server({
      'grpc.max_receive_message_length': this.maxRequestBytes + GRPC_OVERHEAD_BYTES,
      'grpc.max_concurrent_streams': this.o.maxConcurrentStreams ?? 1000,
      // Channelz keeps per-call statistics nobody reads here: measurable CPU on every request.
      'grpc.enable_channelz': 0,
    });
    const s = this.api.services;
    const u = this.unary.bind(this);
    server.addService(s.KV, {
      Range: u('Range', (r) => this.range(r)),
      Put: u('Put', (r) => this.put(r)),
      DeleteRange: u('DeleteRange', (r) => this.deleteRange(r)),
      Txn: u('Txn', (r) => this.txn(r)),
      Compact: u('Compact', (r) => this.compact(r)),
    });
    server.addService(s.Watch, { Watch: (call: ServerDuplexStream<Msg, Msg>) => this.watch(call) });
    server.addService(s.Lease, {
      LeaseGrant: u('LeaseGrant', (r) => this.leaseGrant(r)),
      LeaseRevoke: u('LeaseRevoke', (r) => this.leaseRevoke(r)),
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
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    for (const st of [...this.streams]) st.close();
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
      const malformed = malformedRequest(call.request);
      if (malformed) {
        this.o.onRequest?.(method, malformed.code, (performance.now() - t0) / 1000);
        return cb(malformed);
      }
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

  header(revision: number): Msg {
    return { cluster_id: this.o.clusterId, member_id: this.o.node.id, revision, raft_term: this.o.node.term() };
  }

  /** Proposes a store command and answers from its result, retried while it certainly did not happen. */
  private async write<T extends Exclude<StoreResult['type'], 'error'>>(
    cmd: () => StoreCommand,
    type: T,
    respond: (r: ReturnType<typeof unwrapResult<T>>) => Msg,
  ): Promise<Msg> {
    return respond(unwrapResult(await this.propose(cmd), type));
  }

  /**
   * Proposes a command from any member: the leader appends it; a follower
   * hands it to the leader inside Raft (no second gRPC hop) and takes the
   * result when the entry applies here. Retried only while the write
   * certainly did not happen (no leader, refused before it was appended, lost
   * in a leader change), so a client sees a short delay in a failover, not an error.
   */
  private async propose(cmd: () => StoreCommand): Promise<StoreResult> {
    const node = this.o.node;
    const timeoutMs = this.o.forwardTimeoutMs ?? 5000;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const t0 = performance.now();
      try {
        const result = node.isLeader() ? ((await node.propose(this.encodeWrite(cmd()))) as StoreResult) : await this.proposeFromFollower(cmd(), deadline - t0);
        this.o.onProposal?.((performance.now() - t0) / 1000);
        return result;
      } catch (e) {
        if (!notApplied(e) || performance.now() >= deadline) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  private async proposeFromFollower(c: StoreCommand, timeoutMs: number): Promise<StoreResult> {
    this.scheduleProbe();
    const node = this.o.node;
    const waiters = this.o.store.proposals;
    const { origin, result } = waiters.wait(node.id, node.term());
    result.catch(() => undefined); // awaited below; this only keeps an early rejection from counting as unhandled
    const timer = setTimeout(() => waiters.abandon(origin, new RaftTimeoutError(`the write was not applied within ${this.o.forwardTimeoutMs ?? 5000} ms; it may still be`)), Math.max(1, timeoutMs));
    try {
      await node.forward(this.encodeWrite({ ...c, origin }));
    } catch (e) {
      waiters.abandon(origin, e as Error);
    }
    try {
      return await result;
    } finally {
      clearTimeout(timer);
    }
  }

  /** As etcd: a write is measured as it would be replicated, and a too large one never reaches Raft. */
  private encodeWrite(c: StoreCommand): Uint8Array {
    const data = encodeCommand(c);
    if (data.byteLength > this.maxRequestBytes) throw grpcError(Code.INVALID_ARGUMENT, ERR_REQUEST_TOO_LARGE);
    return data;
  }

  /** Checks every forwardProbeIntervalMs, while forwarded writes wait, whether the oldest one is stuck. */
  private scheduleProbe(): void {
    if (this.probeTimer !== undefined || !this.server) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      const oldest = this.o.store.proposals.oldestSeq;
      if (oldest === undefined) {
        this.probeOldestSeq = undefined;
        return;
      }
      if (oldest === this.probeOldestSeq) void this.probe();
      this.probeOldestSeq = oldest;
      this.scheduleProbe();
    }, this.o.forwardProbeIntervalMs ?? 500);
    this.probeTimer.unref();
  }

  /**
   * Forwards an empty txn (no revision, no event). A leader that dropped forwarded writes without
   * a new term tells the follower nothing; this one applying tells it that the older ones of its
   * term never will. If it is dropped too, the next tick sends another.
   */
  private async probe(): Promise<void> {
    const node = this.o.node;
    const waiters = this.o.store.proposals;
    let w: ReturnType<ProposalWaiters['wait']>;
    try {
      w = waiters.wait(node.id, node.term());
    } catch {
      return; // too many waiting: a later write will do
    }
    w.result.catch(() => undefined);
    const timer = setTimeout(() => waiters.abandon(w.origin, new RaftTimeoutError('the probe was not applied in time')), this.o.forwardTimeoutMs ?? 5000);
    try {
      await node.forward(encodeCommand({ type: 'txn', nowMs: this.now(), txn: { compare: [], success: [], failure: [] }, origin: w.origin }));
      await w.result;
    } catch (e) {
      waiters.abandon(w.origin, e as Error);
    } finally {
      clearTimeout(timer);
    }
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

  private put(r: Msg): Promise<Msg> {
    return this.write(() => ({ type: 'txn', nowMs: this.now(), txn: txnFromEtcd({ success: [{ request_put: r }] }) }), 'txn', (res) => {
      const p = res.responses[0];
      return { header: this.header(res.header.revision), prev_kv: p?.type === 'put' && p.prevKv ? kvToEtcd(p.prevKv) : undefined };
    });
  }

  private deleteRange(r: Msg): Promise<Msg> {
    return this.write(() => ({ type: 'txn', nowMs: this.now(), txn: txnFromEtcd({ success: [{ request_delete_range: r }] }) }), 'txn', (res) => {
      const d = res.responses[0];
      if (d?.type !== 'deleteRange') return { header: this.header(res.header.revision), deleted: 0, prev_kvs: [] };
      return { header: this.header(res.header.revision), deleted: d.deleted, prev_kvs: d.prevKvs.map(kvToEtcd) };
    });
  }

  private async txn(r: Msg): Promise<Msg> {
    const req = txnFromEtcd(r);
    const respond = (res: TxnResponse): Msg => {
      const header = this.header(res.header.revision);
      return { header, succeeded: res.succeeded, responses: res.responses.map((op) => responseOpToEtcd(op, header)) };
    };
    // As etcd does: a txn that only reads is answered here after ReadIndex, never proposed.
    if (isReadOnlyTxn(req)) {
      await this.linearize(txnSerializable(r));
      return respond(this.o.store.readTxn(req));
    }
    return this.write(() => ({ type: 'txn', nowMs: this.now(), txn: req }), 'txn', respond);
  }

  private compact(r: Msg): Promise<Msg> {
    return this.write(() => ({ type: 'compact', nowMs: this.now(), revision: r.revision || 0 }), 'compact', (res) => ({ header: this.header(res.header.revision) }));
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

  private leaseGrant(r: Msg): Promise<Msg> {
    return this.write(() => ({ type: 'leaseGrant', nowMs: this.now(), id: r.ID || 0, ttlSeconds: r.TTL || 0 }), 'leaseGrant', (res) => ({
      header: this.header(res.header.revision),
      ID: res.id,
      TTL: res.ttlSeconds,
      error: '',
    }));
  }

  private leaseRevoke(r: Msg): Promise<Msg> {
    return this.write(() => ({ type: 'leaseRevoke', nowMs: this.now(), id: r.ID || 0 }), 'leaseRevoke', (res) => ({ header: this.header(res.header.revision) }));
  }

  /** One keepalive, proposed from this member: TTL 0 in the response when the lease is gone (etcd's answer, not an error). */
  async keepAliveOnce(id: number): Promise<Msg> {
    try {
      const res = unwrapResult(await this.propose(() => ({ type: 'leaseKeepAlive', nowMs: this.now(), id })), 'leaseKeepAlive');
      return { header: this.header(res.header.revision), ID: id, TTL: res.ttlSeconds };
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
      const malformed = malformedRequest(req);
      if (malformed) {
        if (!done) {
          done = true;
          this.streams.delete(stream);
          this.o.onRequest?.('LeaseKeepAlive', malformed.code, (performance.now() - t0) / 1000);
          call.emit('error', malformed);
        }
        return;
      }
      if (done || queued >= maxQueued) return;
      queued++;
      chain = chain.then(async () => {
        try {
          const res = await this.keepAliveOnce(req.ID || 0);
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
