// Compact binary encoding for commands and snapshots: unsigned varints for
// integers up to 2^53, float64 where a number may be negative or fractional,
// length-prefixed bytes, and keys as their latin1 bytes.

const EMPTY = new Uint8Array(0);
/** Up to this length a key is copied by a loop: cheaper than a call into Buffer.write. */
const SMALL_KEY = 64;

/** Writes n (a non-negative safe integer) as a varint at pos; returns the position after it. At most 8 bytes. */
export function putUint(buf: Buffer, pos: number, n: number): number {
  if (n < 0x80000000) {
    while (n >= 0x80) {
      buf[pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[pos++] = n;
    return pos;
  }
  while (n >= 128) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(n: number): void {
    this.ensure(1);
    this.buf[this.pos++] = n;
  }

  /** A non-negative safe integer as a varint. */
  uint(n: number): void {
    this.ensure(8);
    if (n < 0x80) {
      this.buf[this.pos++] = n;
      return;
    }
    // Below 2^31 the bit operators are exact and much cheaper than % and Math.floor.
    if (n < 0x80000000) {
      while (n >= 0x80) {
        this.buf[this.pos++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
      this.buf[this.pos++] = n;
      return;
    }
    while (n >= 128) {
      this.buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  /**
   * Lets a hot loop write up to `maxBytes` straight into the buffer: `fill`
   * gets the buffer and the position to start at, and returns the position
   * after what it wrote.
   */
  direct(maxBytes: number, fill: (buf: Buffer, pos: number) => number): void {
    this.ensure(maxBytes);
    const end = fill(this.buf, this.pos);
    if (end < this.pos || end > this.pos + maxBytes) throw new RangeError(`ByteWriter.direct wrote ${end - this.pos} bytes, outside 0..${maxBytes}`);
    this.pos = end;
  }

  /** Big-endian, 0 to 2^32 - 1. */
  u32(n: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(n, this.pos);
    this.pos += 4;
  }

  f64(n: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(n, this.pos);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    const n = b.byteLength;
    this.uint(n);
    this.ensure(n);
    this.buf.set(b, this.pos);
    this.pos += n;
  }

  /** Bytes as they are, without a length. */
  raw(b: Uint8Array): void {
    this.ensure(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }

  /** A latin1 byte-string key. */
  key(s: string): void {
    const n = s.length;
    this.uint(n);
    this.ensure(n);
    if (n <= SMALL_KEY) {
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
      this.pos = p;
      return;
    }
    this.pos += this.buf.write(s, this.pos, n, 'latin1');
  }

  finish(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.pos);
  }

  /** Starts over in the same buffer: what finish() returned before is overwritten by what comes next. */
  reset(): void {
    this.pos = 0;
  }
}

export class ByteReader {
  private pos = 0;
  private readonly buf: Buffer;

  constructor(
    data: Uint8Array,
    private readonly what: string,
  ) {
    this.buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }

  private fail(detail: string): never {
    throw new RangeError(`Cannot decode ${this.what}: ${detail} at byte ${this.pos} of ${this.buf.length}`);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) this.fail(`it is truncated (${n} more bytes needed)`);
  }

  get atEnd(): boolean {
    return this.pos === this.buf.length;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  uint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i > 7) this.fail('a varint is too long');
      const b = this.u8();
      n += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    if (!Number.isSafeInteger(n)) this.fail('a varint is too large');
    return n;
  }

  f64(): number {
    this.need(8);
    const n = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return n;
  }

  /** Bytes, copied so the result does not pin the source buffer. */
  bytes(): Uint8Array {
    const n = this.uint();
    if (n === 0) return EMPTY;
    this.need(n);
    const out = new Uint8Array(n);
    out.set(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** Bytes as a view of the source, not copied: for values the store copies as it keeps them (a command's). */
  view(): Uint8Array {
    const n = this.uint();
    if (n === 0) return EMPTY;
    this.need(n);
    const out = new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.pos, n);
    this.pos += n;
    return out;
  }

  /** Length-prefixed bytes as a latin1 string, one char per byte (Version.data). */
  latin1(): string {
    return this.key();
  }

  key(): string {
    const n = this.uint();
    this.need(n);
    const s = this.buf.toString('latin1', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  end(): void {
    if (!this.atEnd) this.fail('trailing bytes');
  }
}
