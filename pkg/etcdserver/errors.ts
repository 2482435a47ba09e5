// Errors as etcd v3 clients expect them: the gRPC code and exact message of
// etcd's rpctypes (clientv3 matches on the message text), plus the
// `navarch-leader` trailer our own clients use to find the leader.

import { Metadata, status as Code, type StatusObject } from '@grpc/grpc-js';
import { ProposalDroppedError } from '../../raft/core/errors.js';
import { NotLeaderError, RaftStoppedError, RaftTimeoutError } from '../../raft/node/errors.js';
import { StoreError } from '../store/mod.js';

export type GrpcError = Partial<StatusObject> & { code: Code; details: string };

export function grpcError(code: Code, details: string, leader = 0): GrpcError {
  const metadata = new Metadata();
  if (leader > 0) metadata.set('navarch-leader', String(leader));
  return { code, details, metadata };
}

export const ERR_COMPACTED = 'etcdserver: mvcc: required revision has been compacted';
export const ERR_FUTURE_REV = 'etcdserver: mvcc: required revision is a future revision';
export const ERR_NO_SPACE = 'etcdserver: mvcc: database space exceeded';
export const ERR_LEASE_NOT_FOUND = 'etcdserver: requested lease not found';
export const ERR_NO_LEADER = 'etcdserver: no leader';
export const ERR_LEADER_CHANGED = 'etcdserver: leader changed';
export const ERR_TIMEOUT = 'etcdserver: request timed out';
export const ERR_REQUEST_TOO_LARGE = 'etcdserver: request is too large';
export const ERR_STOPPED = 'etcdserver: server stopped';

/** A StoreError or Raft error as the status etcd would return. */
export function toGrpcError(e: unknown): GrpcError {
  if (e instanceof StoreError) {
    switch (e.code) {
      case 'Compacted':
        return grpcError(Code.OUT_OF_RANGE, ERR_COMPACTED);
      case 'FutureRevision':
        return grpcError(Code.OUT_OF_RANGE, ERR_FUTURE_REV);
      case 'QuotaExceeded':
        return grpcError(Code.RESOURCE_EXHAUSTED, ERR_NO_SPACE);
      case 'LeaseNotFound':
        return grpcError(Code.NOT_FOUND, ERR_LEASE_NOT_FOUND);
      case 'LeaseExists':
        return grpcError(Code.FAILED_PRECONDITION, 'etcdserver: lease already exists');
      case 'KeyNotFound':
        return grpcError(Code.INVALID_ARGUMENT, 'etcdserver: key not found');
      default:
        if (/key is not provided/.test(e.message)) return grpcError(Code.INVALID_ARGUMENT, 'etcdserver: key is not provided');
        if (/exceed the limit of \d+ \(maxTxnOps\)/.test(e.message)) return grpcError(Code.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request');
        if (/duplicate key/.test(e.message)) return grpcError(Code.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request');
        return grpcError(Code.INVALID_ARGUMENT, `etcdserver: ${e.message}`);
    }
  }
  if (e instanceof NotLeaderError) return grpcError(Code.UNAVAILABLE, e.leaderId === 0 ? ERR_NO_LEADER : ERR_LEADER_CHANGED, e.leaderId);
  if (e instanceof ProposalDroppedError) return grpcError(Code.UNAVAILABLE, ERR_LEADER_CHANGED);
  if (e instanceof RaftTimeoutError) return grpcError(Code.UNAVAILABLE, ERR_TIMEOUT);
  if (e instanceof RaftStoppedError) return grpcError(Code.UNAVAILABLE, ERR_STOPPED);
  const g = e as Partial<GrpcError>;
  if (typeof g?.code === 'number' && typeof g.details === 'string') return { code: g.code, details: g.details, metadata: g.metadata };
  return grpcError(Code.INTERNAL, (e as Error)?.message ?? String(e));
}
