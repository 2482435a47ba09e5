// pkg/store's public surface. Import from here; the other files are internals.

export { Store, type StoreOptions, type StoreStatus, type LeaseExpireResponse } from './store.js';
export { StoreStateMachine, applyCommand, unwrapResult, type StoreResult } from './state_machine.js';
export { encodeCommand, decodeCommand, type StoreCommand, type CommandOrigin } from './command.js';
export { ProposalWaiters } from './proposals.js';
export { isReadOnlyTxn } from './txn.js';
export { readValue, valueAsHeld, valueLength } from './keyspace.js';
export { Watcher, type WatchOptions, type WatchResponse } from './watch.js';
export {
  StoreError,
  CompactedError,
  FutureRevisionError,
  QuotaExceededError,
  WatchOverflowError,
  type StoreErrorCode,
} from './errors.js';
export { ALL_KEYS_FROM, bytesToKey, keyToBytes, textToKey, keyToText, prefixEnd, inRange, isByteString, quoteKey } from './keys.js';
export type * from './types.js';
