import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCascade } from './delete.js';

test('parseCascade() maps kubectl\'s values to propagation policies', () => {
  assert.equal(parseCascade(undefined), 'Background');
  assert.equal(parseCascade('foreground'), 'Foreground');
  assert.equal(parseCascade('false'), 'Orphan');
  assert.throws(() => parseCascade('sideways'), /Invalid --cascade "sideways"/);
});
