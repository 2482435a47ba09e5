// The gRPC Transport: a RaftTransport server for incoming traffic and one
// PeerClient per peer for outgoing traffic.

import { Server, ServerCredentials } from '@grpc/grpc-js';
import { pino } from 'pino';
import type { Message, NodeId } from '../core/types.js';
import type { Transport, TransportHandler } from '../node/ports.js';
import { isWireMessageType, messageSizeBytes } from './codec.js';
import { resolveLimits, type GrpcTransportLimits, type GrpcTransportOptions, type TransportLogger } from './options.js';
import { PeerClient } from './peer_client.js';
import { Receiver } from './receiver.js';
import { rawRaftTransportService } from './service.js';
import { emptyStats, type TransportStats } from './stats.js';

export interface PeerStats {
  address: string;
  connected: boolean;
  queuedMessages: number;
  queuedBytes: number;
  droppedMessages: number;
}

export class GrpcTransport implements Transport {
  readonly id: NodeId;
  readonly limits: GrpcTransportLimits;
  private readonly logger: TransportLogger;
  private readonly counters: TransportStats = emptyStats();
  private readonly peers = new Map<NodeId, PeerClient>();
  private readonly addresses = new Map<NodeId, string>();
  private handler: TransportHandler | undefined;
  private server: Server | undefined;
  private boundPort = 0;
  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: GrpcTransportOptions) {
    if (!Number.isSafeInteger(options.id) || options.id <= 0) {
      throw new Error(`Invalid transport id: "${options.id}" is not a positive integer`);
    }
    if (!Number.isSafeInteger(options.clusterId) || options.clusterId < 0) {
      throw new Error(`Invalid transport clusterId: "${options.clusterId}" is not a non-negative integer`);
    }
    if (!/^.+:\d+$/.test(options.listenAddress)) {
      throw new Error(`Invalid transport listenAddress: "${options.listenAddress}" is not host:port`);
    }
    this.id = options.id;
    this.limits = resolveLimits(options.limits);
    this.logger = options.logger ?? pino({ name: 'raft-transport' }).child({ member: options.id });
  }

  /** The port the server is bound to (useful with port 0); 0 before start. */
  get port(): number {
    return this.boundPort;
  }

  /** host:port others can dial, once started. */
  get address(): string {
    const host = this.options.listenAddress.slice(0, this.options.listenAddress.lastIndexOf(':'));
    return `${host}:${this.boundPort}`;
  }

  async start(handler: TransportHandler): Promise<void> {
    if (this.state !== 'new') throw new Error(`Cannot start the transport: it is ${this.state}`);
    this.state = 'starting';
    this.handler = handler;
    const receiver = new Receiver(this.id, this.options.clusterId, this.limits, this.counters, this.logger, () =>
      this.state === 'running' ? this.handler : undefined,
    );
    const server = new Server({
      'grpc.max_receive_message_length': this.limits.maxFrameBytes,
      'grpc.max_send_message_length': 64 * 1024,
    });
    server.addService(rawRaftTransportService, { stream: receiver.handleStream, sendSnapshot: receiver.handleSnapshot });
    this.server = server;
    try {
      this.boundPort = await new Promise<number>((resolve, reject) => {
        server.bindAsync(this.options.listenAddress, ServerCredentials.createInsecure(), (err, port) =>
          err ? reject(err) : resolve(port),
        );
      });
    } catch (err) {
      this.state = 'stopped';
      server.forceShutdown();
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`Cannot listen on "${this.options.listenAddress}": ${reason}`);
    }
    if ((this.state as string) === 'stopped') {
      server.forceShutdown();
      return;
    }
    this.state = 'running';
    for (const [id, address] of this.addresses) this.connect(id, address);
    this.logger.info({ address: this.address }, 'Raft transport listening');
  }

  private connect(id: NodeId, address: string): void {
    const peer = new PeerClient({
      localId: this.id,
      peerId: id,
      address,
      clusterId: this.options.clusterId,
      clock: this.options.clock,
      logger: this.logger,
      limits: this.limits,
      stats: this.counters,
      handler: this.handler!,
    });
    this.peers.set(id, peer);
    peer.open();
  }

  addPeer(id: NodeId, address: string): void {
    if (this.state === 'stopped') return;
    if (this.addresses.get(id) === address) return;
    this.removePeer(id);
    this.addresses.set(id, address);
    if (this.state === 'running') this.connect(id, address);
  }

  removePeer(id: NodeId): void {
    this.addresses.delete(id);
    const peer = this.peers.get(id);
    if (peer === undefined) return;
    this.peers.delete(id);
    peer.close();
  }

  send(messages: readonly Message[]): void {
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      try {
        this.sendOne(m);
      } catch (err) {
        // send never throws: Raft treats an undelivered message like a lost one.
        this.counters.droppedMessages++;
        this.logger.error({ err, type: m?.type, to: m?.to }, 'Dropped a message that could not be sent');
      }
    }
  }

  private sendOne(m: Message): void {
    const peer = this.peers.get(m.to);
    if (peer === undefined || this.state !== 'running') {
      this.counters.droppedMessages++;
      // Raft waits for a snapshot's outcome before trying the follower again: report the failure.
      const handler = this.handler;
      if (m.type === 'MsgSnap' && handler && this.state === 'running') setImmediate(() => handler.onSnapshotStatus(m.to, false));
      return;
    }
    if (!isWireMessageType(m.type)) {
      this.counters.droppedMessages++;
      this.logger.error({ type: m.type, to: m.to }, 'Dropped a local-only message handed to the transport');
      return;
    }
    if (m.type === 'MsgSnap') {
      if (m.snapshot === undefined) {
        this.counters.droppedMessages++;
        this.logger.error({ to: m.to }, 'Dropped a MsgSnap without a snapshot');
        return;
      }
      peer.sendSnapshot(m);
      return;
    }
    const size = messageSizeBytes(m);
    if (size > this.limits.maxFrameBytes - 4096) {
      this.counters.droppedMessages++;
      this.logger.error({ type: m.type, to: m.to, sizeBytes: size, maxFrameBytes: this.limits.maxFrameBytes }, 'Dropped a message too large for one frame');
      return;
    }
    if (peer.enqueue(m, size)) peer.schedulePump();
    else this.counters.droppedMessages++;
  }

  /** A copy of the counters, plus per-peer queue state. */
  stats(): TransportStats & { peers: Map<NodeId, PeerStats> } {
    const peers = new Map<NodeId, PeerStats>();
    for (const [id, p] of this.peers) {
      peers.set(id, {
        address: p.address,
        connected: p.isConnected,
        queuedMessages: p.queuedMessages,
        queuedBytes: p.queuedBytes,
        droppedMessages: p.droppedMessages,
      });
    }
    return { ...this.counters, peers };
  }

  stop(): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    this.state = 'stopped';
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    const server = this.server;
    this.server = undefined;
    // Peer streams never end on their own, so a graceful shutdown would wait forever.
    server?.forceShutdown();
    this.stopping = Promise.resolve();
    return this.stopping;
  }
}
