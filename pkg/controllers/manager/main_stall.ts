// The election thread's view of the main thread. The electors renew from a thread of their own so
// that a loop busy for a second or two does not lose the leases (election_thread.ts); the price is
// that a main thread stopped for good (an endless synchronous loop, a wedged native call) would keep
// them too, and its scheduler or controller manager would stand still with no other master allowed
// to take over. The main thread bumps a counter in shared memory every 100 ms; when the
// count has not moved for stallMs, the thread's electors step down (releasing their leases, so a
// warm standby takes over at once) and campaign again only once the count moves.

import type { Clock } from '../../../raft/node/ports.js';

/** By default the main thread must be silent this long: five times the longest event-loop delay seen under load (about 2 s). */
export const MAIN_STALL_MS = 10_000;

/** Where the two threads' shared Int32Array keeps what (election_messages.ts' ElectionWorkerData.shared). */
export const SHARED_DEFERRAL = 0;
export const SHARED_MAIN_BEAT = 1;
export const SHARED_SLOTS = 2;

export class MainStallWatch {
  private lastBeat: number;
  private movedAtMs: number;
  private isStalled = false;

  constructor(
    private readonly readBeat: () => number,
    private readonly clock: Clock,
    private readonly stallMs: number,
    private readonly on: { stalled(silentMs: number): void; recovered(silentMs: number): void },
  ) {
    if (!(Number.isFinite(stallMs) && stallMs > 0)) throw new RangeError(`main thread stall limit must be a number of ms > 0, got ${stallMs}`);
    this.lastBeat = readBeat();
    this.movedAtMs = clock.nowMs();
  }

  get stalled(): boolean {
    return this.isStalled;
  }

  /** Called every so often (well under stallMs) on the election thread. */
  check(): void {
    const now = this.clock.nowMs();
    const beat = this.readBeat();
    if (beat !== this.lastBeat) {
      const silentMs = now - this.movedAtMs;
      this.lastBeat = beat;
      this.movedAtMs = now;
      if (this.isStalled) {
        this.isStalled = false;
        this.on.recovered(silentMs);
      }
      return;
    }
    if (!this.isStalled && now - this.movedAtMs >= this.stallMs) {
      this.isStalled = true;
      this.on.stalled(now - this.movedAtMs);
    }
  }
}
