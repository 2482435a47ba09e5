import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import * as pb from '../../gen/navarch/raft/v1/raft.js';
import { message, WIRE_MESSAGE_TYPES, type Message, type MessageType } from '../core/types.js';
import {
  MalformedMessageError,
  decodeMessageBatch,
  decodeSnapshotChunk,
  encodeMessageBatch,
  encodeSnapshotChunk,
  isWireMessageType,
  messageFromWire,
  messageSizeBytes,
  validateBatchMessages,
} from './codec.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s));

function app(): Message {
  return message({
    type: 'MsgApp',
    to: 2,
    from: 1,
    term: 7,
    logTerm: 6,
    index: 10,
    commit: 9,
    entries: [
      { term: 6, index: 11, type: 'normal', data: bytes('a') },
      { term: 7, index: 12, type: 'confChange', data: bytes('cc') },
      { term: 7, index: 13, type: 'normal', data: new Uint8Array(0) },
    ],
    context: bytes('ctx'),
  });
}

function roundTrip(ms: Message[]): Message[] {
  return validateBatchMessages(decodeMessageBatch(encodeMessageBatch(1, 2, 99, ms)));
}

function wire(overrides: Partial<pb.Message>): pb.Message {
  return pb.Message.fromPartial({ type: pb.MessageType.MESSAGE_TYPE_HEARTBEAT, to: 2, from: 1, term: 1, ...overrides });
}

function batchOf(messages: pb.Message[]): pb.MessageBatch {
  return { from: 1, to: 2, clusterId: 99, messages };
}

function assertMalformed(fn: () => unknown, text: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof MalformedMessageError, `expected MalformedMessageError, got ${String(err)}`);
    assert.equal(err.message, text);
    return true;
  });
}

