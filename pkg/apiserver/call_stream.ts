// The server side of Objects.CallBatches: unary calls arriving as messages of one stream are run by
// the same handlers as the unary RPCs (so forwarding, fencing and errors behave alike) and answered
// on the stream as they finish. A message carries the calls a client made in one turn, and the
// answers ready in one turn here go out together: under load a Raft commit answers tens of writes
// at once, and each message costs grpc-js about as much CPU as the work of a small call. A stream
// holds at most MAX_CALLS_IN_FLIGHT calls: past that it is read no further until answers go out.

import { Metadata, status as Code, type ServerDuplexStream, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import type { CallRequests, CallResponse, CallResponses } from '../../gen/navarch/apiserver/v1/objects.js';
import type { WireMethod } from './objects_wire.js';
import { TurnBatch } from './turn_batch.js';

/** The unary methods a CallBatches stream carries, by their name in the service (lists and watches have their own RPCs). */
export const STREAMED_METHODS = ['Get', 'Create', 'Update', 'Patch', 'Delete', 'Bind', 'BindBatch', 'CreateBatch'] as const;
export type StreamedMethod = (typeof STREAMED_METHODS)[number];

export const MAX_CALLS_IN_FLIGHT = 1024;

/** Answers of one message: it closes at this many bytes or answers, so it stays well under a client's receive limit. */
const MAX_ANSWERS_PER_MESSAGE = 256;
const MAX_ANSWER_BYTES_PER_MESSAGE = 1 << 20;

const NO_BYTES = Buffer.alloc(0);

/** The answer refusing call `id`. */
function refusal(id: number, code: Code, details: string, metadata: Record<string, string> = {}): CallResponse {
  return { id, code, details, response: NO_BYTES, metadata };
}

type UnaryHandler = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;

/** The service's handler key for a method name ("BindBatch" → "bindBatch"). */
export function handlerKey(method: string): string {
  return method.charAt(0).toLowerCase() + method.slice(1);
}

/** Answers' metadata as sent: a master hands every answer the same leader hint (read-only here). */
const metadataMaps = new WeakMap<Metadata, Record<string, string>>();

function metadataMap(md: Metadata | undefined): Record<string, string> {
  if (!md) return {};
  let out = metadataMaps.get(md);
  if (out === undefined) {
    out = {};
    // Text values only: the service sends no binary (-bin) metadata.
    for (const [k, v] of Object.entries(md.getMap())) if (typeof v === 'string') out[k] = v;
    metadataMaps.set(md, out);
  }
  return out;
}

/** A call of the stream as the unary handlers read it (ServerUnaryCall's request, metadata and getDeadline). */
class StreamedCall {
  constructor(
    readonly request: unknown,
    readonly metadata: Metadata,
    private readonly deadline: number,
  ) {}

  getDeadline(): number {
    return this.deadline;
  }
}

/** One call until its handler answers (once: later answers are ignored, as grpc-js ignores them). */
class PendingCall {
  private answered = false;

  constructor(
    private readonly id: number,
    private readonly codec: WireMethod,
    private readonly answer: (res: CallResponse) => void,
  ) {}

  done(err: Parameters<sendUnaryData<unknown>>[0], value: unknown, trailer: Metadata | null | undefined): void {
    if (this.answered) return;
    this.answered = true;
    if (err) {
      const e = err as Partial<{ code: number; details: string; message: string; metadata: Metadata }>;
      this.answer(refusal(this.id, e.code ?? Code.UNKNOWN, e.details ?? e.message ?? String(err), metadataMap(e.metadata)));
      return;
    }
    let response: Buffer;
    try {
      response = this.codec.responseSerialize(value);
    } catch (e) {
      this.answer(refusal(this.id, Code.INTERNAL, `Cannot encode the answer: ${(e as Error).message}`));
      return;
    }
    this.answer({ id: this.id, code: Code.OK, details: '', response, metadata: metadataMap(trailer ?? undefined) });
  }
}

export interface CallStreamHandler {
  (call: ServerDuplexStream<CallRequests, CallResponses>): void;
  /**
   * From now on, calls are refused unrun, as grpc-js refuses a unary call it could not send (UNAVAILABLE
   * "No connection established"), so clients send them to another master; the streams close as
   * their clients leave. For a master about to stop: its server waits for open streams.
   */
  drain(why: string): void;
}

/**
 * The Calls handler over `handlers` (the service's unary handlers by key) and `codecs` (the
 * service definition, for each method's request and response encoding). `refuse` names what is
 * wrong with a CallRequests message that did not decode: the stream ends with that error, since
 * its calls can no longer be told apart.
 */
export function callStreamHandler(handlers: Record<string, unknown>, codecs: Record<string, unknown>, refuse: (request: unknown) => Error | undefined): CallStreamHandler {
  const methods = new Map<string, { handler: UnaryHandler; codec: WireMethod }>();
  for (const m of STREAMED_METHODS) {
    const key = handlerKey(m);
    methods.set(m, { handler: handlers[key] as UnaryHandler, codec: codecs[key] as WireMethod });
  }
  let draining: string | undefined;
  const handler = (call: ServerDuplexStream<CallRequests, CallResponses>): void => {
    let inFlight = 0;
    let paused = false;
    let closed = false;
    /** The client sent its last call: end the stream once every call is answered. */
    let ending = false;
    // A call counts as in flight until its answer is handed to HTTP/2 (which waits for the
    // client's flow-control window), so a client that stops reading stops being read.
    const sent = (answers: number): void => {
      inFlight -= answers;
      if (closed) return;
      if (ending && inFlight === 0) {
        closed = true;
        call.end();
      } else if (paused && inFlight < MAX_CALLS_IN_FLIGHT) {
        paused = false;
        call.resume();
      }
    };
    // Answers go out together once this turn of the event loop is over.
    const outbox = new TurnBatch<CallResponse>({
      maxItems: MAX_ANSWERS_PER_MESSAGE,
      maxBytes: MAX_ANSWER_BYTES_PER_MESSAGE,
      send: (answers) => {
        if (closed) sent(answers.length);
        else call.write({ answers }, () => sent(answers.length));
      },
    });
    const answer = (res: CallResponse): void => outbox.push(res, res.response.byteLength);
    call.on('data', (batch: CallRequests) => {
      if (closed) return;
      const bad = refuse(batch);
      if (bad) {
        closed = true;
        call.emit('error', bad);
        return;
      }
      inFlight += batch.calls.length;
      if (inFlight >= MAX_CALLS_IN_FLIGHT && !paused) {
        paused = true;
        call.pause();
      }
      for (const req of batch.calls) run(req.id, req.method, req.request, req.timeoutMs);
    });
    const run = (id: number, method: string, request: Uint8Array, timeoutMs: number): void => {
      if (draining !== undefined) {
        answer(refusal(id, Code.UNAVAILABLE, `No connection established for this call: ${draining}`));
        return;
      }
      const m = methods.get(method);
      if (!m) {
        answer(refusal(id, Code.UNIMPLEMENTED, `CallBatches carries ${STREAMED_METHODS.join(', ')}; got method ${JSON.stringify(method)}`));
        return;
      }
      // The client's deadline for this call, as a unary call's getDeadline() gives it (Infinity: none given).
      const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
      const unaryCall = new StreamedCall(m.codec.requestDeserialize(Buffer.from(request.buffer, request.byteOffset, request.byteLength)), call.metadata, deadline);
      const pending = new PendingCall(id, m.codec, answer);
      try {
        // An unnamed arrow: with tsx, a named closure made per call also pays esbuild's __name.
        m.handler(unaryCall as unknown as ServerUnaryCall<unknown, unknown>, (err, value, trailer) => pending.done(err, value, trailer));
      } catch (e) {
        pending.done({ code: Code.INTERNAL, details: (e as Error).message } as never, undefined, undefined);
      }
    };
    call.on('end', () => {
      ending = true;
      if (inFlight === 0 && !closed) {
        closed = true;
        call.end();
      }
    });
    call.on('cancelled', () => (closed = true));
    call.on('error', () => (closed = true));
  };
  return Object.assign(handler, {
    drain(why: string): void {
      draining = why;
    },
  });
}

