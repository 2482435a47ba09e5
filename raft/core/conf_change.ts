import type { NodeId } from './types.js';

/**
 * Membership changes are made one member at a time, and a change takes
 * effect when its entry is applied. With one change at a time, any two
 * successive configurations share a majority, so two leaders cannot be
 * elected in one term by disjoint majorities. The known flaw of this scheme
 * (Ongaro, raft-dev 2015: a new leader that has not yet committed an entry of
 * its own term can lose a change made by a deposed leader) is closed the
 * documented way: a leader accepts no change until the empty entry it
 * appended on election is applied, and never while another is pending.
 * Joint consensus would allow arbitrary changes in one step; operators add
 * or remove one master at a time, so we keep the simpler proven scheme.
 */
export type ConfChangeType = 'addVoter' | 'addLearner' | 'removeNode';

export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  /** Opaque to Raft: the driver puts the member's address here. */
  context: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify({ t: cc.type, n: cc.nodeId, c: cc.context }));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const raw = JSON.parse(decoder.decode(data)) as { t?: unknown; n?: unknown; c?: unknown };
  if (raw.t !== 'addVoter' && raw.t !== 'addLearner' && raw.t !== 'removeNode') {
    throw new TypeError(`Cannot decode configuration change: type ${JSON.stringify(raw.t)} is not addVoter, addLearner or removeNode`);
  }
  if (typeof raw.n !== 'number' || !Number.isInteger(raw.n) || raw.n <= 0) {
    throw new TypeError(`Cannot decode configuration change: nodeId ${JSON.stringify(raw.n)} is not a positive integer`);
  }
  return { type: raw.t, nodeId: raw.n, context: typeof raw.c === 'string' ? raw.c : '' };
}
