// Exact-size encoders for the Objects messages that carry an object's bytes: the server's answers
// (one object, a deletion, a watch's events) and the create (one or a batch) and update requests
// that clients send and followers forward to the leader; the call stream's are in call_wire.ts.
// Same bytes as the generated encoders (fields in number order, zero values left out).

import { CreateBatchRequest, CreateRequest, ObjectsService, UpdateRequest, type DeleteResponse, type FencingToken, type ObjectResponse, type WatchEvents } from '../../gen/navarch/apiserver/v1/objects.js';
import { encodeCallRequests, encodeCallResponses } from './call_wire.js';
import { encodeListResponse } from './list_response.js';
import { bytesFieldSize, checkWritten, delimitedSize, encodeRepeated, putBytesField, putDelimited, putStringField, putVarintField, stringFieldSize, varintFieldSize } from './exact_wire.js';

const tag = (field: number, wire: number): number => (field << 3) | wire;
const LEN = 2;
const VARINT = 0;

export function encodeObjectResponse(m: ObjectResponse): Buffer {
  const size = bytesFieldSize(m.object);
  const out = Buffer.allocUnsafe(size);
  checkWritten('ObjectResponse', putBytesField(out, 0, tag(1, LEN), m.object), size);
  return out;
}

export function encodeDeleteResponse(m: DeleteResponse): Buffer {
  const size = bytesFieldSize(m.object) + varintFieldSize(m.deleted ? 1 : 0);
  const out = Buffer.allocUnsafe(size);
  const at = putBytesField(out, 0, tag(1, LEN), m.object);
  checkWritten('DeleteResponse', putVarintField(out, at, tag(2, VARINT), m.deleted ? 1 : 0), size);
  return out;
}

const watchEventSize = (e: WatchEvents['events'][number]): number => stringFieldSize(e.type) + bytesFieldSize(e.object);

export function encodeWatchEvents(m: WatchEvents): Buffer {
  return encodeRepeated('WatchEvents', m.events, tag(1, LEN), watchEventSize, (out, at, e) => putBytesField(out, putStringField(out, at, tag(1, LEN), e.type), tag(2, LEN), e.object));
}

function fencingSize(f: FencingToken): number {
  return stringFieldSize(f.leaseNamespace) + stringFieldSize(f.leaseName) + stringFieldSize(f.holderIdentity) + varintFieldSize(f.leaseTransitions);
}

function putFencing(out: Buffer, at: number, field: number, f: FencingToken | undefined): number {
  if (f === undefined) return at;
  at = putDelimited(out, at, tag(field, LEN), fencingSize(f));
  at = putStringField(out, at, tag(1, LEN), f.leaseNamespace);
  at = putStringField(out, at, tag(2, LEN), f.leaseName);
  at = putStringField(out, at, tag(3, LEN), f.holderIdentity);
  return putVarintField(out, at, tag(4, VARINT), f.leaseTransitions);
}

const fencingFieldSize = (f: FencingToken | undefined): number => (f === undefined ? 0 : delimitedSize(fencingSize(f)));

/** A negative lease transition count is a ten-byte varint: left to the generated code. */
const exactFencing = (f: FencingToken | undefined): boolean => f === undefined || (Number.isSafeInteger(f.leaseTransitions) && f.leaseTransitions >= 0);

/** A subresource create (an eviction) is rare: the generated encoder writes it. */
const exactCreate = (m: CreateRequest): boolean => exactFencing(m.fencing) && !m.subresource && !m.name;

function createRequestSize(m: CreateRequest): number {
  return stringFieldSize(m.resource) + stringFieldSize(m.namespace) + bytesFieldSize(m.object) + varintFieldSize(m.dryRun ? 1 : 0) + fencingFieldSize(m.fencing);
}

