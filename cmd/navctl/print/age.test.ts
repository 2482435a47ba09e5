import assert from 'node:assert/strict';
import { test } from 'node:test';
import { age, humanDuration } from './age.js';

test('humanDuration() is precise for young objects and coarser for old ones, as kubectl', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const cases: Array<[number, string]> = [
    [-5 * s, '<invalid>'],
    [-500, '0s'],
    [0, '0s'],
    [45 * s, '45s'],
    [119 * s, '119s'],
    [5 * m + 3 * s, '5m3s'],
    [5 * m, '5m'],
    [150 * m, '150m'],
    [3 * h + 20 * m, '3h20m'],
    [4 * h, '4h'],
    [30 * h, '30h'],
    [3 * d + 5 * h, '3d5h'],
    [3 * d, '3d'],
    [40 * d, '40d'],
    [3 * 365 * d + 10 * d, '3y10d'],
    [9 * 365 * d, '9y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms} ms`);
});

test('age() reads an RFC 3339 timestamp and says <unknown> for none', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  assert.equal(age('2026-01-01T00:00:00Z', now), '10m');
  assert.equal(age(undefined, now), '<unknown>');
  assert.equal(age('yesterday', now), '<unknown>');
});
