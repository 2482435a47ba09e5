import { ProposalDroppedError } from '../core/errors.js';
import type { NodeId } from '../core/types.js';

/** This member does not lead; `leaderId` (0 when unknown) is where to retry. */
export class NotLeaderError extends ProposalDroppedError {
  override name = 'NotLeaderError';
  constructor(
    readonly memberId: NodeId,
    readonly leaderId: NodeId,
  ) {
    super(leaderId === 0 ? `member ${memberId} knows no leader` : `member ${memberId} is not the leader (the leader is ${leaderId})`);
  }
}

/** The request's outcome is unknown: it may still take effect. */
export class RaftTimeoutError extends Error {
  override name = 'RaftTimeoutError';
}

export class RaftStoppedError extends Error {
  override name = 'RaftStoppedError';
}
