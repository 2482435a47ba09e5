// Protobuf bytes for storage. Every object message has apiVersion as field 1 and kind as field 2
// (proto/navarch/api/v1), so stored bytes say what they are and decodeStored needs no hint.

import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { type KindInfo, type KubeObject, kindFor } from "../registry.js";
import { DecodeError, infoOf } from "./object.js";
import { useNodeUtf8Strings } from "./utf8_strings.js";

useNodeUtf8Strings();

// One writer for every encode (it is synchronous): a fresh one grows from 128 bytes by doubling,
// copying all it holds each time, for every object.
let writer = new BinaryWriter();
/** A writer that grew past this for one object is dropped, so its buffer does not stay that large. */
const KEEP_WRITER_BYTES = 256 * 1024;

/** What BinaryWriter keeps in fields it does not declare: the bytes it grows and how many are written. */
interface WriterState {
  buffer: unknown;
  pos: unknown;
  stackPos: unknown;
}

/**
 * The bytes written, copied out into a Buffer, and the writer reset. finish() copies them into an
 * ArrayBuffer of their own, which the GC tracks and frees one by one; a master under load made
 * tens of thousands a second, and V8 scavenged early for that memory ("external memory pressure").
 * A Buffer under 4 KB is a slice of Buffer's pool instead. Falls back to finish() should the
 * writer's fields ever differ.
 */
function take(w: BinaryWriter): Uint8Array {
  const state = w as unknown as WriterState;
  const { buffer, pos } = state;
  if (!(buffer instanceof Uint8Array) || typeof pos !== "number" || !Array.isArray(state.stackPos) || state.stackPos.length > 0) return w.finish();
  const out = Buffer.allocUnsafe(pos);
  out.set(buffer.subarray(0, pos));
  state.pos = 0;
  return out;
}

/** The object's protobuf bytes: a Buffer (see take), which callers may keep only briefly (it may share Buffer's pool slab). */
export function encodeBinary(object: KubeObject): Uint8Array {
  const info = infoOf(object);
  try {
    const bytes = take((info.codec as { encode(m: KubeObject, w: BinaryWriter): BinaryWriter }).encode(object, writer));
    if (bytes.byteLength > KEEP_WRITER_BYTES) writer = new BinaryWriter();
    return bytes;
  } catch (e) {
    // Half an object is left in it.
    writer = new BinaryWriter();
    throw e;
  }
}

/** Decodes bytes as the given kind. Malformed bytes throw DecodeError "Malformed". */
export function decodeBinary(info: KindInfo, bytes: Uint8Array): KubeObject {
  try {
    return info.codec.decode(bytes) as KubeObject;
  } catch (e) {
    throw new DecodeError("Malformed", `Cannot decode ${info.kind} from protobuf: ${(e as Error).message}`);
  }
}

/** Reads apiVersion (field 1) and kind (field 2) without decoding the rest. */
export function peekTypeMeta(bytes: Uint8Array): { apiVersion: string; kind: string } {
  const r = new BinaryReader(bytes);
  let apiVersion = "";
  let kind = "";
  try {
    while (r.pos < r.len && (apiVersion === "" || kind === "")) {
      const [field, wire] = r.tag();
      if (field === 1 && wire === WireType.LengthDelimited) apiVersion = r.string();
      else if (field === 2 && wire === WireType.LengthDelimited) kind = r.string();
      else r.skip(wire, field);
    }
  } catch (e) {
    throw new DecodeError("Malformed", `Cannot read type of stored object: ${(e as Error).message}`);
  }
  return { apiVersion, kind };
}

/** The kind stored bytes say they are (their apiVersion and kind); DecodeError "UnknownKind" if none is served. */
export function kindOfStored(bytes: Uint8Array): KindInfo {
  const { apiVersion, kind } = peekTypeMeta(bytes);
  const info = kindFor(apiVersion, kind);
  if (!info) {
    throw new DecodeError(
      "UnknownKind",
      `Cannot decode stored object: no matches for kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)}`,
    );
  }
  return info;
}

/** Decodes stored bytes of any kind, using the apiVersion and kind they carry. */
export function decodeStored(bytes: Uint8Array): KubeObject {
  return decodeBinary(kindOfStored(bytes), bytes);
}
