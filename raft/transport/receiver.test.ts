// Hostile and broken peers, played by a raw gRPC client against a real server.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client, credentials, status, type ServiceError } from '@grpc/grpc-js';
import * as pb from '../../gen/navarch/raft/v1/raft.js';
import { message, type Message } from '../core/types.js';
import { encodeMessageBatch, encodeSnapshotChunk } from './codec.js';
import { MiB } from './options.js';
import { SEND_SNAPSHOT_PATH, STREAM_PATH, decodeAck, rawIdentity } from './service.js';
import { startMember, waitFor, type Member } from './test_helpers.js';

const CLUSTER = 7;

function heartbeat(term: number, to = 2): Message {
  return message({ type: 'MsgHeartbeat', from: 1, to, term });
}

function batchFrame(messages: pb.Message[], fields: Partial<pb.MessageBatch> = {}): Buffer {
  return Buffer.from(pb.MessageBatch.encode({ from: 1, to: 2, clusterId: CLUSTER, messages, ...fields }).finish());
}

function snapMessage(): Message {
  return message({
    type: 'MsgSnap',
    from: 1,
    to: 2,
    term: 3,
    snapshot: { metadata: { index: 50, term: 3, confState: { voters: [1, 2], learners: [] } }, data: new Uint8Array(0) },
  });
}

function chunk(fields: { message?: Message; offset: number; data: Uint8Array; last: boolean }): Buffer {
  return encodeSnapshotChunk({ from: 1, to: 2, clusterId: CLUSTER, ...fields });
}

