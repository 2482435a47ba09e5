// A linearizability checker for a key-value history, in the style of
// Wing & Gong as refined by Lowe and Porcupine: the history is split per key
// (P-compositionality: single-key ops are linearizable iff every key's
// sub-history is), and each partition is searched depth-first over the order
// of call/return events, caching (set of linearized ops, model state) pairs
// already explored so no configuration is visited twice.

import { SeededRandom } from '../core/random.js';

export type KvOpKind = 'get' | 'put' | 'cas' | 'delete';

export interface KvInput {
  key: string;
  /** put: the value written; cas: the new value. */
  value?: string;
  /** cas: the value the key must hold for the swap (null: the key must be absent). */
  expected?: string | null;
}

/**
 * get: the value read (null: absent); cas: whether it swapped; put/delete: 'ok'.
 * undefined: the outcome is unknown (the op timed out or its client crashed).
 */
export type KvOutput = string | null | boolean | undefined;

export interface KvHistoryEntry {
  clientId: number | string;
  op: KvOpKind;
  input: KvInput;
  output: KvOutput;
  callTimeMs: number;
  /** +Infinity when the outcome is unknown: the op may or may not have taken effect. */
  returnTimeMs: number;
}

export type CheckResult =
  | { kind: 'ok'; partitions: number; ops: number }
  /** `history` is the shortest failing prefix of the failing key's partition that was found. */
  | { kind: 'illegal'; key: string; history: KvHistoryEntry[]; explanation: string }
  | { kind: 'unknown'; key: string; reason: string };

export interface CheckOptions {
  /** Search steps allowed per partition before giving up with 'unknown'. @default 2_000_000 */
  maxStepsPerPartition?: number;
}

type State = string | null;

/** Applies op to state; returns the next state, or undefined if the recorded output is impossible. */
function step(state: State, e: KvHistoryEntry): { next: State } | undefined {
  switch (e.op) {
    case 'get':
      if (e.output === undefined || e.output === state) return { next: state };
      return undefined;
    case 'put':
      return { next: e.input.value ?? null };
    case 'delete':
      return { next: null };
    case 'cas': {
      const swaps = state === (e.input.expected ?? null);
      if (e.output !== undefined && e.output !== swaps) return undefined;
      return { next: swaps ? (e.input.value ?? null) : state };
    }
  }
}

export function validateHistory(history: readonly KvHistoryEntry[]): void {
  history.forEach((e, i) => {
    const where = `history[${i}]`;
    if (e.op !== 'get' && e.op !== 'put' && e.op !== 'cas' && e.op !== 'delete') {
      throw new TypeError(`Invalid ${where}.op "${String(e.op)}": expected get, put, cas or delete`);
    }
    if (typeof e.input?.key !== 'string') throw new TypeError(`Invalid ${where}.input.key: expected a string`);
    if ((e.op === 'put' || e.op === 'cas') && typeof e.input.value !== 'string') {
      throw new TypeError(`Invalid ${where}.input.value: ${e.op} needs a string value`);
    }
    if (!Number.isFinite(e.callTimeMs)) throw new TypeError(`Invalid ${where}.callTimeMs "${e.callTimeMs}": expected a finite number`);
    if (Number.isNaN(e.returnTimeMs) || e.returnTimeMs < e.callTimeMs) {
      throw new TypeError(`Invalid ${where}.returnTimeMs "${e.returnTimeMs}": it must be at or after callTimeMs "${e.callTimeMs}"`);
    }
    if (e.op === 'cas' && e.output !== undefined && typeof e.output !== 'boolean') {
      throw new TypeError(`Invalid ${where}.output "${String(e.output)}": cas returns a boolean`);
    }
    if (e.op === 'get' && e.output !== undefined && e.output !== null && typeof e.output !== 'string') {
      throw new TypeError(`Invalid ${where}.output "${String(e.output)}": get returns a string or null`);
    }
  });
}

/**
 * Checks a key-value history. Ops whose intervals touch (one returns at the
 * very time another is called) are taken as concurrent; record distinct
 * times for ops that are causally ordered.
 */
