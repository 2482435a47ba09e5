import type { ConfState, NodeId } from './types.js';

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
  /**
   * The configuration after this change, stamped by the leader that appends
   * it. The initial configuration is not in the log (it is the bootstrap
   * snapshot at index 0), so a member that joins with an empty log and
   * replays the changes from index 1 would otherwise rebuild it wrongly.
   */
  confState?: ConfState;
}

/** The configuration after cc, or undefined when cc would leave no voters. */
export function changedConfState(cs: ConfState, cc: ConfChange): ConfState | undefined {
  const voters = new Set(cs.voters);
  const learners = new Set(cs.learners);
  switch (cc.type) {
    case 'addVoter':
      learners.delete(cc.nodeId);
      voters.add(cc.nodeId);
      break;
    case 'addLearner':
      if (!voters.has(cc.nodeId)) learners.add(cc.nodeId);
      break;
    case 'removeNode':
      voters.delete(cc.nodeId);
      learners.delete(cc.nodeId);
      break;
  }
  if (voters.size === 0) return undefined;
  return { voters: [...voters].sort((a, b) => a - b), learners: [...learners].sort((a, b) => a - b) };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const s = cc.confState ? { v: cc.confState.voters, l: cc.confState.learners } : undefined;
  return encoder.encode(JSON.stringify({ t: cc.type, n: cc.nodeId, c: cc.context, s }));
}

function decodeIds(what: string, raw: unknown): NodeId[] {
  if (!Array.isArray(raw) || !raw.every((x) => typeof x === 'number' && Number.isInteger(x) && x > 0)) {
    throw new TypeError(`Cannot decode configuration change: ${what} ${JSON.stringify(raw)} is not a list of positive integers`);
  }
  return raw as NodeId[];
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const raw = JSON.parse(decoder.decode(data)) as { t?: unknown; n?: unknown; c?: unknown; s?: { v?: unknown; l?: unknown } };
  if (raw.t !== 'addVoter' && raw.t !== 'addLearner' && raw.t !== 'removeNode') {
    throw new TypeError(`Cannot decode configuration change: type ${JSON.stringify(raw.t)} is not addVoter, addLearner or removeNode`);
  }
  if (typeof raw.n !== 'number' || !Number.isInteger(raw.n) || raw.n <= 0) {
    throw new TypeError(`Cannot decode configuration change: nodeId ${JSON.stringify(raw.n)} is not a positive integer`);
  }
  const cc: ConfChange = { type: raw.t, nodeId: raw.n, context: typeof raw.c === 'string' ? raw.c : '' };
  if (raw.s !== undefined && raw.s !== null) {
    cc.confState = { voters: decodeIds('voters', raw.s.v), learners: decodeIds('learners', raw.s.l) };
  }
  return cc;
}
