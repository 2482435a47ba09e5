import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCascade, parseGrace } from './delete.js';

test('parseCascade() maps kubectl\'s values to propagation policies', () => {
  assert.equal(parseCascade(undefined), 'Background');
  assert.equal(parseCascade('foreground'), 'Foreground');
  assert.equal(parseCascade('false'), 'Orphan');
  assert.throws(() => parseCascade('sideways'), /Invalid --cascade "sideways"/);
});

test("parseGrace() sends what kubectl sends: --now and --grace-period=0 are 1 s, only --force means 0", () => {
  assert.equal(parseGrace({}), undefined, "the object's default");
  assert.equal(parseGrace({ gracePeriod: '-1' }), undefined);
  assert.equal(parseGrace({ gracePeriod: '45' }), 45);
  assert.equal(parseGrace({ now: true }), 1);
  assert.equal(parseGrace({ gracePeriod: '0' }), 1, 'a pod still gets to stop');
  assert.equal(parseGrace({ gracePeriod: '0', force: true }), 0);
  assert.equal(parseGrace({ force: true }), 0);
  assert.equal(parseGrace({ gracePeriod: '10', force: true }), 10);
  assert.throws(() => parseGrace({ now: true, gracePeriod: '5' }), /--now and --grace-period cannot be specified together/);
  assert.throws(() => parseGrace({ gracePeriod: '1.5' }), /Invalid --grace-period "1.5"/);
});
