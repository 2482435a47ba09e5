// Server side of the RaftTransport service: validates incoming frames and
// hands messages to the node. Nothing a peer sends can throw out of here.

import { Metadata, status, type sendUnaryData, type ServerErrorResponse, type ServerReadableStream } from '@grpc/grpc-js';
import type { StreamAck } from '../../gen/navarch/raft/v1/raft.js';
import type { Message, NodeId } from '../core/types.js';
import type { TransportHandler } from '../node/ports.js';
import { MalformedMessageError, checkBatch, decodeMessageBatch, decodeSnapshotChunk } from './codec.js';
import type { GrpcTransportLimits, TransportLogger } from './options.js';
import type { TransportStats } from './stats.js';

type Call = ServerReadableStream<Buffer, StreamAck>;
type Done = sendUnaryData<StreamAck>;

function failure(code: status, details: string): ServerErrorResponse {
  return Object.assign(new Error(details), { code, details });
}

export class Receiver {
  private incomingSnapshots = 0;

  constructor(
    private readonly localId: NodeId,
    private readonly clusterId: number,
    private readonly limits: GrpcTransportLimits,
    private readonly stats: TransportStats,
    private readonly logger: TransportLogger,
    private readonly handler: () => TransportHandler | undefined,
  ) {}

  private deliver(m: Message): void {
    const h = this.handler();
    if (h === undefined) return;
    try {
      h.onMessage(m);
    } catch (err) {
      this.logger.error({ err, type: m.type, from: m.from }, 'Raft handler threw on an incoming message');
    }
  }

  // Logs the first misaddressed batch and then every thousandth, so a
  // misconfigured peer cannot flood the log.
  private misaddressed(call: Call, reason: string, fields: object): void {
    this.stats.misaddressedBatches++;
    const n = this.stats.misaddressedBatches;
    if (n === 1 || n % 1000 === 0) {
      this.logger.warn({ peer: call.getPeer(), count: n, ...fields }, `Dropped a message batch: ${reason}`);
    }
  }

  private reject(call: Call, done: (err: ServerErrorResponse) => void, err: unknown, what: string): void {
    this.stats.rejectedFrames++;
    const detail = err instanceof Error ? err.message : String(err);
    this.logger.warn({ peer: call.getPeer(), error: detail }, `Rejected a malformed ${what}`);
    done(failure(status.INVALID_ARGUMENT, `Malformed ${what}: ${detail}`));
  }

  /** Stream: MessageBatch frames from one peer for as long as it lives. */
  readonly handleStream = (call: Call, callback: Done): void => {
    let finished = false;
    const finish = (err: ServerErrorResponse | null): void => {
      if (finished) return;
      finished = true;
      if (err === null) callback(null, {});
      else callback(err, null);
    };
    // Tells the client the stream is up, so it starts sending and resets its backoff.
    call.sendMetadata(new Metadata());
    call.on('data', (frame: Buffer) => {
      if (finished) return;
      try {
        const batch = decodeMessageBatch(frame);
        if (batch.clusterId !== this.clusterId) {
          this.misaddressed(call, `cluster id ${batch.clusterId} is not ours (${this.clusterId})`, { from: batch.from });
          return;
        }
        if (batch.to !== this.localId) {
          this.misaddressed(call, `addressed to member ${batch.to}, this is member ${this.localId}`, { from: batch.from });
          return;
        }
        checkBatch(batch);
        const messages = batch.messages;
        this.stats.receivedBatches++;
        this.stats.receivedMessages += messages.length;
        for (let i = 0; i < messages.length; i++) this.deliver(messages[i]);
      } catch (err) {
        this.reject(call, finish, err, 'message batch');
      }
    });
    call.on('end', () => finish(null));
    call.on('error', () => finish(failure(status.CANCELLED, 'Stream failed')));
  };

  /** SendSnapshot: one snapshot in order; delivered to Raft only once the last chunk is in. */
  readonly handleSnapshot = (call: Call, callback: Done): void => {
    if (this.incomingSnapshots >= this.limits.maxIncomingSnapshots) {
      this.logger.warn({ peer: call.getPeer() }, 'Refused a snapshot: too many being received');
      callback(failure(status.RESOURCE_EXHAUSTED, `Already receiving ${this.incomingSnapshots} snapshots`), null);
      return;
    }
    this.incomingSnapshots++;
    let finished = false;
    let message: Message | undefined;
    let chunks: Uint8Array[] = [];
    let receivedBytes = 0;
    const finish = (err: ServerErrorResponse | null): void => {
      if (finished) return;
      finished = true;
      this.incomingSnapshots--;
      chunks = [];
      if (err === null) callback(null, {});
      else callback(err, null);
    };
    call.on('data', (frame: Buffer) => {
      if (finished) return;
      try {
        const chunk = decodeSnapshotChunk(frame);
        if (chunk.clusterId !== this.clusterId) {
          this.logger.warn({ peer: call.getPeer(), clusterId: chunk.clusterId }, 'Refused a snapshot from another cluster');
          finish(failure(status.FAILED_PRECONDITION, `Cluster id ${chunk.clusterId} is not ours`));
          return;
        }
        if (chunk.to !== this.localId) {
          this.logger.warn({ peer: call.getPeer(), to: chunk.to }, 'Refused a snapshot for another member');
          finish(failure(status.FAILED_PRECONDITION, `Addressed to member ${chunk.to}, this is member ${this.localId}`));
          return;
        }
        if (message === undefined) {
          if (chunk.message === undefined) throw new MalformedMessageError('message', 'missing on the first chunk');
          message = chunk.message;
        } else {
          if (chunk.message !== undefined) throw new MalformedMessageError('message', 'only the first chunk carries one');
          if (chunk.from !== message.from) {
            throw new MalformedMessageError('from', `${chunk.from} differs from the first chunk's ${message.from}`);
          }
        }
        if (chunk.offset !== receivedBytes) {
          throw new MalformedMessageError('offset', `${chunk.offset} does not follow the ${receivedBytes} bytes received so far`);
        }
        if (receivedBytes + chunk.data.byteLength > this.limits.maxSnapshotBytes) {
          this.stats.rejectedFrames++;
          this.logger.warn({ peer: call.getPeer(), maxSnapshotBytes: this.limits.maxSnapshotBytes }, 'Refused an oversized snapshot');
          finish(failure(status.RESOURCE_EXHAUSTED, `Snapshot exceeds ${this.limits.maxSnapshotBytes} bytes`));
          return;
        }
        if (chunk.data.byteLength > 0) chunks.push(chunk.data);
        receivedBytes += chunk.data.byteLength;
        if (!chunk.last) return;
        const data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, receivedBytes);
        const m: Message = { ...message!, snapshot: { metadata: message!.snapshot!.metadata, data } };
        this.stats.snapshotsReceived++;
        this.deliver(m);
        finish(null);
      } catch (err) {
        this.reject(call, finish, err, 'snapshot chunk');
      }
    });
    call.on('end', () => {
      if (finished) return;
      this.reject(call, finish, new MalformedMessageError('last', 'the stream ended before the last chunk'), 'snapshot');
    });
    call.on('error', () => finish(failure(status.CANCELLED, 'Snapshot stream failed')));
  };
}
