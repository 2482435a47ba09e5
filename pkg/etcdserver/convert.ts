// etcd v3 messages (as protobufjs plain objects, field names as in
// rpc.proto) to and from pkg/store's shapes. Keys travel as bytes and are
// held by the store as latin1 byte strings.

import { status as Code } from '@grpc/grpc-js';
import { bytesToKey, keyToBytes } from '../store/mod.js';
import type { Compare, KeyValue, RangeRequest, RequestOp, ResponseOp, SortOrder, SortTarget, TxnRequest, WatchEvent } from '../store/mod.js';
import { grpcError } from './errors.js';

/** A message as protobufjs hands it over: fields by proto name. */
export type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SORT_ORDERS: SortOrder[] = ['none', 'ascend', 'descend'];
const SORT_TARGETS: SortTarget[] = ['key', 'version', 'create', 'mod', 'value'];
const CMP_RESULTS = ['=', '>', '<', '!='] as const;
const CMP_TARGETS = ['version', 'createRevision', 'modRevision', 'value', 'lease'] as const;

function key(b: Uint8Array | undefined): string {
  return b && b.length > 0 ? bytesToKey(b) : '';
}

function rangeEnd(b: Uint8Array | undefined): string | undefined {
  return b && b.length > 0 ? bytesToKey(b) : undefined;
}

function bad(details: string): never {
  throw grpcError(Code.INVALID_ARGUMENT, details);
}

function requireKey(b: Uint8Array | undefined): string {
  const k = key(b);
  if (k === '') bad('etcdserver: key is not provided');
  return k;
}

export function rangeFromEtcd(r: Msg): RangeRequest {
  const sortOrder = SORT_ORDERS[r.sort_order ?? 0];
  const sortTarget = SORT_TARGETS[r.sort_target ?? 0];
  if (!sortOrder) bad(`etcdserver: invalid sort order ${r.sort_order}`);
  if (!sortTarget) bad(`etcdserver: invalid sort target ${r.sort_target}`);
  return {
    key: requireKey(r.key),
    rangeEnd: rangeEnd(r.range_end),
    revision: r.revision || 0,
    limit: r.limit || 0,
    countOnly: !!r.count_only,
    keysOnly: !!r.keys_only,
    sortOrder,
    sortTarget,
    minModRevision: r.min_mod_revision || 0,
    maxModRevision: r.max_mod_revision || 0,
    minCreateRevision: r.min_create_revision || 0,
    maxCreateRevision: r.max_create_revision || 0,
  };
}

export function kvToEtcd(kv: KeyValue): Msg {
  return {
    key: keyToBytes(kv.key),
    value: kv.value,
    create_revision: kv.createRevision,
    mod_revision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  };
}

function opFromEtcd(op: Msg): RequestOp {
  if (op.request_range) return { type: 'range', ...rangeFromEtcd(op.request_range) };
  if (op.request_put) {
    const p = op.request_put;
    return { type: 'put', key: requireKey(p.key), value: p.value ?? new Uint8Array(0), lease: p.lease || 0, prevKv: !!p.prev_kv, ignoreValue: !!p.ignore_value, ignoreLease: !!p.ignore_lease };
  }
  if (op.request_delete_range) {
    const d = op.request_delete_range;
    return { type: 'deleteRange', key: requireKey(d.key), rangeEnd: rangeEnd(d.range_end), prevKv: !!d.prev_kv };
  }
  if (op.request_txn) bad('etcdserver: nested txn requests are not supported');
  return bad('etcdserver: a txn op has no request');
}

function compareFromEtcd(c: Msg): Compare {
  const result = CMP_RESULTS[c.result ?? 0];
  const target = CMP_TARGETS[c.target ?? 0];
  if (!result) bad(`etcdserver: invalid compare result ${c.result}`);
  if (!target) bad(`etcdserver: invalid compare target ${c.target}`);
  const base = { key: requireKey(c.key), rangeEnd: rangeEnd(c.range_end), result };
  switch (target) {
    case 'value':
      return { ...base, target, value: c.value ?? new Uint8Array(0) };
    case 'version':
      return { ...base, target, number: c.version || 0 };
    case 'createRevision':
      return { ...base, target, number: c.create_revision || 0 };
    case 'modRevision':
      return { ...base, target, number: c.mod_revision || 0 };
    case 'lease':
      return { ...base, target, number: c.lease || 0 };
  }
}

export function txnFromEtcd(t: Msg): TxnRequest {
  return {
    compare: (t.compare ?? []).map(compareFromEtcd),
    success: (t.success ?? []).map(opFromEtcd),
    failure: (t.failure ?? []).map(opFromEtcd),
  };
}

/** One op's response; header is the txn's. */
export function responseOpToEtcd(r: ResponseOp, header: Msg): Msg {
  switch (r.type) {
    case 'range':
      return { response_range: { header, kvs: r.kvs.map(kvToEtcd), more: r.more, count: r.count } };
    case 'put':
      return { response_put: { header, prev_kv: r.prevKv ? kvToEtcd(r.prevKv) : undefined } };
    case 'deleteRange':
      return { response_delete_range: { header, deleted: r.deleted, prev_kvs: r.prevKvs.map(kvToEtcd) } };
  }
}

export function eventToEtcd(e: WatchEvent): Msg {
  return { type: e.type === 'put' ? 0 : 1, kv: kvToEtcd(e.kv), prev_kv: e.prevKv ? kvToEtcd(e.prevKv) : undefined };
}
