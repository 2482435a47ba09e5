import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { microTime, rfc3339 } from './timestamps.js';

const T0 = Date.UTC(2026, 11, 6, 10, 20, 30);

describe('agent timestamps', () => {
  it('writes MicroTime with the milliseconds, zero-padded, then three zeros', () => {
    for (const [ms, text] of [
      [T0, '2026-12-06T10:20:30.000000Z'],
      [T0 + 7, '2026-12-06T10:20:30.007000Z'],
      [T0 + 42.9, '2026-12-06T10:20:30.042000Z'],
      [T0 + 999, '2026-12-06T10:20:30.999000Z'],
      [T0 + 1000, '2026-12-06T10:20:31.000000Z'],
      [-1, '1969-12-31T23:59:59.999000Z'],
    ] as const) {
      assert.equal(microTime(ms), text, `at ${ms}`);
    }
  });

  it('follows the clock across seconds in either direction (the second is remembered, not stuck)', () => {
    const times = [T0 + 5, T0 + 1005, T0 + 5, T0 + 3_600_000 + 250, T0 + 250];
    for (const ms of times) {
      assert.equal(microTime(ms), new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'));
      assert.equal(rfc3339(ms), new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z'));
    }
  });
});
