import { Metadata, Server, ServerCredentials, status as GrpcStatus, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import {
  KvService,
  type GetRequest,
  type GetResponse,
  type PutRequest,
  type PutResponse,
  type StatusResponse,
  type TransferLeaderRequest,
} from '../../gen/navarch/kv/v1/kv.js';
import { ProposalDroppedError } from '../../raft/core/errors.js';
import { NotLeaderError, RaftTimeoutError } from '../../raft/node/errors.js';
import type { RaftNode } from '../../raft/node/raft_node.js';
import { encodeCommand, type KvResult, type KvStateMachine } from '../../raft/kv/kv_state_machine.js';

const MAX_KEY_BYTES = 4096;
const MAX_VALUE_BYTES = 1024 * 1024;

function fail(code: GrpcStatus, details: string, leader = 0): Partial<import('@grpc/grpc-js').StatusObject> {
  const metadata = new Metadata();
  if (leader > 0) metadata.set('navarch-leader', String(leader));
  return { code, details, metadata };
}

function toStatus(e: unknown): Partial<import('@grpc/grpc-js').StatusObject> {
  if (e instanceof NotLeaderError) return fail(GrpcStatus.UNAVAILABLE, e.message, e.leaderId);
  if (e instanceof ProposalDroppedError) return fail(GrpcStatus.UNAVAILABLE, e.message);
  if (e instanceof RaftTimeoutError) return fail(GrpcStatus.DEADLINE_EXCEEDED, e.message);
  return fail(GrpcStatus.INTERNAL, (e as Error).message ?? String(e));
}

/** Serves the KV API of one member on gRPC. */
export class KvServer {
  private server: Server | undefined;
  private boundPort = 0;

  constructor(
    private readonly node: RaftNode,
    private readonly machine: KvStateMachine,
  ) {}

  get port(): number {
    return this.boundPort;
  }

  async start(listenAddress: string): Promise<void> {
    const server = new Server({ 'grpc.max_receive_message_length': 2 * 1024 * 1024 });
    server.addService(KvService, {
      put: (call: ServerUnaryCall<PutRequest, PutResponse>, cb: sendUnaryData<PutResponse>) => void this.put(call.request, cb),
      get: (call: ServerUnaryCall<GetRequest, GetResponse>, cb: sendUnaryData<GetResponse>) => void this.get(call.request, cb),
      status: (_call: unknown, cb: sendUnaryData<StatusResponse>) => cb(null, this.status()),
      transferLeader: (call: ServerUnaryCall<TransferLeaderRequest, object>, cb: sendUnaryData<object>) =>
        void this.node.transferLeadership(call.request.to).then(
          () => cb(null, {}),
          (e) => cb(toStatus(e)),
        ),
    });
    this.server = server;
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(listenAddress, ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
  }

  private async put(req: PutRequest, cb: sendUnaryData<PutResponse>): Promise<void> {
    const bad = validateKey(req.key) ?? (req.value.byteLength > MAX_VALUE_BYTES ? `value: ${req.value.byteLength} bytes exceeds the limit of ${MAX_VALUE_BYTES}` : undefined);
    if (bad) return cb(fail(GrpcStatus.INVALID_ARGUMENT, bad));
    if (!this.node.isLeader()) return cb(toStatus(new NotLeaderError(this.node.id, this.node.leaderId())));
    try {
      const data = encodeCommand({ op: 'put', clientId: req.clientId, seq: req.seq, key: req.key, value: req.value });
      const result = (await this.node.propose(data)) as KvResult;
      cb(null, { index: result.index });
    } catch (e) {
      cb(toStatus(e));
    }
  }

  private async get(req: GetRequest, cb: sendUnaryData<GetResponse>): Promise<void> {
    const bad = validateKey(req.key);
    if (bad) return cb(fail(GrpcStatus.INVALID_ARGUMENT, bad));
    try {
      if (!req.serializable) await this.node.readIndex();
      const v = this.machine.read(req.key);
      cb(null, { found: v !== undefined, value: Buffer.from(v ?? new Uint8Array(0)) });
    } catch (e) {
      cb(toStatus(e));
    }
  }

  private status(): StatusResponse {
    const s = this.node.status();
    return {
      id: s.id,
      leader: s.lead,
      term: s.term,
      role: s.role,
      commit: s.commit,
      applied: s.applied,
      syncs: s.stats.syncs,
      entriesSynced: s.stats.entriesSynced,
      voters: s.confState.voters,
      learners: s.confState.learners,
    };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  }
}

function validateKey(key: string): string | undefined {
  if (key.length === 0) return 'key: Required value';
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `key: ${Buffer.byteLength(key)} bytes exceeds the limit of ${MAX_KEY_BYTES}`;
  return undefined;
}
