// Conversion between raft/core's plain types and the wire form in
// proto/navarch/raft/v1/raft.proto. Encoding writes protobuf directly from
// core objects (no intermediate proto objects); decoding uses the generated
// decoder and then validates every field before the core sees it.

import { BinaryWriter } from '@bufbuild/protobuf/wire';
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

// Varints below 2^32 encode the same as uint32, which skips the 64-bit split.
function u64(w: BinaryWriter, tag: number, v: number): void {
  if (v === 0) return;
  w.uint32(tag);
  if (v <= 0xffffffff) w.uint32(v);
  else w.uint64(v);
}

function writeConfState(w: BinaryWriter, cs: ConfState): void {
  for (const v of cs.voters) w.uint32(8).uint64(v);
  for (const l of cs.learners) w.uint32(16).uint64(l);
}

function writeSnapshotMetadata(w: BinaryWriter, md: SnapshotMetadata): void {
  u64(w, 8, md.index);
  u64(w, 16, md.term);
  w.uint32(26).fork();
  writeConfState(w, md.confState);
  w.join();
}

function writeEntry(w: BinaryWriter, e: Entry): void {
  u64(w, 8, e.term);
  u64(w, 16, e.index);
  if (e.type === 'confChange') w.uint32(24).uint32(pb.EntryType.ENTRY_TYPE_CONF_CHANGE);
  if (e.data.byteLength !== 0) w.uint32(34).bytes(e.data);
}

/**
 * Writes the body of a pb.Message. The snapshot's data is not written: it
 * travels in SnapshotChunk frames.
 */
function writeMessage(w: BinaryWriter, m: Message): void {
  const t = TO_WIRE_TYPE[m.type];
  if (t === undefined || !WIRE_TYPE_SET.has(m.type)) {
    throw new MalformedMessageError('type', `"${m.type}" is local to a node and never travels between members`);
  }
  w.uint32(8).uint32(t);
  u64(w, 16, m.to);
  u64(w, 24, m.from);
  u64(w, 32, m.term);
  u64(w, 40, m.logTerm);
  u64(w, 48, m.index);
  const es = m.entries;
  for (let i = 0; i < es.length; i++) {
    w.uint32(58).fork();
    writeEntry(w, es[i]);
    w.join();
  }
  u64(w, 64, m.commit);
  if (m.reject) w.uint32(72).bool(true);
  u64(w, 80, m.rejectHint);
  if (m.context.byteLength !== 0) w.uint32(90).bytes(m.context);
  if (m.snapshot !== undefined) {
    w.uint32(98).fork();
    writeSnapshotMetadata(w, m.snapshot.metadata);
    w.join();
  }
}

/** Builds one MessageBatch frame at a time; reuse one per peer. */
export class BatchEncoder {
  private w = new BinaryWriter();
  private count = 0;

  begin(from: NodeId, to: NodeId, clusterId: number): void {
    this.w = new BinaryWriter();
    this.count = 0;
    u64(this.w, 8, from);
    u64(this.w, 16, to);
    u64(this.w, 24, clusterId);
  }

  add(m: Message): void {
    this.w.uint32(34).fork();
    writeMessage(this.w, m);
    this.w.join();
    this.count++;
  }

  get messageCount(): number {
    return this.count;
  }

