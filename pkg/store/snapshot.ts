// Snapshot encoding: the replicated state only. The change log and lease
// key sets are derived from the key histories on restore, and leader-local
// state (lease promotion) is not included.
//
// Layout: "NVST", format u8, counters, keys (each with its versions), the
// revision times, leases, an end marker, then a u32 CRC-32 of everything
// before it, so a damaged snapshot (in transit or in a backup file) is
// refused instead of restored.

import { crc32 } from 'node:zlib';
import { ByteReader, ByteWriter, putUint } from './codec.js';
import { Keyspace, Version, liveAt } from './keyspace.js';
import { Lessor } from './lessor.js';

const MAGIC = [0x4e, 0x56, 0x53, 0x54]; // "NVST"
const FORMAT = 1;
const END = 0xe7;
const EMPTY = new Uint8Array(0);
const DEFAULT_PIECE_BYTES = 4 * 1024 * 1024;

/** The snapshot's bytes, after `prefix` (the caller's header) when given; the checksum covers the snapshot only. */
export function encodeSnapshot(ks: Keyspace, lessor: Lessor, prefix: Uint8Array = EMPTY): Uint8Array {
  const turns = encodeSnapshotInTurns(ks, lessor, prefix);
  for (;;) {
    const r = turns.next();
    if (r.done) return r.value;
  }
}

/**
 * The same bytes in one buffer, a bounded amount (turnBytes) per step of the generator (see
 * snapshotPieces); the pieces are copied in as they come, so only one of them is ever held beside it.
 */
export function* encodeSnapshotInTurns(ks: Keyspace, lessor: Lessor, prefix: Uint8Array = EMPTY, turnBytes = DEFAULT_PIECE_BYTES): Generator<void, Uint8Array, void> {
  // sizeBytes overestimates the encoding (it counts object overheads), so the writer never grows;
  // untouched capacity costs no memory. Read with the capture below, in the same step.
  const w = new ByteWriter(prefix.byteLength + 64 * 1024 + ks.sizeBytes);
  w.raw(prefix);
  const pieces = snapshotPieces(ks, lessor, turnBytes);
  for (let r = pieces.next(); !r.done; r = pieces.next()) {
    w.raw(r.value);
    yield;
  }
  return w.finish();
}

/**
 * The snapshot as pieces of about pieceBytes, encoded one per step of the generator: a member
 * holding hundreds of MiB does not stop serving (and heartbeating) while it encodes them (at
 * 150,000 pods one call took seconds and cost the cluster its Raft leader), and a caller that
 * writes each piece away before taking the next never holds the whole state twice.
 * A piece is good until the next step, which encodes the next one into the same buffer. A new
 * 4 MiB buffer per piece made every member's young generation collect early: V8 scavenges once
 * young objects hold 32 MiB of buffers, and a snapshot of 100 MB forced about eight, each as
 * costly as any other scavenge (tens of ms at 500 MB of heap).
 * The state is the one at the first step: its keys' version lists are captured then, and later
 * puts and compaction replace a list instead of changing it (Keyspace.append and trim), so they
 * cannot change what was captured.
 */
export function* snapshotPieces(ks: Keyspace, lessor: Lessor, pieceBytes = DEFAULT_PIECE_BYTES): Generator<Uint8Array, void, void> {
  const revision = ks.revision;
  // This capture is the one step that walks every key: sized up front, it only copies references.
  const keys: string[] = new Array(ks.index.size);
  const histories: Version[][] = new Array(ks.index.size);
  let captured = 0;
  ks.index.forRange('', undefined, (key, versions) => {
    keys[captured] = key;
    histories[captured++] = versions;
  });
  if (captured !== keys.length) throw new Error(`Store snapshot: the index holds ${ks.index.size} keys but ${captured} were walked`);
  // Revision time entries are never changed, only replaced at the back or dropped from the front.
  const revTimes = ks.revTimes.toArray();
  const leases = lessor.sorted().map((l) => ({ id: l.id, ttlSeconds: l.ttlSeconds, expiryMs: l.expiryMs }));
  const w = new ByteWriter(pieceBytes + 64 * 1024);
  // The checksum covers the snapshot's bytes before it, piece by piece.
  let crc = 0;
  const cut = (): Uint8Array => {
    const piece = w.finish();
    crc = crc32(piece, crc);
    return piece;
  };
  for (const b of MAGIC) w.u8(b);
  w.u8(FORMAT);
  w.uint(revision);
  w.uint(ks.compactRevision);
  w.f64(ks.timeMs);
  w.uint(lessor.lastAutoId);
  w.uint(keys.length);
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k];
    // The history as of `revision`: writes and compaction give a key a new list, never change one.
    const all = histories[k];
    const n = all.length;
    let max = key.length + 16;
    for (let i = 0; i < n; i++) max += all[i].data.length + 49;
    // The hot loop (every retained version) writes straight into the buffer: one bounds check per key.
    w.direct(max, (buf, p) => {
      p = putUint(buf, p, key.length);
      if (key.length <= 64) for (let i = 0; i < key.length; i++) buf[p++] = key.charCodeAt(i);
      else p += buf.write(key, p, key.length, 'latin1');
      p = putUint(buf, p, n);
      for (let i = 0; i < n; i++) {
        const v = all[i];
        buf[p++] = v.deleted ? 1 : 0;
        p = putUint(buf, p, v.modRevision);
        p = putUint(buf, p, v.sub);
        if (v.deleted) continue;
        const data = v.data;
        p = putUint(buf, p, data.length);
        p += buf.write(data, p, data.length, 'latin1');
        p = putUint(buf, p, v.createRevision);
        p = putUint(buf, p, v.version);
        p = putUint(buf, p, v.lease);
      }
      return p;
    });
    if (w.length >= pieceBytes) {
      yield cut();
      w.reset();
    }
  }
  w.uint(revTimes.length);
  for (const t of revTimes) {
    w.uint(t.rev);
    w.f64(t.timeMs);
  }
  w.uint(leases.length);
  for (const l of leases) {
    w.uint(l.id);
    w.uint(l.ttlSeconds);
    w.f64(l.expiryMs);
  }
  w.u8(END);
  crc = crc32(w.finish(), crc);
  w.u32(crc);
  yield w.finish();
}

