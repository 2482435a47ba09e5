// The gRPC adapter: navarch.apiserver.v1.Objects over the ApiServer core. It only translates:
// request messages to core requests, objects to and from their protobuf bytes, ApiError to a gRPC
// status (code from ERROR_CODES, message as details, the ApiError code and details in metadata),
// and a watch to a server stream that waits for the client to read (no unbounded buffering).

import { Metadata, type Server, type ServerErrorResponse, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import { decodeStored } from '../api/convert/binary.js';
import { DecodeError } from '../api/convert/object.js';
import type { KubeObject } from '../api/registry.js';
import {
  ObjectsService,
  type ObjectsServer,
  type BindBatchRequest as WireBindBatchRequest,
  type BindBatchResponse as WireBindBatchResponse,
  type BatchResult as WireBatchResult,
  type CreateBatchRequest as WireCreateBatchRequest,
  type CreateBatchResponse as WireCreateBatchResponse,
  type WatchEvent as WireWatchEvent,
  type WatchEvents as WireWatchEvents,
  type WatchRequest as WireWatchRequest,
} from '../../gen/navarch/apiserver/v1/objects.js';
import { OBJECTS_WIRE_SERVICE } from './objects_wire.js';
import { callStreamHandler } from './call_stream.js';
import { encodedObject } from './object_bytes.js';
import { ApiError, toApiError } from './api_error.js';
import type { ApiServer } from './api_server.js';
import type { PropagationPolicy } from './delete.js';
import type { PatchType } from './patch.js';
import type { CreateRequest } from './create.js';
import type { Subresource } from './update.js';

export const ERROR_CODE_METADATA = 'navarch-error-code';
export const ERROR_DETAILS_METADATA = 'navarch-error-details';

/** An ApiError as a gRPC status. */
export function toGrpcError(err: unknown): ServerErrorResponse {
  const e = toApiError(err);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA, e.code);
  metadata.set(ERROR_DETAILS_METADATA, JSON.stringify(e.details));
  return Object.assign(new Error(e.message), { code: e.grpcCode, details: e.message, metadata });
}

/** The object in a request: protobuf bytes of a navarch.api.v1 kind. */
export function decodeRequestObject(bytes: Uint8Array): KubeObject {
  if (bytes.byteLength === 0) throw new ApiError('Invalid', 'Cannot read the request object: it is empty');
  try {
    return decodeStored(bytes);
  } catch (err) {
    if (err instanceof DecodeError) throw new ApiError(err.reason === 'UnknownKind' ? 'NotFound' : 'Invalid', err.message, { cause: err });
    throw err;
  }
}

const MALFORMED = Symbol('malformedRequest');

/**
 * ObjectsService whose request decoding never throws. grpc-js answers a request it cannot decode
 * with INTERNAL "Error deserializing request" (no reason, and clients take INTERNAL as a server
 * fault worth retrying); bad bytes are the caller's error, so the handler answers Invalid instead.
 * Answers are written by the exact-size encoders (objects_wire.ts).
 */
export const OBJECTS_SERVICE: typeof ObjectsService = Object.fromEntries(
  Object.entries(OBJECTS_WIRE_SERVICE).map(([method, d]) => {
    const name = d.path.slice(d.path.lastIndexOf('/') + 1);
    const message = name === 'CallBatches' ? 'CallRequests' : `${name}Request`;
    const requestDeserialize = (b: Buffer): unknown => {
      try {
        return d.requestDeserialize(b);
      } catch (err) {
        return { [MALFORMED]: `Cannot decode the request as navarch.apiserver.v1.${message}: ${(err as Error).message}` };
      }
    };
    return [method, { ...d, requestDeserialize }];
  }),
) as unknown as typeof ObjectsService;

/** The error for a request OBJECTS_SERVICE could not decode; undefined for a decoded one. */
export function malformedRequest(request: unknown): ApiError | undefined {
  const why = typeof request === 'object' && request !== null ? (request as { [MALFORMED]?: string })[MALFORMED] : undefined;
  return why === undefined ? undefined : new ApiError('Invalid', why);
}

/** For a stream: the gRPC error for a message that did not decode. */
export function refuseMalformed(request: unknown): ServerErrorResponse | undefined {
  const malformed = malformedRequest(request);
  return malformed && toGrpcError(malformed);
}

function unary<Req, Res>(f: (req: Req) => Promise<Res>) {
  return (call: { request: Req }, callback: sendUnaryData<Res>): void => {
    const malformed = malformedRequest(call.request);
    if (malformed) return callback(toGrpcError(malformed));
    f(call.request).then(
      (res) => callback(null, res),
      (err) => callback(toGrpcError(err)),
    );
  };
}

