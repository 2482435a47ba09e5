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

/** The snapshot's bytes, after `prefix` (the caller's header) when given; the checksum covers the snapshot only. */
export function encodeSnapshot(ks: Keyspace, lessor: Lessor, prefix: Uint8Array = EMPTY): Uint8Array {
  // sizeBytes overestimates the encoding (it counts object overheads), so the writer never grows;
  // untouched capacity costs no memory.
  const w = new ByteWriter(prefix.byteLength + 64 * 1024 + ks.sizeBytes);
  w.raw(prefix);
  for (const b of MAGIC) w.u8(b);
  w.u8(FORMAT);
  w.uint(ks.revision);
  w.uint(ks.compactRevision);
  w.f64(ks.timeMs);
  w.uint(lessor.lastAutoId);
  w.uint(ks.index.size);
  // The hot loop (every retained version) writes straight into the buffer: one bounds check per key.
  ks.index.forRange('', undefined, (key, versions) => {
    let max = key.length + 16;
    for (const v of versions) max += v.data.length + 49;
    w.direct(max, (buf, p) => {
      p = putUint(buf, p, key.length);
      if (key.length <= 64) for (let i = 0; i < key.length; i++) buf[p++] = key.charCodeAt(i);
      else p += buf.write(key, p, key.length, 'latin1');
      p = putUint(buf, p, versions.length);
      for (const v of versions) {
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
  });
  w.uint(ks.revTimes.length);
  for (const t of ks.revTimes.toArray()) {
    w.uint(t.rev);
    w.f64(t.timeMs);
  }
  const leases = lessor.sorted();
  w.uint(leases.length);
  for (const l of leases) {
    w.uint(l.id);
    w.uint(l.ttlSeconds);
    w.f64(l.expiryMs);
  }
  w.u8(END);
  w.u32(crc32(w.finish().subarray(prefix.byteLength)));
  return w.finish();
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
