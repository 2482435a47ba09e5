// Transactions: validation, compares, and the write path every change takes
// (txns, lease revokes). A txn is checked in full before anything changes,
// so a rejected txn leaves no trace; a txn that changes nothing gets no revision.

import { QuotaExceededError, StoreError, invalidArgument } from './errors.js';
import { inRange, quoteKey } from './keys.js';
import { keyBytes, latin1Of, putBytes, readValue, type Keyspace, type Version } from './keyspace.js';
import type { Lessor } from './lessor.js';
import { checkRangeRequest, rangeAt, readRevision } from './range.js';
import type { Compare, KeyValue, RequestOp, ResponseOp, TxnRequest } from './types.js';

/** Applies changes at one new revision; `commit()` makes it current. */
export class WriteBatch {
  readonly rev: number;
  readonly changed: Version[] = [];

  constructor(
    private readonly ks: Keyspace,
    private readonly lessor: Lessor,
  ) {
    this.rev = ks.revision + 1;
  }

  /** The revision that reads inside the batch use: the new one once something changed. */
  get readRev(): number {
    return this.changed.length > 0 ? this.rev : this.ks.revision;
  }

  /** data: the value as a latin1 string (Version.data). */
  put(key: string, data: string, lease: number, prev: Version | undefined): Version {
    const v = this.ks.put(key, data, lease, this.rev, this.changed.length);
    if (prev && prev.lease !== 0 && prev.lease !== lease) this.lessor.detach(prev.lease, key);
    if (lease !== 0) this.lessor.attach(lease, key);
    this.changed.push(v);
    return v;
  }

  delete(live: Version): Version {
    const v = this.ks.tombstone(live.key, this.rev, this.changed.length);
    if (live.lease !== 0) this.lessor.detach(live.lease, live.key);
    this.changed.push(v);
    return v;
  }

  /** Makes the revision current when anything changed; returns the changes. */
  commit(): Version[] {
    if (this.changed.length > 0) this.ks.commit(this.rev);
    return this.changed;
  }
}

export interface TxnLimits {
  maxTxnOps: number;
  quotaBytes: number;
  /** Bytes in use now (keyspace and leases). */
  usedBytes: number;
}

const TARGETS = new Set(['value', 'version', 'createRevision', 'modRevision', 'lease']);
const RESULTS = new Set(['=', '!=', '<', '>']);

function checkOps(ops: RequestOp[] | undefined, name: string, maxOps: number): void {
  if (ops === undefined) return;
  if (!Array.isArray(ops)) throw invalidArgument(`Invalid txn: ${name} is not a list`);
  if (ops.length > maxOps) throw invalidArgument(`Invalid txn: ${ops.length} ${name} ops exceed the limit of ${maxOps} (maxTxnOps)`);
  // Checked on every member for every write, most of them one put: the sets are made only for more.
  const puts = ops.length > 1 ? new Set<string>() : undefined;
  let deletes: Array<{ key: string; rangeEnd?: string }> | undefined;
  for (const op of ops) {
    if (op === null || typeof op !== 'object') throw invalidArgument(`Invalid txn: a ${name} op is not an object`);
    if (op.type === 'range') {
      checkRangeRequest(op);
      continue;
    }
    if (op.type !== 'put' && op.type !== 'deleteRange') throw invalidArgument(`Invalid txn op type ${JSON.stringify((op as { type: unknown }).type)}: expected range, put or deleteRange`);
    if (typeof op.key !== 'string' || op.key.length === 0) throw invalidArgument(`Invalid ${op.type}: key is not provided`);
    if (op.type === 'put') {
      if (!(op.value instanceof Uint8Array)) throw invalidArgument(`Invalid put of ${quoteKey(op.key)}: value is not bytes`);
      const lease = op.lease ?? 0;
      if (!Number.isSafeInteger(lease) || lease < 0) throw invalidArgument(`Invalid put of ${quoteKey(op.key)}: lease ${JSON.stringify(lease)} is not a non-negative integer`);
      if (puts?.has(op.key)) throw invalidArgument(`Invalid txn: duplicate key ${quoteKey(op.key)} given in txn request`);
      puts?.add(op.key);
    } else {
      (deletes ??= []).push(op);
    }
  }
  if (deletes && puts) for (const d of deletes) for (const k of puts) if (inRange(k, d.key, d.rangeEnd)) throw invalidArgument(`Invalid txn: duplicate key ${quoteKey(k)} given in txn request (put inside a deleteRange)`);
}

/** Checks a txn's shape; throws InvalidArgument naming the first problem. */
export function checkTxn(req: TxnRequest, maxOps: number): void {
  if (req === null || typeof req !== 'object') throw invalidArgument('Invalid txn: request is not an object');
  const compares = req.compare ?? [];
  if (!Array.isArray(compares)) throw invalidArgument('Invalid txn: compare is not a list');
  if (compares.length > maxOps) throw invalidArgument(`Invalid txn: ${compares.length} compares exceed the limit of ${maxOps} (maxTxnOps)`);
  for (const c of compares) {
    if (c === null || typeof c !== 'object' || typeof c.key !== 'string' || c.key.length === 0) throw invalidArgument('Invalid compare: key is not provided');
    if (!TARGETS.has(c.target)) throw invalidArgument(`Invalid compare target ${JSON.stringify(c.target)}: expected value, version, createRevision, modRevision or lease`);
    if (!RESULTS.has(c.result)) throw invalidArgument(`Invalid compare result ${JSON.stringify(c.result)}: expected =, !=, < or >`);
    if (c.target === 'value' ? !(c.value instanceof Uint8Array) : typeof c.number !== 'number' || !Number.isFinite(c.number)) {
      throw invalidArgument(`Invalid compare on ${quoteKey(c.key)}: ${c.target === 'value' ? 'value is not bytes' : 'number is not a finite number'}`);
    }
  }
  checkOps(req.success, 'success', maxOps);
  checkOps(req.failure, 'failure', maxOps);
}

