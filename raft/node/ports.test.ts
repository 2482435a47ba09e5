import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entropyRandom } from './ports.js';

// Members started together in one process (the etcd facade's and masters' tests) must not split every vote by
// drawing the same election timeouts: each generator made back to back draws its own sequence.
test('generators made in the same millisecond draw different sequences', () => {
  const draws = (): string => {
    const r = entropyRandom();
    return [r.float(), r.float(), r.float()].join(',');
  };
  for (let i = 0; i < 100; i++) assert.notEqual(draws(), draws());
});
