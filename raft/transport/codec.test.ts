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
  checkBatch,
  messageSizeBytes,
  type DecodedBatch,
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

function checked(b: DecodedBatch): Message[] {
  checkBatch(b);
  return b.messages;
}

function roundTrip(ms: Message[]): Message[] {
  return checked(decodeMessageBatch(encodeMessageBatch(1, 2, 99, ms)));
}

function wire(overrides: Partial<pb.Message>): pb.Message {
  return pb.Message.fromPartial({ type: pb.MessageType.MESSAGE_TYPE_HEARTBEAT, to: 2, from: 1, term: 1, ...overrides });
}

/** Encodes with the generated (reference) encoder and decodes with ours. */
function viaWire(messages: pb.Message[]): Message[] {
  return checked(decodeMessageBatch(pb.MessageBatch.encode({ from: 1, to: 2, clusterId: 99, messages }).finish()));
}

function decodeOne(overrides: Partial<pb.Message>): Message {
  return viaWire([wire(overrides)])[0];
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

  it('keeps entries and contexts whose lengths take several bytes, with the generated decoder agreeing', () => {
    const sized = (n: number, fill: number) => new Uint8Array(n).fill(fill);
    const m = message({
      type: 'MsgApp',
      to: 3,
      from: 1,
      term: 2 ** 33,
      logTerm: 2 ** 33,
      index: 2 ** 45,
      commit: 2 ** 45 - 1,
      entries: [
        { term: 2 ** 33, index: 2 ** 45 + 1, type: 'normal', data: sized(127, 1) },
        { term: 2 ** 33, index: 2 ** 45 + 2, type: 'normal', data: sized(128, 2) },
        { term: 2 ** 33, index: 2 ** 45 + 3, type: 'confChange', data: sized(70_000, 3) },
      ],
      context: sized(300, 4),
    });
    const frame = encodeMessageBatch(1, 3, 2 ** 35, [m, message({ type: 'MsgAppResp', to: 3, from: 1, term: 5, reject: true, rejectHint: 9 })]);
    const [got, resp] = checked(decodeMessageBatch(frame));
    assert.deepEqual({ ...got, entries: got.entries.map((e) => ({ ...e, data: Buffer.from(e.data) })), context: Buffer.from(got.context) }, { ...m, entries: m.entries.map((e) => ({ ...e, data: Buffer.from(e.data) })), context: Buffer.from(m.context) });
    assert.equal(resp.reject, true);
    assert.equal(resp.rejectHint, 9);
    const reference = pb.MessageBatch.decode(frame);
    assert.equal(reference.messages.length, 2);
    assert.deepEqual(reference.messages[0].entries.map((e) => e.data.byteLength), [127, 128, 70_000]);
    assert.equal(Number(reference.clusterId), 2 ** 35);
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
    assertMalformed(() => viaWire(ms), 'messages[3].type: unknown message type 42');
  });

  it('rejects an unspecified message type', () => {
    assertMalformed(() => viaWire([wire({ type: 0 })]), 'messages[0].type: unspecified message type 0');
  });

  it('rejects numbers that do not fit exactly, including negative int64s, and node id 0', () => {
    // A uint64 above 2^53, and -1 as a 10-byte varint, inside messages[0].term.
    for (const big of [2n ** 60n, 2n ** 64n - 1n]) {
      const inner = new BinaryWriter();
      inner.uint32(8).int32(pb.MessageType.MESSAGE_TYPE_HEARTBEAT).uint32(16).uint64(2).uint32(24).uint64(1).uint32(32).uint64(big);
      const frame = new BinaryWriter().uint32(8).uint64(1).uint32(16).uint64(2).uint32(34).bytes(inner.finish()).finish();
      assert.throws(() => decodeMessageBatch(frame), /^MalformedMessageError: messages\[0\]\.term: \d+ exceeds the largest safe integer/);
    }
    assertMalformed(() => decodeOne({ from: 0 }), 'messages[0].from: node id 0 is not a member');
  });

  it('rejects a field with the wrong wire type and truncated frames', () => {
    const inner = new BinaryWriter().uint32(8).int32(8).uint32((4 << 3) | 2).bytes(new Uint8Array([1])).finish();
    const frame = new BinaryWriter().uint32(8).uint64(1).uint32(16).uint64(2).uint32(34).bytes(inner).finish();
    assertMalformed(() => decodeMessageBatch(frame), 'messages[0].term: wire type length-delimited, expected varint');
    const good = encodeMessageBatch(1, 2, 1, [app()]);
    assert.throws(() => decodeMessageBatch(good.subarray(0, good.byteLength - 3)), /^MalformedMessageError: messages\[0\]: cannot decode/);
  });

  it('skips unknown fields, for forward compatibility', () => {
    const inner = new BinaryWriter().uint32(8).int32(8).uint32(16).uint64(2).uint32(24).uint64(1).uint32((99 << 3) | 2).bytes(new Uint8Array([1, 2])).finish();
    const frame = new BinaryWriter().uint32(8).uint64(1).uint32(16).uint64(2).uint32(34).bytes(inner).uint32((50 << 3) | 0).uint32(5).finish();
    assert.equal(decodeMessageBatch(frame).messages[0].type, 'MsgHeartbeat');
  });

  it('decodes what the generated encoder writes, including packed member lists', () => {
    const md = { index: 5, term: 2, confState: { voters: [1, 2, 3], learners: [9] } };
    const frame = pb.SnapshotChunk.encode({
      from: 1,
      to: 2,
      clusterId: 3,
      offset: 0,
      last: true,
      data: Buffer.from('d'),
      message: wire({ type: pb.MessageType.MESSAGE_TYPE_SNAP, snapshot: md }),
    }).finish();
    const c = decodeSnapshotChunk(frame);
    assert.deepEqual(c.message?.snapshot?.metadata, md);
    assert.equal(Buffer.from(c.data).toString(), 'd');
  });

  it('rejects entries that are not contiguous', () => {
    const entries = [
      { term: 1, index: 6, type: 0, data: Buffer.alloc(0) },
      { term: 1, index: 8, type: 0, data: Buffer.alloc(0) },
    ];
    assertMalformed(
      () => decodeOne({ type: pb.MessageType.MESSAGE_TYPE_APP, index: 5, entries }),
      'messages[0].entries[1].index: 8 is not contiguous, expected 7',
    );
    assertMalformed(
      () => decodeOne({ type: pb.MessageType.MESSAGE_TYPE_APP, index: 4, entries }),
      'messages[0].entries[0].index: 6 is not contiguous, expected 5',
    );
  });

  it('rejects entry terms that go down and unknown entry types', () => {
    const down = [
      { term: 3, index: 6, type: 0, data: Buffer.alloc(0) },
      { term: 2, index: 7, type: 0, data: Buffer.alloc(0) },
    ];
    assertMalformed(
      () => decodeOne({ type: pb.MessageType.MESSAGE_TYPE_APP, index: 5, entries: down }),
      "messages[0].entries[1].term: 2 is lower than the previous entry's term 3",
    );
    const badType = [{ term: 3, index: 6, type: 9 as pb.EntryType, data: Buffer.alloc(0) }];
    assertMalformed(
      () => decodeOne({ type: pb.MessageType.MESSAGE_TYPE_APP, index: 5, entries: badType }),
      'messages[0].entries[0].type: unknown entry type 9',
    );
  });

  it('rejects a message whose from or to disagrees with its batch', () => {
    assertMalformed(() => viaWire([wire({ from: 3 })]), 'messages[0].from: 3 differs from the batch\'s from 1');
    assertMalformed(() => viaWire([wire({ to: 3 })]), 'messages[0].to: 3 differs from the batch\'s to 2');
    assertMalformed(() => viaWire([wire({ type: pb.MessageType.MESSAGE_TYPE_APP, from: 3 })]), 'messages[0].from: 3 differs from the batch\'s from 1');
  });

  it('accepts a proposal or read-index request that member 1 forwards for member 3, with the batch\'s other messages', () => {
    const ms = viaWire([
      wire({ type: pb.MessageType.MESSAGE_TYPE_HEARTBEAT_RESP }),
      wire({ type: pb.MessageType.MESSAGE_TYPE_PROP, from: 3, term: 0, entries: [{ term: 0, index: 0, type: 0, data: Buffer.from('x') }] }),
      wire({ type: pb.MessageType.MESSAGE_TYPE_READ_INDEX, from: 3, term: 0, entries: [{ term: 0, index: 0, type: 0, data: Buffer.from('ctx') }] }),
    ]);
    assert.deepEqual(ms.map((m) => `${m.type} from ${m.from} to ${m.to}`), ['MsgHeartbeatResp from 1 to 2', 'MsgProp from 3 to 2', 'MsgReadIndex from 3 to 2']);
  });

  it('rejects a MsgSnap on the batch stream and snapshots on other types', () => {
    const md = { index: 5, term: 2, confState: { voters: [1, 2], learners: [] } };
    assertMalformed(
      () => viaWire([wire({ type: pb.MessageType.MESSAGE_TYPE_SNAP, snapshot: md })]),
      'messages[0].type: MsgSnap must travel over SendSnapshot',
    );
    assertMalformed(
      () => decodeOne({ snapshot: md }),
      'messages[0].snapshot: only a MsgSnap carries a snapshot, not a MsgHeartbeat',
    );
    assertMalformed(() => decodeOne({ type: pb.MessageType.MESSAGE_TYPE_SNAP }), 'messages[0].snapshot: missing on a MsgSnap');
    assertMalformed(
      () => decodeOne({ type: pb.MessageType.MESSAGE_TYPE_SNAP, snapshot: { ...md, confState: { voters: [1, 1], learners: [] } } }),
      'messages[0].snapshot.confState.voters[1]: duplicate member 1',
    );
  });

  it('reports undecodable bytes as a malformed frame', () => {
    assert.throws(() => decodeMessageBatch(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), MalformedMessageError);
    assertMalformed(() => decodeMessageBatch(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), 'frame: cannot decode: truncated varint');
    assertMalformed(() => decodeMessageBatch(Buffer.from([0x53, 0x01])), 'frame: cannot decode: unsupported wire type 3');
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
    const got = chunk.message!;
    assert.deepEqual(got.snapshot?.metadata, m.snapshot!.metadata);
    assert.equal(got.snapshot?.data.byteLength, 0);
  });

  it('estimates sizes at least as large as the encoding', () => {
    const m = app();
    const encoded = encodeMessageBatch(1, 2, 1, [m]).byteLength;
    assert.ok(messageSizeBytes(m) >= encoded, `${messageSizeBytes(m)} < ${encoded}`);
  });
});