/** Whether neither branch of a txn writes: it can be answered from local state after ReadIndex. */
export function isReadOnlyTxn(req: TxnRequest): boolean {
  for (const op of req.success ?? []) if (op.type !== 'range') return false;
  for (const op of req.failure ?? []) if (op.type !== 'range') return false;
  return true;
}

function compareHolds(c: Compare, kv: KeyValue | undefined): boolean {
  let d: number;
  if (c.target === 'value') {
    // etcd: a value compare on a missing key always fails.
    if (!kv) return false;
    d = Buffer.compare(readValue(kv), c.value);
  } else {
    const n = !kv ? 0 : c.target === 'version' ? kv.version : c.target === 'createRevision' ? kv.createRevision : c.target === 'modRevision' ? kv.modRevision : kv.lease;
    d = n - c.number;
  }
  switch (c.result) {
    case '=':
      return d === 0;
    case '!=':
      return d !== 0;
    case '<':
      return d < 0;
    case '>':
      return d > 0;
  }
}

/** Whether the compare holds for every key in its range at rev (a missing key counts as one zero kv). */
export function evalCompare(ks: Keyspace, c: Compare, rev: number): boolean {
  // One key (every compare the API server makes): no callback to allocate.
  if (c.rangeEnd === undefined || c.rangeEnd === '') return compareHolds(c, ks.get(c.key, rev));
  let any = false;
  let ok = true;
  ks.forEachLive(c.key, c.rangeEnd, rev, (v) => {
    any = true;
    if (!compareHolds(c, v)) ok = false;
    return ok;
  });
  return any ? ok : compareHolds(c, undefined);
}

/**
 * Runs a checked txn: compares, then the chosen branch. Throws StoreError
 * (KeyNotFound, LeaseNotFound, QuotaExceeded, Compacted, FutureRevision)
 * before changing anything.
 */
export function runTxn(ks: Keyspace, lessor: Lessor, req: TxnRequest, limits: TxnLimits): { succeeded: boolean; responses: ResponseOp[]; changed: Version[] } {
  const cur = ks.revision;
  let succeeded = true;
  if (req.compare) for (let i = 0; succeeded && i < req.compare.length; i++) succeeded = evalCompare(ks, req.compare[i], cur);
  const ops = (succeeded ? req.success : req.failure) ?? [];
  let costBytes = 0;
  for (const op of ops) {
    if (op.type === 'range') {
      readRevision(ks, op.revision);
      continue;
    }
    if (op.type !== 'put') continue;
    const prev = ks.get(op.key, cur);
    if ((op.ignoreValue || op.ignoreLease) && !prev) throw new StoreError('KeyNotFound', `Cannot put ${quoteKey(op.key)} with ${op.ignoreValue ? 'ignoreValue' : 'ignoreLease'}: the key does not exist`);
    const lease = op.ignoreLease ? prev!.lease : (op.lease ?? 0);
    if (lease !== 0 && !lessor.get(lease)) throw new StoreError('LeaseNotFound', `Cannot put ${quoteKey(op.key)}: lease ${lease} not found`);
    const valueBytes = op.ignoreValue ? prev!.data.length : op.value.byteLength;
    costBytes += putBytes(op.key, valueBytes) + (ks.index.has(op.key) ? 0 : keyBytes(op.key));
  }
  if (costBytes > 0 && limits.usedBytes + costBytes > limits.quotaBytes) {
    throw new QuotaExceededError(limits.usedBytes, costBytes, limits.quotaBytes);
  }
  const batch = new WriteBatch(ks, lessor);
  const responses: ResponseOp[] = [];
  for (const op of ops) {
    if (op.type === 'range') {
      const rev = op.revision ? op.revision : batch.readRev;
      responses.push({ type: 'range', header: { revision: 0 }, ...rangeAt(ks, op, rev) });
    } else if (op.type === 'put') {
      const prev = ks.get(op.key, batch.readRev);
      const data = op.ignoreValue ? prev!.data : latin1Of(op.value);
      const lease = op.ignoreLease ? prev!.lease : (op.lease ?? 0);
      batch.put(op.key, data, lease, prev);
      responses.push(op.prevKv && prev ? { type: 'put', header: { revision: 0 }, prevKv: prev } : { type: 'put', header: { revision: 0 } });
    } else {
      const live: Version[] = [];
      ks.forEachLive(op.key, op.rangeEnd, batch.readRev, (v) => {
        live.push(v);
      });
      for (const v of live) batch.delete(v);
      responses.push({ type: 'deleteRange', header: { revision: 0 }, deleted: live.length, prevKvs: op.prevKv ? live : [] });
    }
  }
  const changed = batch.commit();
  for (const r of responses) r.header.revision = ks.revision;
  return { succeeded, responses, changed };
}
