import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { message, type Message } from '../core/types.js';
import { realClock } from '../node/ports.js';
import { GrpcTransport } from './grpc_transport.js';
import { MiB } from './options.js';
import { freePort, startCluster, startMember, waitFor, type Member } from './test_helpers.js';

const running: Member[] = [];

async function cluster(n: number, limits?: Parameters<typeof startCluster>[1]): Promise<Member[]> {
  const ms = await startCluster(n, limits);
  running.push(...ms);
  return ms;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.transport.stop()));
});

function queued(m: Member, peer: number): number {
  return m.transport.stats().peers.get(peer)?.queuedMessages ?? 0;
}

function heartbeat(from: number, to: number, term: number): Message {
  return message({ type: 'MsgHeartbeat', from, to, term, commit: term });
}

function app(from: number, to: number, index: number, payload: Uint8Array): Message {
  return message({
    type: 'MsgApp',
    from,
    to,
    term: 2,
    logTerm: 2,
    index,
    commit: index,
    entries: [{ term: 2, index: index + 1, type: 'normal', data: payload }],
  });
}

describe('GrpcTransport', () => {
  it('delivers messages between two members in order, both ways', async () => {
    const [a, b] = await cluster(2);
    const count = 20_000;
    for (let i = 1; i <= count; i++) {
      a.transport.send([heartbeat(1, 2, i)]);
      b.transport.send([heartbeat(2, 1, i)]);
      // Like Raft, keep what is in flight under the queue bound.
      if (i % 1000 === 0) await waitFor('queues to drain', () => queued(a, 2) + queued(b, 1) === 0);
    }
    await waitFor('all messages', () => a.recorder.messages.length === count && b.recorder.messages.length === count);
    assert.deepEqual(
      b.recorder.messages.map((m) => m.term),
      Array.from({ length: count }, (_, i) => i + 1),
    );
    assert.deepEqual(
      a.recorder.messages.map((m) => m.term),
      Array.from({ length: count }, (_, i) => i + 1),
    );
    assert.equal(a.transport.stats().droppedMessages, 0);
    // Batching: far fewer frames than messages.
    assert.ok(a.transport.stats().sentBatches < count / 10, `sent ${a.transport.stats().sentBatches} batches`);
  });

  it('keeps per-sender order among three members and carries entry payloads intact', async () => {
    const ms = await cluster(3, { maxBatchBytes: 64 * 1024 });
    const perPeer = 2000;
    const payload = (from: number, to: number, i: number) => Buffer.from(`${from}->${to}#${i}`.repeat(20));
    for (let i = 1; i <= perPeer; i++) {
      if (i % 500 === 0) await waitFor('queues to drain', () => ms.every((m) => [...m.transport.stats().peers.values()].every((p) => p.queuedMessages === 0)));
      for (const src of ms) {
        const out: Message[] = [];
        for (const dst of ms) {
          if (src === dst) continue;
          out.push(app(src.transport.id, dst.transport.id, i, payload(src.transport.id, dst.transport.id, i)));
        }
        src.transport.send(out);
      }
    }
    await waitFor('all messages', () => ms.every((m) => m.recorder.messages.length === 2 * perPeer));
    for (const dst of ms) {
      for (const src of ms) {
        if (src === dst) continue;
        const got = dst.recorder.from(src.transport.id);
        assert.deepEqual(
          got.map((m) => m.index),
          Array.from({ length: perPeer }, (_, i) => i + 1),
        );
        const sample = got[perPeer - 1];
        assert.equal(Buffer.from(sample.entries[0].data).toString(), payload(src.transport.id, dst.transport.id, perPeer).toString());
        assert.equal(sample.to, dst.transport.id);
      }
    }
  });

  it('sends a 20 MiB snapshot in chunks and reports success', async () => {
    // Frames of at most 4 MiB force the snapshot to travel in pieces.
    const [a, b] = await cluster(2, { maxFrameBytes: 4 * MiB, snapshotChunkBytes: 1 * MiB });
    const data = randomBytes(20 * MiB);
    const metadata = { index: 1234, term: 5, confState: { voters: [1, 2, 3], learners: [4] } };
    a.transport.send([message({ type: 'MsgSnap', from: 1, to: 2, term: 5, snapshot: { metadata, data } })]);
    await waitFor('snapshot status', () => a.recorder.snapshotStatus.length === 1, { timeoutMs: 30_000 });
    assert.deepEqual(a.recorder.snapshotStatus, [{ peer: 2, ok: true }]);
    assert.equal(b.recorder.messages.length, 1);
    const got = b.recorder.messages[0];
    assert.equal(got.type, 'MsgSnap');
    assert.deepEqual(got.snapshot?.metadata, metadata);
    assert.ok(Buffer.from(got.snapshot!.data).equals(data), 'snapshot data differs');
    assert.equal(a.transport.stats().snapshotsSent, 1);
    assert.equal(b.transport.stats().snapshotsReceived, 1);
  });

  it('keeps one snapshot in flight per peer and reports failure when the peer is down', async () => {
    const a = await startMember(1);
    running.push(a);
    a.transport.addPeer(2, `127.0.0.1:${await freePort()}`);
    const snap = (index: number) =>
      message({
        type: 'MsgSnap',
        from: 1,
        to: 2,
        term: 1,
        snapshot: { metadata: { index, term: 1, confState: { voters: [1, 2], learners: [] } }, data: randomBytes(1000) },
      });
    a.transport.send([snap(10), snap(11)]);
    await waitFor('snapshot failure', () => a.recorder.snapshotStatus.length === 1);
    assert.deepEqual(a.recorder.snapshotStatus, [{ peer: 2, ok: false }]);
    assert.equal(a.transport.stats().droppedSnapshots, 1);
  });

  it('reports an unreachable peer and reconnects once it starts', async () => {
    const port = await freePort();
    const a = await startMember(1, { limits: { backoffInitialMs: 20, backoffMaxMs: 200 } });
    running.push(a);
    a.transport.addPeer(2, `127.0.0.1:${port}`);
    a.transport.send([heartbeat(1, 2, 1)]);
    await waitFor('onUnreachable', () => a.recorder.unreachable.includes(2));

    const b = await startMember(2, { port });
    running.push(b);
    let term = 1;
    // Raft retries; so does the test, until a message gets through.
    await waitFor('a message after reconnect', () => b.recorder.messages.length > 0, {
      poke: () => a.transport.send([heartbeat(1, 2, ++term)]),
    });
    assert.ok(a.transport.stats().peers.get(2)?.connected);
    // Once connected, everything sent arrives, in order.
    for (let i = 0; i < 100; i++) a.transport.send([heartbeat(1, 2, 1000 + i)]);
    const late = () => b.recorder.messages.filter((m) => m.term >= 1000);
    await waitFor('100 more', () => late().length === 100);
    assert.deepEqual(
      late().map((m) => m.term),
      Array.from({ length: 100 }, (_, i) => 1000 + i),
    );
  });

  it('reconnects after the peer restarts', async () => {
    const [a, b] = await cluster(2, { backoffInitialMs: 20, backoffMaxMs: 200 });
    const port = b.transport.port;
    a.transport.send([heartbeat(1, 2, 1)]);
    await waitFor('first message', () => b.recorder.messages.length === 1);
    await b.transport.stop();
    await waitFor('onUnreachable', () => a.recorder.unreachable.includes(2));
    const b2 = await startMember(2, { port });
    running.push(b2);
    await waitFor('a message after restart', () => b2.recorder.messages.length > 0, {
      poke: () => a.transport.send([heartbeat(1, 2, 2)]),
    });
  });

  it('keeps the queue to a dead peer bounded and counts drops', async () => {
    const a = await startMember(1, { limits: { maxQueueMessages: 1000, maxQueueBytes: 1 * MiB } });
    running.push(a);
    a.transport.addPeer(2, `127.0.0.1:${await freePort()}`);
    const total = 200_000;
    const batch: Message[] = [];
    for (let i = 0; i < total; i++) {
      batch.push(heartbeat(1, 2, i + 1));
      if (batch.length === 1000) {
        a.transport.send(batch);
        batch.length = 0;
        const peer = a.transport.stats().peers.get(2)!;
        assert.ok(peer.queuedMessages <= 1000, `queue holds ${peer.queuedMessages}`);
        assert.ok(peer.queuedBytes <= 1 * MiB);
      }
    }
    const stats = a.transport.stats();
    assert.ok(stats.droppedMessages >= total - 1000, `dropped ${stats.droppedMessages}`);
    assert.equal(stats.peers.get(2)!.droppedMessages, stats.droppedMessages);
    assert.equal(stats.sentMessages, 0);
  });

  it('drops messages for unknown peers and local-only types without throwing', async () => {
    const [a, b] = await cluster(2);
    a.transport.send([heartbeat(1, 9, 1), message({ type: 'MsgHup', from: 1, to: 2 }), heartbeat(1, 2, 5)]);
    await waitFor('the valid message', () => b.recorder.messages.length === 1);
    assert.equal(b.recorder.messages[0].term, 5);
    assert.equal(a.transport.stats().droppedMessages, 2);
    assert.ok(a.logger.has('error', 'local-only'));
  });

  it('stops idempotently and drops sends afterwards', async () => {
    const [a] = await cluster(2);
    await Promise.all([a.transport.stop(), a.transport.stop()]);
    await a.transport.stop();
    a.transport.send([heartbeat(1, 2, 1)]);
    assert.equal(a.transport.stats().droppedMessages, 1);
  });

  it('refuses bad options with a clear error', () => {
    const base = { id: 1, listenAddress: '127.0.0.1:0', clusterId: 1, clock: realClock };
    assert.throws(() => new GrpcTransport({ ...base, id: 0 }), /Invalid transport id: "0"/);
    assert.throws(() => new GrpcTransport({ ...base, listenAddress: 'nowhere' }), /listenAddress: "nowhere" is not host:port/);
    assert.throws(() => new GrpcTransport({ ...base, limits: { maxQueueMessages: -1 } }), /maxQueueMessages: "-1"/);
    assert.throws(
      () => new GrpcTransport({ ...base, limits: { maxFrameBytes: MiB, maxBatchBytes: 1000, snapshotChunkBytes: MiB } }),
      /snapshotChunkBytes: "1048576" does not fit/,
    );
  });
});
