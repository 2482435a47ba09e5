// The Backend of a master: writes are store commands proposed through Raft, reads and watches use
// this member's replica of the store. Leader forwarding lives behind `propose`: the master passes a
// function that proposes here when this member leads and otherwise hands the command to the leader
// (as the etcd facade forwards its writes), so the API core never knows which member it runs on.

import { ProposalDroppedError } from '../../raft/core/errors.js';
import { StoreError, encodeCommand, unwrapResult, type KeyValue, type LeaseGrantResponse, type RangeRequest, type RangeResponse, type Store, type StoreResult, type TxnRequest, type TxnResponse, type WatchOptions } from '../store/mod.js';
import { ApiError, isApiError } from './api_error.js';
import type { Backend, BackendWatch, ReadOptions } from './backend.js';

export interface RaftBackendOptions {
  /** This member's replica (the state machine Raft applies to). */
  store: Store;
  /** Proposes an encoded store command and resolves with its apply result (leader-forwarded when needed). */
  propose(command: Uint8Array): Promise<StoreResult>;
  /** Resolves once this replica has applied everything committed when it was called (Raft ReadIndex). */
  readIndex(): Promise<void>;
  /** The proposer's clock for command times. @default Date.now */
  nowMs?: () => number;
}

export class RaftBackend implements Backend {
  private readonly nowMs: () => number;

  constructor(private readonly o: RaftBackendOptions) {
    this.nowMs = o.nowMs ?? Date.now;
  }

  async txn(req: TxnRequest): Promise<TxnResponse> {
    return unwrapResult(await this.propose(encodeCommand({ type: 'txn', nowMs: this.nowMs(), txn: req })), 'txn');
  }

  async leaseGrant(ttlSeconds: number): Promise<LeaseGrantResponse> {
    return unwrapResult(await this.propose(encodeCommand({ type: 'leaseGrant', nowMs: this.nowMs(), id: 0, ttlSeconds })), 'leaseGrant');
  }

  private async propose(data: Uint8Array): Promise<StoreResult> {
    try {
      return await this.o.propose(data);
    } catch (err) {
      throw unavailable(err, 'Cannot write');
    }
  }

  async range(req: RangeRequest, options: ReadOptions = {}): Promise<RangeResponse> {
    if (!options.serializable) {
      try {
        await this.o.readIndex();
      } catch (err) {
        throw unavailable(err, 'Cannot read consistently');
      }
    }
    return this.o.store.range(req);
  }

  latest(key: string): KeyValue | undefined {
    return this.o.store.latest(key);
  }

  latestRange(key: string, rangeEnd: string, limit: number): KeyValue[] {
    return this.o.store.latestRange(key, rangeEnd, limit);
  }

  watch(options: WatchOptions): BackendWatch {
    return this.o.store.watch(options);
  }
}

/** No leader, a lost leadership or a timeout: the client should retry (perhaps on another member). */
function unavailable(err: unknown, what: string): unknown {
  if (isApiError(err) || err instanceof StoreError) return err;
  const notApplied = err instanceof ProposalDroppedError ? { notApplied: true } : {};
  return new ApiError('Unavailable', `${what}: ${(err as Error)?.message ?? String(err)}`, { retryAfterSeconds: 1, ...notApplied, cause: err });
}
