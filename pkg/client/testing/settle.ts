// Waiting without sleeping: tests of promise-driven code yield to the event loop until the work
// they started has run. Only for in-process work (no timers, no sockets).

/** Lets every pending promise continuation (and anything they schedule with setImmediate) run. */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

/**
 * Yields to the event loop until `cond` holds; fails after maxTurns turns instead of hanging.
 * For conditions that need only in-process promise work (no timers, no I/O).
 */
export async function eventually(what: string, cond: () => boolean, maxTurns = 1000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (cond()) return;
    await new Promise<void>((r) => setImmediate(r));
  }
  throw new Error(`Condition not met after ${maxTurns} event-loop turns: ${what}`);
}

const PENDING = Symbol('pending');

/** The promise's value if it has settled after the pending work ran, else PENDING (rejections throw). */
export async function peek<T>(p: Promise<T>): Promise<T | typeof PENDING> {
  let out: T | typeof PENDING = PENDING;
  let failure: { err: unknown } | undefined;
  p.then(
    (v) => (out = v),
    (err: unknown) => (failure = { err }),
  );
  await settle();
  if (failure) throw failure.err;
  return out;
}

export { PENDING };
