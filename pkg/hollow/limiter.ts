// At most `limit` calls in flight; the rest wait in FIFO order. Many hollow nodes share one, so a
// slow API gets a bounded number of their writes at a time instead of thousands.

export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!(Number.isSafeInteger(limit) && limit >= 1)) throw new RangeError(`Cannot create a limiter: limit must be an integer >= 1, got ${limit}`);
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  get inflight(): number {
    return this.active;
  }

  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    try {
      return await f();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
