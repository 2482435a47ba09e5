// Replicated commands: what a proposer puts in a Raft entry. Every command
// carries the proposer's wall-clock time (nowMs), which drives lease expiry
// and age-based compaction deterministically on every member.
//
// Binary layout: u8 type (0x80 set: an origin follows as four varints:
// member, epoch, seq, term), varint nowMs, then the type's fields (see below).

import { ByteReader, ByteWriter } from './codec.js';
import { invalidArgument } from './errors.js';
import { isByteString, quoteKey } from './keys.js';
import type { Compare, RequestOp, SortOrder, SortTarget, TxnRequest } from './types.js';

/**
 * Who proposed a command from a follower, and in which term: the proposer
 * recognizes its entry when it applies, and a command that reached the log
 * in another term (re-forwarded after a leader change) is not applied, so a
 * proposer that has seen a newer term applied knows its command never will be.
 */
export interface CommandOrigin {
  member: number;
  /** Random per process start, so a restarted member's sequence numbers are new. */
  epoch: number;
  seq: number;
  term: number;
}

export type StoreCommand = (
  | { type: 'txn'; nowMs: number; txn: TxnRequest }
  | { type: 'compact'; nowMs: number; revision: number }
  /** id 0: the store picks the next free id. */
  | { type: 'leaseGrant'; nowMs: number; id: number; ttlSeconds: number }
  | { type: 'leaseRevoke'; nowMs: number; id: number }
  | { type: 'leaseKeepAlive'; nowMs: number; id: number }
  /** Proposed by the leader for a lease expiredLeases() named; applies only if it really expired. */
  | { type: 'leaseExpire'; nowMs: number; id: number }
) & { origin?: CommandOrigin };

const TYPES = ['txn', 'compact', 'leaseGrant', 'leaseRevoke', 'leaseKeepAlive', 'leaseExpire'] as const;
const TARGETS = ['value', 'version', 'createRevision', 'modRevision', 'lease'] as const;
const RESULTS = ['=', '!=', '<', '>'] as const;
const SORT_ORDERS: SortOrder[] = ['none', 'ascend', 'descend'];
const SORT_TARGETS: SortTarget[] = ['key', 'version', 'create', 'mod', 'value'];
const OP_TYPES = ['range', 'put', 'deleteRange'] as const;
const ORIGIN_FLAG = 0x80;

function checkKey(k: unknown, what: string): string {
  if (typeof k !== 'string') throw invalidArgument(`Invalid ${what}: expected a byte string`);
  if (!isByteString(k)) throw invalidArgument(`Invalid ${what} ${quoteKey(k)}: it has characters above 0xff; convert text with textToKey()`);
  return k;
}

function uint(n: unknown, what: string): number {
  const v = n ?? 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalidArgument(`Invalid ${what} ${JSON.stringify(v)}: expected a non-negative integer`);
  return v;
}

function optKey(w: ByteWriter, k: string | undefined, what: string): void {
  if (k === undefined) w.u8(0);
  else {
    w.u8(1);
    w.key(checkKey(k, what));
  }
}

