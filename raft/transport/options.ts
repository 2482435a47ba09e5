import type { NodeId } from '../core/types.js';
import type { Clock } from '../node/ports.js';

/** The subset of a pino logger the transport uses. */
export interface TransportLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface GrpcTransportLimits {
  /** Messages waiting for one peer; more are dropped (Raft retries). */
  maxQueueMessages: number;
  /** Estimated bytes waiting for one peer; more are dropped. */
  maxQueueBytes: number;
  /** Messages per MessageBatch frame. */
  maxBatchMessages: number;
  /** Estimated bytes per MessageBatch frame (a single larger message goes alone). */
  maxBatchBytes: number;
  /** Largest frame sent or accepted; gRPC refuses bigger ones. */
  maxFrameBytes: number;
  /** Data bytes per SnapshotChunk frame. */
  snapshotChunkBytes: number;
  /** Largest snapshot the receiver reassembles. */
  maxSnapshotBytes: number;
  /** Snapshots being received at once, from all peers. */
  maxIncomingSnapshots: number;
  /** A snapshot send that takes longer is cancelled and reported as failed. */
  snapshotTimeoutMs: number;
  /** First reconnect delay after a stream fails; doubles up to backoffMaxMs. */
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** HTTP/2 keepalive ping interval; finds peers that vanished without closing the connection. */
  keepaliveIntervalMs: number;
  keepaliveTimeoutMs: number;
}

export const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: Readonly<GrpcTransportLimits> = {
  maxQueueMessages: 4096,
  maxQueueBytes: 64 * MiB,
  maxBatchMessages: 1024,
  maxBatchBytes: 1 * MiB,
  maxFrameBytes: 64 * MiB,
  snapshotChunkBytes: 1 * MiB,
  maxSnapshotBytes: 1024 * MiB,
  maxIncomingSnapshots: 4,
  snapshotTimeoutMs: 10 * 60 * 1000,
  backoffInitialMs: 50,
  backoffMaxMs: 2000,
  keepaliveIntervalMs: 10_000,
  keepaliveTimeoutMs: 5_000,
};

export interface GrpcTransportOptions {
  id: NodeId;
  /** host:port to serve on; port 0 picks a free one (see GrpcTransport.port). */
  listenAddress: string;
  /** Frames carrying another cluster's id are dropped. */
  clusterId: number;
  /** Timers for reconnect backoff and snapshot timeouts. */
  clock: Clock;
  logger?: TransportLogger;
  limits?: Partial<GrpcTransportLimits>;
}

/** Fills in defaults and checks that every limit is usable. */
export function resolveLimits(given: Partial<GrpcTransportLimits> | undefined): GrpcTransportLimits {
  const limits: GrpcTransportLimits = { ...DEFAULT_LIMITS, ...given };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new Error(`Invalid transport limit ${name}: "${value}" is not a positive integer`);
    }
  }
  // Leaves room for the frame's own fields around the payload.
  const headroomBytes = 4096;
  if (limits.maxBatchBytes + headroomBytes > limits.maxFrameBytes) {
    throw new Error(`Invalid transport limit maxBatchBytes: "${limits.maxBatchBytes}" does not fit in maxFrameBytes "${limits.maxFrameBytes}"`);
  }
  if (limits.snapshotChunkBytes + headroomBytes > limits.maxFrameBytes) {
    throw new Error(
      `Invalid transport limit snapshotChunkBytes: "${limits.snapshotChunkBytes}" does not fit in maxFrameBytes "${limits.maxFrameBytes}"`,
    );
  }
  if (limits.backoffInitialMs > limits.backoffMaxMs) {
    throw new Error(`Invalid transport limit backoffInitialMs: "${limits.backoffInitialMs}" exceeds backoffMaxMs "${limits.backoffMaxMs}"`);
  }
  return limits;
}
