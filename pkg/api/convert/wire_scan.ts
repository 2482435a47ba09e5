// Reading protobuf wire data in place, without a decoder: stored objects are scanned for where a
// field lies (to splice it, or to compare it with an earlier version) more often than decoded.

/** Bytes, or a latin1 string of them (one char per byte), as the store holds values. */
export type WireBytes = Uint8Array | string;

export function byteAt(bytes: WireBytes, i: number): number {
  return typeof bytes === "string" ? bytes.charCodeAt(i) : bytes[i];
}

/** Reads a varint at cursor.pos (advancing it); throws when it runs past `length`. */
export function varintAt(bytes: WireBytes, length: number, cursor: { pos: number }): number {
  let value = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (cursor.pos >= length) throw new RangeError(`a varint runs past the ${length} bytes of the object`);
    const b = byteAt(bytes, cursor.pos++);
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return value;
  }
  throw new RangeError("a varint is longer than 10 bytes");
}