function writeOps(w: ByteWriter, ops: RequestOp[] | undefined): void {
  const list = ops ?? [];
  if (!Array.isArray(list)) throw invalidArgument('Invalid txn: an op list is not a list');
  w.uint(list.length);
  for (const op of list) {
    const t = OP_TYPES.indexOf(op?.type);
    if (t < 0) throw invalidArgument(`Invalid txn op type ${JSON.stringify(op?.type)}: expected range, put or deleteRange`);
    w.u8(t);
    w.key(checkKey(op.key, `${op.type} key`));
    if (op.type === 'range') {
      optKey(w, op.rangeEnd, 'range end');
      w.uint(uint(op.revision, 'range revision'));
      w.uint(uint(op.limit, 'range limit'));
      w.u8((op.countOnly ? 1 : 0) | (op.keysOnly ? 2 : 0));
      w.u8(Math.max(0, SORT_ORDERS.indexOf(op.sortOrder ?? 'none')));
      w.u8(Math.max(0, SORT_TARGETS.indexOf(op.sortTarget ?? 'key')));
      w.uint(uint(op.minModRevision, 'minModRevision'));
      w.uint(uint(op.maxModRevision, 'maxModRevision'));
      w.uint(uint(op.minCreateRevision, 'minCreateRevision'));
      w.uint(uint(op.maxCreateRevision, 'maxCreateRevision'));
    } else if (op.type === 'put') {
      if (!(op.value instanceof Uint8Array)) throw invalidArgument(`Invalid put of ${quoteKey(op.key)}: value is not bytes`);
      w.bytes(op.value);
      w.uint(uint(op.lease, 'lease'));
      w.u8((op.prevKv ? 1 : 0) | (op.ignoreValue ? 2 : 0) | (op.ignoreLease ? 4 : 0));
    } else {
      optKey(w, op.rangeEnd, 'range end');
      w.u8(op.prevKv ? 1 : 0);
    }
  }
}

/** Per op or compare besides its key and value: type, flags, varints, a range end's marker. */
const OP_OVERHEAD_BYTES = 96;

/**
 * Room for a txn's encoding, so the writer does not grow by doubling and copying: a create batch
 * of pods is 100 KB and more. Keys count at most 1 byte per char (latin1); a malformed txn may
 * still grow the writer before it fails, which is only slower.
 */
function txnBytesBound(txn: TxnRequest | undefined): number {
  return 64 + opsBytesBound(txn?.compare) + opsBytesBound(txn?.success) + opsBytesBound(txn?.failure);
}

function opsBytesBound(list: unknown): number {
  if (!Array.isArray(list)) return 0;
  let n = 0;
  for (const x of list as Array<{ key?: unknown; rangeEnd?: unknown; value?: unknown } | undefined>) {
    n += OP_OVERHEAD_BYTES;
    if (typeof x?.key === 'string') n += x.key.length;
    if (typeof x?.rangeEnd === 'string') n += x.rangeEnd.length;
    if (x?.value instanceof Uint8Array) n += x.value.byteLength;
  }
  return n;
}

/** Encodes a command for proposing. Throws InvalidArgument (a StoreError) for a malformed one. */
export function encodeCommand(c: StoreCommand): Uint8Array {
  const t = TYPES.indexOf(c?.type);
  if (t < 0) throw invalidArgument(`Invalid store command type ${JSON.stringify(c?.type)}`);
  const w = new ByteWriter(c.type === 'txn' ? txnBytesBound(c.txn) : 32);
  const o = c.origin;
  w.u8(o ? (t + 1) | ORIGIN_FLAG : t + 1);
  if (o) {
    w.uint(uint(o.member, 'origin member'));
    w.uint(uint(o.epoch, 'origin epoch'));
    w.uint(uint(o.seq, 'origin seq'));
    w.uint(uint(o.term, 'origin term'));
  }
  w.uint(uint(Math.floor(c.nowMs), 'command time'));
  switch (c.type) {
    case 'txn': {
      const compares = c.txn.compare ?? [];
      w.uint(compares.length);
      for (const cmp of compares) {
        w.key(checkKey(cmp.key, 'compare key'));
        optKey(w, cmp.rangeEnd, 'compare range end');
        const target = TARGETS.indexOf(cmp.target);
        const result = RESULTS.indexOf(cmp.result);
        if (target < 0) throw invalidArgument(`Invalid compare target ${JSON.stringify(cmp.target)}: expected value, version, createRevision, modRevision or lease`);
        if (result < 0) throw invalidArgument(`Invalid compare result ${JSON.stringify(cmp.result)}: expected =, !=, < or >`);
        w.u8(target);
        w.u8(result);
        if (cmp.target === 'value') {
          if (!(cmp.value instanceof Uint8Array)) throw invalidArgument(`Invalid compare on ${quoteKey(cmp.key)}: value is not bytes`);
          w.bytes(cmp.value);
        } else w.f64(cmp.number);
      }
      writeOps(w, c.txn.success);
      writeOps(w, c.txn.failure);
      break;
    }
    case 'compact':
      w.uint(uint(c.revision, 'compact revision'));
      break;
    case 'leaseGrant':
      w.uint(uint(c.id, 'lease id'));
      w.uint(uint(c.ttlSeconds, 'lease TTL'));
      break;
    default:
      w.uint(uint(c.id, 'lease id'));
  }
  return w.finish();
}

