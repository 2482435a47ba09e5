// Protobuf string fields decoded by Node's own UTF-8 decoder. @bufbuild/protobuf's reader decodes a
// string of up to 32 bytes through an array of its char codes, and a longer one through a view and
// TextDecoder: two or three throwaway objects per string, of which an object has dozens. A sampled
// heap profile of a loaded master had a tenth of its allocation there, of the hollow process a
// fifth. Invalid UTF-8 still becomes U+FFFD, as TextDecoder makes it; `strict` (which the generated
// decoders never ask for) keeps the library's own path, which throws instead.

import { BinaryReader } from "@bufbuild/protobuf/wire";

/** What BinaryReader keeps in fields it does not declare (see binary.ts's take for its writer). */
interface ReaderState {
  buf: Uint8Array;
  pos: number;
  uint32(): number;
  assertBounds(): void;
}

const utf8Slice = (Buffer.prototype as unknown as { utf8Slice(this: Uint8Array, start: number, end: number): string }).utf8Slice;
const libraryString = BinaryReader.prototype.string;

/** The string field at the reader's position, as Node decodes UTF-8. */
function nodeString(this: BinaryReader, strict?: boolean): string {
  if (strict) return libraryString.call(this, strict);
  const r = this as unknown as ReaderState;
  const len = r.uint32();
  const start = r.pos;
  r.pos = start + len;
  r.assertBounds();
  return utf8Slice.call(r.buf, start, r.pos);
}

/** Installs nodeString for every reader in this process, once; false if the reader is not the one this was written against. */
export function useNodeUtf8Strings(): boolean {
  if (BinaryReader.prototype.string === nodeString) return true;
  const probe = new BinaryReader(new Uint8Array([2, 0x68, 0x69])) as unknown as Partial<ReaderState>;
  if (typeof utf8Slice !== "function" || !(probe.buf instanceof Uint8Array) || typeof probe.pos !== "number" || typeof probe.assertBounds !== "function") return false;
  BinaryReader.prototype.string = nodeString;
  return true;
}
