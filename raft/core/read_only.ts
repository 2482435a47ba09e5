import type { Message, NodeId } from './types.js';

interface ReadIndexStatus {
  index: number;
  request: Message;
  acks: Set<NodeId>;
}

/** A ReadIndex request's context, as a map key. */
export function contextKey(ctx: Uint8Array): string {
  let s = '';
  for (const b of ctx) s += b.toString(16).padStart(2, '0');
  return s;
}

/**
 * ReadIndex requests waiting for a heartbeat round to confirm leadership.
 * Bounded by maxPending: a request beyond it is refused (the caller retries).
 */
export class ReadOnly {
  private pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(readonly maxPending: number) {}

  get size(): number {
    return this.queue.length;
  }

  /** Returns false when the queue is full. */
  addRequest(index: number, m: Message): boolean {
    const key = contextKey(m.context);
    if (this.pending.has(key)) return true;
    if (this.queue.length >= this.maxPending) return false;
    this.pending.set(key, { index, request: m, acks: new Set() });
    this.queue.push(key);
    return true;
  }

  /** Records a heartbeat ack; returns the acks so far, or undefined for an unknown context. */
  recvAck(id: NodeId, ctx: Uint8Array): Set<NodeId> | undefined {
    const rs = this.pending.get(contextKey(ctx));
    if (!rs) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /** Releases every request up to and including the one with ctx, in order. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(ctx);
    const i = this.queue.indexOf(key);
    if (i < 0) return [];
    const released = this.queue.splice(0, i + 1).map((k) => {
      const rs = this.pending.get(k)!;
      this.pending.delete(k);
      return rs;
    });
    return released;
  }

  lastPendingContext(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    return this.pending.get(this.queue[this.queue.length - 1])!.request.context;
  }

  /** Forgets every request; returns them, oldest first, so callers can be told. */
  reset(): Message[] {
    const out = this.queue.map((k) => this.pending.get(k)!.request);
    this.pending.clear();
    this.queue = [];
    return out;
  }
}
