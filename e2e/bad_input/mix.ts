// The storm: a seeded stream of bad requests drawn from every generator by weight. The cheap ones
// (malformed bytes, refused at decoding) dominate; the megabyte ones are rare.

import { SeededRandom } from '../../raft/core/random.js';
import type { BadCase, Fixture, Generator as CaseGenerator } from './bad_case.js';
import { badEtcdRequest, hugeEtcdRequest } from './etcd.js';
import { invalidObject } from './invalid_objects.js';
import { malformedRequest } from './malformed.js';
import { oversizedObject } from './oversized.js';
import { badPatch } from './patches.js';
import { badSelector } from './selectors.js';
import { unknownKindOrResource } from './unknown.js';
import { badVersion } from './versions.js';

/** Weights per 10,000 requests. */
export const GENERATORS: ReadonlyArray<[CaseGenerator, number]> = [
  [malformedRequest, 3700],
  [invalidObject, 1500],
  [unknownKindOrResource, 1000],
  [badSelector, 1000],
  [badPatch, 1000],
  [badVersion, 900],
  [badEtcdRequest, 885],
  [oversizedObject, 10],
  [hugeEtcdRequest, 5],
];

const TOTAL = GENERATORS.reduce((s, [, w]) => s + w, 0);

export function* badRequests(seed: number, count: number, fixture: Fixture): Generator<BadCase> {
  const r = new SeededRandom(seed);
  for (let i = 0; i < count; i++) {
    let x = r.intn(TOTAL);
    let g = 0;
    while (x >= GENERATORS[g][1]) x -= GENERATORS[g++][1];
    yield GENERATORS[g][0](r, fixture);
  }
}
