// Conversion between raft/core's plain types and the wire form in
// proto/navarch/raft/v1/raft.proto. Both directions work on core objects
// directly, without the generated intermediate objects (which would cost a
// bigint/string round trip per uint64); decoding validates every field
// before the core sees it.

import * as pb from '../../gen/navarch/raft/v1/raft.js';
import {
  WIRE_MESSAGE_TYPES,
  type ConfState,
  type Entry,
  type EntryType,
  type Message,
  type MessageType,
  type NodeId,
  type SnapshotMetadata,
} from '../core/types.js';
import { WIRE_LEN, WIRE_VARINT, WireFormatError, WireReader } from './wire_reader.js';

/** An incoming frame or message that does not follow the wire contract. */
export class MalformedMessageError extends Error {
  override name = 'MalformedMessageError';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

const TO_WIRE_TYPE: Partial<Record<MessageType, pb.MessageType>> = {
  MsgProp: pb.MessageType.MESSAGE_TYPE_PROP,
  MsgApp: pb.MessageType.MESSAGE_TYPE_APP,
  MsgAppResp: pb.MessageType.MESSAGE_TYPE_APP_RESP,
  MsgVote: pb.MessageType.MESSAGE_TYPE_VOTE,
  MsgVoteResp: pb.MessageType.MESSAGE_TYPE_VOTE_RESP,
  MsgPreVote: pb.MessageType.MESSAGE_TYPE_PRE_VOTE,
  MsgPreVoteResp: pb.MessageType.MESSAGE_TYPE_PRE_VOTE_RESP,
  MsgSnap: pb.MessageType.MESSAGE_TYPE_SNAP,
  MsgHeartbeat: pb.MessageType.MESSAGE_TYPE_HEARTBEAT,
  MsgHeartbeatResp: pb.MessageType.MESSAGE_TYPE_HEARTBEAT_RESP,
  MsgTimeoutNow: pb.MessageType.MESSAGE_TYPE_TIMEOUT_NOW,
  MsgReadIndex: pb.MessageType.MESSAGE_TYPE_READ_INDEX,
  MsgReadIndexResp: pb.MessageType.MESSAGE_TYPE_READ_INDEX_RESP,
};

// Indexed by wire number; only the types in WIRE_MESSAGE_TYPES appear.
const FROM_WIRE_TYPE: (MessageType | undefined)[] = [];
for (const t of WIRE_MESSAGE_TYPES) {
  const n = TO_WIRE_TYPE[t];
  if (n === undefined) throw new Error(`Wire message type ${t} has no protobuf number`);
  FROM_WIRE_TYPE[n] = t;
}
const WIRE_TYPE_SET: ReadonlySet<MessageType> = new Set(WIRE_MESSAGE_TYPES);

/** True when the type travels between members (the others are local to a node). */
export function isWireMessageType(t: MessageType): boolean {
  return WIRE_TYPE_SET.has(t);
}

// Fixed per-message overhead used by the estimate: tags and varints of the
// scalar fields, rounded up.
const MESSAGE_OVERHEAD_BYTES = 64;
const ENTRY_OVERHEAD_BYTES = 24;

/** A cheap upper-bound estimate of a message's encoded size, used to bound queues and batches. */
export function messageSizeBytes(m: Message): number {
  let n = MESSAGE_OVERHEAD_BYTES + m.context.byteLength;
  const es = m.entries;
  for (let i = 0; i < es.length; i++) n += es[i].data.byteLength + ENTRY_OVERHEAD_BYTES;
  if (m.snapshot !== undefined) {
    const cs = m.snapshot.metadata.confState;
    n += 32 + 10 * (cs.voters.length + cs.learners.length);
  }
  return n;
}

// Frames are written into one buffer of their exact size: the library's BinaryWriter grows by
// doubling, shifts every length-prefixed payload over 127 bytes in join(), and copies the result
// out in finish(). On a leader sending a pod's entries to two followers that came to about a tenth
// of its CPU. Tags here are all one byte; numbers are safe integers (up to 2^53).

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

function putVarint(b: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    b[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  b[at++] = n;
  return at;
}

/** A uint64 field: omitted when 0 (proto3), as the generated code does. */
function u64Size(v: number): number {
  return v === 0 ? 0 : 1 + varintSize(v);
}

function putU64(b: Buffer, at: number, tag: number, v: number): number {
  if (v === 0) return at;
  b[at++] = tag;
  return putVarint(b, at, v);
}

function bytesFieldSize(data: Uint8Array): number {
  const n = data.byteLength;
  return n === 0 ? 0 : 1 + varintSize(n) + n;
}

function putBytes(b: Buffer, at: number, tag: number, data: Uint8Array): number {
  if (data.byteLength === 0) return at;
  b[at++] = tag;
  at = putVarint(b, at, data.byteLength);
  b.set(data, at);
  return at + data.byteLength;
}

/** A length-delimited sub-message of `size` bytes: its tag and length. */
function nestedSize(size: number): number {
  return 1 + varintSize(size) + size;
}

function putNested(b: Buffer, at: number, tag: number, size: number): number {
  b[at++] = tag;
  return putVarint(b, at, size);
}

function confStateSize(cs: ConfState): number {
  let n = 0;
  for (const v of cs.voters) n += 1 + varintSize(v);
  for (const l of cs.learners) n += 1 + varintSize(l);
  return n;
}

function snapshotMetadataSize(md: SnapshotMetadata): number {
  return u64Size(md.index) + u64Size(md.term) + nestedSize(confStateSize(md.confState));
}

function putSnapshotMetadata(b: Buffer, at: number, md: SnapshotMetadata): number {
  at = putU64(b, at, 8, md.index);
  at = putU64(b, at, 16, md.term);
  at = putNested(b, at, 26, confStateSize(md.confState));
  // Unpacked, as written since the first version; decoders take either form.
  for (const v of md.confState.voters) at = putVarint(b, putVarint(b, at, 8), v);
  for (const l of md.confState.learners) at = putVarint(b, putVarint(b, at, 16), l);
  return at;
}

const CONF_CHANGE_TYPE = pb.EntryType.ENTRY_TYPE_CONF_CHANGE;

function entrySize(e: Entry): number {
  return u64Size(e.term) + u64Size(e.index) + (e.type === 'confChange' ? 1 + varintSize(CONF_CHANGE_TYPE) : 0) + bytesFieldSize(e.data);
}

function putEntry(b: Buffer, at: number, e: Entry): number {
  at = putU64(b, at, 8, e.term);
  at = putU64(b, at, 16, e.index);
  if (e.type === 'confChange') at = putVarint(b, putVarint(b, at, 24), CONF_CHANGE_TYPE);
  return putBytes(b, at, 34, e.data);
}

function wireType(m: Message): number {
  const t = TO_WIRE_TYPE[m.type];
  if (t === undefined || !WIRE_TYPE_SET.has(m.type)) {
    throw new MalformedMessageError('type', `"${m.type}" is local to a node and never travels between members`);
  }
  return t;
}

/**
 * The size of a pb.Message's body. The snapshot's data is not written: it travels in
 * SnapshotChunk frames.
 */
function messageSize(m: Message): number {
  let n = 1 + varintSize(wireType(m)) + u64Size(m.to) + u64Size(m.from) + u64Size(m.term) + u64Size(m.logTerm) + u64Size(m.index);
  const es = m.entries;
  for (let i = 0; i < es.length; i++) n += nestedSize(entrySize(es[i]));
  n += u64Size(m.commit) + (m.reject ? 2 : 0) + u64Size(m.rejectHint) + bytesFieldSize(m.context);
  if (m.snapshot !== undefined) n += nestedSize(snapshotMetadataSize(m.snapshot.metadata));
  return n;
}

function putMessage(b: Buffer, at: number, m: Message): number {
  at = putVarint(b, putVarint(b, at, 8), wireType(m));
  at = putU64(b, at, 16, m.to);
  at = putU64(b, at, 24, m.from);
  at = putU64(b, at, 32, m.term);
  at = putU64(b, at, 40, m.logTerm);
  at = putU64(b, at, 48, m.index);
  const es = m.entries;
  for (let i = 0; i < es.length; i++) {
    at = putNested(b, at, 58, entrySize(es[i]));
    at = putEntry(b, at, es[i]);
  }
  at = putU64(b, at, 64, m.commit);
  if (m.reject) {
    b[at++] = 72;
    b[at++] = 1;
  }
  at = putU64(b, at, 80, m.rejectHint);
  at = putBytes(b, at, 90, m.context);
  if (m.snapshot !== undefined) {
    at = putNested(b, at, 98, snapshotMetadataSize(m.snapshot.metadata));
    at = putSnapshotMetadata(b, at, m.snapshot.metadata);
  }
  return at;
}

function checkWritten(what: string, written: number, size: number): void {
  if (written !== size) throw new Error(`${what}: wrote ${written} bytes, expected ${size}`);
}

/** Builds one MessageBatch frame at a time; reuse one per peer. */
export class BatchEncoder {
  private header = { from: 0, to: 0, clusterId: 0 };
  private messages: Message[] = [];
  private sizes: number[] = [];

  begin(from: NodeId, to: NodeId, clusterId: number): void {
    this.header = { from, to, clusterId };
    this.messages = [];
    this.sizes = [];
  }

  /** Throws MalformedMessageError for a message that cannot travel (a local type). */
  add(m: Message): void {
    this.sizes.push(messageSize(m));
    this.messages.push(m);
  }

  get messageCount(): number {
    return this.messages.length;
  }

  finish(): Buffer {
    const { from, to, clusterId } = this.header;
    const ms = this.messages;
    const sizes = this.sizes;
    let size = u64Size(from) + u64Size(to) + u64Size(clusterId);
    for (let i = 0; i < ms.length; i++) size += nestedSize(sizes[i]);
    const b = Buffer.allocUnsafe(size);
    let at = putU64(b, 0, 8, from);
    at = putU64(b, at, 16, to);
    at = putU64(b, at, 24, clusterId);
    for (let i = 0; i < ms.length; i++) {
      at = putNested(b, at, 34, sizes[i]);
      const end = putMessage(b, at, ms[i]);
      checkWritten('MessageBatch message', end - at, sizes[i]);
      at = end;
    }
    checkWritten('MessageBatch', at, size);
    this.messages = [];
    this.sizes = [];
    return b;
  }
}

/** Encodes a whole MessageBatch (convenience for tests and one-off frames). */
export function encodeMessageBatch(from: NodeId, to: NodeId, clusterId: number, messages: readonly Message[]): Buffer {
  const enc = new BatchEncoder();
  enc.begin(from, to, clusterId);
  for (const m of messages) enc.add(m);
  return enc.finish();
}

export interface SnapshotChunkFields {
  from: NodeId;
  to: NodeId;
  clusterId: number;
  /** The MsgSnap message; only on the first chunk. */
  message?: Message;
  offset: number;
  data: Uint8Array;
  last: boolean;
}

export function encodeSnapshotChunk(c: SnapshotChunkFields): Buffer {
  const messageBytes = c.message === undefined ? 0 : messageSize(c.message);
  const size =
    u64Size(c.from) + u64Size(c.to) + u64Size(c.clusterId) + (c.message === undefined ? 0 : nestedSize(messageBytes)) + u64Size(c.offset) + bytesFieldSize(c.data) + (c.last ? 2 : 0);
  const b = Buffer.allocUnsafe(size);
  let at = putU64(b, 0, 8, c.from);
  at = putU64(b, at, 16, c.to);
  at = putU64(b, at, 24, c.clusterId);
  if (c.message !== undefined) at = putMessage(b, putNested(b, at, 34, messageBytes), c.message);
  at = putU64(b, at, 40, c.offset);
  at = putBytes(b, at, 50, c.data);
  if (c.last) {
    b[at++] = 56;
    b[at++] = 1;
  }
  checkWritten('SnapshotChunk', at, size);
  return b;
}


// ---- Decoding ---------------------------------------------------------------
// Field paths in errors are only built when something is wrong, so the
// success path allocates nothing but the decoded messages.

const EMPTY: Uint8Array = new Uint8Array(0);
const WIRE_TYPE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start group', 'end group', 'fixed32', '6', '7'];

// A copy, so a retained entry does not pin the whole frame. Small ones come
// from Node's shared buffer pool, far cheaper than a fresh ArrayBuffer each.
function copyBytes(view: Uint8Array): Uint8Array {
  if (view.byteLength === 0) return EMPTY;
  const b = Buffer.allocUnsafe(view.byteLength);
  b.set(view);
  return b;
}

function at(prefix: string, index: number): string {
  return index < 0 ? prefix : `${prefix}[${index}]`;
}

function expectWire(actual: number, expected: number, path: string, name: string): void {
  if (actual !== expected) {
    throw new MalformedMessageError(`${path}.${name}`, `wire type ${WIRE_TYPE_NAMES[actual]}, expected ${WIRE_TYPE_NAMES[expected]}`);
  }
}

function safe(v: number, path: () => string): number {
  if (!Number.isSafeInteger(v)) throw new MalformedMessageError(path(), `${v} exceeds the largest safe integer ${Number.MAX_SAFE_INTEGER}`);
  return v;
}

function checkNodeId(v: number, path: () => string): NodeId {
  safe(v, path);
  if (v === 0) throw new MalformedMessageError(path(), 'node id 0 is not a member');
  return v;
}

function readTag(r: WireReader, end: number): number {
  const tag = r.varint(end);
  if (tag > 0xffffffff || tag < 8) throw new WireFormatError(`invalid tag ${tag}`);
  return tag;
}

function readIds(r: WireReader, wt: number, end: number, into: number[]): void {
  if (wt === WIRE_VARINT) {
    into.push(r.varint(end));
  } else if (wt === WIRE_LEN) {
    const stop = r.delimitedEnd(end);
    while (r.pos < stop) into.push(r.varint(stop));
  } else {
    throw new WireFormatError(`wire type ${WIRE_TYPE_NAMES[wt]} for a repeated uint64`);
  }
}

function decodeConfState(r: WireReader, end: number, path: string): ConfState {
  const voters: NodeId[] = [];
  const learners: NodeId[] = [];
  while (r.pos < end) {
    const tag = readTag(r, end);
    const wt = tag & 7;
    const field = tag >>> 3;
    if (field === 1) readIds(r, wt, end, voters);
    else if (field === 2) readIds(r, wt, end, learners);
    else r.skip(wt, end);
  }
  const seen = new Set<number>();
  const check = (ids: number[], name: string): void => {
    for (let i = 0; i < ids.length; i++) {
      const p = () => `${path}.${name}[${i}]`;
      checkNodeId(ids[i], p);
      if (seen.has(ids[i])) throw new MalformedMessageError(p(), `duplicate member ${ids[i]}`);
      seen.add(ids[i]);
    }
  };
  check(voters, 'voters');
  check(learners, 'learners');
  return { voters, learners };
}

function decodeSnapshotMetadata(r: WireReader, end: number, path: string): SnapshotMetadata {
  let index = 0;
  let term = 0;
  let confState: ConfState | undefined;
  while (r.pos < end) {
    const tag = readTag(r, end);
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expectWire(wt, WIRE_VARINT, path, 'index');
        index = r.varint(end);
        break;
      case 2:
        expectWire(wt, WIRE_VARINT, path, 'term');
        term = r.varint(end);
        break;
      case 3: {
        expectWire(wt, WIRE_LEN, path, 'confState');
        const stop = r.delimitedEnd(end);
        confState = decodeConfState(r, stop, `${path}.confState`);
        r.pos = stop;
        break;
      }
      default:
        r.skip(wt, end);
    }
  }
  safe(index, () => `${path}.index`);
  safe(term, () => `${path}.term`);
  if (index === 0) throw new MalformedMessageError(`${path}.index`, 'a snapshot must have a positive index');
  if (term === 0) throw new MalformedMessageError(`${path}.term`, 'a snapshot must have a positive term');
  if (confState === undefined) throw new MalformedMessageError(`${path}.confState`, 'missing');
  return { index, term, confState };
}

function decodeEntry(r: WireReader, end: number, msgPath: string, i: number): Entry {
  let term = 0;
  let index = 0;
  let type = 0;
  let data = EMPTY;
  while (r.pos < end) {
    const tag = readTag(r, end);
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        if (wt !== WIRE_VARINT) expectWire(wt, WIRE_VARINT, `${msgPath}.entries[${i}]`, 'term');
        term = r.varint(end);
        break;
      case 2:
        if (wt !== WIRE_VARINT) expectWire(wt, WIRE_VARINT, `${msgPath}.entries[${i}]`, 'index');
        index = r.varint(end);
        break;
      case 3:
        if (wt !== WIRE_VARINT) expectWire(wt, WIRE_VARINT, `${msgPath}.entries[${i}]`, 'type');
        type = r.varint(end);
        break;
      case 4:
        if (wt !== WIRE_LEN) expectWire(wt, WIRE_LEN, `${msgPath}.entries[${i}]`, 'data');
        data = copyBytes(r.bytesView(end));
        break;
      default:
        r.skip(wt, end);
    }
  }
  safe(term, () => `${msgPath}.entries[${i}].term`);
  safe(index, () => `${msgPath}.entries[${i}].index`);
  let entryType: EntryType;
  if (type === pb.EntryType.ENTRY_TYPE_NORMAL) entryType = 'normal';
  else if (type === pb.EntryType.ENTRY_TYPE_CONF_CHANGE) entryType = 'confChange';
  else throw new MalformedMessageError(`${msgPath}.entries[${i}].type`, `unknown entry type ${type}`);
  return { term, index, type: entryType, data };
}