export function checkKvHistory(history: readonly KvHistoryEntry[], options: CheckOptions = {}): CheckResult {
  validateHistory(history);
  const maxSteps = options.maxStepsPerPartition ?? 2_000_000;
  const byKey = partitionByKey(history);
  let failing: { key: string; ops: KvHistoryEntry[] } | undefined;
  for (const [key, ops] of byKey) {
    const r = searchPartition(dropUnobservedWrites(ops), maxSteps);
    if (r.kind === 'unknown') return { kind: 'unknown', key, reason: `search exceeded ${maxSteps} steps on ${ops.length} ops` };
    if (r.kind === 'illegal' && (failing === undefined || ops.length < failing.ops.length)) failing = { key, ops };
  }
  if (failing === undefined) return { kind: 'ok', partitions: byKey.size, ops: history.length };
  const shortest = shortestFailingPrefix(failing.ops, Math.ceil(maxSteps / 4));
  const r = searchPartition(shortest, maxSteps);
  const explanation = r.kind === 'illegal' ? explain(failing.key, shortest, r) : '(no explanation: the prefix search changed its mind)';
  return { kind: 'illegal', key: failing.key, history: shortest, explanation };
}

function partitionByKey(history: readonly KvHistoryEntry[]): Map<string, KvHistoryEntry[]> {
  const byKey = new Map<string, KvHistoryEntry[]>();
  for (const e of history) {
    // A read with an unknown result constrains nothing.
    if (e.op === 'get' && e.output === undefined) continue;
    const list = byKey.get(e.input.key);
    if (list === undefined) byKey.set(e.input.key, [e]);
    else list.push(e);
  }
  return byKey;
}

/**
 * Drops unknown-outcome writes that no op could have observed: their value
 * was never read nor expected by a cas, and no cas failed or lost its result
 * (such a cas could be explained by any foreign value). With these gone the
 * answer is unchanged (a dropped write can always go last instead) but the
 * search no longer branches on where each one might have taken effect.
 */
function dropUnobservedWrites(ops: KvHistoryEntry[]): KvHistoryEntry[] {
  const observed = new Set<string | null>();
  for (const e of ops) {
    if (e.op === 'get' && e.output !== undefined) observed.add(e.output as string | null);
    if (e.op === 'cas') {
      if (e.output !== true) return ops;
      observed.add(e.input.expected ?? null);
    }
  }
  const written = (e: KvHistoryEntry): string | null => (e.op === 'put' ? (e.input.value ?? null) : null);
  const kept = ops.filter((e) => !(e.output === undefined && (e.op === 'put' || e.op === 'delete') && !observed.has(written(e))));
  return kept.length === ops.length ? ops : kept;
}

/** The history as of time t: later calls dropped, ops still running at t made unknown. */
function prefixAt(ops: readonly KvHistoryEntry[], t: number): KvHistoryEntry[] {
  const out: KvHistoryEntry[] = [];
  for (const e of ops) {
    if (e.callTimeMs > t) continue;
    if (e.returnTimeMs <= t) out.push(e);
    else if (e.op !== 'get') out.push({ ...e, output: undefined, returnTimeMs: Infinity });
  }
  return out;
}

function shortestFailingPrefix(ops: KvHistoryEntry[], maxSteps: number): KvHistoryEntry[] {
  const times = [...new Set(ops.map((e) => e.returnTimeMs).filter((t) => Number.isFinite(t)))].sort((a, b) => a - b);
  let lo = 0;
  let hi = times.length - 1;
  let best = ops;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const p = dropUnobservedWrites(prefixAt(ops, times[mid]));
    if (searchPartition(p, maxSteps).kind === 'illegal') {
      best = p;
      hi = mid - 1;
    } else {
      lo = mid + 1;
    }
  }
  return best;
}

// The search, over a doubly linked list of call and return events.

interface EventNode {
  /** Index of the op in the partition; -1 for the list head. */
  id: number;
  /** For a call: its return event. For a return: null. */
  match: EventNode | null;
  prev: EventNode | null;
  next: EventNode | null;
}

interface IllegalSearch {
  kind: 'illegal';
  /** The longest sequence of op ids that could be linearized. */
  longest: number[];
}

type SearchResult = { kind: 'ok' } | IllegalSearch | { kind: 'unknown' };

const zobristCache: number[] = [];
const zobristRandom = new SeededRandom(0x5eed);
function zobrist(i: number): number {
  while (zobristCache.length <= i) zobristCache.push(zobristRandom.intn(2 ** 32));
  return zobristCache[i];
}

function stateHash(s: State): number {
  if (s === null) return 0x9e3779b9;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function buildEvents(ops: readonly KvHistoryEntry[]): EventNode {
  const events: { time: number; isCall: boolean; id: number }[] = [];
  ops.forEach((e, id) => {
    events.push({ time: e.callTimeMs, isCall: true, id });
    events.push({ time: e.returnTimeMs, isCall: false, id });
  });
  // Equal times: calls first, so touching intervals count as concurrent.
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.id - b.id : a.isCall ? -1 : 1));
  const head: EventNode = { id: -1, match: null, prev: null, next: null };
  const returns = new Map<number, EventNode>();
  let last = head;
  // Returns are created first so calls can point to them; link in sorted order.
  const nodes: EventNode[] = events.map((ev) => {
    const n: EventNode = { id: ev.id, match: null, prev: null, next: null };
    if (!ev.isCall) returns.set(ev.id, n);
    return n;
  });
  events.forEach((ev, i) => {
    const n = nodes[i];
    if (ev.isCall) n.match = returns.get(ev.id)!;
    n.prev = last;
    last.next = n;
    last = n;
  });
  return head;
}

