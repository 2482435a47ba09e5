// Well-formed request messages of the object API (navarch.apiserver.v1.Objects) as bytes, with
// defaults filled in, for the generators to aim at one field.

import { encodeBinary } from '../../pkg/api/convert/binary.js';
import { decodeObject } from '../../pkg/api/convert/object.js';
import type { KubeObject } from '../../pkg/api/registry.js';
import {
  BindBatchRequest,
  BindRequest,
  CreateBatchRequest,
  CreateRequest,
  DeleteRequest,
  GetRequest,
  ListRequest,
  ObjectsService,
  PatchRequest,
  UpdateRequest,
  WatchRequest,
} from '../../gen/navarch/apiserver/v1/objects.js';

// CallBatches (unary calls as messages of one stream) has its own malformed-message tests (pkg/client/call_stream.test.ts).
export type ObjectsMethod = Exclude<keyof typeof ObjectsService, 'callBatches'>;
export const OBJECTS_METHODS = Object.keys(ObjectsService).filter((m) => m !== 'callBatches') as ObjectsMethod[];

export const pathOf = (m: ObjectsMethod): string => ObjectsService[m].path;

/** Whether the server's decoder takes these bytes as a request of method m. */
export function decodes(m: ObjectsMethod, b: Buffer): boolean {
  try {
    ObjectsService[m].requestDeserialize(b);
    return true;
  } catch {
    return false;
  }
}

/** Kubernetes JSON to an object's protobuf bytes (decodeObject checks field names and types, not values). */
export function objectBytes(json: Record<string, unknown>): Buffer {
  return Buffer.from(encodeBinary(decodeObject(json).object));
}

export const encodeObjectBytes = (o: KubeObject): Buffer => Buffer.from(encodeBinary(o));

const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export const req = {
  get: (o: Partial<GetRequest>) => buf(GetRequest.encode(GetRequest.fromPartial(o)).finish()),
  create: (o: Partial<CreateRequest>) => buf(CreateRequest.encode(CreateRequest.fromPartial(o)).finish()),
  update: (o: Partial<UpdateRequest>) => buf(UpdateRequest.encode(UpdateRequest.fromPartial(o)).finish()),
  patch: (o: Partial<PatchRequest>) => buf(PatchRequest.encode(PatchRequest.fromPartial(o)).finish()),
  delete: (o: Partial<DeleteRequest>) => buf(DeleteRequest.encode(DeleteRequest.fromPartial(o)).finish()),
  list: (o: Partial<ListRequest>) => buf(ListRequest.encode(ListRequest.fromPartial(o)).finish()),
  watch: (o: Partial<WatchRequest>) => buf(WatchRequest.encode(WatchRequest.fromPartial(o)).finish()),
  bind: (o: Partial<BindRequest>) => buf(BindRequest.encode(BindRequest.fromPartial(o)).finish()),
  bindBatch: (o: Partial<BindBatchRequest>) => buf(BindBatchRequest.encode(BindBatchRequest.fromPartial(o)).finish()),
  createBatch: (o: Partial<CreateBatchRequest>) => buf(CreateBatchRequest.encode(CreateBatchRequest.fromPartial(o)).finish()),
};