/** Decodes and validates one Message; `path` names it in errors, e.g. "messages[3]". */
function decodeMessage(r: WireReader, end: number, path: string): Message {
  let wireType = 0;
  let to = 0;
  let from = 0;
  let term = 0;
  let logTerm = 0;
  let index = 0;
  let commit = 0;
  let reject = false;
  let rejectHint = 0;
  let context = EMPTY;
  let entries: Entry[] = [];
  let metadata: SnapshotMetadata | undefined;
  while (r.pos < end) {
    const tag = readTag(r, end);
    const wt = tag & 7;
    const field = tag >>> 3;
    if (field <= 10 && field !== 7) {
      // Every field up to 10 but entries is a varint.
      if (wt !== WIRE_VARINT) expectWire(wt, WIRE_VARINT, path, MESSAGE_FIELD_NAMES[field]);
      const v = r.varint(end);
      switch (field) {
        case 1: wireType = v; break; // prettier-ignore
        case 2: to = v; break; // prettier-ignore
        case 3: from = v; break; // prettier-ignore
        case 4: term = v; break; // prettier-ignore
        case 5: logTerm = v; break; // prettier-ignore
        case 6: index = v; break; // prettier-ignore
        case 8: commit = v; break; // prettier-ignore
        case 9: reject = v !== 0; break; // prettier-ignore
        case 10: rejectHint = v; break; // prettier-ignore
      }
      continue;
    }
    switch (field) {
      case 7: {
        if (wt !== WIRE_LEN) expectWire(wt, WIRE_LEN, path, 'entries');
        const stop = r.delimitedEnd(end);
        entries.push(decodeEntry(r, stop, path, entries.length));
        r.pos = stop;
        break;
      }
      case 11:
        if (wt !== WIRE_LEN) expectWire(wt, WIRE_LEN, path, 'context');
        context = copyBytes(r.bytesView(end));
        break;
      case 12: {
        if (wt !== WIRE_LEN) expectWire(wt, WIRE_LEN, path, 'snapshot');
        const stop = r.delimitedEnd(end);
        metadata = decodeSnapshotMetadata(r, stop, `${path}.snapshot`);
        r.pos = stop;
        break;
      }
      default:
        r.skip(wt, end);
    }
  }

  const type = wireType < FROM_WIRE_TYPE.length ? FROM_WIRE_TYPE[wireType] : undefined;
  if (type === undefined) {
    const what = wireType === pb.MessageType.MESSAGE_TYPE_UNSPECIFIED ? 'unspecified message type' : 'unknown message type';
    throw new MalformedMessageError(`${path}.type`, `${what} ${wireType}`);
  }
  checkNodeId(to, () => `${path}.to`);
  checkNodeId(from, () => `${path}.from`);
  safe(term, () => `${path}.term`);
  safe(logTerm, () => `${path}.logTerm`);
  safe(index, () => `${path}.index`);
  safe(commit, () => `${path}.commit`);
  safe(rejectHint, () => `${path}.rejectHint`);

  const n = entries.length;
  if (n > 0) {
    // Indexes of MsgApp entries follow `index`; proposals may leave them all 0.
    let expectIndex = type === 'MsgApp' ? index + 1 : entries[0].index;
    const unindexed = expectIndex === 0;
    let prevTerm = 0;
    for (let i = 0; i < n; i++) {
      const e = entries[i];
      if (unindexed) {
        if (e.index !== 0) throw new MalformedMessageError(`${path}.entries[${i}].index`, `${e.index} is set but entries[0].index is 0`);
        continue;
      }
      if (e.index !== expectIndex) {
        throw new MalformedMessageError(`${path}.entries[${i}].index`, `${e.index} is not contiguous, expected ${expectIndex}`);
      }
      expectIndex++;
      if (e.term < prevTerm) {
        throw new MalformedMessageError(`${path}.entries[${i}].term`, `${e.term} is lower than the previous entry's term ${prevTerm}`);
      }
      prevTerm = e.term;
    }
  }

  const m: Message = { type, to, from, term, logTerm, index, entries, commit, reject, rejectHint, context };
  if (type === 'MsgSnap') {
    if (metadata === undefined) throw new MalformedMessageError(`${path}.snapshot`, 'missing on a MsgSnap');
    m.snapshot = { metadata, data: EMPTY };
  } else if (metadata !== undefined) {
    throw new MalformedMessageError(`${path}.snapshot`, `only a MsgSnap carries a snapshot, not a ${type}`);
  }
  return m;
}

