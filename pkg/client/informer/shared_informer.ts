// A shared informer, as client-go's: one reflector fills one indexed local store, and every
// registered handler hears of each change after the store already shows it. Handlers run in the
// reflector's turn, one at a time, so they should only note work (enqueue a key) and return. A
// relist (first list, or after the watch expired) tells handlers the difference from what the
// store held: adds, updates (resourceVersion changed) and deletes with finalStateUnknown, since the
// object's last state before deletion was missed. Long runs of notices (a large first list, a
// relist's difference, a resync) are given in turns, so a busy process goes on between them; a
// relist's are told while the watch goes on, each object's before any live change to it.

import { realClock, type Clock, type TimerHandle } from '../../../raft/node/ports.js';
// Lets other callbacks (a master's Raft ticks, its requests) run between turns.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { KubeObject } from '../../api/registry.js';
import { shareValues } from '../../api/shared_values.js';
import type { ClientWatchEvent } from '../watch.js';
import { Indexer, type IndexFunc, type ReadonlyIndexer } from './indexer.js';
import { objectKey } from './keys.js';
import type { ListWatcher } from './list_watcher.js';
import { Reflector, type ReflectorLogger, type ReflectorOptions } from './reflector.js';

export interface ResourceEventHandler<T extends KubeObject> {
  /** `isInInitialList`: part of the first list (or of the store when the handler was added late). */
  onAdd?(obj: T, isInInitialList: boolean): void;
  /** Also called with old === new on each resync. */
  onUpdate?(oldObj: T, newObj: T): void;
  /** `finalStateUnknown`: found gone on a relist; `obj` is the last state this informer saw. */
  onDelete?(obj: T, info: { finalStateUnknown: boolean }): void;
}

export interface HandlerRegistration {
  remove(): void;
}

/** A handler added to a shared informer: it may still be hearing of the objects the store already held. */
export interface InformerRegistration extends HandlerRegistration {
  /** True once the handler has had onAdd for every object the store held when it was added. */
  hasSynced(): boolean;
  /** Resolves when hasSynced() turns true (or the handler is removed, or the informer stopped). */
  readonly synced: Promise<void>;
}

export interface SharedInformerOptions<T extends KubeObject> extends Omit<ReflectorOptions, 'clock' | 'logger'> {
  /** @default realClock */
  clock?: Clock;
  /** Indexes besides byNamespace. */
  indexers?: Readonly<Record<string, IndexFunc<T>>>;
  /** Every this many ms after syncing, onUpdate(obj, obj) for every stored object. 0 or absent: never. */
  resyncPeriodMs?: number;
  /** @default warnings to stderr */
  logger?: ReflectorLogger;
  /**
   * A handler added to a filled store hears of its objects in turns of this many, each in its own
   * task, so that 150,000 pods replayed into a new scheduler's cache do not stall the process (and
   * its lease renewals) for seconds. @default 1000
   */
  replayChunkObjects?: number;
}

interface HandlerEntry<T extends KubeObject> {
  h: ResourceEventHandler<T>;
  /** Set while the handler is replayed the objects the store held when it was added. */
  replay: Replay | undefined;
}

/**
 * The keys the store held at the handler's registration, replayed in turns, and those the handler
 * has heard of since (replayed, or added or deleted live). A key in neither set is still to
 * replay: its live changes are held back, as its replay gives its current state. Only the array is
 * built at registration: a set of 150,000 keys, built for each controller's handler at once, held
 * a master for a second when it took the controller lease.
 */
interface Replay {
  keys: string[];
  heard: Set<string>;
}

export class SharedInformer<T extends KubeObject = KubeObject> {
  readonly name: string;
  private readonly indexer: Indexer<T>;
  private readonly reflector: Reflector<T>;
  private readonly clock: Clock;
  private readonly logger: ReflectorLogger;
  private readonly resyncPeriodMs: number;
  private readonly replayChunkObjects: number;
  private handlers: HandlerEntry<T>[] = [];
  private synced = false;
  private started = false;
  private stopped = false;
  private syncWaiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  private resyncTimer: TimerHandle | undefined;
  /** Relists stored so far (a resync stops when one begins). */
  private replaces = 0;
  /** A relist's notices not yet told, by key, in order (a resync waits until they are). */
  private pending: Map<string, () => void> | undefined;
  private runDone: Promise<void> | undefined;
  /** Whether the ListWatcher's objects come with shared values already. */
  private readonly decodedForCache: boolean;

