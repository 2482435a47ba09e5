// Waiting on processes started by tests and benchmarks: poll a condition until it yields a value
// or a deadline passes (never a fixed sleep), naming what was awaited and the last error seen.

export async function until<T>(what: string, f: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, pollMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