const MESSAGE_FIELD_NAMES = ['', 'type', 'to', 'from', 'term', 'logTerm', 'index', 'entries', 'commit', 'reject', 'rejectHint'];


function wrapWireError(err: unknown, path: string): unknown {
  if (err instanceof WireFormatError) return new MalformedMessageError(path, `cannot decode: ${err.message}`);
  return err;
}

export interface DecodedBatch {
  from: NodeId;
  to: NodeId;
  clusterId: number;
  messages: Message[];
}

/**
 * Decodes a MessageBatch frame, validating each message. Whether the batch is
 * for this member is the caller's check; `checkBatch` then checks that the
 * messages agree with their batch.
 */
export function decodeMessageBatch(frame: Uint8Array): DecodedBatch {
  const r = new WireReader(frame);
  const end = r.buf.byteLength;
  let from = 0;
  let to = 0;
  let clusterId = 0;
  const messages: Message[] = [];
  let path = 'frame';
  try {
    while (r.pos < end) {
      path = 'frame';
      const tag = readTag(r, end);
      const wt = tag & 7;
      switch (tag >>> 3) {
        case 1:
          expectWire(wt, WIRE_VARINT, 'batch', 'from');
          from = r.varint(end);
          break;
        case 2:
          expectWire(wt, WIRE_VARINT, 'batch', 'to');
          to = r.varint(end);
          break;
        case 3:
          expectWire(wt, WIRE_VARINT, 'batch', 'clusterId');
          clusterId = r.varint(end);
          break;
        case 4: {
          expectWire(wt, WIRE_LEN, 'batch', 'messages');
          path = at('messages', messages.length);
          const stop = r.delimitedEnd(end);
          messages.push(decodeMessage(r, stop, path));
          r.pos = stop;
          break;
        }
        default:
          r.skip(wt, end);
      }
    }
  } catch (err) {
    throw wrapWireError(err, path);
  }
  safe(clusterId, () => 'clusterId');
  return { from: checkNodeId(from, () => 'from'), to: checkNodeId(to, () => 'to'), clusterId, messages };
}

