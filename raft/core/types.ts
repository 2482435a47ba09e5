// The vocabulary of the Raft core. Plain data only: the transport and the
// storage convert these to and from their own encodings.

export type NodeId = number;

/** 0 means "none" for ids, terms and indexes, as in the Raft paper. */
export const NONE = 0;

export type EntryType = 'normal' | 'confChange';

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

/** Membership. Changes are one member at a time (see conf_change.ts). */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

export type MessageType =
  | 'MsgHup' // local: start an election
  | 'MsgProp' // local or follower -> leader: propose entries
  | 'MsgApp'
  | 'MsgAppResp'
  | 'MsgVote'
  | 'MsgVoteResp'
  | 'MsgPreVote'
  | 'MsgPreVoteResp'
  | 'MsgSnap'
  | 'MsgHeartbeat'
  | 'MsgHeartbeatResp'
  | 'MsgTimeoutNow'
  | 'MsgTransferLeader' // local: ask the leader to hand over to `from`
  | 'MsgReadIndex'
  | 'MsgReadIndexResp'
  | 'MsgSnapStatus' // local: the driver reports how sending a snapshot went
  | 'MsgUnreachable'; // local: the driver reports a peer it could not reach

/** The message types that travel between members (the others are local). */
export const WIRE_MESSAGE_TYPES: readonly MessageType[] = [
  'MsgProp',
  'MsgApp',
  'MsgAppResp',
  'MsgVote',
  'MsgVoteResp',
  'MsgPreVote',
  'MsgPreVoteResp',
  'MsgSnap',
  'MsgHeartbeat',
  'MsgHeartbeatResp',
  'MsgTimeoutNow',
  'MsgReadIndex',
  'MsgReadIndexResp',
];

export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  term: number;
  /** MsgApp: term of the entry at `index`. Votes: term of the candidate's last entry. */
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  reject: boolean;
  /** MsgAppResp reject: the follower's hint for where to probe next. */
  rejectHint: number;
  /** ReadIndex request id, or a campaign marker on votes caused by a leadership transfer. */
  context: Uint8Array;
  snapshot?: Snapshot;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export interface SoftState {
  lead: NodeId;
  role: Role;
}

export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

/**
 * What the driver must do next, in order: persist `hardState`, `entries`
 * and `snapshot` (synced when `mustSync`), then send `messages`, then apply
 * `committedEntries`, then call `advance()`.
 */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  readStates: ReadState[];
  entries: Entry[];
  snapshot?: Snapshot;
  committedEntries: Entry[];
  messages: Message[];
  mustSync: boolean;
}

export function emptyHardState(): HardState {
  return { term: 0, vote: NONE, commit: 0 };
}

export function isEmptyHardState(h: HardState): boolean {
  return h.term === 0 && h.vote === NONE && h.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export function emptySnapshot(): Snapshot {
  return { metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: new Uint8Array(0) };
}

export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

const EMPTY_BYTES = new Uint8Array(0);

/** A message with every field at its zero value but the ones given. */
export function message(fields: Partial<Message> & Pick<Message, 'type'>): Message {
  return {
    to: NONE,
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: EMPTY_BYTES,
    ...fields,
  };
}

/** Payload bytes, used to bound batches and in-flight windows. */
export function entrySizeBytes(e: Entry): number {
  return e.data.byteLength + 24;
}