const opt = (s: string): string | undefined => (s === '' ? undefined : s);

/** One item of a batch answered. */
function doneResult(o: KubeObject): WireBatchResult {
  return { errorCode: '', errorMessage: '', errorDetails: '', resourceVersion: o.metadata?.resourceVersion ?? '' };
}

function failedResult(e: ApiError): WireBatchResult {
  return { errorCode: e.code, errorMessage: e.message, errorDetails: JSON.stringify(e.details), resourceVersion: '' };
}

/** Bindings one BindBatch call may carry (the scheduler sends at most its in-flight window). */
export const MAX_BIND_BATCH = 1000;

/** Every binding of a batch is done or refused as its own Bind would be (see bind_batch.ts). */
async function bindBatch(api: ApiServer, r: WireBindBatchRequest): Promise<WireBindBatchResponse> {
  if (r.bindings.length > MAX_BIND_BATCH) throw new ApiError('Invalid', `BindBatch carries ${r.bindings.length} bindings: at most ${MAX_BIND_BATCH} per call`);
  if (r.bindings.length === 0) throw new ApiError('Invalid', 'bindings: Required value: a BindBatch carries at least one binding');
  const outcomes = await api.bindBatch(
    r.bindings.map((b) => ({ namespace: b.namespace, name: b.name, uid: opt(b.uid), target: { kind: b.targetKind, name: b.targetName }, dryRun: b.dryRun, fencing: b.fencing })),
  );
  return { results: outcomes.map((o) => (o.error ? failedResult(o.error) : doneResult(o.object))) };
}

/** Creates one CreateBatch call may carry (the Event recorder sends at most its in-flight window). */
export const MAX_CREATE_BATCH = 1000;

/** Every create of a batch is done or refused as its own Create would be (see create_batch.ts). */
async function createBatch(api: ApiServer, r: WireCreateBatchRequest): Promise<WireCreateBatchResponse> {
  if (r.creates.length > MAX_CREATE_BATCH) throw new ApiError('Invalid', `CreateBatch carries ${r.creates.length} creates: at most ${MAX_CREATE_BATCH} per call`);
  if (r.creates.length === 0) throw new ApiError('Invalid', 'creates: Required value: a CreateBatch carries at least one create');
  const results: WireBatchResult[] = new Array(r.creates.length);
  const reqs: CreateRequest[] = [];
  const slots: number[] = [];
  r.creates.forEach((c, i) => {
    try {
      reqs.push({ resource: opt(c.resource), namespace: opt(c.namespace), object: decodeRequestObject(c.object), objectOwned: true, dryRun: c.dryRun, fencing: c.fencing, subresource: opt(c.subresource), name: opt(c.name) });
      slots.push(i);
    } catch (err) {
      results[i] = failedResult(toApiError(err));
    }
  });
  const outcomes = reqs.length ? await api.createBatch(reqs) : [];
  outcomes.forEach((o, k) => {
    results[slots[k]] = o.error ? failedResult(o.error) : doneResult(o.object);
  });
  return { results };
}

/** A watch message's events: it closes at this many bytes of objects (so with one 1.5 MiB object it stays under a client's 4 MiB limit) or events. */
const WATCH_BATCH_BYTES = 1 << 20;
const WATCH_BATCH_EVENTS = 4096;

/**
 * Sends a watch's events as they come, batched: while one message is being written, the events
 * that arrive wait and go together in the next. The batch is the buffer: the watch is read no
 * further while a full one waits for the client.
 */
