// The RaftTransport service with raw-bytes requests: the transport encodes
// and decodes frames itself, so it can size batches exactly and turn a
// garbage frame into a logged rejection instead of a gRPC internal error.

import type { ServiceDefinition } from '@grpc/grpc-js';
import { RaftTransportService, StreamAck } from '../../gen/navarch/raft/v1/raft.js';

const identity = (b: Buffer): Buffer => b;

export const STREAM_PATH = RaftTransportService.stream.path;
export const SEND_SNAPSHOT_PATH = RaftTransportService.sendSnapshot.path;

export const rawRaftTransportService: ServiceDefinition = {
  stream: {
    path: STREAM_PATH,
    requestStream: true,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: (v: StreamAck) => Buffer.from(StreamAck.encode(v).finish()),
    responseDeserialize: (b: Buffer) => StreamAck.decode(b),
  },
  sendSnapshot: {
    path: SEND_SNAPSHOT_PATH,
    requestStream: true,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: (v: StreamAck) => Buffer.from(StreamAck.encode(v).finish()),
    responseDeserialize: (b: Buffer) => StreamAck.decode(b),
  },
};

export const rawIdentity = identity;
export const decodeAck = (b: Buffer): StreamAck => StreamAck.decode(b);