function putCreateRequest(out: Buffer, at: number, m: CreateRequest): number {
  at = putStringField(out, at, tag(1, LEN), m.resource);
  at = putStringField(out, at, tag(2, LEN), m.namespace);
  at = putBytesField(out, at, tag(3, LEN), m.object);
  at = putVarintField(out, at, tag(4, VARINT), m.dryRun ? 1 : 0);
  return putFencing(out, at, 5, m.fencing);
}

export function encodeCreateRequest(m: CreateRequest): Buffer {
  if (!exactCreate(m)) return Buffer.from(CreateRequest.encode(m).finish());
  const size = createRequestSize(m);
  const out = Buffer.allocUnsafe(size);
  checkWritten('CreateRequest', putCreateRequest(out, 0, m), size);
  return out;
}

/** The Event recorder's and the benchmarks' batches: tens of objects' bytes in one message. */
export function encodeCreateBatchRequest(m: CreateBatchRequest): Buffer {
  if (!m.creates.every(exactCreate)) return Buffer.from(CreateBatchRequest.encode(m).finish());
  return encodeRepeated('CreateBatchRequest', m.creates, tag(1, LEN), createRequestSize, putCreateRequest);
}

export function encodeUpdateRequest(m: UpdateRequest): Buffer {
  if (!exactFencing(m.fencing)) return Buffer.from(UpdateRequest.encode(m).finish());
  const size =
    stringFieldSize(m.resource) +
    stringFieldSize(m.namespace) +
    bytesFieldSize(m.object) +
    stringFieldSize(m.subresource) +
    varintFieldSize(m.dryRun ? 1 : 0) +
    fencingFieldSize(m.fencing);
  const out = Buffer.allocUnsafe(size);
  let at = putStringField(out, 0, tag(1, LEN), m.resource);
  at = putStringField(out, at, tag(2, LEN), m.namespace);
  at = putBytesField(out, at, tag(3, LEN), m.object);
  at = putStringField(out, at, tag(4, LEN), m.subresource);
  at = putVarintField(out, at, tag(5, VARINT), m.dryRun ? 1 : 0);
  checkWritten('UpdateRequest', putFencing(out, at, 6, m.fencing), size);
  return out;
}

type Method = keyof typeof ObjectsService;
type Serializers = { requestSerialize?: (m: never) => Buffer; responseSerialize?: (m: never) => Buffer };

const EXACT: Partial<Record<Method, Serializers>> = {
  get: { responseSerialize: encodeObjectResponse },
  create: { requestSerialize: encodeCreateRequest, responseSerialize: encodeObjectResponse },
  update: { requestSerialize: encodeUpdateRequest, responseSerialize: encodeObjectResponse },
  createBatch: { requestSerialize: encodeCreateBatchRequest },
  callBatches: { requestSerialize: encodeCallRequests, responseSerialize: encodeCallResponses },
  patch: { responseSerialize: encodeObjectResponse },
  delete: { responseSerialize: encodeDeleteResponse },
  bind: { responseSerialize: encodeObjectResponse },
  list: { responseSerialize: encodeListResponse },
  watch: { responseSerialize: encodeWatchEvents },
};

/** ObjectsService with the exact-size encoders: what the server, the forwarding and the client use. */
export const OBJECTS_WIRE_SERVICE: typeof ObjectsService = Object.fromEntries(
  Object.entries(ObjectsService).map(([method, d]) => [method, { ...d, ...EXACT[method as Method] }]),
) as unknown as typeof ObjectsService;

/** One method's path and codecs, with its message types erased (for code that picks the method at run time). */
export interface WireMethod {
  path: string;
  requestSerialize: (m: unknown) => Buffer;
  requestDeserialize: (b: Buffer) => unknown;
  responseSerialize: (m: unknown) => Buffer;
  responseDeserialize: (b: Buffer) => unknown;
}

/** `method` as the service definition keys it ("bindBatch"). */
export function wireMethod(method: string): WireMethod {
  return OBJECTS_WIRE_SERVICE[method as Method] as unknown as WireMethod;
}
