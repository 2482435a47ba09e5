// Keys are byte strings. The store holds them as JS strings with one code
// unit per byte ('latin1'), so `<` on strings is byte order, Map lookups
// work, and no Buffer is kept per key.

/** A rangeEnd meaning "every key >= key" (etcd's '\0'). */
export const ALL_KEYS_FROM = '\0';

/** The bytes of a latin1 byte-string key. */
export function keyToBytes(key: string): Uint8Array {
  return Buffer.from(key, 'latin1');
}

/** A byte-string key from raw bytes. */
export function bytesToKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** A byte-string key from text, encoded as UTF-8 (ASCII text maps to itself). */
export function textToKey(text: string): string {
  // Object keys are ASCII: skip the two copies every read and write of an object paid.
  return ASCII.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
}

/** The text of a byte-string key, decoded as UTF-8. */
export function keyToText(key: string): string {
  return ASCII.test(key) ? key : Buffer.from(key, 'latin1').toString('utf8');
}

const ASCII = /^[\x00-\x7f]*$/;

/** Whether every code unit of `s` is a byte (<= 0xff), i.e. it is a valid key. */
export function isByteString(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

/**
 * The rangeEnd that selects every key starting with `prefix`: the prefix
 * with its last byte below 0xff incremented (trailing 0xff bytes dropped);
 * '\0' (all keys) when there is no such byte, as etcd's GetPrefixRangeEnd.
 */
export function prefixEnd(prefix: string): string {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    if (c < 0xff) return prefix.slice(0, i) + String.fromCharCode(c + 1);
  }
  return ALL_KEYS_FROM;
}

/**
 * Whether `k` falls in etcd's range for (key, rangeEnd): rangeEnd absent or
 * empty selects `key` alone, '\0' selects every key >= key, otherwise
 * [key, rangeEnd).
 */
export function inRange(k: string, key: string, rangeEnd: string | undefined): boolean {
  if (rangeEnd === undefined || rangeEnd === '') return k === key;
  if (rangeEnd === ALL_KEYS_FROM) return k >= key;
  return k >= key && k < rangeEnd;
}

/** A printable form of a key for error messages: quoted, non-printable bytes escaped. */
export function quoteKey(key: string): string {
  const shown = key.length > 64 ? key.slice(0, 64) : key;
  const more = key.length > 64 ? '…' : '';
  return '"' + shown.replace(/[^\x20-\x7e]|["\\]/g, (c) => (c === '"' || c === '\\' ? '\\' + c : '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'))) + more + '"';
}