function lift(entry: EventNode): void {
  entry.prev!.next = entry.next;
  entry.next!.prev = entry.prev;
  const match = entry.match!;
  match.prev!.next = match.next;
  if (match.next !== null) match.next.prev = match.prev;
}

function unlift(entry: EventNode): void {
  const match = entry.match!;
  match.prev!.next = match;
  if (match.next !== null) match.next.prev = match;
  entry.prev!.next = entry;
  entry.next!.prev = entry;
}

/**
 * Depth-first search over linearization orders. A configuration is the set
 * of linearized ops plus the model state. Unknown-outcome ops (return at
 * +Infinity) are tracked apart: a configuration that used a superset of the
 * unknown ops of a visited one, with the same known ops and state, can only
 * do less, so it is pruned. This keeps lost writes from multiplying the
 * search by the subsets of them that might have taken effect.
 */
function searchPartition(ops: readonly KvHistoryEntry[], maxSteps: number): SearchResult {
  // Two orders, each complete: trying unknown ops eagerly finds a linearization
  // fast when one exists; trying known ops first lets the pruning below prove
  // quickly that none does. Run both with a growing budget; the first answer wins.
  let spent = 0;
  for (let budget = 4096; spent < maxSteps; budget *= 4) {
    for (const knownFirst of [false, true]) {
      const b = Math.min(budget, maxSteps - spent);
      if (b <= 0) break;
      const r = searchOrdered(ops, b, knownFirst);
      if (r.kind !== 'unknown') return r;
      spent += b;
    }
  }
  return { kind: 'unknown' };
}

function searchOrdered(ops: readonly KvHistoryEntry[], maxSteps: number, knownFirst: boolean): SearchResult {
  const n = ops.length;
  if (n === 0) return { kind: 'ok' };
  const head = buildEvents(ops);
  // Each op's slot in the known or the unknown bitset.
  const slot: number[] = [];
  const isUnknown: boolean[] = [];
  let known = 0;
  let unknown = 0;
  for (const e of ops) {
    const u = !Number.isFinite(e.returnTimeMs);
    isUnknown.push(u);
    slot.push(u ? unknown++ : known++);
  }
  const kbits = new Uint32Array((known + 31) >>> 5);
  const ubits = new Uint32Array((unknown + 31) >>> 5);
  const flip = (id: number): void => {
    const bits = isUnknown[id] ? ubits : kbits;
    bits[slot[id] >>> 5] ^= 1 << (slot[id] & 31);
  };
  let kHash = 0;
  const cache = new Map<number, CacheEntry[]>();
  const calls: { entry: EventNode; state: State; kHash: number; visited: CacheEntry }[] = [];
  let state: State = null;
  let longest: number[] = [];
  let steps = 0;

  // Adds the current configuration to the cache; undefined if it or one that dominates it was visited.
  // Only fully explored (failed) configurations may dominate: pruning against one still on the
  // stack would be circular.
  const remember = (hash: number, s: State): CacheEntry | undefined => {
    const key = (hash ^ stateHash(s)) >>> 0;
    let bucket = cache.get(key);
    if (bucket !== undefined) {
      for (const c of bucket) {
        if (c.state !== s || !equalBits(c.kbits, kbits)) continue;
        if (c.done ? subsetBits(c.ubits, ubits) : equalBits(c.ubits, ubits)) return undefined;
      }
    } else {
      bucket = [];
      cache.set(key, bucket);
    }
    const visited: CacheEntry = { kbits: kbits.slice(), ubits: ubits.slice(), state: s, done: false };
    bucket.push(visited);
    return visited;
  };

  // Known ops are tried before unknown ones at each configuration, so the
  // configurations that dominate (fewer unknown ops used) finish first.
  let unknownPass = false;
  // Once every known op is placed, the unknown ones left can all go last.
  let knownLeft = known;
  if (knownLeft === 0) return { kind: 'ok' };
  let entry = head.next!;
  while (head.next !== null) {
    if (++steps > maxSteps) return { kind: 'unknown' };
    if (entry.match !== null) {
      const id = entry.id;
      const r: { next: State } | undefined = !knownFirst || isUnknown[id] === unknownPass ? step(state, ops[id]) : undefined;
      // An unknown op that changes nothing here may as well take effect later (or never).
      if (r !== undefined && !(isUnknown[id] && r.next === state)) {
        const hash = isUnknown[id] ? kHash : (kHash ^ zobrist(slot[id])) >>> 0;
        flip(id);
        const visited = remember(hash, r.next);
        if (visited !== undefined) {
          calls.push({ entry, state, kHash, visited });
          state = r.next;
          kHash = hash;
          lift(entry);
          if (!isUnknown[id] && --knownLeft === 0) return { kind: 'ok' };
          if (calls.length > longest.length) longest = calls.map((c) => c.entry.id);
          entry = head.next!;
          unknownPass = false;
          continue;
        }
        flip(id);
      }
      entry = entry.next!;
    } else if (knownFirst && !unknownPass && unknown > 0) {
      unknownPass = true;
      entry = head.next!;
    } else {
      // No op can go next here: backtrack.
      const top = calls.pop();
      if (top === undefined) return { kind: 'illegal', longest };
      entry = top.entry;
      state = top.state;
      kHash = top.kHash;
      top.visited.done = true;
      flip(entry.id);
      unlift(entry);
      unknownPass = knownFirst && isUnknown[entry.id];
      if (!isUnknown[entry.id]) knownLeft++;
      entry = entry.next!;
    }
  }
  return { kind: 'ok' };
}

