// Per-key exponential backoff as the kubelet's (client-go flowcontrol.Backoff without jitter):
// the first failure starts at initialMs, each next one doubles up to maxMs, and an entry that has
// not been bumped for 2 x maxMs before the failure (a container that ran 10 min) starts over.
// Keys are bounded (maxKeys); the oldest entry goes first when it is full.

export interface BackoffOptions {
  /** @default 10000 */
  initialMs?: number;
  /** @default 300000 */
  maxMs?: number;
  /** @default 4096 */
  maxKeys?: number;
}

interface Entry {
  backoffMs: number;
  lastUpdateMs: number;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  private readonly maxKeys: number;
  private readonly entries = new Map<string, Entry>();

  constructor(o: BackoffOptions = {}) {
    this.initialMs = o.initialMs ?? 10_000;
    this.maxMs = o.maxMs ?? 300_000;
    this.maxKeys = o.maxKeys ?? 4096;
    if (!(this.initialMs > 0 && this.maxMs >= this.initialMs)) throw new RangeError(`Cannot create a backoff: need 0 < initialMs <= maxMs, got ${this.initialMs} and ${this.maxMs}`);
  }

  /** The current delay of `key` (0 when it has none). */
  get(key: string): number {
    return this.entries.get(key)?.backoffMs ?? 0;
  }

  /** Records a retry at nowMs after an event (exit, failure) at eventMs: the delay grows or starts over. */
  next(key: string, eventMs: number, nowMs: number): void {
    const e = this.entries.get(key);
    if (e === undefined || this.expired(e, eventMs)) {
      this.entries.delete(key);
      if (this.entries.size >= this.maxKeys) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, { backoffMs: this.initialMs, lastUpdateMs: nowMs });
    } else {
      e.backoffMs = Math.min(e.backoffMs * 2, this.maxMs);
      e.lastUpdateMs = nowMs;
    }
  }

  /** When the backoff that started with an event at eventMs ends, or undefined when it is not in force. */
  backoffUntil(key: string, eventMs: number, nowMs: number): number | undefined {
    const e = this.entries.get(key);
    if (e === undefined || this.expired(e, eventMs)) return undefined;
    const until = eventMs + e.backoffMs;
    return nowMs < until ? until : undefined;
  }

  /** When the backoff since the last update ends (image pulls), or undefined when it is over. */
  backoffSinceUpdateUntil(key: string, nowMs: number): number | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    const until = e.lastUpdateMs + e.backoffMs;
    return nowMs < until ? until : undefined;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every key starting with `prefix` (a pod's keys when it goes). */
  forgetPrefix(prefix: string): void {
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.entries.delete(k);
  }

  private expired(e: Entry, eventMs: number): boolean {
    return eventMs - e.lastUpdateMs > 2 * this.maxMs;
  }
}
