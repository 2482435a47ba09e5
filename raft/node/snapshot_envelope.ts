import type { NodeId } from '../core/types.js';

// A Raft snapshot's data: the member addresses (ConfState has only ids) and the application's bytes.
// Layout: u32 length of the members JSON, the JSON, then the application data.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The envelope up to the application's data: a state machine with snapshotAfter writes the data right after it. */
export function encodeSnapshotEnvelopeHeader(members: ReadonlyMap<NodeId, string>): Uint8Array {
  const json = encoder.encode(JSON.stringify([...members]));
  const out = new Uint8Array(4 + json.byteLength);
  new DataView(out.buffer, out.byteOffset, 4).setUint32(0, json.byteLength);
  out.set(json, 4);
  return out;
}

export function encodeSnapshotEnvelope(members: ReadonlyMap<NodeId, string>, app: Uint8Array): Uint8Array {
  const header = encodeSnapshotEnvelopeHeader(members);
  // Every byte is written below: skip zero-filling tens of MiB.
  const out = Buffer.allocUnsafe(header.byteLength + app.byteLength);
  out.set(header, 0);
  out.set(app, header.byteLength);
  return out;
}

export function decodeSnapshotEnvelope(data: Uint8Array): { members: Map<NodeId, string>; app: Uint8Array } {
  if (data.byteLength === 0) return { members: new Map(), app: data };
  if (data.byteLength < 4) throw new RangeError(`Cannot decode snapshot: ${data.byteLength} bytes is shorter than its 4-byte header`);
  const len = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
  if (4 + len > data.byteLength) {
    throw new RangeError(`Cannot decode snapshot: member list of ${len} bytes runs past the end (${data.byteLength} bytes)`);
  }
  const members = new Map<NodeId, string>(JSON.parse(decoder.decode(data.subarray(4, 4 + len))) as Array<[NodeId, string]>);
  return { members, app: data.subarray(4 + len) };
}
