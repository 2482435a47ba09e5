// One gRPC channel to containerd's unix socket and a typed client per service, every call carrying
// the containerd namespace (and, while an image is being written, a lease) in its metadata.

import { stat } from 'node:fs/promises';
import { Channel, credentials, Metadata, status, type CallOptions, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { ContainersClient } from '../../../../gen/containerd/github.com/containerd/containerd/api/services/containers/v1/containers.js';
import { ContentClient } from '../../../../gen/containerd/github.com/containerd/containerd/api/services/content/v1/content.js';
import { DiffClient } from '../../../../gen/containerd/github.com/containerd/containerd/api/services/diff/v1/diff.js';
import { EventsClient } from '../../../../gen/containerd/github.com/containerd/containerd/api/services/events/v1/events.js';
import { ImagesClient } from '../../../../gen/containerd/github.com/containerd/containerd/api/services/images/v1/images.js';
import { LeasesClient } from '../../../../gen/containerd/github.com/containerd/containerd/api/services/leases/v1/leases.js';
import { SnapshotsClient } from '../../../../gen/containerd/github.com/containerd/containerd/api/services/snapshots/v1/snapshots.js';
import { TasksClient } from '../../../../gen/containerd/github.com/containerd/containerd/api/services/tasks/v1/tasks.js';
import { VersionClient } from '../../../../gen/containerd/github.com/containerd/containerd/api/services/version/v1/version.js';

export const DEFAULT_NAMESPACE = 'navarch';

/** A failed containerd call: `code` is the gRPC status (status.NOT_FOUND, ...), the message names the call. */
export class ContainerdError extends Error {
  override name = 'ContainerdError';
  constructor(
    message: string,
    readonly code: status,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function isNotFound(e: unknown): boolean {
  return e instanceof ContainerdError && e.code === status.NOT_FOUND;
}

export function isAlreadyExists(e: unknown): boolean {
  return e instanceof ContainerdError && e.code === status.ALREADY_EXISTS;
}

type Callback<Res> = (error: ServiceError | null, response: Res) => void;
type UnaryMethod<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: Callback<Res>) => ClientUnaryCall;

export interface CallContext {
  /** Lease id that keeps what this call creates from containerd's garbage collector. */
  lease?: string;
  /** No deadline when omitted (waits, long applies). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ContainerdClientOptions {
  /** Path of containerd's gRPC socket. */
  socketPath: string;
  /** @default "navarch" */
  namespace?: string;
}

export class ContainerdClient {
  readonly socketPath: string;
  readonly namespace: string;
  readonly containers: ContainersClient;
  readonly content: ContentClient;
  readonly diff: DiffClient;
  readonly events: EventsClient;
  readonly images: ImagesClient;
  readonly leases: LeasesClient;
  readonly snapshots: SnapshotsClient;
  readonly tasks: TasksClient;
  readonly versionService: VersionClient;
  private readonly channel: Channel;

  constructor(options: ContainerdClientOptions) {
    if (!options.socketPath) throw new TypeError('Cannot connect to containerd: socketPath is empty');
    this.socketPath = options.socketPath;
    this.namespace = options.namespace ?? DEFAULT_NAMESPACE;
    if (!/^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/.test(this.namespace)) {
      throw new TypeError(`Cannot use containerd namespace "${this.namespace}": letters, digits, '.', '_' and '-' only`);
    }
    const address = `unix://${this.socketPath}`;
    // Images and exec output can be large; containerd's own limit is 16 MiB.
    const opts = { 'grpc.max_receive_message_length': 16 << 20, 'grpc.max_send_message_length': 16 << 20 };
    this.channel = new Channel(address, credentials.createInsecure(), opts);
    const shared = { ...opts, channelOverride: this.channel };
    const creds = credentials.createInsecure();
    this.containers = new ContainersClient(address, creds, shared);
    this.content = new ContentClient(address, creds, shared);
    this.diff = new DiffClient(address, creds, shared);
    this.events = new EventsClient(address, creds, shared);
    this.images = new ImagesClient(address, creds, shared);
    this.leases = new LeasesClient(address, creds, shared);
    this.snapshots = new SnapshotsClient(address, creds, shared);
    this.tasks = new TasksClient(address, creds, shared);
    this.versionService = new VersionClient(address, creds, shared);
  }

  metadata(ctx: CallContext = {}): Metadata {
    const md = new Metadata();
    md.set('containerd-namespace', this.namespace);
    if (ctx.lease) md.set('containerd-lease', ctx.lease);
    return md;
  }

  callOptions(ctx: CallContext = {}): Partial<CallOptions> {
    return ctx.timeoutMs === undefined ? {} : { deadline: new Date(Date.now() + ctx.timeoutMs) };
  }

  /** Calls one unary method; the error names the method and, when containerd is unreachable, the socket. */
  unary<Req, Res>(name: string, method: UnaryMethod<Req, Res>, request: Req, ctx: CallContext = {}): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const call = method(request, this.metadata(ctx), this.callOptions(ctx), (err, res) => {
        ctx.signal?.removeEventListener('abort', onAbort);
        if (err) reject(this.wrap(name, err));
        else resolve(res);
      });
      const onAbort = () => call.cancel();
      ctx.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  wrap(name: string, err: ServiceError | Error): ContainerdError {
    const code = 'code' in err && typeof err.code === 'number' ? (err.code as status) : status.UNKNOWN;
    const detail = 'details' in err && typeof err.details === 'string' && err.details ? err.details : err.message;
    if (code === status.UNAVAILABLE) {
      return new ContainerdError(`Cannot reach containerd at ${this.socketPath} (${name}): ${detail}`, code, { cause: err });
    }
    return new ContainerdError(`containerd ${name} failed: ${detail}`, code, { cause: err });
  }

  /** "containerd 1.6.20"; a clear error when the socket is missing or nobody answers on it. */
  async version(timeoutMs = 5000): Promise<string> {
    try {
      const st = await stat(this.socketPath);
      if (!st.isSocket()) throw new ContainerdError(`Cannot reach containerd at ${this.socketPath}: not a unix socket`, status.UNAVAILABLE);
    } catch (e) {
      if (e instanceof ContainerdError) throw e;
      throw new ContainerdError(`Cannot reach containerd at ${this.socketPath}: the socket does not exist (is containerd running?)`, status.UNAVAILABLE, { cause: e });
    }
    const v = this.versionService;
    const res = await this.unary('Version.Version', v.version.bind(v), {}, { timeoutMs });
    return `containerd ${res.version.replace(/^v/, '')}`;
  }

  close(): void {
    for (const c of [this.containers, this.content, this.diff, this.events, this.images, this.leases, this.snapshots, this.tasks, this.versionService]) c.close();
    this.channel.close();
  }
}