  constructor(lw: ListWatcher<T>, o: SharedInformerOptions<T> = {}) {
    this.name = o.name ?? 'objects';
    this.decodedForCache = lw.decodedForCache === true;
    this.clock = o.clock ?? realClock;
    this.logger = o.logger ?? { warn: (msg) => process.stderr.write(`${msg}\n`) };
    this.resyncPeriodMs = o.resyncPeriodMs ?? 0;
    this.replayChunkObjects = o.replayChunkObjects ?? 1000;
    if (!(Number.isInteger(this.replayChunkObjects) && this.replayChunkObjects > 0)) throw new RangeError(`Cannot create informer "${this.name}": replayChunkObjects must be an integer > 0, got ${o.replayChunkObjects}`);
    if (!(this.resyncPeriodMs >= 0)) throw new RangeError(`Cannot create informer "${this.name}": resyncPeriodMs must be >= 0, got ${o.resyncPeriodMs}`);
    this.indexer = new Indexer<T>(o.indexers, (index, key, err) => this.logger.warn(`Informer "${this.name}": index function "${index}" failed for ${key}: ${message(err)}`));
    const sink = { replace: (items: T[]) => this.onReplace(items), apply: (ev: ClientWatchEvent<T>) => this.onEvent(ev) };
    this.reflector = new Reflector<T>(lw, sink, { ...o, clock: this.clock, logger: this.logger, name: this.name });
  }

  /** The local store (read-only: never mutate the objects it returns). */
  get store(): ReadonlyIndexer<T> {
    return this.indexer;
  }

  get lastSyncResourceVersion(): string {
    return this.reflector.lastSyncResourceVersion;
  }

  get reflectorStats(): Readonly<Reflector['stats']> {
    return this.reflector.stats;
  }

  /** Adds indexes (filled from the current store). */
  addIndexers(indexers: Readonly<Record<string, IndexFunc<T>>>): void {
    this.indexer.addIndexers(indexers);
  }

  /**
   * Registers a handler; it first gets onAdd for every object the store holds (nothing before the
   * first list; while that list is stored in turns, what is stored so far, the rest coming as it is
   * stored): at once for a store of at most replayChunkObjects, otherwise in turns (see `synced`).
   * Meanwhile it hears live changes of objects already replayed or new, and of the others only
   * their state when their turn comes (a deleted one not at all), so it never sees an object go
   * back in time.
   */
  addEventHandler(h: ResourceEventHandler<T>): InformerRegistration {
    // A relist's notices still waiting go to the handlers there are now: the new one starts from
    // the store as it is, and would otherwise hear of some objects twice.
    this.tellPendingNow();
    const entry: HandlerEntry<T> = { h, replay: undefined };
    this.handlers = [...this.handlers, entry];
    let markSynced = (): void => {};
    const synced = new Promise<void>((resolve) => (markSynced = resolve));
    const finish = (): void => {
      entry.replay = undefined;
      markSynced();
    };
    const remove = (): void => {
      this.handlers = this.handlers.filter((x) => x !== entry);
      finish();
    };
    if (this.indexer.size > this.replayChunkObjects) {
      entry.replay = { keys: this.indexer.listKeys(), heard: new Set() };
      this.replay(entry).then(finish, (err: unknown) => {
        this.logger.warn(`Informer "${this.name}": replay to a new handler failed: ${message(err)}`);
        finish();
      });
    } else {
      for (const o of this.indexer.list()) this.call('onAdd', o, h, (x) => x.onAdd?.(o, true));
      markSynced();
    }
    return { remove, hasSynced: () => entry.replay === undefined, synced };
  }

