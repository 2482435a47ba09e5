// One informer per resource, shared by every controller in a process, as client-go's
// SharedInformerFactory: controllers ask for "pods" and get the same store and watch. start()
// runs the ones not yet running (call it again after asking for more); waitForSync() waits for
// all that run.

import { realClock, type Clock } from '../../../raft/node/ports.js';
import type { KubeObject } from '../../api/registry.js';
import type { NavarchClient } from '../client.js';
import type { IndexFunc } from './indexer.js';
import { clientListWatcher, type ListWatcher } from './list_watcher.js';
import type { ReflectorLogger } from './reflector.js';
import { SharedInformer } from './shared_informer.js';

export interface InformerFactoryOptions {
  /** @default realClock */
  clock?: Clock;
  /** Resync period of every informer (0 or absent: none). */
  resyncPeriodMs?: number;
  logger?: ReflectorLogger;
  /** See SharedInformerOptions.replayChunkObjects. */
  replayChunkObjects?: number;
}

export class InformerFactory {
  private readonly informers = new Map<string, SharedInformer<KubeObject>>();
  private readonly started = new Set<string>();
  private readonly clock: Clock;
  private stopped = false;

  /** `listWatcherFor` gives the list/watch source of a resource (plural name, e.g. "pods"). */
  constructor(
    private readonly listWatcherFor: (resource: string) => ListWatcher,
    private readonly o: InformerFactoryOptions = {},
  ) {
    this.clock = o.clock ?? realClock;
  }

  /** Informers over every namespace through a client, listing 500 objects a page. */
  static forClient(client: NavarchClient, o: InformerFactoryOptions & { namespace?: string; pageSize?: number } = {}): InformerFactory {
    return new InformerFactory((resource) => clientListWatcher(client, resource, { namespace: o.namespace, pageSize: o.pageSize }), o);
  }

  /** The shared informer of a resource (use the plural name); indexers are added to it if new. */
  informer<T extends KubeObject = KubeObject>(resource: string, o: { indexers?: Readonly<Record<string, IndexFunc<T>>> } = {}): SharedInformer<T> {
    let inf = this.informers.get(resource) as SharedInformer<T> | undefined;
    if (inf === undefined) {
      inf = new SharedInformer<T>(this.listWatcherFor(resource) as ListWatcher<T>, { name: resource, clock: this.clock, resyncPeriodMs: this.o.resyncPeriodMs, logger: this.o.logger, indexers: o.indexers, replayChunkObjects: this.o.replayChunkObjects });
      this.informers.set(resource, inf as unknown as SharedInformer<KubeObject>);
      return inf;
    }
    const have = inf.store.indexNames;
    const missing = Object.entries(o.indexers ?? {}).filter(([name]) => !have.includes(name));
    if (missing.length > 0) inf.addIndexers(Object.fromEntries(missing));
    return inf;
  }

  /** Starts every informer not yet running. */
  start(): void {
    if (this.stopped) throw new Error('Cannot start informers: the factory was stopped');
    for (const [resource, inf] of this.informers) {
      if (this.started.has(resource)) continue;
      this.started.add(resource);
      inf.start();
    }
  }

  /** Resolves when every started informer has synced; rejects as the first one that cannot. */
  async waitForSync(o: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    await Promise.all([...this.started].map((r) => this.informers.get(r)!.waitForSync(o)));
  }

  /** The last resourceVersion each started informer has seen (list, event or bookmark). */
  resourceVersions(): string[] {
    return [...this.started].map((r) => this.informers.get(r)!.lastSyncResourceVersion);
  }

  stop(): void {
    this.stopped = true;
    for (const inf of this.informers.values()) inf.stop();
  }
}
