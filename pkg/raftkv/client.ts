import { credentials, Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { KvClient, type GetResponse, type StatusResponse } from '../../gen/navarch/kv/v1/kv.js';

export interface Endpoint {
  id: number;
  address: string;
}

const SUSPECT_MS = 500;

export class KvRequestError extends Error {
  override name = 'KvRequestError';
  constructor(
    message: string,
    /** True when a write may or may not have taken effect. */
    readonly outcomeUnknown: boolean,
  ) {
    super(message);
  }
}

export interface KvClientOptions {
  /** Per attempt. @default 2000 */
  attemptTimeoutMs?: number;
  /** Whole request, across retries. @default 10000 */
  requestTimeoutMs?: number;
  clientId?: string;
}

/**
 * Talks to a Raft KV cluster: sends to the member it believes leads, follows
 * leader hints, fails over to other members, and retries writes with the same
 * (clientId, seq) so the cluster applies each once.
 */
export class RaftKvClient {
  private readonly clients = new Map<number, InstanceType<typeof KvClient>>();
  private readonly endpoints: Endpoint[];
  private leader: number;
  private seq = 0;
  private readonly suspectUntil = new Map<number, number>();
  readonly clientId: string;
  private readonly attemptTimeoutMs: number;
  private readonly requestTimeoutMs: number;

  constructor(endpoints: Endpoint[], options: KvClientOptions = {}) {
    if (endpoints.length === 0) throw new RangeError('Cannot create a KV client: no endpoints given');
    this.endpoints = endpoints;
    this.leader = endpoints[0].id;
    for (const e of endpoints) {
      this.clients.set(e.id, new KvClient(e.address, credentials.createInsecure(), { 'grpc.enable_retries': 0 }));
    }
    this.clientId = options.clientId ?? `c-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 2000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10000;
  }

  /** Resolves with the log index of the write once it is applied by the member that took it. */
  async put(key: string, value: Uint8Array): Promise<number> {
    const seq = ++this.seq;
    const res = await this.withRetry(true, (c, md, deadline) =>
      new Promise<{ index: number }>((resolve, reject) =>
        c.put({ clientId: this.clientId, seq, key, value: Buffer.from(value) }, md, { deadline }, (err, r) =>
          err ? reject(err) : resolve(r),
        ),
      ),
    );
    return res.index;
  }

  async get(key: string, options: { serializable?: boolean; memberId?: number } = {}): Promise<Uint8Array | undefined> {
    const call = (c: InstanceType<typeof KvClient>, md: Metadata, deadline: Date): Promise<GetResponse> =>
      new Promise((resolve, reject) =>
        c.get({ key, serializable: options.serializable ?? false }, md, { deadline }, (err, r) => (err ? reject(err) : resolve(r))),
      );
    const res =
      options.memberId !== undefined
        ? await call(this.client(options.memberId), new Metadata(), new Date(Date.now() + this.attemptTimeoutMs))
        : await this.withRetry(false, call);
    return res.found ? new Uint8Array(res.value) : undefined;
  }

  status(memberId: number, timeoutMs = 1000): Promise<StatusResponse> {
    return new Promise((resolve, reject) =>
      this.client(memberId).status({}, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (err, r) =>
        err ? reject(err) : resolve(r),
      ),
    );
  }

  transferLeader(memberId: number, to: number, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client(memberId).transferLeader({ to }, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  private isSuspect(id: number): boolean {
    return (this.suspectUntil.get(id) ?? 0) > Date.now();
  }

  private nextCandidate(after: number): number {
    const start = this.endpoints.findIndex((x) => x.id === after);
    for (let i = 1; i <= this.endpoints.length; i++) {
      const e = this.endpoints[(start + i) % this.endpoints.length];
      if (!this.isSuspect(e.id)) return e.id;
    }
    return this.endpoints[(start + 1) % this.endpoints.length].id;
  }

  private client(id: number): InstanceType<typeof KvClient> {
    const c = this.clients.get(id);
    if (!c) throw new RangeError(`Cannot reach member ${id}: it is not among the endpoints`);
    return c;
  }

  private async withRetry<T>(
    isWrite: boolean,
    call: (c: InstanceType<typeof KvClient>, md: Metadata, deadline: Date) => Promise<T>,
  ): Promise<T> {
    const giveUpAt = Date.now() + this.requestTimeoutMs;
    let unknown = false;
    let lastError = '';
    let attempt = 0;
    while (Date.now() < giveUpAt) {
      const target = this.leader;
      const deadline = new Date(Math.min(giveUpAt, Date.now() + this.attemptTimeoutMs));
      try {
        return await call(this.client(target), new Metadata(), deadline);
      } catch (e) {
        const err = e as ServiceError;
        lastError = `member ${target}: ${err.details || err.message}`;
        const hint = Number(err.metadata?.get('navarch-leader')?.[0] ?? 0);
        if (isWrite && err.code !== GrpcStatus.UNAVAILABLE) unknown = true;
        if (isWrite && err.code === GrpcStatus.UNAVAILABLE && !err.metadata?.get('navarch-leader')?.length) unknown = true;
        if (err.code === GrpcStatus.INVALID_ARGUMENT) throw new KvRequestError(lastError, false);
        const refused = err.code === GrpcStatus.UNAVAILABLE && hint === 0;
        // A member we cannot reach is skipped for a while, even when others still name it leader.
        if (refused) this.suspectUntil.set(target, Date.now() + SUSPECT_MS);
        if (hint > 0 && hint !== target && this.clients.has(hint) && !this.isSuspect(hint)) {
          this.leader = hint;
          continue;
        }
        this.leader = this.nextCandidate(target);
        attempt++;
        // Back off once every member has been tried: an election is probably under way.
        if (attempt % this.endpoints.length === 0) await new Promise((r) => setTimeout(r, Math.min(100, 20 * attempt)));
      }
    }
    throw new KvRequestError(`Request failed after ${this.requestTimeoutMs} ms: ${lastError}`, unknown);
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
  }
}
