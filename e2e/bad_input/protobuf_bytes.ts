// Ways to break a valid protobuf message at the wire level, each certain to fail decoding: cut it
// short, add a field with wire type 6 or 7 (they do not exist), or announce a length-delimited
// field far longer than what follows. Added fields have numbers no request message uses (a decoder
// may read a known field by its declared type whatever the wire type says).

import type { SeededRandom } from '../../raft/core/random.js';
import { pick, randomBytes } from './bad_case.js';

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

export type Breakage = 'truncated' | 'wire type' | 'huge length';

/** `valid` broken one way, checked with the server's own decoder (`decodes`), so it certainly fails. */
export function breakMessage(r: SeededRandom, valid: Buffer, how: Breakage, decodes: (b: Buffer) => boolean): Buffer {
  for (let tries = 0; tries < 16; tries++) {
    const b = broken(r, valid, how === 'truncated' && valid.length < 2 ? 'wire type' : how);
    if (!decodes(b)) return b;
  }
  throw new Error(`Cannot break a ${valid.length}-byte message by ${how} so that it fails to decode`);
}

const unusedField = (r: SeededRandom): number => 1000 + r.intn(1000);

function broken(r: SeededRandom, valid: Buffer, how: Breakage): Buffer {
  switch (how) {
    case 'truncated':
      // Cut somewhere; the caller checks that the result no longer decodes (a cut can land between fields).
      return valid.subarray(0, 1 + r.intn(valid.length - 1));
    case 'wire type': {
      return Buffer.concat([valid, Buffer.from([...varint(unusedField(r) * 8 + pick(r, [6, 7])), ...randomBytes(r, r.intn(4))])]);
    }
    case 'huge length': {
      const len = pick(r, [2 ** 31 - 1, 2 ** 28, 1_000_000, 65_536 + r.intn(1000)]);
      return Buffer.concat([valid, Buffer.from([...varint(unusedField(r) * 8 + 2), ...varint(len)]), randomBytes(r, 1 + r.intn(16))]);
    }
  }
}
