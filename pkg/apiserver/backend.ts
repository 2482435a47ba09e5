// The port the API core reads and writes through. In a master, txn() is a Raft proposal of a
// store command (forwarded to the leader) and range/watch read the local replica; in tests,
// StoreBackend applies the same encoded commands to a Store through StoreStateMachine, so the
// replicated path is exercised without Raft.

import {
  CompactedError,
  FutureRevisionError,
  QuotaExceededError,
  Store,
  StoreError,
  StoreStateMachine,
  encodeCommand,
  unwrapResult,
  type KeyValue,
  type LeaseGrantResponse,
  type RangeRequest,
  type RangeResponse,
  type StoreCommand,
  type StoreResult,
  type TxnRequest,
  type TxnResponse,
  type WatchOptions,
  type WatchResponse,
} from '../store/mod.js';
import { ApiError, expired, isApiError } from './api_error.js';

/** An open store watch: responses in revision order with no gap; ends by throwing the store's error. */
export interface BackendWatch extends AsyncIterable<WatchResponse> {
  /** Asks for a progress response (a bookmark) once everything up to the current revision is delivered. */
  requestProgress(): void;
  cancel(): void;
}

export interface ReadOptions {
  /** Read the local replica as it is, without confirming it is up to date. @default false */
  serializable?: boolean;
}

export interface Backend {
  /** The one write primitive. Throws StoreError (refused) or ApiError (e.g. Unavailable: no leader). */
  txn(req: TxnRequest): Promise<TxnResponse>;
  /**
   * A read at a revision (0: current). Linearizable unless `serializable` (a master first confirms
   * through ReadIndex that its replica has applied every write acknowledged before the read began).
   * Throws CompactedError or FutureRevisionError.
   */
  range(req: RangeRequest, options?: ReadOptions): Promise<RangeResponse>;
  /**
   * The key's current value on this replica, as a serializable range of the key alone reads it, but
   * without a request and a response: the reads of every write (its namespace, the object it
   * changes) take this path.
   */
  latest?(key: string): KeyValue | undefined;
  /** The live keys in [key, rangeEnd) on this replica, at most `limit`: a serializable range's kvs, as `latest` reads one key. */
  latestRange?(key: string, rangeEnd: string, limit: number): KeyValue[];
  watch(options: WatchOptions): BackendWatch;
  /** Grants a lease (a new id) that keys written with it are deleted with once it expires. */
  leaseGrant(ttlSeconds: number): Promise<LeaseGrantResponse>;
}

export interface StoreBackendOptions {
  /** Command time (ms since the epoch), as a proposer stamps it. @default Date.now */
  nowMs?: () => number;
}

/** A Backend over an in-process Store, writing through StoreStateMachine.apply of encoded commands. */
export class StoreBackend implements Backend {
  private readonly sm: StoreStateMachine;
  private index = 0;
  private readonly nowMs: () => number;

  constructor(
    readonly store: Store = new Store(),
    options: StoreBackendOptions = {},
  ) {
    this.sm = new StoreStateMachine(store);
    this.nowMs = options.nowMs ?? Date.now;
  }

  async txn(req: TxnRequest): Promise<TxnResponse> {
    return unwrapResult(this.apply({ type: 'txn', nowMs: this.nowMs(), txn: req }), 'txn');
  }

  async range(req: RangeRequest): Promise<RangeResponse> {
    return this.store.range(req);
  }

  latest(key: string): KeyValue | undefined {
    return this.store.latest(key);
  }

  latestRange(key: string, rangeEnd: string, limit: number): KeyValue[] {
    return this.store.latestRange(key, rangeEnd, limit);
  }

  async leaseGrant(ttlSeconds: number): Promise<LeaseGrantResponse> {
    return unwrapResult(this.apply({ type: 'leaseGrant', nowMs: this.nowMs(), id: 0, ttlSeconds }), 'leaseGrant');
  }

  /** As a Raft entry applies: encoded, then applied by the state machine. */
  private apply(command: StoreCommand): StoreResult {
    return this.sm.apply({ term: 1, index: ++this.index, type: 'normal', data: encodeCommand(command) });
  }

  watch(options: WatchOptions): BackendWatch {
    return this.store.watch(options);
  }
}

/** A store failure as the API reports it. */
export function fromStoreError(err: unknown): unknown {
  if (isApiError(err) || !(err instanceof StoreError)) return err;
  if (err instanceof CompactedError) return expired(err.requestedRevision, err.compactRevision);
  if (err instanceof FutureRevisionError) {
    return new ApiError('Unavailable', `Too large resource version: ${err.requestedRevision}, current: ${err.currentRevision}`, { retryAfterSeconds: 1, cause: err });
  }
  if (err instanceof QuotaExceededError) return new ApiError('Unavailable', `The store is full: ${err.message}`, { retryAfterSeconds: 5, cause: err });
  return new ApiError('Internal', `Internal error occurred: ${err.message}`, { cause: err });
}
