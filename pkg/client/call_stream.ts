// The client side of Objects.CallBatches: unary calls to one master sent as messages of one
// long-lived stream, matched to their answers by id. A unary call costs an HTTP/2 stream with
// headers and trailers on both sides (about 0.5 ms of CPU on a lightly loaded master); a message on
// an open stream, about a fifth of that, and the calls made in one turn of the event loop share one
// (a message of 8 calls costs each about half of what a message of its own does). When the stream
// fails, every call on it fails as its unary call would have; the next call opens a new stream. A
// master that does not serve CallBatches is sent unary calls for a minute, then asked again.

import { Metadata, status as Code, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import type { CallRequest, CallRequests, CallResponse, CallResponses, ObjectsClient } from '../../gen/navarch/apiserver/v1/objects.js';
import { wireMethod } from '../apiserver/objects_wire.js';
import { handlerKey, type StreamedMethod } from '../apiserver/call_stream.js';
import { TurnBatch } from '../apiserver/turn_batch.js';

/**
 * Calls one stream carries at once; past that, callers use unary calls. The master reads no more of
 * a stream past its own 1024 (MAX_CALLS_IN_FLIGHT): more here would only wait in flow control.
 */
export const MAX_STREAM_CALLS_IN_FLIGHT = 1024;

/**
 * Larger requests go as unary calls: one over a size limit fails the whole stream (grpc-js cancels
 * it), and with it every call beside it.
 */
export const MAX_STREAMED_REQUEST_BYTES = 1 << 20;

/** Calls of one message: it closes at this many bytes of requests or calls (well under a master's receive limit). */
const MAX_BATCH_BYTES = 1 << 20;
const MAX_BATCH_CALLS = 256;

/** A master that did not serve CallBatches is asked again after this long (it may have been upgraded). */
const UNSUPPORTED_RETRY_MS = 60_000;

/** How often calls past their deadline are failed. */
const DEADLINE_SWEEP_MS = 100;

/**
 * A stream with no call in flight for this long is closed: an open stream keeps the process alive,
 * and a process that is done should exit without closing its client.
 */
const IDLE_CLOSE_MS = 250;

interface Pending {
  deadlineMs: number;
  method: StreamedMethod;
  resolve: (r: { response: unknown; trailers: Metadata }) => void;
  reject: (e: ServiceError) => void;
}

function serviceError(code: Code, details: string, metadata = new Metadata()): ServiceError {
  return Object.assign(new Error(`${code} ${Code[code]}: ${details}`), { code, details, metadata });
}

export class CallStream {
  private stream: ClientDuplexStream<CallRequests, CallResponses> | undefined;
  private readonly pending = new Map<number, Pending>();
  /** Calls made in this turn, sent together once it is over (or once they fill a message). */
  private readonly outbox = new TurnBatch<CallRequest>({ maxItems: MAX_BATCH_CALLS, maxBytes: MAX_BATCH_BYTES, send: (calls) => this.send(calls) });
  private nextId = 1;
  private sweep: NodeJS.Timeout | undefined;
  private idle: NodeJS.Timeout | undefined;
  /** Until when the master is taken not to serve CallBatches: it answered UNIMPLEMENTED (an older version). */
  private unsupportedUntilMs = 0;
  private closed = false;

  constructor(
    private readonly client: ObjectsClient,
    private readonly endpoint: string,
  ) {}

  /** Whether call() may be used now (else use the unary RPC). */
  available(): boolean {
    return !this.closed && this.pending.size < MAX_STREAM_CALLS_IN_FLIGHT && performance.now() >= this.unsupportedUntilMs;
  }

  /**
   * Runs `method` with `request` (the method's request message); rejects as grpc-js rejects a unary
   * call. Undefined: the request is too large for the stream (send it as a unary call).
   */
  call(method: StreamedMethod, request: unknown, timeoutMs: number): Promise<{ response: unknown; trailers: Metadata }> | undefined {
    const bytes = wireMethod(handlerKey(method)).requestSerialize(request);
    if (bytes.byteLength > MAX_STREAMED_REQUEST_BYTES) return undefined;
    this.open();
    if (this.idle) {
      clearTimeout(this.idle);
      this.idle = undefined;
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { deadlineMs: performance.now() + timeoutMs, method, resolve, reject });
      this.armSweep();
      this.outbox.push({ id, method, request: bytes, timeoutMs: 0 }, bytes.byteLength);
    });
  }

  /** Each call with the time its caller still waits as it leaves (one given up meanwhile is not sent). */
  private send(calls: CallRequest[]): void {
    const now = performance.now();
    const live: CallRequest[] = [];
    for (const c of calls) {
      const p = this.pending.get(c.id);
      if (p === undefined || p.deadlineMs <= now) continue;
      c.timeoutMs = Math.min(0xffffffff, Math.ceil(p.deadlineMs - now));
      live.push(c);
    }
    if (live.length > 0) this.stream?.write({ calls: live });
  }

  close(): void {
    this.closed = true;
    if (this.idle) clearTimeout(this.idle);
    const s = this.stream;
    this.stream = undefined;
    this.outbox.clear();
    this.failAll(serviceError(Code.CANCELLED, 'The client was closed'));
    s?.cancel();
  }

  private open(): ClientDuplexStream<CallRequests, CallResponses> {
    if (this.stream) return this.stream;
    const s = this.client.callBatches();
    this.stream = s;
    s.on('data', (res: CallResponses) => {
      for (const a of res.answers) this.answer(a);
    });
    s.on('error', (err: ServiceError) => this.ended(s, err));
    s.on('end', () => this.ended(s, serviceError(Code.UNAVAILABLE, `master ${this.endpoint} ended the calls stream`)));
    return s;
  }

  private answer(res: CallResponse): void {
    const p = this.pending.get(res.id);
    if (!p) return; // past its deadline already
    this.pending.delete(res.id);
    this.maybeIdle();
    const md = new Metadata();
    for (const [k, v] of Object.entries(res.metadata)) md.set(k, v);
    if (res.code !== Code.OK) return p.reject(serviceError(res.code, res.details, md));
    let response: unknown;
    try {
      response = wireMethod(handlerKey(p.method)).responseDeserialize(Buffer.from(res.response.buffer, res.response.byteOffset, res.response.byteLength));
    } catch (e) {
      return p.reject(serviceError(Code.INTERNAL, `Cannot decode the answer to ${p.method}: ${(e as Error).message}`));
    }
    p.resolve({ response, trailers: md });
  }

  private ended(s: ClientDuplexStream<CallRequests, CallResponses>, err: ServiceError): void {
    if (this.stream !== s) return;
    this.stream = undefined;
    // Calls not yet sent fail below with the rest: they must not go out on the next stream.
    this.outbox.clear();
    if (err.code === Code.UNIMPLEMENTED) {
      // Nothing ran: the master does not know the method. grpc-js says the same of a unary call it never sent.
      this.unsupportedUntilMs = performance.now() + UNSUPPORTED_RETRY_MS;
      return this.failAll(serviceError(Code.UNAVAILABLE, `No connection established for Objects.CallBatches: master ${this.endpoint} does not serve it`));
    }
    // The stream never connected: none of its calls was sent.
    if (err.code === Code.UNAVAILABLE && typeof err.details === 'string' && err.details.startsWith('No connection established')) return this.failAll(err);
    // Anything else ended the stream, not one call (a message over a size limit, a malformed
    // message, a dropped connection): each call may or may not have run, and none was refused.
    this.failAll(serviceError(Code.UNAVAILABLE, `the calls stream to master ${this.endpoint} failed (${Code[err.code] ?? err.code}: ${err.details ?? err.message})`));
  }

  private failAll(err: ServiceError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  private maybeIdle(): void {
    if (this.pending.size > 0 || this.idle || !this.stream) return;
    this.idle = setTimeout(() => {
      this.idle = undefined;
      const s = this.stream;
      if (this.pending.size > 0 || !s) return;
      this.stream = undefined;
      // Cancelled, not half-closed: a call given up at its deadline may still run on the master,
      // and a half-closed stream would wait for it (keeping this process alive).
      s.cancel();
    }, IDLE_CLOSE_MS);
    this.idle.unref();
  }

  private armSweep(): void {
    if (this.sweep) return;
    this.sweep = setInterval(() => {
      const now = performance.now();
      for (const [id, p] of this.pending) {
        if (p.deadlineMs > now) continue;
        this.pending.delete(id);
        p.reject(serviceError(Code.DEADLINE_EXCEEDED, 'Deadline exceeded'));
      }
      this.maybeIdle();
      if (this.pending.size === 0) {
        clearInterval(this.sweep);
        this.sweep = undefined;
      }
    }, DEADLINE_SWEEP_MS);
    this.sweep.unref();
  }
}
