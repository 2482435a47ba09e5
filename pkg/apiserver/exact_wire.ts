// Protobuf fields written by hand into one buffer sized up front. The library's BinaryWriter grows
// its buffer by doubling, shifts each length-prefixed payload over 127 bytes in join(), copies the
// result out in finish(), and the generated grpc-js serializers copy it once more: for messages
// that carry an object's bytes that is most of their cost. Tags here are one byte (fields 1-15);
// numbers are non-negative safe integers.

export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

export function putVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

/** A length-delimited field's tag, length and content: `length` bytes of content. */
export function delimitedSize(length: number): number {
  return 1 + varintSize(length) + length;
}

/** Writes a length-delimited field's tag and length; its content goes at the returned offset. */
export function putDelimited(out: Uint8Array, at: number, tag: number, length: number): number {
  out[at++] = tag;
  return putVarint(out, at, length);
}

/** A bytes field, omitted when empty (proto3), as the generated encoders do. */
export function bytesFieldSize(b: Uint8Array): number {
  return b.byteLength === 0 ? 0 : delimitedSize(b.byteLength);
}

export function putBytesField(out: Uint8Array, at: number, tag: number, b: Uint8Array): number {
  if (b.byteLength === 0) return at;
  at = putDelimited(out, at, tag, b.byteLength);
  out.set(b, at);
  return at + b.byteLength;
}

/** A string field, omitted when empty. */
export function stringFieldSize(s: string): number {
  return s === '' ? 0 : delimitedSize(Buffer.byteLength(s, 'utf8'));
}

export function putStringField(out: Buffer, at: number, tag: number, s: string): number {
  if (s === '') return at;
  at = putDelimited(out, at, tag, Buffer.byteLength(s, 'utf8'));
  return at + out.write(s, at, 'utf8');
}

/** A varint field (uint, or a bool as 0/1), omitted when 0. */
export function varintFieldSize(n: number): number {
  return n === 0 ? 0 : 1 + varintSize(n);
}

export function putVarintField(out: Uint8Array, at: number, tag: number, n: number): number {
  if (n === 0) return at;
  out[at++] = tag;
  return putVarint(out, at, n);
}

/** Throws when an encoder's size and what it wrote disagree: a bug here, never the caller's. */
export function checkWritten(what: string, written: number, size: number): void {
  if (written !== size) throw new Error(`${what} encoding wrote ${written} bytes, expected ${size}`);
}

/**
 * A message made of one repeated message field (tag `tag`): each item's encoding, `put` writing the
 * `sizeOf` bytes of one from the offset given (returning where it ended), length-prefixed.
 */
export function encodeRepeated<T>(what: string, items: readonly T[], tag: number, sizeOf: (item: T) => number, put: (out: Buffer, at: number, item: T) => number): Buffer {
  const sizes = items.map(sizeOf);
  let size = 0;
  for (const s of sizes) size += delimitedSize(s);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < items.length; i++) at = put(out, putDelimited(out, at, tag, sizes[i]), items[i]);
  checkWritten(what, at, size);
  return out;
}
