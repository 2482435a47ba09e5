// The object API on a master: reads and watches are served from this member's replica; writes run
// where the Raft leader is. A follower hands a write request as it came to the leader's Objects
// service (one hop, like the etcd facade's forwarding), so the leader does the read-modify-write
// next to its own log and a client may talk to any member.

import { Client, Metadata, credentials, status as Code, type Server, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { ProposalDroppedError } from '../../raft/core/errors.js';
import type { RaftNode } from '../../raft/node/raft_node.js';
import type { ObjectsServer } from '../../gen/navarch/apiserver/v1/objects.js';
import { wireMethod } from '../apiserver/objects_wire.js';
import { ApiError } from '../apiserver/api_error.js';
import type { ApiServer } from '../apiserver/api_server.js';
import { LEADER_HINT_METADATA } from '../client/endpoints.js';
import { callStreamHandler, type CallStreamHandler } from '../apiserver/call_stream.js';
import { ERROR_DETAILS_METADATA, OBJECTS_SERVICE, malformedRequest, objectsServer, refuseMalformed, toGrpcError } from '../apiserver/grpc_adapter.js';

const FORWARDED = 'navarch-forwarded';
const WRITES = ['create', 'update', 'patch', 'delete', 'bind', 'bindBatch', 'createBatch'] as const;
/** Served here; their answers name the leader too, so that clients read and watch elsewhere. */
const READS = ['get', 'list'] as const;
type WriteMethod = (typeof WRITES)[number];

export interface ObjectsForwardingOptions {
  node: RaftNode;
  /** Every member's client address by id (the Objects service shares the port with the etcd facade). */
  clientAddresses: Map<number, string>;
  /** A forwarded write, or the wait for a leader, gives up after this long. @default 5000 */
  forwardTimeoutMs?: number;
}

type Handler = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;

interface GrpcFailure {
  code: Code;
  details: string;
  metadata?: Metadata;
}

/** Whether a failed forward certainly did not reach a leader's log, so it may be tried again. */
function retryable(e: unknown): boolean {
  if (e instanceof ProposalDroppedError) return true;
  const g = e as Partial<GrpcFailure>;
  if (g?.code !== Code.UNAVAILABLE) return false;
  // The leader refused before touching its log (it lost leadership), or no connection was made.
  if (typeof g.details === 'string' && g.details.startsWith('No connection established')) return true;
  const details = g.metadata?.get(ERROR_DETAILS_METADATA)[0];
  try {
    return typeof details === 'string' && JSON.parse(details).notApplied === true;
  } catch {
    return false;
  }
}

export class ObjectsForwarding {
  private readonly clients = new Map<string, Client>();
  private readonly timeoutMs: number;
  private calls: CallStreamHandler | undefined;

  constructor(private readonly o: ObjectsForwardingOptions) {
    this.timeoutMs = o.forwardTimeoutMs ?? 5000;
  }

  /** Adds navarch.apiserver.v1.Objects to a server, with writes forwarded to the leader. */
  register(server: Server, api: ApiServer): void {
    const local = objectsServer(api);
    const impl: Record<string, unknown> = { ...local };
    for (const m of WRITES) impl[m] = this.writeHandler(m, local[m] as unknown as Handler);
    for (const m of READS) impl[m] = this.readHandler(local[m] as unknown as Handler);
    // Calls on the stream go through the same handlers, forwarding included.
    this.calls = callStreamHandler(impl, OBJECTS_SERVICE, refuseMalformed);
    impl.callBatches = this.calls;
    server.addService(OBJECTS_SERVICE, impl as unknown as ObjectsServer);
  }

  /** Calls arriving on streams from now on are refused unrun, so their clients take them elsewhere (see CallStreamHandler.drain). */
  drain(): void {
    this.calls?.drain(`master ${this.o.node.id} is stopping`);
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private writeHandler(method: WriteMethod, local: Handler): Handler {
    return (call, callback) => {
      const forwarded = call.metadata.get(FORWARDED).length > 0;
      // A request that did not decode is refused here (by the local handler): there is nothing to forward.
      // Past its client's deadline already (it waited in a queue, or on a forward): not run, so
      // it cannot land after writes that client made since.
      if (clientDeadlineMs(call) <= Date.now()) return callback(toGrpcError(pastDeadline()));
      if (forwarded || malformedRequest(call.request)) return local(call, callback);
      // Answers name the leader, so that clients send their next writes there directly. (Unnamed
      // arrows: with tsx a named closure made per call also pays esbuild's __name.)
      if (this.o.node.isLeader()) return local(call, (err, res) => (err ? callback(err) : callback(null, res, this.leaderHint())));
      this.forward(method, call.request, clientDeadlineMs(call)).then(
        (res) => callback(null, res, this.leaderHint()),
        (err: GrpcFailure | ApiError) => callback(err instanceof ApiError ? toGrpcError(err) : Object.assign(new Error(err.details), err)),
      );
    };
  }

  private readHandler(local: Handler): Handler {
    return (call, callback) => local(call, (err, res) => (err ? callback(err) : callback(null, res, this.leaderHint())));
  }

  /** The same metadata for every answer while the leader stays (nothing changes it once sent). */
  private hint: { address: string; md: Metadata } | undefined;

  private leaderHint(): Metadata | undefined {
    const address = this.o.clientAddresses.get(this.o.node.leaderId());
    if (address === undefined) return undefined;
    if (this.hint?.address !== address) {
      const md = new Metadata();
      md.set(LEADER_HINT_METADATA, address);
      this.hint = { address, md };
    }
    return this.hint.md;
  }

  /**
   * Waits (bounded) for a leader and sends it the write. Not past the client's deadline: a write
   * forwarded after its client gave up could land after that client's later writes.
   */
  private async forward(method: WriteMethod, request: unknown, clientDeadlineMs: number): Promise<unknown> {
    const deadline = performance.now() + Math.min(this.timeoutMs, Math.max(0, clientDeadlineMs - Date.now()));
    for (;;) {
      try {
        const leader = await this.leader(deadline);
        if (performance.now() >= deadline) throw pastDeadline();
        if (leader === this.o.node.id) return await this.runLocally(method, request, deadline);
        return await this.call(leader, method, request, deadline);
      } catch (e) {
        if (!retryable(e) || performance.now() >= deadline) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** This member became leader while the request waited: forward to ourselves (the local handler). */
  private runLocally(method: WriteMethod, request: unknown, deadline: number): Promise<unknown> {
    const address = this.o.clientAddresses.get(this.o.node.id);
    if (!address) throw new ApiError('Unavailable', 'This member has no client address to serve the write', { retryAfterSeconds: 1, notApplied: true });
    return this.call(this.o.node.id, method, request, deadline);
  }

  private async leader(deadline: number): Promise<number> {
    for (;;) {
      const id = this.o.node.leaderId();
      if (id !== 0) return id;
      if (performance.now() >= deadline) throw new ApiError('Unavailable', 'No master leads the cluster right now (no Raft leader): try again', { retryAfterSeconds: 1, notApplied: true });
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private call(leader: number, method: WriteMethod, request: unknown, deadline: number): Promise<unknown> {
    const address = this.o.clientAddresses.get(leader);
    if (!address) return Promise.reject(new ApiError('Unavailable', `The client address of the leader (member ${leader}) is unknown`, { retryAfterSeconds: 1, notApplied: true }));
    let client = this.clients.get(address);
    if (!client) {
      client = new Client(address, credentials.createInsecure());
      this.clients.set(address, client);
    }
    const def = wireMethod(method);
    const md = new Metadata();
    md.set(FORWARDED, '1');
    const remainingMs = Math.max(1, deadline - performance.now());
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, request, md, { deadline: Date.now() + remainingMs }, (err, res) => {
        if (!err) return resolve(res);
        if (err.code === Code.DEADLINE_EXCEEDED) return reject(new ApiError('Unavailable', `The leader (member ${leader}) did not answer the ${method} within ${this.timeoutMs} ms; it may still take effect`, { retryAfterSeconds: 1 }));
        reject({ code: err.code, details: err.details, metadata: err.metadata } satisfies GrpcFailure);
      });
    });
  }
}

/** The client's deadline (Date.now() ms; Infinity when none), from a unary call or a streamed one. */
function clientDeadlineMs(call: { getDeadline?: () => Date | number }): number {
  const d = call.getDeadline?.();
  if (d === undefined) return Infinity;
  const ms = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(ms) ? ms : Infinity;
}

function pastDeadline(): ApiError {
  return new ApiError('Unavailable', "The client's deadline for this write passed before it could be run: it was not applied", { retryAfterSeconds: 1, notApplied: true });
}
