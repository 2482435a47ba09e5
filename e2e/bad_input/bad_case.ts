// One generated bad request and what the server must answer: the gRPC status code (one of a set)
// and a message that names the problem. Generators build these from a seeded random source and the
// fixture (objects that exist before the storm), so a seed replays the same requests.

import { status as Code } from '@grpc/grpc-js';
import type { SeededRandom } from '../../raft/core/random.js';

export { Code };

export interface BadCase {
  /** Where counts are kept: "objects/malformed", "etcd/lease", ... */
  category: string;
  /** Full gRPC method path. */
  path: string;
  body: Buffer;
  /** Server streaming (the object API's Watch): the answer is the stream's status. */
  stream?: boolean;
  /** Acceptable status codes. */
  codes: readonly Code[];
  /** What the message must contain or match. */
  message: string | RegExp;
}

/** What exists before the storm; generators aim at these names so checks run past "not found". */
export interface Fixture {
  namespace: string;
  pod: { name: string; uid: string; resourceVersion: string };
  configMap: { name: string; uid: string; resourceVersion: string };
  deployment: { name: string };
  /** A revision that was compacted away (watches and reads from it are expired). */
  compactedRevision: number;
  /** A lease id that does not exist. */
  missingLeaseId: number;
}

export type Generator = (r: SeededRandom, f: Fixture) => BadCase;

export function pick<T>(r: SeededRandom, xs: readonly T[]): T {
  return xs[r.intn(xs.length)];
}

export function randomBytes(r: SeededRandom, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = r.intn(256);
  return b;
}

/** Lower-case letters and digits: safe inside names and messages. */
export function token(r: SeededRandom, n: number): string {
  const abc = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < n; i++) s += abc[r.intn(abc.length)];
  return s;
}
