/** Counters a transport keeps; read them through GrpcTransport.stats(). */
export interface TransportStats {
  sentMessages: number;
  sentBatches: number;
  /** Messages dropped on the send side: full queue, unknown peer, not running, or too large. */
  droppedMessages: number;
  /** MsgSnap dropped because one was already in flight to that peer. */
  droppedSnapshots: number;
  snapshotsSent: number;
  snapshotsFailed: number;
  /** Streams to peers that failed or closed; each is followed by a reconnect. */
  streamFailures: number;
  receivedMessages: number;
  receivedBatches: number;
  snapshotsReceived: number;
  /** Frames refused as malformed (the stream is closed with INVALID_ARGUMENT). */
  rejectedFrames: number;
  /** Batches for another member or cluster, dropped. */
  misaddressedBatches: number;
}

export function emptyStats(): TransportStats {
  return {
    sentMessages: 0,
    sentBatches: 0,
    droppedMessages: 0,
    droppedSnapshots: 0,
    snapshotsSent: 0,
    snapshotsFailed: 0,
    streamFailures: 0,
    receivedMessages: 0,
    receivedBatches: 0,
    snapshotsReceived: 0,
    rejectedFrames: 0,
    misaddressedBatches: 0,
  };
}