describe('RaftTransport server under bad input', () => {
  let server: Member;
  let sender: Member;
  let client: Client;
  let validTerm = 100;

  /** Opens a call, writes the frames, ends it, and resolves with its status code. */
  function rawCall(path: string, frames: Buffer[]): Promise<{ code: number; details: string }> {
    return new Promise((resolve) => {
      const call = client.makeClientStreamRequest<Buffer, unknown>(path, rawIdentity, decodeAck, (err: ServiceError | null) =>
        resolve(err === null ? { code: status.OK, details: '' } : { code: err.code, details: err.details }),
      );
      call.on('error', () => {});
      for (const f of frames) call.write(f);
      call.end();
    });
  }

  /** What arrived apart from assertStillServing's heartbeats (terms above 100). */
  function probeless(): Message[] {
    return server.recorder.messages.filter((m) => m.term < 100);
  }

  /** Valid traffic from a real transport still gets through. */
  async function assertStillServing(): Promise<void> {
    const term = ++validTerm;
    sender.transport.send([heartbeat(term)]);
    await waitFor(`heartbeat ${term}`, () => server.recorder.messages.some((m) => m.term === term), {
      poke: () => sender.transport.send([heartbeat(term)]),
    });
  }

  before(async () => {
    server = await startMember(2, { limits: { maxFrameBytes: 2 * MiB, maxSnapshotBytes: 3 * MiB } });
    sender = await startMember(1);
    sender.transport.addPeer(2, server.transport.address);
    client = new Client(server.transport.address, credentials.createInsecure());
    await assertStillServing();
  });

  after(async () => {
    client.close();
    await Promise.all([server.transport.stop(), sender.transport.stop()]);
  });

  it('rejects garbage bytes with INVALID_ARGUMENT and keeps serving', async () => {
    const res = await rawCall(STREAM_PATH, [Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]);
    assert.equal(res.code, status.INVALID_ARGUMENT);
    assert.match(res.details, /frame: cannot decode/);
    assert.ok(server.logger.has('warn', 'Rejected a malformed message batch'));
    await assertStillServing();
  });

  it('rejects an invalid message type naming the field, delivering nothing from that batch', async () => {
    const before = probeless().length;
    const good = pb.Message.fromPartial({ type: pb.MessageType.MESSAGE_TYPE_HEARTBEAT, from: 1, to: 2, term: 1 });
    const bad = { ...good, type: 42 as pb.MessageType };
    const res = await rawCall(STREAM_PATH, [batchFrame([good, bad])]);
    assert.equal(res.code, status.INVALID_ARGUMENT);
    assert.match(res.details, /messages\[1\]\.type: unknown message type 42/);
    assert.equal(probeless().length, before);
    await assertStillServing();
  });

  it('drops batches for another member or cluster and keeps the stream open', async () => {
    const misaddressedBefore = server.transport.stats().misaddressedBatches;
    const res = await rawCall(STREAM_PATH, [
      encodeMessageBatch(1, 3, CLUSTER, [heartbeat(500, 3)]),
      encodeMessageBatch(1, 2, CLUSTER + 1, [heartbeat(501)]),
      encodeMessageBatch(1, 2, CLUSTER, [heartbeat(502)]),
    ]);
    assert.equal(res.code, status.OK);
    const terms = server.recorder.messages.map((m) => m.term);
    assert.ok(!terms.includes(500) && !terms.includes(501));
    assert.ok(terms.includes(502));
    assert.equal(server.transport.stats().misaddressedBatches, misaddressedBefore + 2);
    assert.ok(server.logger.has('warn', 'Dropped a message batch'));
  });

  it('lets gRPC refuse a frame over maxFrameBytes', async () => {
    const huge = message({
      type: 'MsgApp',
      from: 1,
      to: 2,
      term: 1,
      index: 0,
      entries: [{ term: 1, index: 1, type: 'normal', data: new Uint8Array(3 * MiB) }],
    });
    const res = await rawCall(STREAM_PATH, [encodeMessageBatch(1, 2, CLUSTER, [huge])]);
    assert.equal(res.code, status.RESOURCE_EXHAUSTED);
    await assertStillServing();
  });

  it('refuses snapshot chunks out of order and delivers nothing', async () => {
    const before = probeless().length;
    const res = await rawCall(SEND_SNAPSHOT_PATH, [
      chunk({ message: snapMessage(), offset: 0, data: Buffer.from('abc'), last: false }),
      chunk({ offset: 5, data: Buffer.from('def'), last: true }),
    ]);
    assert.equal(res.code, status.INVALID_ARGUMENT);
    assert.match(res.details, /offset: 5 does not follow the 3 bytes received so far/);
    assert.equal(probeless().length, before);
    await assertStillServing();
  });

  it('refuses a snapshot without its message, or that ends early, or that is too big', async () => {
    const before = probeless().length;
    const noMessage = await rawCall(SEND_SNAPSHOT_PATH, [chunk({ offset: 0, data: Buffer.from('x'), last: true })]);
    assert.equal(noMessage.code, status.INVALID_ARGUMENT);
    assert.match(noMessage.details, /message: missing on the first chunk/);

    const early = await rawCall(SEND_SNAPSHOT_PATH, [chunk({ message: snapMessage(), offset: 0, data: Buffer.from('x'), last: false })]);
    assert.equal(early.code, status.INVALID_ARGUMENT);
    assert.match(early.details, /the stream ended before the last chunk/);

    const piece = new Uint8Array(1 * MiB);
    const frames = [chunk({ message: snapMessage(), offset: 0, data: piece, last: false })];
    for (let i = 1; i <= 4; i++) frames.push(chunk({ offset: i * MiB, data: piece, last: i === 4 }));
    const big = await rawCall(SEND_SNAPSHOT_PATH, frames);
    assert.equal(big.code, status.RESOURCE_EXHAUSTED);

    assert.equal(probeless().length, before);
    await assertStillServing();
  });

  it('accepts a well-formed snapshot from a raw client', async () => {
    const res = await rawCall(SEND_SNAPSHOT_PATH, [
      chunk({ message: snapMessage(), offset: 0, data: Buffer.from('hello '), last: false }),
      chunk({ offset: 6, data: Buffer.from('world'), last: true }),
    ]);
    assert.equal(res.code, status.OK);
    const snap = server.recorder.messages.find((m) => m.type === 'MsgSnap');
    assert.equal(Buffer.from(snap!.snapshot!.data).toString(), 'hello world');
  });
});
