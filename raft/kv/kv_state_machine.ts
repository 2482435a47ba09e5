// An in-memory key-value StateMachine for the simulator, e2e tests and demo.
// Each command carries (clientId, seq); a session table makes a retried
// command apply once and return the first answer. A client sends its
// commands one at a time with seq 1, 2, 3, ... The table is bounded: the
// least recently seen client is forgotten first, and a forgotten client's
// next command (seq > 1, unknown session) is refused with 'sessionExpired',
// never applied twice: it must start a new session under a new clientId.

import type { Entry } from '../core/types.js';
import type { StateMachine } from '../node/ports.js';

export type KvCommand =
  | { op: 'put'; clientId: string; seq: number; key: string; value: Uint8Array }
  | { op: 'delete'; clientId: string; seq: number; key: string }
  | { op: 'cas'; clientId: string; seq: number; key: string; expected: Uint8Array | null; value: Uint8Array }
  /** A read through the log: linearizable without ReadIndex, at the cost of an entry. */
  | { op: 'get'; clientId: string; seq: number; key: string };

export interface KvResult {
  /** The log index at which the write was applied (the first time, for retries). */
  index: number;
  /** cas: whether it swapped; put/delete/get: true; false with `error`. */
  ok: boolean;
  /** get: the value read; cas: the value after it (null: absent). Absent for put/delete. */
  value?: Uint8Array | null;
  /**
   * stale: a seq below the client's latest (the client moved on; nothing applied).
   * sessionExpired: the client's session was forgotten (see above; nothing applied).
   */
  error?: 'stale' | 'sessionExpired';
}

interface Session {
  seq: number;
  result: KvResult;
  lastIndex: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

// Layout: 1 byte op, then length-prefixed fields (u32 big-endian): clientId, key, value, expected; u64 seq as f64.
const OPS = ['put', 'delete', 'cas', 'get'] as const;

export function encodeCommand(c: KvCommand): Uint8Array {
  const clientId = enc.encode(c.clientId);
  const key = enc.encode(c.key);
  const value = c.op === 'delete' || c.op === 'get' ? new Uint8Array(0) : c.value;
  const hasExpected = c.op === 'cas' && c.expected !== null;
  const expected = c.op === 'cas' && c.expected ? c.expected : new Uint8Array(0);
  const out = new Uint8Array(1 + 8 + 1 + 16 + clientId.length + key.length + value.length + expected.length);
  const v = new DataView(out.buffer);
  let o = 0;
  out[o++] = OPS.indexOf(c.op) + 1;
  v.setFloat64(o, c.seq);
  o += 8;
  out[o++] = hasExpected ? 1 : 0;
  for (const part of [clientId, key, value, expected]) {
    v.setUint32(o, part.length);
    o += 4;
    out.set(part, o);
    o += part.length;
  }
  return out;
}

export function decodeCommand(data: Uint8Array): KvCommand {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.byteLength < 26) throw new RangeError(`Cannot decode KV command: ${data.byteLength} bytes is too short`);
  const op = OPS[data[0] - 1];
  if (!op) throw new RangeError(`Cannot decode KV command: op byte ${data[0]} is unknown`);
  const seq = v.getFloat64(1);
  const hasExpected = data[9] === 1;
  let o = 10;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 4; i++) {
    if (o + 4 > data.byteLength) throw new RangeError(`Cannot decode KV command: field ${i} header runs past the end`);
    const len = v.getUint32(o);
    o += 4;
    if (o + len > data.byteLength) throw new RangeError(`Cannot decode KV command: field ${i} of ${len} bytes runs past the end`);
    parts.push(data.slice(o, o + len));
    o += len;
  }
  const clientId = dec.decode(parts[0]);
  const key = dec.decode(parts[1]);
  if (op === 'put') return { op, clientId, seq, key, value: parts[2] };
  if (op === 'delete' || op === 'get') return { op, clientId, seq, key };
  return { op, clientId, seq, key, value: parts[2], expected: hasExpected ? parts[3] : null };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class KvStateMachine implements StateMachine {
  private data = new Map<string, Uint8Array>();
  private sessions = new Map<string, Session>();

  /** @param maxSessions clients remembered for deduplication; the least recently seen is forgotten first. */
  constructor(readonly maxSessions = 10000) {
    if (!Number.isInteger(maxSessions) || maxSessions < 1) throw new RangeError(`Invalid maxSessions "${maxSessions}": expected a positive integer`);
  }

  async open(): Promise<number> {
    return 0;
  }

  apply(entry: Entry): KvResult {
    const c = decodeCommand(entry.data);
    const s = this.sessions.get(c.clientId);
    if (s && c.seq === s.seq) return s.result;
    if (s && c.seq < s.seq) return { index: entry.index, ok: false, error: 'stale' };
    if (!s && c.seq > 1) return { index: entry.index, ok: false, error: 'sessionExpired' };
    let ok = true;
    let value: Uint8Array | null | undefined;
    switch (c.op) {
      case 'put':
        this.data.set(c.key, c.value);
        break;
      case 'delete':
        this.data.delete(c.key);
        break;
      case 'cas': {
        const cur = this.data.get(c.key);
        ok = c.expected === null ? cur === undefined : cur !== undefined && bytesEqual(cur, c.expected);
        if (ok) this.data.set(c.key, c.value);
        value = this.data.get(c.key) ?? null;
        break;
      }
      case 'get':
        value = this.data.get(c.key) ?? null;
        break;
    }
    const result: KvResult = value === undefined ? { index: entry.index, ok } : { index: entry.index, ok, value };
    // Re-insert so Map order is least-recently-seen first.
    this.sessions.delete(c.clientId);
    this.sessions.set(c.clientId, { seq: c.seq, result, lastIndex: entry.index });
    if (this.sessions.size > this.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
    return result;
  }

  /** A local read: linearizable once this member's readIndex() has resolved, stale otherwise. */
  read(key: string): Uint8Array | undefined {
    return this.data.get(key);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  get size(): number {
    return this.data.size;
  }

  async snapshot(): Promise<Uint8Array> {
    const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');
    const state = {
      data: [...this.data].map(([k, v]) => [k, b64(v)]),
      sessions: [...this.sessions].map(([id, s]) => [
        id,
        s.seq,
        s.result.index,
        s.result.ok,
        s.lastIndex,
        s.result.value === undefined ? 0 : s.result.value === null ? 1 : b64(s.result.value),
      ]),
    };
    return enc.encode(JSON.stringify(state));
  }

  async restore(data: Uint8Array): Promise<void> {
    this.data = new Map();
    this.sessions = new Map();
    if (data.byteLength === 0) return;
    const state = JSON.parse(dec.decode(data)) as { data: [string, string][]; sessions: [string, number, number, boolean, number, 0 | 1 | string | undefined][] };
    for (const [k, v] of state.data) this.data.set(k, new Uint8Array(Buffer.from(v, 'base64')));
    for (const [id, seq, index, ok, lastIndex, v] of state.sessions) {
      const result: KvResult = { index, ok };
      if (v === 1) result.value = null;
      else if (typeof v === 'string') result.value = new Uint8Array(Buffer.from(v, 'base64'));
      this.sessions.set(id, { seq, result, lastIndex });
    }
  }
}