  private async replay(entry: HandlerEntry<T>): Promise<void> {
    const replay = entry.replay!;
    let n = 0;
    for (const key of replay.keys) {
      if (entry.replay !== replay || this.stopped) return;
      if (!replay.heard.has(key)) {
        replay.heard.add(key);
        const o = this.indexer.getByKey(key);
        if (o !== undefined) this.call('onAdd', o, entry.h, (x) => x.onAdd?.(o, true));
      }
      if (++n % this.replayChunkObjects === 0) await yieldToEventLoop();
    }
  }

  /** Lists and watches until stop(); resolves then. */
  run(): Promise<void> {
    if (this.stopped) throw new Error(`Cannot run informer "${this.name}": it was stopped`);
    this.started = true;
    this.runDone ??= this.reflector.run();
    return this.runDone;
  }

  /** Starts run() without waiting for it. */
  start(): void {
    void this.run();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.reflector.stop();
    if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    const err = new Error(`Informer "${this.name}" stopped before it synced`);
    for (const w of this.syncWaiters.splice(0)) w.reject(err);
  }

  /** True once the first list is in the store and its handlers have run. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once synced; rejects if stopped first, on timeoutMs (on the informer's clock) or on abort. */
  waitForSync(o: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error(`Informer "${this.name}" stopped before it synced`));
    if (o.signal?.aborted) return Promise.reject(o.signal.reason);
    return new Promise<void>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const onAbort = () => finish(() => reject(o.signal!.reason));
      const finish = (f: () => void) => {
        if (timer !== undefined) this.clock.clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        this.syncWaiters = this.syncWaiters.filter((w) => w !== waiter);
        f();
      };
      const waiter = { resolve: () => finish(resolve), reject: (err: unknown) => finish(() => reject(err)) };
      this.syncWaiters.push(waiter);
      o.signal?.addEventListener('abort', onAbort, { once: true });
      if (o.timeoutMs !== undefined) {
        timer = this.clock.setTimeout(() => waiter.reject(new Error(`Informer "${this.name}" did not sync within ${o.timeoutMs} ms${this.started ? '' : ' (it was never started)'}`)), o.timeoutMs);
      }
    });
  }

  private onReplace(items: T[]): void | Promise<void> {
    if (!this.synced && this.indexer.size === 0 && items.length > this.replayChunkObjects) return this.fillInTurns(items);
    const initial = !this.synced;
    // An earlier relist's notices still to tell go first, all of them: they are older.
    this.tellPendingNow();
    // The store keeps what the list decoded for this informer alone: share its strings.
    const diff = this.indexer.replace(this.decodedForCache ? items : items.map((o) => shareValues(o)));
    const notices = new Map<string, () => void>();
    for (const o of diff.added) notices.set(objectKey(o), () => this.notify('onAdd', o, (h) => h.onAdd?.(o, initial)));
    for (const [old, o] of diff.updated) notices.set(objectKey(o), () => this.notify('onUpdate', o, (h) => h.onUpdate?.(old, o)));
    for (const o of diff.deleted) notices.set(objectKey(o), () => this.notify('onDelete', o, (h) => h.onDelete?.(o, { finalStateUnknown: true })));
    this.replaces++;
    if (notices.size > this.replayChunkObjects && this.synced) {
      // A relist's difference can be every object (a long partition): told in turns, while the
      // watch goes on from the list (the store already holds it). A live change to an object
      // still to be told tells its notice first, so each handler hears of every object in order.
      this.pending = notices;
      void this.tellPendingInTurns(notices);
      return;
    }
    for (const tell of notices.values()) tell();
    this.markSynced();
  }

  private async tellPendingInTurns(notices: Map<string, () => void>): Promise<void> {
    let n = 0;
    for (const [key, tell] of notices) {
      if (this.stopped || this.pending !== notices) return;
      notices.delete(key);
      tell();
      if (++n % this.replayChunkObjects === 0) await yieldToEventLoop();
    }
    if (this.pending === notices) this.pending = undefined;
  }

  private tellPendingNow(): void {
    const notices = this.pending;
    this.pending = undefined;
    if (notices) for (const tell of notices.values()) tell();
  }

  /** step(0..n-1), replayChunkObjects in a turn, other callbacks running between turns; stops early on stop(). */
  private async inTurns(n: number, step: (i: number) => void): Promise<void> {
    for (let i = 0; i < n; i++) {
      if (this.stopped) return;
      step(i);
      if ((i + 1) % this.replayChunkObjects === 0 && i + 1 < n) await yieldToEventLoop();
    }
  }

  /**
   * The first list into an empty store, stored and handed to the handlers replayChunkObjects at a
   * time with the event loop running between: at 150,000 pods, one call held a restarted master
   * (and its Raft ticks) for 3 to 6 s while its standby scheduler filled its cache. The reflector
   * watches only after this resolves, and the informer is synced only then.
   */
  private async fillInTurns(items: T[]): Promise<void> {
    await this.inTurns(items.length, (i) => {
      const o = this.kept(items[i]);
      this.indexer.upsert(o);
      this.notify('onAdd', o, (h) => h.onAdd?.(o, true));
    });
    this.markSynced();
  }

  private markSynced(): void {
    if (this.synced || this.stopped) return;
    this.synced = true;
    for (const w of [...this.syncWaiters]) w.resolve();
    this.armResync();
  }

  private onEvent(ev: ClientWatchEvent<T>): void {
    const earlier = this.pending?.get(objectKey(ev.object));
    if (earlier !== undefined) {
      this.pending!.delete(objectKey(ev.object));
      earlier();
    }
    if (ev.type === 'DELETED') {
      const o = ev.object;
      const old = this.indexer.remove(objectKey(o));
      // Nothing to tell handlers about an object this store never held.
      if (old !== undefined) this.notify('onDelete', o, (h) => h.onDelete?.(o, { finalStateUnknown: false }));
      return;
    }
    // Only what the store keeps shares its strings.
    const o = this.kept(ev.object);
    const old = this.indexer.upsert(o);
    if (old === undefined) this.notify('onAdd', o, (h) => h.onAdd?.(o, false));
    else this.notify('onUpdate', o, (h) => h.onUpdate?.(old, o));
  }

  /** An object as the store keeps it: with shared values (see ListWatcher.decodedForCache). */
  private kept(o: T): T {
    return this.decodedForCache ? o : shareValues(o);
  }

  private armResync(): void {
    if (this.resyncPeriodMs <= 0 || this.stopped) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      this.resyncTimer = undefined;
      // Not while a relist's difference is still being told, nor on once another begins: a
      // handler would hear of an update before the add it has yet to get.
      if (this.pending !== undefined) return this.armResync();
      const replaces = this.replaces;
      // In turns: the hollow nodes resync 150,000 pods. Each object as the store holds it then.
      const keys = this.indexer.listKeys();
      void this.inTurns(keys.length, (i) => {
        if (this.replaces !== replaces) return;
        const o = this.indexer.getByKey(keys[i]);
        if (o !== undefined) this.notify('onUpdate', o, (h) => h.onUpdate?.(o, o));
      }).then(() => this.armResync());
    }, this.resyncPeriodMs);
  }

  private notify(what: string, o: T, f: (h: ResourceEventHandler<T>) => void): void {
    // Every change of every object comes here: the key is made only when a replay needs it.
    let key: string | undefined;
    for (const e of this.handlers) {
      const r = e.replay;
      if (r !== undefined && !r.heard.has((key ??= objectKey(o)))) {
        // onAdd of a key not heard of: one added after the registration (the store did not hold
        // it). Any other change to a key not heard of is to one still to replay.
        if (what === 'onAdd') r.heard.add(key);
        else {
          // Its replay turn gives the current state; gone by then, it was never there for this handler.
          if (what === 'onDelete') r.heard.add(key);
          continue;
        }
      }
      this.call(what, o, e.h, f);
    }
  }

  /**
   * A failing handler is logged and does not stop the others or the informer. The object's key is
   * made only then: every change of every object passes here.
   */
  private call(what: string, o: T, h: ResourceEventHandler<T>, f: (h: ResourceEventHandler<T>) => void): void {
    try {
      f(h);
    } catch (err) {
      this.logger.warn(`Informer "${this.name}": ${what} handler failed for ${objectKey(o)}: ${message(err)}`);
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