async function streamWatch(api: ApiServer, call: ServerWritableStream<WireWatchRequest, WireWatchEvents>): Promise<void> {
  const r = call.request;
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort());
  call.on('close', () => ac.abort());
  let batch: WireWatchEvent[] = [];
  let batchBytes = 0;
  let writing = false;
  let wake: (() => void) | undefined;
  const flush = (): void => {
    if (writing || batch.length === 0 || ac.signal.aborted) return;
    const events = batch;
    batch = [];
    batchBytes = 0;
    writing = true;
    call.write({ events }, () => {
      writing = false;
      flush();
      wake?.();
    });
  };
  try {
    const malformed = malformedRequest(r);
    if (malformed) throw malformed;
    const watch = api.watch({
      resource: r.resource,
      namespace: opt(r.namespace),
      labelSelector: r.labelSelector,
      fieldSelector: r.fieldSelector,
      resourceVersion: r.resourceVersion,
      allowBookmarks: r.allowBookmarks,
      signal: ac.signal,
    });
    const onAbort = (): void => wake?.();
    ac.signal.addEventListener('abort', onAbort);
    for await (const events of watch.batches()) {
      for (const e of events) {
        const object = e.bytes ? e.bytes.forWatch() : encodedObject(e.object);
        batch.push({ type: e.type, object });
        batchBytes += object.byteLength;
        // Backpressure: a full batch waits until the client has taken the one before.
        while ((batchBytes >= WATCH_BATCH_BYTES || batch.length >= WATCH_BATCH_EVENTS) && !ac.signal.aborted) {
          flush();
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
        if (ac.signal.aborted) break;
      }
      flush();
      if (ac.signal.aborted) break;
    }
    ac.signal.removeEventListener('abort', onAbort);
    if (!ac.signal.aborted) {
      // Writable keeps order: the last events go after the one being written, then the end.
      if (batch.length > 0) call.write({ events: batch });
      call.end();
    }
  } catch (err) {
    // grpc-js turns an 'error' event on a server stream into the call's final status.
    if (!ac.signal.aborted) {
      if (batch.length > 0) call.write({ events: batch });
      call.emit('error', toGrpcError(err));
    }
  }
}

/** The service implementation; add it to a grpc-js Server with addObjectsService. */
export function objectsServer(api: ApiServer): ObjectsServer {
  const server: ObjectsServer = {
    get: unary(async (r) => ({ object: await api.getBytes({ resource: r.resource, namespace: opt(r.namespace), name: r.name, resourceVersion: r.resourceVersion, serializable: r.serializable, subresource: opt(r.subresource) }) })),
    create: unary(async (r) => ({
      object: encodedObject(
        await api.create({ resource: opt(r.resource), namespace: opt(r.namespace), object: decodeRequestObject(r.object), objectOwned: true, dryRun: r.dryRun, fencing: r.fencing, subresource: opt(r.subresource), name: opt(r.name) }),
      ),
    })),
    update: unary(async (r) => ({
      object: encodedObject(
        await api.update({ resource: opt(r.resource), namespace: opt(r.namespace), object: decodeRequestObject(r.object), decodeAgain: () => decodeRequestObject(r.object), subresource: opt(r.subresource) as Subresource | undefined, dryRun: r.dryRun, fencing: r.fencing }),
      ),
    })),
    patch: unary(async (r) => ({
      object: encodedObject(
        await api.patch({ resource: r.resource, namespace: opt(r.namespace), name: r.name, type: r.type as PatchType, patch: r.patch, subresource: opt(r.subresource), dryRun: r.dryRun, fencing: r.fencing }),
      ),
    })),
    delete: unary(async (r) => {
      const res = await api.delete({
        resource: r.resource,
        namespace: opt(r.namespace),
        name: r.name,
        preconditions: { uid: opt(r.preconditionUid), resourceVersion: opt(r.preconditionResourceVersion) },
        gracePeriodSeconds: r.gracePeriodSeconds,
        propagationPolicy: opt(r.propagationPolicy) as PropagationPolicy | undefined,
        dryRun: r.dryRun,
        fencing: r.fencing,
      });
      return { object: encodedObject(res.object), deleted: res.deleted };
    }),
    bind: unary(async (r) => ({
      object: encodedObject(
        await api.bind({ namespace: r.namespace, name: r.name, uid: opt(r.uid), target: { kind: r.targetKind, name: r.targetName }, dryRun: r.dryRun, fencing: r.fencing }),
      ),
    })),
    bindBatch: unary((r) => bindBatch(api, r)),
    createBatch: unary((r) => createBatch(api, r)),
    list: unary(async (r) => {
      const res = await api.listBytes({
        resource: r.resource,
        namespace: opt(r.namespace),
        labelSelector: r.labelSelector,
        fieldSelector: r.fieldSelector,
        limit: r.limit,
        continue: opt(r.continue),
        resourceVersion: r.resourceVersion,
        serializable: r.serializable,
      });
      return {
        items: res.items,
        resourceVersion: res.resourceVersion,
        continue: res.continue ?? '',
        remainingItemCount: res.remainingItemCount,
        kind: res.info.kind,
        apiVersion: res.info.apiVersion,
      };
    }),
    watch: (call) => {
      void streamWatch(api, call);
    },
    callBatches: (call) => calls(call),
  };
  const calls = callStreamHandler(server, OBJECTS_SERVICE, refuseMalformed);
  return server;
}

export function addObjectsService(server: Server, api: ApiServer): void {
  server.addService(OBJECTS_SERVICE, objectsServer(api));
}