/**
 * Checks that every message agrees with its batch; MsgSnap is refused here: it travels over
 * SendSnapshot. A proposal or a read-index request may come from another member: a follower
 * forwards those to its leader unchanged (the leader answers a read to the member that asked), so
 * one that reached a member after leadership moved is forwarded on. Refusing them dropped the
 * whole batch, with the sender's other messages, while leadership changed.
 */
export function checkBatch(batch: DecodedBatch): void {
  const ms = batch.messages;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    if (m.type === 'MsgSnap') throw new MalformedMessageError(`messages[${i}].type`, 'MsgSnap must travel over SendSnapshot');
    const forwarded = m.type === 'MsgProp' || m.type === 'MsgReadIndex';
    if (m.from !== batch.from && !forwarded) throw new MalformedMessageError(`messages[${i}].from`, `${m.from} differs from the batch's from ${batch.from}`);
    if (m.to !== batch.to) throw new MalformedMessageError(`messages[${i}].to`, `${m.to} differs from the batch's to ${batch.to}`);
  }
}

export interface DecodedChunk {
  from: NodeId;
  to: NodeId;
  clusterId: number;
  /** The MsgSnap (metadata only), validated; on the first chunk only. */
  message?: Message;
  offset: number;
  /** A view into the frame. */
  data: Uint8Array;
  last: boolean;
}