  finish(): Buffer {
    const bytes = this.w.finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
  const w = new BinaryWriter();
  u64(w, 8, c.from);
  u64(w, 16, c.to);
  u64(w, 24, c.clusterId);
  if (c.message !== undefined) {
    w.uint32(34).fork();
    writeMessage(w, c.message);
    w.join();
  }
  u64(w, 40, c.offset);
  if (c.data.byteLength !== 0) w.uint32(50).bytes(c.data);
  if (c.last) w.uint32(56).bool(true);
  const bytes = w.finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function decodeError(what: string, err: unknown): MalformedMessageError {
  const reason = err instanceof Error ? err.message : String(err);
  return new MalformedMessageError('frame', `cannot decode ${what}: ${reason}`);
}

/** Decodes a MessageBatch frame; the result still needs `validateBatchMessages`. */
export function decodeMessageBatch(bytes: Uint8Array): pb.MessageBatch {
  try {
    return pb.MessageBatch.decode(bytes);
  } catch (err) {
    throw decodeError('MessageBatch', err);
  }
}

/** Decodes a SnapshotChunk frame; the message on it still needs `messageFromWire`. */
export function decodeSnapshotChunk(bytes: Uint8Array): pb.SnapshotChunk {
  try {
    return pb.SnapshotChunk.decode(bytes);
  } catch (err) {
    throw decodeError('SnapshotChunk', err);
  }
}

export function checkUint(v: number, field: string): number {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new MalformedMessageError(field, `"${v}" is not a non-negative integer`);
  }
  return v;
}

function checkNodeId(v: number, field: string): NodeId {
  checkUint(v, field);
  if (v === 0) throw new MalformedMessageError(field, 'node id 0 is not a member');
  return v;
}

function entryTypeFromWire(t: number, field: string): EntryType {
  if (t === pb.EntryType.ENTRY_TYPE_NORMAL) return 'normal';
  if (t === pb.EntryType.ENTRY_TYPE_CONF_CHANGE) return 'confChange';
  throw new MalformedMessageError(field, `unknown entry type ${t}`);
}

function confStateFromWire(cs: pb.ConfState | undefined, field: string): ConfState {
  if (cs === undefined) throw new MalformedMessageError(field, 'missing');
  const seen = new Set<number>();
  const voters: NodeId[] = [];
  const learners: NodeId[] = [];
  for (let i = 0; i < cs.voters.length; i++) {
    const id = checkNodeId(cs.voters[i], `${field}.voters[${i}]`);
    if (seen.has(id)) throw new MalformedMessageError(`${field}.voters[${i}]`, `duplicate member ${id}`);
    seen.add(id);
    voters.push(id);
  }
  for (let i = 0; i < cs.learners.length; i++) {
    const id = checkNodeId(cs.learners[i], `${field}.learners[${i}]`);
    if (seen.has(id)) throw new MalformedMessageError(`${field}.learners[${i}]`, `duplicate member ${id}`);
    seen.add(id);
    learners.push(id);
  }
  return { voters, learners };
}

export function snapshotMetadataFromWire(md: pb.SnapshotMetadata, field: string): SnapshotMetadata {
  const index = checkUint(md.index, `${field}.index`);
  const term = checkUint(md.term, `${field}.term`);
  if (index === 0) throw new MalformedMessageError(`${field}.index`, 'a snapshot must have a positive index');
  if (term === 0) throw new MalformedMessageError(`${field}.term`, 'a snapshot must have a positive term');
  return { index, term, confState: confStateFromWire(md.confState, `${field}.confState`) };
}

const EMPTY = new Uint8Array(0);

/**
 * Validates a wire message and converts it to the core's form. `field` is
 * the path used in errors, e.g. "messages[3]". The returned MsgSnap carries
 * the snapshot metadata with empty data; the receiver fills the data in.
 */
export function messageFromWire(pm: pb.Message, field: string): Message {
  const type = pm.type >= 0 ? FROM_WIRE_TYPE[pm.type] : undefined;
  if (type === undefined) {
    const what = pm.type === pb.MessageType.MESSAGE_TYPE_UNSPECIFIED ? 'unspecified message type' : 'unknown message type';
    throw new MalformedMessageError(`${field}.type`, `${what} ${pm.type}`);
  }
  const to = checkNodeId(pm.to, `${field}.to`);
  const from = checkNodeId(pm.from, `${field}.from`);
  const term = checkUint(pm.term, `${field}.term`);
  const logTerm = checkUint(pm.logTerm, `${field}.logTerm`);
  const index = checkUint(pm.index, `${field}.index`);
  const commit = checkUint(pm.commit, `${field}.commit`);
  const rejectHint = checkUint(pm.rejectHint, `${field}.rejectHint`);

  const n = pm.entries.length;
  const entries: Entry[] = n === 0 ? [] : new Array<Entry>(n);
  // Indexes of MsgApp entries follow `index`; proposals may leave them all 0.
  let expectIndex = type === 'MsgApp' ? index + 1 : n > 0 ? pm.entries[0].index : 0;
  const unindexed = type !== 'MsgApp' && expectIndex === 0;
  let prevTerm = 0;
  for (let i = 0; i < n; i++) {
    const pe = pm.entries[i];
    const ef = `${field}.entries[${i}]`;
    const eTerm = checkUint(pe.term, `${ef}.term`);
    const eIndex = checkUint(pe.index, `${ef}.index`);
    if (unindexed) {
      if (eIndex !== 0) throw new MalformedMessageError(`${ef}.index`, `${eIndex} is set but entries[0].index is 0`);
    } else {
      if (eIndex !== expectIndex) {
        throw new MalformedMessageError(`${ef}.index`, `${eIndex} is not contiguous, expected ${expectIndex}`);
      }
      expectIndex++;
      if (eTerm < prevTerm) {
        throw new MalformedMessageError(`${ef}.term`, `${eTerm} is lower than the previous entry's term ${prevTerm}`);
      }
      prevTerm = eTerm;
    }
    entries[i] = { term: eTerm, index: eIndex, type: entryTypeFromWire(pe.type, `${ef}.type`), data: pe.data };
  }

  const m: Message = {
    type,
    to,
    from,
    term,
    logTerm,
    index,
    entries,
    commit,
    reject: pm.reject,
    rejectHint,
    context: pm.context.byteLength === 0 ? EMPTY : pm.context,
  };
  if (type === 'MsgSnap') {
    if (pm.snapshot === undefined) throw new MalformedMessageError(`${field}.snapshot`, 'missing on a MsgSnap');
    m.snapshot = { metadata: snapshotMetadataFromWire(pm.snapshot, `${field}.snapshot`), data: EMPTY };
  } else if (pm.snapshot !== undefined) {
    throw new MalformedMessageError(`${field}.snapshot`, `only a MsgSnap carries a snapshot, not a ${type}`);
  }
  return m;
}

/**
 * Validates every message of a batch addressed to `localId` from the batch's
 * sender and converts it. MsgSnap is refused here: it travels over SendSnapshot.
 */
export function validateBatchMessages(batch: pb.MessageBatch): Message[] {
  const from = checkNodeId(batch.from, 'from');
  const to = checkNodeId(batch.to, 'to');
  const out = new Array<Message>(batch.messages.length);
  for (let i = 0; i < batch.messages.length; i++) {
    const f = `messages[${i}]`;
    const m = messageFromWire(batch.messages[i], f);
    if (m.type === 'MsgSnap') throw new MalformedMessageError(`${f}.type`, 'MsgSnap must travel over SendSnapshot');
    if (m.from !== from) throw new MalformedMessageError(`${f}.from`, `${m.from} differs from the batch's from ${from}`);
    if (m.to !== to) throw new MalformedMessageError(`${f}.to`, `${m.to} differs from the batch's to ${to}`);
    out[i] = m;
  }
  return out;
}
