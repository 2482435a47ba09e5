// A minimal protobuf reader for the transport's hot path: varints straight
// to numbers (no bigint or string round trip) and bytes as views, with every
// bound checked so that a hostile frame yields an error, never a bad read.

export class WireFormatError extends Error {
  override name = 'WireFormatError';
}

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

export class WireReader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    pos = 0,
  ) {
    this.pos = pos;
  }

  /** A varint as a number; values above 2^53 come back inexact and callers refuse them. */
  varint(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= end) throw new WireFormatError('truncated varint');
    let b = buf[pos++];
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let result = b & 0x7f;
    let mul = 0x80;
    for (let i = 1; i < 10; i++) {
      if (pos >= end) throw new WireFormatError('truncated varint');
      b = buf[pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = pos;
        return result;
      }
      mul *= 0x80;
    }
    throw new WireFormatError('varint longer than 10 bytes');
  }

  /** Reads a length prefix and returns the end of the delimited range. */
  delimitedEnd(end: number): number {
    const len = this.varint(end);
    const stop = this.pos + len;
    if (stop > end) throw new WireFormatError(`length ${len} runs past the end of its field`);
    return stop;
  }

  /** Bytes of a length-delimited field, as a view into the frame. */
  bytesView(end: number): Uint8Array {
    const stop = this.delimitedEnd(end);
    const v = this.buf.subarray(this.pos, stop);
    this.pos = stop;
    return v;
  }

  /** Skips a field of an unknown number (forward compatibility). */
  skip(wireType: number, end: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint(end);
        return;
      case WIRE_I64:
        this.advance(8, end);
        return;
      case WIRE_LEN:
        this.pos = this.delimitedEnd(end);
        return;
      case WIRE_I32:
        this.advance(4, end);
        return;
      default:
        throw new WireFormatError(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number, end: number): void {
    if (this.pos + n > end) throw new WireFormatError('truncated fixed-width field');
    this.pos += n;
  }
}