/** Decodes a SnapshotChunk frame; a message on it must be a valid MsgSnap. */
export function decodeSnapshotChunk(frame: Uint8Array): DecodedChunk {
  const r = new WireReader(frame);
  const end = r.buf.byteLength;
  const c: DecodedChunk = { from: 0, to: 0, clusterId: 0, offset: 0, data: EMPTY, last: false };
  let path = 'frame';
  try {
    while (r.pos < end) {
      path = 'frame';
      const tag = readTag(r, end);
      const wt = tag & 7;
      switch (tag >>> 3) {
        case 1:
          expectWire(wt, WIRE_VARINT, 'chunk', 'from');
          c.from = r.varint(end);
          break;
        case 2:
          expectWire(wt, WIRE_VARINT, 'chunk', 'to');
          c.to = r.varint(end);
          break;
        case 3:
          expectWire(wt, WIRE_VARINT, 'chunk', 'clusterId');
          c.clusterId = r.varint(end);
          break;
        case 4: {
          expectWire(wt, WIRE_LEN, 'chunk', 'message');
          path = 'message';
          const stop = r.delimitedEnd(end);
          c.message = decodeMessage(r, stop, path);
          r.pos = stop;
          break;
        }
        case 5:
          expectWire(wt, WIRE_VARINT, 'chunk', 'offset');
          c.offset = r.varint(end);
          break;
        case 6:
          expectWire(wt, WIRE_LEN, 'chunk', 'data');
          c.data = r.bytesView(end);
          break;
        case 7:
          expectWire(wt, WIRE_VARINT, 'chunk', 'last');
          c.last = r.varint(end) !== 0;
          break;
        default:
          r.skip(wt, end);
      }
    }
  } catch (err) {
    throw wrapWireError(err, path);
  }
  checkNodeId(c.from, () => 'from');
  checkNodeId(c.to, () => 'to');
  safe(c.clusterId, () => 'clusterId');
  safe(c.offset, () => 'offset');
  if (c.message !== undefined) {
    const m = c.message;
    if (m.type !== 'MsgSnap') throw new MalformedMessageError('message.type', `expected MsgSnap, got ${m.type}`);
    if (m.from !== c.from) throw new MalformedMessageError('message.from', `${m.from} differs from the chunk's from ${c.from}`);
    if (m.to !== c.to) throw new MalformedMessageError('message.to', `${m.to} differs from the chunk's to ${c.to}`);
  }
  return c;
}
