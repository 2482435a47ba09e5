// Shorthands for the store's tests.

import type { Store } from './store.js';
import type { KeyValue, TxnResponse } from './types.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

export const bytes = (s: string): Uint8Array => enc.encode(s);
export const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : dec.decode(b));

/** A clock for tests: every write happens 1 ms after the previous one unless told otherwise. */
export class TestTime {
  constructor(public nowMs = 1_000_000) {}
  tick(ms = 1): number {
    this.nowMs += ms;
    return this.nowMs;
  }
}

export function put(s: Store, t: TestTime, key: string, value: string, lease = 0): TxnResponse {
  return s.txn({ success: [{ type: 'put', key, value: bytes(value), lease }] }, t.tick());
}

export function del(s: Store, t: TestTime, key: string, rangeEnd?: string): TxnResponse {
  return s.txn({ success: [{ type: 'deleteRange', key, rangeEnd }] }, t.tick());
}

export function get(s: Store, key: string, revision = 0): KeyValue | undefined {
  return s.range({ key, revision }).kvs[0];
}

export function value(s: Store, key: string, revision = 0): string | undefined {
  return text(get(s, key, revision)?.value);
}
