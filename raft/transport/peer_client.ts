// Client side for one peer: a bounded queue drained by a pump into one
// long-lived Stream call, reconnecting with backoff, plus at most one
// snapshot in flight over SendSnapshot.

import { Client, credentials, type ChannelOptions, type ClientWritableStream } from '@grpc/grpc-js';
import type { Message, NodeId } from '../core/types.js';
import type { Clock, TimerHandle, TransportHandler } from '../node/ports.js';
import { BatchEncoder, encodeSnapshotChunk } from './codec.js';
import { BoundedMessageQueue } from './message_queue.js';
import type { GrpcTransportLimits, TransportLogger } from './options.js';
import { SEND_SNAPSHOT_PATH, STREAM_PATH, decodeAck, rawIdentity } from './service.js';
import type { TransportStats } from './stats.js';

export interface PeerClientDeps {
  localId: NodeId;
  peerId: NodeId;
  address: string;
  clusterId: number;
  clock: Clock;
  logger: TransportLogger;
  limits: GrpcTransportLimits;
  stats: TransportStats;
  handler: TransportHandler;
}

type RawCall = ClientWritableStream<Buffer>;

export class PeerClient {
  readonly peerId: NodeId;
  readonly address: string;
  private readonly client: Client;
  private readonly queue: BoundedMessageQueue;
  private readonly encoder = new BatchEncoder();
  private call: RawCall | undefined;
  private connected = false;
  private waitingDrain = false;
  private pumpScheduled = false;
  private backoffMs: number;
  private reconnectTimer: TimerHandle | undefined;
  private snapshotCall: RawCall | undefined;
  private snapshotTimer: TimerHandle | undefined;
  private closed = false;
  /** Messages dropped for this peer (full queue or too large). */
  droppedMessages = 0;

  constructor(private readonly deps: PeerClientDeps) {
    const { limits } = deps;
    this.peerId = deps.peerId;
    this.address = deps.address;
    this.queue = new BoundedMessageQueue(limits.maxQueueMessages, limits.maxQueueBytes);
    this.backoffMs = limits.backoffInitialMs;
    const options: ChannelOptions = {
      // grpc-js's own reconnect backoff defaults to 1 s .. 120 s; a member
      // that comes back must be reached within our backoff bound.
      'grpc.initial_reconnect_backoff_ms': limits.backoffInitialMs,
      'grpc.max_reconnect_backoff_ms': limits.backoffMaxMs,
      'grpc.max_send_message_length': limits.maxFrameBytes,
      'grpc.max_receive_message_length': 64 * 1024,
      'grpc.keepalive_time_ms': limits.keepaliveIntervalMs,
      'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
      'grpc.keepalive_permit_without_calls': 1,
      // One connection per peer and transport, not shared across transports in a process.
      'grpc.use_local_subchannel_pool': 1,
    };
    this.client = new Client(deps.address, credentials.createInsecure(), options);
  }

  get queuedMessages(): number {
    return this.queue.length;
  }