function readOptKey(r: ByteReader): string | undefined {
  return r.u8() === 1 ? r.key() : undefined;
}

function readOps(r: ByteReader): RequestOp[] {
  const n = r.uint();
  const ops: RequestOp[] = [];
  for (let i = 0; i < n; i++) {
    const t = OP_TYPES[r.u8()];
    if (!t) throw new RangeError('Cannot decode store command: an op type is unknown');
    const key = r.key();
    if (t === 'range') {
      const rangeEnd = readOptKey(r);
      const revision = r.uint();
      const limit = r.uint();
      const flags = r.u8();
      const sortOrder = SORT_ORDERS[r.u8()];
      const sortTarget = SORT_TARGETS[r.u8()];
      if (!sortOrder || !sortTarget) throw new RangeError('Cannot decode store command: a sort order or target is unknown');
      ops.push({
        type: 'range', key, rangeEnd, revision, limit, countOnly: (flags & 1) !== 0, keysOnly: (flags & 2) !== 0, sortOrder, sortTarget,
        minModRevision: r.uint(), maxModRevision: r.uint(), minCreateRevision: r.uint(), maxCreateRevision: r.uint(),
      });
    } else if (t === 'put') {
      // A view of the entry: the store keeps a copy (Version.data), nothing keeps the op.
      const value = r.view();
      const lease = r.uint();
      const flags = r.u8();
      ops.push({ type: 'put', key, value, lease, prevKv: (flags & 1) !== 0, ignoreValue: (flags & 2) !== 0, ignoreLease: (flags & 4) !== 0 });
    } else {
      const rangeEnd = readOptKey(r);
      ops.push({ type: 'deleteRange', key, rangeEnd, prevKv: (r.u8() & 1) !== 0 });
    }
  }
  return ops;
}

/** Decodes a command. Throws RangeError naming the problem for bytes that are not one. */
export function decodeCommand(data: Uint8Array): StoreCommand {
  const r = new ByteReader(data, 'store command');
  const tb = r.u8();
  const type = TYPES[(tb & ~ORIGIN_FLAG) - 1];
  if (!type) throw new RangeError(`Cannot decode store command: type byte ${data[0]} is unknown`);
  const origin = (tb & ORIGIN_FLAG) !== 0 ? { member: r.uint(), epoch: r.uint(), seq: r.uint(), term: r.uint() } : undefined;
  const nowMs = r.uint();
  let c: StoreCommand;
  switch (type) {
    case 'txn': {
      const n = r.uint();
      const compare: Compare[] = [];
      for (let i = 0; i < n; i++) {
        const key = r.key();
        const rangeEnd = readOptKey(r);
        const target = TARGETS[r.u8()];
        const result = RESULTS[r.u8()];
        if (!target || !result) throw new RangeError('Cannot decode store command: a compare target or result is unknown');
        compare.push(target === 'value' ? { key, rangeEnd, result, target, value: r.bytes() } : { key, rangeEnd, result, target, number: r.f64() });
      }
      c = { type, nowMs, txn: { compare, success: readOps(r), failure: readOps(r) } };
      break;
    }
    case 'compact':
      c = { type, nowMs, revision: r.uint() };
      break;
    case 'leaseGrant':
      c = { type, nowMs, id: r.uint(), ttlSeconds: r.uint() };
      break;
    default:
      c = { type, nowMs, id: r.uint() };
  }
  r.end();
  if (origin) c.origin = origin;
  return c;
}
