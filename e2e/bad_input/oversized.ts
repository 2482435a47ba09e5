// Objects over the 1.5 MiB object limit (TooLarge from the API, naming the object and the limit)
// and requests over the 2 MiB gRPC message limit (refused by the transport before any decoding).
// Both are RESOURCE_EXHAUSTED. Few of these are sent: each is megabytes.

import type { SeededRandom } from '../../raft/core/random.js';
import { Code, type BadCase, type Fixture, token } from './bad_case.js';
import { objectBytes, pathOf, req } from './objects_requests.js';

export const OBJECT_LIMIT_BYTES = 1.5 * 1024 * 1024;
export const MESSAGE_LIMIT_BYTES = 2 * 1024 * 1024;

export function oversizedObject(r: SeededRandom, f: Fixture): BadCase {
  const name = `huge-${token(r, 6)}`;
  if (r.intn(4) === 0) {
    const size = MESSAGE_LIMIT_BYTES + 1 + r.intn(1024 * 1024);
    const object = objectBytes({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: f.namespace }, data: { blob: 'x'.repeat(size) } });
    return { category: 'objects/oversized: over the gRPC message limit', path: pathOf('create'), body: req.create({ object }), codes: [Code.RESOURCE_EXHAUSTED], message: 'larger than max' };
  }
  // Up to 1.8 MiB: with the framing of many keys, still under the message limit.
  const size = OBJECT_LIMIT_BYTES + 1 + r.intn(300 * 1024);
  // One big value, or many keys of 1 KiB.
  const data: Record<string, string> = {};
  if (r.intn(2) === 0) data.blob = 'x'.repeat(size);
  else for (let i = 0; i * 1024 < size; i++) data[`key-${i}`] = 'y'.repeat(1024);
  const json = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: f.namespace }, data };
  const resource = 'configmaps';
  return {
    category: 'objects/oversized: over the object limit',
    path: pathOf('create'),
    body: req.create({ object: objectBytes(json) }),
    codes: [Code.RESOURCE_EXHAUSTED],
    message: `${resource} "${name}"`,
  };
}