  get queuedBytes(): number {
    return this.queue.sizeBytes;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Opens the message stream; called once at start and after each backoff. */
  open(): void {
    if (this.closed || this.call !== undefined) return;
    this.reconnectTimer = undefined;
    const call: RawCall = this.client.makeClientStreamRequest<Buffer, unknown>(STREAM_PATH, rawIdentity, decodeAck, (err) =>
      this.onStreamClosed(call, err),
    );
    this.call = call;
    this.connected = false;
    this.waitingDrain = false;
    call.on('metadata', () => {
      if (this.call !== call || this.closed) return;
      this.connected = true;
      this.backoffMs = this.deps.limits.backoffInitialMs;
      this.deps.logger.debug({ peer: this.peerId, address: this.address }, 'Stream to peer is up');
      this.schedulePump();
    });
    // Failures arrive through the callback; this keeps an 'error' event from being unhandled.
    call.on('error', () => {});
  }

  private onStreamClosed(call: RawCall, err: Error | null): void {
    if (this.call !== call) return;
    this.call = undefined;
    this.connected = false;
    this.waitingDrain = false;
    if (this.closed) return;
    this.deps.stats.streamFailures++;
    this.deps.logger.debug(
      { peer: this.peerId, address: this.address, error: err?.message, backoffMs: this.backoffMs },
      'Stream to peer closed; reconnecting',
    );
    try {
      this.deps.handler.onUnreachable(this.peerId);
    } catch (e) {
      this.deps.logger.error({ err: e, peer: this.peerId }, 'Raft handler threw in onUnreachable');
    }
    this.reconnectTimer = this.deps.clock.setTimeout(() => this.open(), this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.deps.limits.backoffMaxMs);
  }

  /** Queues a message; returns false when it was dropped. */
  enqueue(m: Message, sizeBytes: number): boolean {
    if (this.closed || !this.queue.push(m, sizeBytes)) {
      this.droppedMessages++;
      return false;
    }
    return true;
  }

  // Deferred to the next turn of the event loop so that everything sent in
  // this turn (e.g. responses to a whole incoming batch) shares frames.
  schedulePump(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    setImmediate(this.pump);
  }

  private readonly pump = (): void => {
    this.pumpScheduled = false;
    const call = this.call;
    if (call === undefined || !this.connected || this.waitingDrain || this.closed) return;
    const { maxBatchMessages, maxBatchBytes } = this.deps.limits;
    const q = this.queue;
    const enc = this.encoder;
    const stats = this.deps.stats;
    while (q.length > 0) {
      enc.begin(this.deps.localId, this.peerId, this.deps.clusterId);
      let bytes = 0;
      while (q.length > 0 && enc.messageCount < maxBatchMessages) {
        const size = q.peekSizeBytes();
        if (enc.messageCount > 0 && bytes + size > maxBatchBytes) break;
        enc.add(q.shift());
        bytes += size;
      }
      stats.sentBatches++;
      stats.sentMessages += enc.messageCount;
      if (!call.write(enc.finish())) {
        this.waitingDrain = true;
        call.once('drain', () => {
          if (this.call !== call) return;
          this.waitingDrain = false;
          this.schedulePump();
        });
        return;
      }
    }
  };

  /** Sends a MsgSnap in chunks; reports the outcome through onSnapshotStatus. */
  sendSnapshot(m: Message): void {
    const snapshot = m.snapshot;
    if (this.closed || snapshot === undefined) return;
    if (this.snapshotCall !== undefined) {
      // Raft waits for the status of the one in flight; a second would only compete with it.
      this.deps.stats.droppedSnapshots++;
      this.deps.logger.debug({ peer: this.peerId, index: snapshot.metadata.index }, 'Dropped a snapshot: one is already in flight');
      return;
    }
    const { clock, limits, stats, logger } = this.deps;
    const index = snapshot.metadata.index;
    const call: RawCall = this.client.makeClientStreamRequest<Buffer, unknown>(SEND_SNAPSHOT_PATH, rawIdentity, decodeAck, (err) => {
      if (this.snapshotCall !== call) return;
      this.snapshotCall = undefined;
      if (this.snapshotTimer !== undefined) clock.clearTimeout(this.snapshotTimer);
      this.snapshotTimer = undefined;
      if (this.closed) return;
      const ok = err === null;
      if (ok) stats.snapshotsSent++;
      else {
        stats.snapshotsFailed++;
        logger.warn({ peer: this.peerId, index, error: err.message }, 'Sending a snapshot failed');
      }
      try {
        this.deps.handler.onSnapshotStatus(this.peerId, ok);
      } catch (e) {
        logger.error({ err: e, peer: this.peerId }, 'Raft handler threw in onSnapshotStatus');
      }
    });
    call.on('error', () => {});
    this.snapshotCall = call;
    this.snapshotTimer = clock.setTimeout(() => {
      this.snapshotTimer = undefined;
      call.cancel();
    }, limits.snapshotTimeoutMs);

    const data = snapshot.data;
    const total = data.byteLength;
    let offset = 0;
    let first = true;
    const writeMore = (): void => {
      if (this.snapshotCall !== call) return;
      while (first || offset < total) {
        const end = Math.min(offset + limits.snapshotChunkBytes, total);
        const frame = encodeSnapshotChunk({
          from: this.deps.localId,
          to: this.peerId,
          clusterId: this.deps.clusterId,
          message: first ? m : undefined,
          offset,
          data: data.subarray(offset, end),
          last: end === total,
        });
        first = false;
        offset = end;
        if (!call.write(frame) && offset < total) {
          call.once('drain', writeMore);
          return;
        }
      }
      call.end();
    };
    writeMore();
  }

  /** Closes the streams and timers; nothing is reported to the handler afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer !== undefined) this.deps.clock.clearTimeout(this.reconnectTimer);
    if (this.snapshotTimer !== undefined) this.deps.clock.clearTimeout(this.snapshotTimer);
    this.reconnectTimer = undefined;
    this.snapshotTimer = undefined;
    this.call?.cancel();
    this.snapshotCall?.cancel();
    this.call = undefined;
    this.snapshotCall = undefined;
    this.queue.clear();
    this.client.close();
  }
}
