// A Clock for the client machinery's tests: virtual time (raft/sim's SimClock) plus async stepping,
// because informers and queues react to timers through promises. `advance` fires each due timer in
// order and lets the promise chains it started run before moving on, so a test reads like a script
// of "time passes, then this is true" with no real waiting.

import { SimClock } from '../../../raft/sim/sim_clock.js';
import { settle } from './settle.js';

export class FakeClock extends SimClock {
  /** Moves time forward by ms, firing due timers in order and settling the work each one starts. */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`Cannot advance the clock by ${ms} ms: expected a number >= 0`);
    const target = this.nowMs() + ms;
    await settle();
    for (;;) {
      const due = this.nextDueMs();
      if (due === undefined || due > target) break;
      this.runNext();
      await settle();
    }
    this.advanceTo(target);
    await settle();
  }
}
