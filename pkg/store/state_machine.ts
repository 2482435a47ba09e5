// The Raft StateMachine over a Store. apply() never throws for a bad
// command or a refused write: it returns `{ type: 'error', error }`, the
// same on every member, and the proposer gets it as its proposal's result.

import { ProposalDroppedError } from '../../raft/core/errors.js';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Entry } from '../../raft/core/types.js';
import type { StateMachine } from '../../raft/node/ports.js';
import { decodeCommand, type StoreCommand } from './command.js';
import { StoreError, invalidArgument } from './errors.js';
import type { LeaseExpireResponse, Store } from './store.js';
import type { CompactResponse, LeaseGrantResponse, LeaseKeepAliveResponse, LeaseRevokeResponse, TxnResponse } from './types.js';

export type StoreResult =
  | { type: 'txn'; response: TxnResponse }
  | { type: 'compact'; response: CompactResponse }
  | { type: 'leaseGrant'; response: LeaseGrantResponse }
  | { type: 'leaseRevoke'; response: LeaseRevokeResponse }
  | { type: 'leaseKeepAlive'; response: LeaseKeepAliveResponse }
  | { type: 'leaseExpire'; response: LeaseExpireResponse }
  | { type: 'error'; error: StoreError };

/** The response of a result of the expected type; throws the StoreError of an error result. */
type Responses = { [R in StoreResult as R['type']]: R extends { response: infer P } ? P : never };

export function unwrapResult<T extends Exclude<StoreResult['type'], 'error'>>(r: StoreResult, type: T): Responses[T] {
  if (r.type === 'error') throw r.error;
  if (r.type !== type) throw new TypeError(`Expected a ${type} result, got ${r.type}`);
  return (r as unknown as { response: Responses[T] }).response;
}

/** Applies one decoded command to the store; refused writes come back as error results. */
export function applyCommand(store: Store, c: StoreCommand): StoreResult {
  try {
    switch (c.type) {
      case 'txn':
        return { type: c.type, response: store.txn(c.txn, c.nowMs) };
      case 'compact':
        return { type: c.type, response: store.compact(c.revision, c.nowMs) };
      case 'leaseGrant':
        return { type: c.type, response: store.leaseGrant(c.id, c.ttlSeconds, c.nowMs) };
      case 'leaseRevoke':
        return { type: c.type, response: store.leaseRevoke(c.id, c.nowMs) };
      case 'leaseKeepAlive':
        return { type: c.type, response: store.leaseKeepAlive(c.id, c.nowMs) };
      case 'leaseExpire':
        return { type: c.type, response: store.leaseExpire(c.id, c.nowMs) };
    }
  } catch (err) {
    if (err instanceof StoreError) return { type: 'error', error: err };
    throw err;
  }
}

export class StoreStateMachine implements StateMachine {
  constructor(readonly store: Store) {}

  /** The store is in memory: Raft replays from its latest snapshot. */
  async open(): Promise<number> {
    return 0;
  }

  apply(entry: Entry): StoreResult {
    const waiters = this.store.proposals;
    waiters.appliedTerm(entry.term);
    let c: StoreCommand;
    try {
      c = decodeCommand(entry.data);
    } catch (err) {
      return { type: 'error', error: invalidArgument(`Cannot apply entry ${entry.index}: ${(err as Error).message}`) };
    }
    const o = c.origin;
    if (o && o.term !== entry.term) {
      // Re-forwarded into a later term: its proposer may already have given up on it and proposed again.
      const error = `Cannot apply entry ${entry.index}: proposed by member ${o.member} in term ${o.term} but appended in term ${entry.term}`;
      waiters.settle(o, new ProposalDroppedError(error));
      return { type: 'error', error: invalidArgument(error) };
    }
    const result = applyCommand(this.store, c);
    if (o) waiters.settle(o, result);
    return result;
  }

  /** A new leader's empty entry tells waiting follower proposals of an older term that they were lost. */
  skipped(entry: Entry): void {
    this.store.proposals.appliedTerm(entry.term);
  }

  async snapshot(): Promise<Uint8Array> {
    return this.store.snapshot();
  }

  /** Encodes in turns, yielding to the event loop between them, while entries keep being applied. */
  async snapshotAfter(prefix: Uint8Array): Promise<Uint8Array> {
    const turns = this.store.snapshotInTurns(prefix);
    for (;;) {
      const r = turns.next();
      if (r.done) return r.value;
      await yieldToEventLoop();
    }
  }

  /** Streams the same bytes: each piece is handed on (and the event loop runs) before the next is encoded. */
  async snapshotTo(prefix: Uint8Array, write: (piece: Uint8Array) => Promise<void>): Promise<number> {
    const pieces = this.store.snapshotPieces();
    // The first step captures the state: before anything awaited lets more entries be applied.
    let r = pieces.next();
    await write(prefix);
    let bytes = prefix.byteLength;
    while (!r.done) {
      await write(r.value);
      bytes += r.value.byteLength;
      await yieldToEventLoop();
      r = pieces.next();
    }
    return bytes;
  }

  async restore(data: Uint8Array): Promise<void> {
    this.store.restore(data);
    this.store.proposals.restored();
  }
}
