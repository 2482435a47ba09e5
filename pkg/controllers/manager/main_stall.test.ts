import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { MainStallWatch } from './main_stall.js';

function fixture(stallMs = 10_000) {
  const clock = new FakeClock(5_000);
  let beat = 7;
  const said: string[] = [];
  const watch = new MainStallWatch(() => beat, clock, stallMs, {
    stalled: (ms) => void said.push(`stalled ${ms}`),
    recovered: (ms) => void said.push(`recovered ${ms}`),
  });
  /** Checks every 500 ms for ms, the main thread beating every beatEveryMs (0: not at all). */
  const run = (ms: number, beatEveryMs: number) => {
    for (let t = 500; t <= ms; t += 500) {
      clock.advanceTo(clock.nowMs() + 500);
      if (beatEveryMs > 0 && t % beatEveryMs === 0) beat++;
      watch.check();
    }
  };
  return { watch, run, said };
}

describe('MainStallWatch', () => {
  it('says nothing while the main thread beats, even with pauses shorter than the limit', () => {
    const f = fixture();
    f.run(60_000, 500);
    f.run(9_500, 0);
    f.run(1_000, 500);
    assert.deepEqual(f.said, []);
    assert.equal(f.watch.stalled, false);
  });

  it('says once that the main thread stalled when its beat has not moved for the limit, and once that it recovered', () => {
    const f = fixture();
    f.run(2_000, 500);
    f.run(10_000, 0);
    assert.deepEqual(f.said, ['stalled 10000']);
    assert.equal(f.watch.stalled, true);
    f.run(20_000, 0);
    assert.deepEqual(f.said, ['stalled 10000'], 'a longer stall is reported once');
    f.run(500, 500);
    assert.deepEqual(f.said, ['stalled 10000', 'recovered 30500']);
    assert.equal(f.watch.stalled, false);
  });

  it('counts a stall from the last beat, and from its creation before any beat', () => {
    const f = fixture(3_000);
    f.run(3_000, 0);
    assert.deepEqual(f.said, ['stalled 3000']);
  });

  it('refuses a limit that is not a positive number of ms', () => {
    assert.throws(() => fixture(0), /main thread stall limit must be a number of ms > 0, got 0/);
    assert.throws(() => fixture(Number.NaN), /got NaN/);
  });
});
