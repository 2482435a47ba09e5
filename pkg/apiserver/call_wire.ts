// Exact-size encoders for the CallBatches stream's messages (see exact_wire.ts): each carries the
// encoded requests or answers of many calls, answers with objects' bytes (a create's, a binding's).
// Same bytes as the generated encoders, the metadata map's entries in its own order.

import { CallRequests, CallResponses, type CallRequest, type CallResponse } from '../../gen/navarch/apiserver/v1/objects.js';
import { bytesFieldSize, delimitedSize, encodeRepeated, putBytesField, putDelimited, putStringField, putVarintField, stringFieldSize, varintFieldSize } from './exact_wire.js';

const tag = (field: number, wire: number): number => (field << 3) | wire;
const LEN = 2;
const VARINT = 0;

/** Ids beyond 2^53 are not numbers the counters make: left to the generated code, as anything unexpected. */
const exactId = (id: number): boolean => Number.isSafeInteger(id) && id >= 0;
const exactUint32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

function callRequestSize(c: CallRequest): number {
  return varintFieldSize(c.id) + stringFieldSize(c.method) + bytesFieldSize(c.request) + varintFieldSize(c.timeoutMs);
}

function putCallRequest(out: Buffer, at: number, c: CallRequest): number {
  at = putVarintField(out, at, tag(1, VARINT), c.id);
  at = putStringField(out, at, tag(2, LEN), c.method);
  at = putBytesField(out, at, tag(3, LEN), c.request);
  return putVarintField(out, at, tag(4, VARINT), c.timeoutMs);
}

export function encodeCallRequests(m: CallRequests): Buffer {
  if (!m.calls.every((c) => exactId(c.id) && exactUint32(c.timeoutMs))) return Buffer.from(CallRequests.encode(m).finish());
  return encodeRepeated('CallRequests', m.calls, tag(1, LEN), callRequestSize, putCallRequest);
}

const entrySize = (key: string, value: string): number => stringFieldSize(key) + stringFieldSize(value);

function callResponseSize(a: CallResponse): number {
  let size = varintFieldSize(a.id) + varintFieldSize(a.code) + stringFieldSize(a.details) + bytesFieldSize(a.response);
  for (const key in a.metadata) size += delimitedSize(entrySize(key, a.metadata[key]));
  return size;
}

function putCallResponse(out: Buffer, at: number, a: CallResponse): number {
  at = putVarintField(out, at, tag(1, VARINT), a.id);
  at = putVarintField(out, at, tag(2, VARINT), a.code);
  at = putStringField(out, at, tag(3, LEN), a.details);
  at = putBytesField(out, at, tag(4, LEN), a.response);
  for (const key in a.metadata) {
    const value = a.metadata[key];
    at = putDelimited(out, at, tag(5, LEN), entrySize(key, value));
    at = putStringField(out, at, tag(1, LEN), key);
    at = putStringField(out, at, tag(2, LEN), value);
  }
  return at;
}

export function encodeCallResponses(m: CallResponses): Buffer {
  if (!m.answers.every((a) => exactId(a.id) && exactUint32(a.code))) return Buffer.from(CallResponses.encode(m).finish());
  return encodeRepeated('CallResponses', m.answers, tag(1, LEN), callResponseSize, putCallResponse);
}
