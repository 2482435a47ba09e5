import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metaPatch, splitChangeArgs } from './label.js';

test('splitChangeArgs() separates resources from key=value and key- changes', () => {
  assert.deepEqual(splitChangeArgs(['pods', 'web', 'app=web', 'tier-', 'example.com/team=a=b', 'app.kubernetes.io/name-']), {
    resources: ['pods', 'web'],
    changes: { set: { app: 'web', 'example.com/team': 'a=b' }, remove: ['tier', 'app.kubernetes.io/name'] },
  });
  assert.throws(() => splitChangeArgs(['pods', 'web', 'a=1', 'a-']), /can not both modify and remove the same key "a"/);
  assert.throws(() => splitChangeArgs(['pods', 'web', '=x']), /invalid change "=x"/);
});

test('metaPatch() refuses to change a value without --overwrite, as kubectl', () => {
  const cur = { app: 'web', tier: 'db' };
  assert.throws(() => metaPatch(cur, { set: { tier: 'cache' }, remove: [] }, false, 'label'), { message: "'tier' already has a value (db), and --overwrite is false" });
  assert.deepEqual(metaPatch(cur, { set: { tier: 'cache', new: 'x' }, remove: ['app'] }, true, 'label'), { tier: 'cache', new: 'x', app: null });
  // Setting a value to what it already is is not a change, and needs no --overwrite.
  assert.equal(metaPatch(cur, { set: { tier: 'db' }, remove: [] }, false, 'label'), undefined);
});
