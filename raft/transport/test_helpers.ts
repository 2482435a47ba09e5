// Shared pieces for the transport tests.

import type { Message, NodeId } from '../core/types.js';
import { realClock, type TransportHandler } from '../node/ports.js';
import { GrpcTransport } from './grpc_transport.js';
import type { GrpcTransportLimits, TransportLogger } from './options.js';

export interface LogLine {
  level: string;
  msg: string;
  fields: object;
}

/** Keeps log lines so tests can assert what was logged. */
export class MemoryLogger implements TransportLogger {
  readonly lines: LogLine[] = [];
  debug(fields: object, msg: string): void {
    this.lines.push({ level: 'debug', msg, fields });
  }
  info(fields: object, msg: string): void {
    this.lines.push({ level: 'info', msg, fields });
  }
  warn(fields: object, msg: string): void {
    this.lines.push({ level: 'warn', msg, fields });
  }
  error(fields: object, msg: string): void {
    this.lines.push({ level: 'error', msg, fields });
  }
  has(level: string, text: string): boolean {
    return this.lines.some((l) => l.level === level && l.msg.includes(text));
  }
}

/** A handler that records everything it is told. */
export class Recorder implements TransportHandler {
  readonly messages: Message[] = [];
  readonly unreachable: NodeId[] = [];
  readonly snapshotStatus: { peer: NodeId; ok: boolean }[] = [];
  onMessage(m: Message): void {
    this.messages.push(m);
  }
  onUnreachable(peer: NodeId): void {
    this.unreachable.push(peer);
  }
  onSnapshotStatus(peer: NodeId, ok: boolean): void {
    this.snapshotStatus.push({ peer, ok });
  }
  from(peer: NodeId): Message[] {
    return this.messages.filter((m) => m.from === peer);
  }
}

/** Polls `cond` until it holds or the deadline passes; `poke` runs before each check (e.g. to resend). */
export async function waitFor(what: string, cond: () => boolean, opts: { timeoutMs?: number; poke?: () => void } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    opts.poke?.();
    if (cond()) return;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export { freePort } from './free_port.js';

export interface Member {
  transport: GrpcTransport;
  recorder: Recorder;
  logger: MemoryLogger;
}

export async function startMember(
  id: NodeId,
  opts: { port?: number; clusterId?: number; limits?: Partial<GrpcTransportLimits> } = {},
): Promise<Member> {
  const logger = new MemoryLogger();
  const recorder = new Recorder();
  const transport = new GrpcTransport({
    id,
    listenAddress: `127.0.0.1:${opts.port ?? 0}`,
    clusterId: opts.clusterId ?? 7,
    clock: realClock,
    logger,
    limits: opts.limits,
  });
  await transport.start(recorder);
  return { transport, recorder, logger };
}

/** Starts members 1..n and connects each to all others. */
export async function startCluster(n: number, limits?: Partial<GrpcTransportLimits>): Promise<Member[]> {
  const members: Member[] = [];
  for (let id = 1; id <= n; id++) members.push(await startMember(id, { limits }));
  for (const a of members) {
    for (const b of members) if (a !== b) a.transport.addPeer(b.transport.id, b.transport.address);
  }
  return members;
}