describe('codec', () => {
  it('round-trips every wire message type with all fields', () => {
    for (const type of WIRE_MESSAGE_TYPES) {
      if (type === 'MsgSnap') continue;
      const m =
        type === 'MsgApp'
          ? app()
          : message({ type, to: 2, from: 1, term: 3, logTerm: 2, index: 5, commit: 4, reject: true, rejectHint: 3, context: bytes('x') });
      const [got] = roundTrip([m]);
      assert.deepEqual({ ...got, context: [...got.context], entries: got.entries.map((e) => ({ ...e, data: [...e.data] })) }, {
        ...m,
        context: [...m.context],
        entries: m.entries.map((e) => ({ ...e, data: [...e.data] })),
      });
    }
  });

  it('keeps large terms and indexes above 2^32', () => {
    const big = 2 ** 40 + 3;
    const [got] = roundTrip([message({ type: 'MsgHeartbeat', to: 2, from: 1, term: big, commit: big - 1 })]);
    assert.equal(got.term, big);
    assert.equal(got.commit, big - 1);
  });

  it('keeps the order of messages in a batch', () => {
    const ms = Array.from({ length: 50 }, (_, i) => message({ type: 'MsgHeartbeat', to: 2, from: 1, term: i + 1 }));
    assert.deepEqual(
      roundTrip(ms).map((m) => m.term),
      ms.map((m) => m.term),
    );
  });

  it('accepts proposals whose entries have no index yet', () => {
    const m = message({
      type: 'MsgProp',
      to: 2,
      from: 1,
      entries: [
        { term: 0, index: 0, type: 'normal', data: bytes('p1') },
        { term: 0, index: 0, type: 'normal', data: bytes('p2') },
      ],
    });
    assert.equal(roundTrip([m])[0].entries.length, 2);
  });

  it('refuses to encode a local-only message type', () => {
    assertMalformed(
      () => encodeMessageBatch(1, 2, 1, [message({ type: 'MsgHup', to: 2, from: 1 })]),
      'type: "MsgHup" is local to a node and never travels between members',
    );
    assert.equal(isWireMessageType('MsgHup'), false);
    assert.equal(isWireMessageType('MsgUnreachable' as MessageType), false);
    assert.equal(isWireMessageType('MsgApp'), true);
  });

  it('rejects an unknown message type naming the message', () => {
    const ms = [wire({}), wire({}), wire({}), wire({ type: 42 as pb.MessageType })];
    assertMalformed(() => validateBatchMessages(batchOf(ms)), 'messages[3].type: unknown message type 42');
  });

  it('rejects an unspecified message type', () => {
    assertMalformed(() => validateBatchMessages(batchOf([wire({ type: 0 })])), 'messages[0].type: unspecified message type 0');
  });

  it('rejects negative and fractional numbers', () => {
    assertMalformed(() => messageFromWire(wire({ term: -1 }), 'm'), 'm.term: "-1" is not a non-negative integer');
    assertMalformed(() => messageFromWire(wire({ commit: 1.5 }), 'm'), 'm.commit: "1.5" is not a non-negative integer');
    assertMalformed(() => messageFromWire(wire({ from: 0 }), 'm'), 'm.from: node id 0 is not a member');
  });

  it('rejects entries that are not contiguous', () => {
    const entries = [
      { term: 1, index: 6, type: 0, data: Buffer.alloc(0) },
      { term: 1, index: 8, type: 0, data: Buffer.alloc(0) },
    ];
    assertMalformed(
      () => messageFromWire(wire({ type: pb.MessageType.MESSAGE_TYPE_APP, index: 5, entries }), 'm'),
      'm.entries[1].index: 8 is not contiguous, expected 7',
    );
    assertMalformed(
      () => messageFromWire(wire({ type: pb.MessageType.MESSAGE_TYPE_APP, index: 4, entries }), 'm'),
      'm.entries[0].index: 6 is not contiguous, expected 5',
    );
  });

  it('rejects entry terms that go down and unknown entry types', () => {
    const down = [
      { term: 3, index: 6, type: 0, data: Buffer.alloc(0) },
      { term: 2, index: 7, type: 0, data: Buffer.alloc(0) },
    ];
    assertMalformed(
      () => messageFromWire(wire({ type: pb.MessageType.MESSAGE_TYPE_APP, index: 5, entries: down }), 'm'),
      "m.entries[1].term: 2 is lower than the previous entry's term 3",
    );
    const badType = [{ term: 3, index: 6, type: 9 as pb.EntryType, data: Buffer.alloc(0) }];
    assertMalformed(
      () => messageFromWire(wire({ type: pb.MessageType.MESSAGE_TYPE_APP, index: 5, entries: badType }), 'm'),
      'm.entries[0].type: unknown entry type 9',
    );
  });

  it('rejects a message whose from or to disagrees with its batch', () => {
    assertMalformed(() => validateBatchMessages(batchOf([wire({ from: 3 })])), 'messages[0].from: 3 differs from the batch\'s from 1');
    assertMalformed(() => validateBatchMessages(batchOf([wire({ to: 3 })])), 'messages[0].to: 3 differs from the batch\'s to 2');
  });

  it('rejects a MsgSnap on the batch stream and snapshots on other types', () => {
    const md = { index: 5, term: 2, confState: { voters: [1, 2], learners: [] } };
    assertMalformed(
      () => validateBatchMessages(batchOf([wire({ type: pb.MessageType.MESSAGE_TYPE_SNAP, snapshot: md })])),
      'messages[0].type: MsgSnap must travel over SendSnapshot',
    );
    assertMalformed(
      () => messageFromWire(wire({ snapshot: md }), 'm'),
      'm.snapshot: only a MsgSnap carries a snapshot, not a MsgHeartbeat',
    );
    assertMalformed(() => messageFromWire(wire({ type: pb.MessageType.MESSAGE_TYPE_SNAP }), 'm'), 'm.snapshot: missing on a MsgSnap');
    assertMalformed(
      () =>
        messageFromWire(
          wire({ type: pb.MessageType.MESSAGE_TYPE_SNAP, snapshot: { ...md, confState: { voters: [1, 1], learners: [] } } }),
          'm',
        ),
      'm.snapshot.confState.voters[1]: duplicate member 1',
    );
  });

  it('reports undecodable bytes as a malformed frame', () => {
    assert.throws(() => decodeMessageBatch(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), MalformedMessageError);
    // A uint64 above 2^53 cannot be represented exactly.
    const w = new BinaryWriter();
    w.uint32(24).uint64(2n ** 60n);
    assert.throws(() => decodeMessageBatch(w.finish()), /frame: cannot decode MessageBatch/);
  });

  it('encodes a snapshot chunk with its message metadata but not its data', () => {
    const m = message({
      type: 'MsgSnap',
      to: 2,
      from: 1,
      term: 4,
      snapshot: { metadata: { index: 100, term: 3, confState: { voters: [1, 2, 3], learners: [4] } }, data: bytes('not sent') },
    });
    const chunk = decodeSnapshotChunk(encodeSnapshotChunk({ from: 1, to: 2, clusterId: 7, message: m, offset: 0, data: bytes('abc'), last: true }));
    assert.equal(chunk.last, true);
    assert.equal(Buffer.from(chunk.data).toString(), 'abc');
    const got = messageFromWire(chunk.message!, 'message');
    assert.deepEqual(got.snapshot?.metadata, m.snapshot!.metadata);
    assert.equal(got.snapshot?.data.byteLength, 0);
  });

  it('estimates sizes at least as large as the encoding', () => {
    const m = app();
    const encoded = encodeMessageBatch(1, 2, 1, [m]).byteLength;
    assert.ok(messageSizeBytes(m) >= encoded, `${messageSizeBytes(m)} < ${encoded}`);
  });
});
