import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TurnBatch } from './turn_batch.js';

test('items of one turn go in one message, closed early at the item and byte bounds; clear drops the unsent', async () => {
  const sent: string[][] = [];
  const b = new TurnBatch<string>({ maxItems: 3, maxBytes: 100, send: (items) => sent.push(items) });
  for (const x of ['a', 'b']) b.push(x, 10);
  assert.deepEqual(sent, [], 'nothing goes before the turn ends');
  await nextTurn();
  assert.deepEqual(sent, [['a', 'b']]);

  sent.length = 0;
  for (const x of ['c', 'd', 'e', 'f']) b.push(x, 10);
  b.push('big', 95);
  b.push('huge', 500);
  b.push('g', 10);
  await nextTurn();
  assert.deepEqual(sent, [['c', 'd', 'e'], ['f'], ['big'], ['huge'], ['g']]);

  sent.length = 0;
  b.push('lost', 10);
  b.clear();
  await nextTurn();
  assert.deepEqual(sent, []);
});
