// Which master a client talks to: it sticks with one that works and moves to the next when a call
// cannot reach it, so a dead member costs one failed attempt, not one per request.

import { credentials, makeGenericClientConstructor, type ChannelOptions } from '@grpc/grpc-js';
import { ObjectsClient } from '../../gen/navarch/apiserver/v1/objects.js';
import { OBJECTS_WIRE_SERVICE } from '../apiserver/objects_wire.js';
import { CallStream } from './call_stream.js';

/** The generated client with the exact-size request encoders. */
const WireObjectsClient = makeGenericClientConstructor(OBJECTS_WIRE_SERVICE, 'navarch.apiserver.v1.Objects') as unknown as typeof ObjectsClient;

const CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 4 * 1024 * 1024,
  // Notice a dead member quickly instead of waiting for TCP.
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

export function checkEndpoints(endpoints: readonly string[]): string[] {
  if (endpoints.length === 0) throw new Error('No master endpoints: expected at least one host:port');
  for (const e of endpoints) {
    const i = e.lastIndexOf(':');
    const port = Number(e.slice(i + 1));
    if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`Invalid master endpoint "${e}": expected host:port`);
  }
  return [...endpoints];
}

/** Trailing metadata on a write's answer: the client address of the member that leads the cluster. */
export const LEADER_HINT_METADATA = 'navarch-leader';

export interface Picked {
  client: ObjectsClient;
  calls: CallStream;
  endpoint: string;
  index: number;
}

export class EndpointPool {
  private readonly clients: ObjectsClient[];
  /** Each member's CallBatches stream (unary calls as messages of one stream). */
  private readonly streams: CallStream[];
  private current = 0;
  /** The member the last write's answer named as leader, when it is one of ours. */
  private leader: number | undefined;
  /** The member this client runs in (a master's own components), when it is one: reads and watches go back to it whenever it does not lead. */
  private readonly home: number | undefined;

  /**
   * ownConnections: these channels get connections of their own instead of sharing grpc-js's
   * process-wide ones with every other client of the same masters (see NavarchClientOptions).
   */
  constructor(
    readonly endpoints: readonly string[],
    ownConnections = false,
    home?: string,
  ) {
    if (home !== undefined && !endpoints.includes(home)) throw new Error(`The local master ${home} is not one of the endpoints (${endpoints.join(', ')})`);
    this.home = home === undefined ? undefined : endpoints.indexOf(home);
    if (this.home !== undefined) this.current = this.home;
    const options: ChannelOptions = ownConnections ? { ...CHANNEL_OPTIONS, 'grpc.use_local_subchannel_pool': 1 } : CHANNEL_OPTIONS;
    this.clients = checkEndpoints(endpoints).map((e) => new WireObjectsClient(e, credentials.createInsecure(), options));
    this.streams = this.clients.map((c, i) => new CallStream(c, this.endpoints[i]));
  }

  /** The member to read from and watch now: one that does not lead, once a leader is known (see noteLeader). */
  pick(): Picked {
    return this.at(this.current);
  }

  /**
   * The member to send a write to: the leader when an answer named it, since any other member
   * would forward the write there (one more hop, and that member's work); else pick().
   */
  pickForWrite(): Picked {
    return this.at(this.leader ?? this.current);
  }

  private at(index: number): Picked {
    return { client: this.clients[index], calls: this.streams[index], endpoint: this.endpoints[index], index };
  }

  /**
   * An answer named the leader's client address. Reads and watches move off a newly named leader:
   * it already does every write's work, and a watch served there keeps a watch cache decoding every
   * change that the other members decode anyway. Only a change of leader moves them, so a client
   * whose other members fail reads from the leader until then.
   */
  noteLeader(address: string): void {
    const i = this.endpoints.indexOf(address);
    const next = i >= 0 ? i : undefined;
    // A master's own components left it while it led (or failed); another member leads now: back home,
    // where their watches share the member's watch cache instead of one more member decoding and sending.
    if (this.home !== undefined && next !== undefined && next !== this.home) this.current = this.home;
    else if (next !== undefined && next !== this.leader && next === this.current && this.clients.length > 1) this.current = (next + 1) % this.clients.length;
    this.leader = next;
  }

  /** Whether reads and watches should move to the member this client runs in (see noteLeader) from `index`. */
  homeFrom(index: number): boolean {
    return this.home !== undefined && index !== this.home && this.current === this.home;
  }

  /** The member at `index` failed: move on, unless another caller already has. */
  failed(index: number): void {
    if (index === this.leader) this.leader = undefined;
    if (index === this.current) this.current = (this.current + 1) % this.clients.length;
  }

  close(): void {
    for (const s of this.streams) s.close();
    for (const c of this.clients) c.close();
  }
}