/** Builds a new keyspace and lessor from a snapshot. Throws RangeError naming the problem when it is corrupt. */
export function decodeSnapshot(data: Uint8Array): { keyspace: Keyspace; lessor: Lessor } {
  if (data.byteLength < 10) throw new RangeError(`Cannot decode store snapshot: ${data.byteLength} bytes is too short`);
  const body = data.subarray(0, data.byteLength - 4);
  const want = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(data.byteLength - 4);
  const got = crc32(body);
  if (want !== got) throw new RangeError(`Cannot decode store snapshot: it fails its checksum (stored ${want.toString(16)}, computed ${got.toString(16)})`);
  const r = new ByteReader(body, 'store snapshot');
  for (const b of MAGIC) if (r.u8() !== b) throw new RangeError('Cannot decode store snapshot: it does not start with "NVST"');
  const format = r.u8();
  if (format !== FORMAT) throw new RangeError(`Cannot decode store snapshot: format ${format} is unknown (expected ${FORMAT})`);
  const ks = new Keyspace();
  const lessor = new Lessor();
  ks.revision = r.uint();
  ks.compactRevision = r.uint();
  ks.timeMs = r.f64();
  lessor.lastAutoId = r.uint();
  const nkeys = r.uint();
  let prevKey: string | undefined;
  for (let i = 0; i < nkeys; i++) {
    const key = r.key();
    if (prevKey !== undefined && !(prevKey < key)) throw new RangeError(`Cannot decode store snapshot: key ${i} is out of order`);
    prevKey = key;
    const n = r.uint();
    if (n === 0) throw new RangeError(`Cannot decode store snapshot: key ${i} has no versions`);
    const versions: Version[] = new Array(n);
    for (let j = 0; j < n; j++) {
      const deleted = r.u8() === 1;
      const modRevision = r.uint();
      const sub = r.uint();
      if (modRevision > ks.revision) throw new RangeError(`Cannot decode store snapshot: key ${i} has revision ${modRevision} past the store's ${ks.revision}`);
      if (deleted) versions[j] = new Version(key, '', 0, modRevision, 0, 0, sub, true);
      else {
        const data = r.latin1();
        versions[j] = new Version(key, data, r.uint(), modRevision, r.uint(), r.uint(), sub, false);
      }
    }
    ks.index.set(key, versions);
  }
  const ntimes = r.uint();
  for (let i = 0; i < ntimes; i++) ks.revTimes.push({ rev: r.uint(), timeMs: r.f64() });
  const nleases = r.uint();
  for (let i = 0; i < nleases; i++) {
    const id = r.uint();
    const ttl = r.uint();
    lessor.grant(id, ttl, 0).expiryMs = r.f64();
  }
  if (r.u8() !== END) throw new RangeError('Cannot decode store snapshot: the end marker is missing');
  r.end();
  ks.sizeBytes = ks.computeSizeBytes();
  ks.rebuildChanges();
  ks.index.forRange('', undefined, (key, versions) => {
    const v = liveAt(versions, ks.revision);
    if (v && v.lease !== 0) lessor.attach(v.lease, key);
  });
  return { keyspace: ks, lessor };
}
