// The store's request and response shapes, modelled on etcd v3's
// etcdserverpb / mvccpb messages so the gRPC facade maps them field by field.
// Keys and range ends are latin1 byte strings (see keys.ts); values are bytes.

/** One key at one revision. Objects handed out by the store are shared: never mutate them. */
export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  /** Revision of the put that created this generation of the key; 0 in a delete event's kv. */
  readonly createRevision: number;
  /** Revision of the last change to the key. */
  readonly modRevision: number;
  /** Puts since the key was (re)created: 1 on create, reset by delete; 0 in a delete event's kv. */
  readonly version: number;
  /** Lease the key is attached to; 0 for none. */
  readonly lease: number;
}

export interface ResponseHeader {
  /** The store's revision when the response was made (after the write, for writes). */
  revision: number;
}

export type SortOrder = 'none' | 'ascend' | 'descend';
export type SortTarget = 'key' | 'version' | 'create' | 'mod' | 'value';

/**
 * A range read. rangeEnd: absent or '' = the key alone; '\0' = every key >= key;
 * otherwise [key, rangeEnd) (use prefixEnd(prefix) for a prefix).
 */
export interface RangeRequest {
  key: string;
  rangeEnd?: string;
  /** Read at this revision; 0 or absent = the current one. */
  revision?: number;
  /** At most this many kvs; 0 or absent = no limit. `more` says whether there were more. */
  limit?: number;
  /** Return only `count`, no kvs. */
  countOnly?: boolean;
  /** Return kvs with empty values. */
  keysOnly?: boolean;
  /**
   * false: with a limit, stop at the first key past it, so `count` is only a lower bound (not
   * etcd's: a reader that pages on without using the total need not walk the rest of the range).
   * @default true
   */
  countAll?: boolean;
  sortOrder?: SortOrder;
  /** @default 'key' */
  sortTarget?: SortTarget;
  /** Filters (0 = off), applied after the range is read, as etcd does. */
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

/**
 * kvs in key order (unless sorted otherwise); `count` = keys in the range at
 * that revision, before limit and filters; `more` = kvs were cut by limit.
 * Continue a limited read with key = last key + '\0' at the same revision.
 */
export interface RangeResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  count: number;
  more: boolean;
}

export interface PutRequest {
  key: string;
  value: Uint8Array;
  /** Attach to this lease (0 or absent: none, detaching from any previous lease). */
  lease?: number;
  /** Return the key's previous kv in the response. */
  prevKv?: boolean;
  /** Keep the current value (the key must exist). */
  ignoreValue?: boolean;
  /** Keep the current lease (the key must exist). */
  ignoreLease?: boolean;
}

export interface DeleteRangeRequest {
  key: string;
  rangeEnd?: string;
  prevKv?: boolean;
}

export type RequestOp =
  | ({ type: 'range' } & RangeRequest)
  | ({ type: 'put' } & PutRequest)
  | ({ type: 'deleteRange' } & DeleteRangeRequest);

export interface PutResponse {
  header: ResponseHeader;
  prevKv?: KeyValue;
}

export interface DeleteRangeResponse {
  header: ResponseHeader;
  deleted: number;
  prevKvs: KeyValue[];
}

export type ResponseOp =
  | ({ type: 'range' } & RangeResponse)
  | ({ type: 'put' } & PutResponse)
  | ({ type: 'deleteRange' } & DeleteRangeResponse);

export type CompareResult = '=' | '!=' | '<' | '>';

/**
 * A condition on every key in (key, rangeEnd) at the current revision. A
 * missing key compares as version/createRevision/modRevision/lease 0, and
 * fails every value compare (etcd's rule).
 */
export type Compare = { key: string; rangeEnd?: string; result: CompareResult } & (
  | { target: 'value'; value: Uint8Array }
  | { target: 'version' | 'createRevision' | 'modRevision' | 'lease'; number: number }
);

/**
 * The one write primitive: if every compare holds, run `success`, else
 * `failure`. Ops run in order as one revision; a range after a put in the
 * same txn sees the put. A key may be written at most once per txn.
 */
export interface TxnRequest {
  compare?: Compare[];
  success?: RequestOp[];
  failure?: RequestOp[];
}

export interface TxnResponse {
  header: ResponseHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

export type EventType = 'put' | 'delete';

export interface WatchEvent {
  readonly type: EventType;
  /** For deletes: key and modRevision set, other fields zero. */
  readonly kv: KeyValue;
  /** The key's previous kv, when the watch asked for it and history still holds it. */
  readonly prevKv?: KeyValue;
}

export interface LeaseGrantResponse {
  header: ResponseHeader;
  id: number;
  ttlSeconds: number;
}

export interface LeaseRevokeResponse {
  header: ResponseHeader;
  /** Keys deleted with the lease. */
  deleted: number;
}

export interface LeaseKeepAliveResponse {
  header: ResponseHeader;
  id: number;
  /** The refreshed TTL. */
  ttlSeconds: number;
}

export interface LeaseTimeToLiveResponse {
  header: ResponseHeader;
  id: number;
  /** Seconds left according to the replicated expiry; -1 when the lease does not exist. */
  ttlSeconds: number;
  grantedTtlSeconds: number;
  keys: string[];
}

export interface CompactResponse {
  header: ResponseHeader;
  compactRevision: number;
}