interface CacheEntry {
  kbits: Uint32Array;
  ubits: Uint32Array;
  state: State;
  /** Explored to the end without success. */
  done: boolean;
}

function subsetBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i] & ~b[i]) !== 0) return false;
  return true;
}

function equalBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// Explanations.

function show(v: KvOutput): string {
  if (v === undefined) return '?';
  if (v === null) return '(absent)';
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function showTime(t: number): string {
  return Number.isFinite(t) ? `${t}` : '∞';
}

export function describeOp(e: KvHistoryEntry): string {
  let call: string;
  switch (e.op) {
    case 'get':
      call = `get(${JSON.stringify(e.input.key)}) -> ${show(e.output)}`;
      break;
    case 'put':
      call = `put(${JSON.stringify(e.input.key)}, ${show(e.input.value)})${e.output === undefined ? ' -> ?' : ''}`;
      break;
    case 'delete':
      call = `delete(${JSON.stringify(e.input.key)})${e.output === undefined ? ' -> ?' : ''}`;
      break;
    case 'cas':
      call = `cas(${JSON.stringify(e.input.key)}, ${show(e.input.expected ?? null)}, ${show(e.input.value)}) -> ${show(e.output)}`;
      break;
  }
  return `client ${e.clientId} [${showTime(e.callTimeMs)}, ${showTime(e.returnTimeMs)}] ${call}`;
}

function explain(key: string, ops: readonly KvHistoryEntry[], r: IllegalSearch): string {
  const done = new Set(r.longest);
  let state: State = null;
  const lines: string[] = [`Key ${JSON.stringify(key)}: ${ops.length} ops in the shortest failing prefix; at most ${r.longest.length} can be linearized.`];
  const shownTail = 10;
  if (r.longest.length > shownTail) lines.push(`  ... ${r.longest.length - shownTail} earlier ops linearized`);
  r.longest.forEach((id, i) => {
    state = step(state, ops[id])!.next;
    if (i >= r.longest.length - shownTail) lines.push(`  ${i + 1}. ${describeOp(ops[id])}   value now ${show(state)}`);
  });
  const rest = ops.map((e, id) => ({ e, id })).filter(({ id }) => !done.has(id));
  // The op that must take effect next: the earliest return among those left.
  rest.sort((a, b) => a.e.returnTimeMs - b.e.returnTimeMs || a.id - b.id);
  const deadline = rest[0];
  lines.push(`Then ${describeOp(deadline.e)} must take effect before it returns, but no op concurrent with it can go next:`);
  const candidates = rest.filter(({ e }) => e.callTimeMs <= deadline.e.returnTimeMs).sort((a, b) => a.e.callTimeMs - b.e.callTimeMs || a.id - b.id);
  for (const { e } of candidates.slice(0, 12)) {
    const ok = step(state, e) !== undefined;
    lines.push(`  - ${describeOp(e)}${ok ? '   (possible here, but leads to a dead end later)' : `   (impossible on value ${show(state)})`}`);
  }
  if (candidates.length > 12) lines.push(`  ... and ${candidates.length - 12} more`);
  return lines.join('\n');
}
