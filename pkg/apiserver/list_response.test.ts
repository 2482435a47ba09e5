import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ListResponse } from '../../gen/navarch/apiserver/v1/objects.js';
import { encodeListResponse } from './list_response.js';

const generated = (m: ListResponse) => Buffer.from(ListResponse.encode(m).finish());

describe('encodeListResponse', () => {
  const cases: Array<[string, ListResponse]> = [
    ['an empty list', { items: [], resourceVersion: '', continue: '', kind: '', apiVersion: '' }],
    ['a page with a continue token', {
      items: [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(127, 1), Buffer.alloc(128, 2), Buffer.alloc(20_000, 3)],
      resourceVersion: '123456',
      continue: 'eyJ2IjoxfQ',
      remainingItemCount: 0,
      kind: 'Pod',
      apiVersion: 'v1',
    }],
    ['large counts and non-ASCII strings', { items: [Buffer.alloc(3, 9)], resourceVersion: '9007199254740991', continue: 'π→', remainingItemCount: 2 ** 40 + 5, kind: 'Ünit', apiVersion: 'x/v1' }],
    ['a count the generated code must write (negative)', { items: [], resourceVersion: '1', continue: '', remainingItemCount: -1, kind: 'Pod', apiVersion: 'v1' }],
  ];
  for (const [name, m] of cases) {
    it(`writes the generated encoder's bytes for ${name}`, () => {
      const b = encodeListResponse(m);
      assert.deepEqual(b, generated(m));
      const back = ListResponse.decode(b);
      assert.deepEqual(back.items.map((x) => Buffer.from(x)), m.items);
      assert.equal(back.remainingItemCount, m.remainingItemCount);
      assert.equal(back.continue, m.continue);
    });
  }
});
