import assert from 'node:assert/strict';
import { it } from 'node:test';

import { runSeed } from './cluster.js';

it('simulated runs pass every checker and replay identically from their seed', async () => {
  for (const seed of [1, 2, 3, 4]) {
    const r = await runSeed(seed);
    assert.equal(r.ok, true, `seed ${seed} failed: ${r.failure}\n${r.trace.join('\n')}`);
    const again = await runSeed(seed);
    assert.equal(again.summary, r.summary);
    assert.equal(again.digest, r.digest, `seed ${seed} did not replay the same trace`);
  }
  assert.notEqual((await runSeed(5)).digest, (await runSeed(6)).digest);
});
