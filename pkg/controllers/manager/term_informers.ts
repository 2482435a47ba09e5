// A term's view of informers that outlive it: the same shared informers (warm, already synced),
// but every handler a term's part registers is removed when the term ends, so the next term's
// controllers start from current caches without the old ones still hearing of changes. A term's
// informer counts as synced once its handlers have also heard of every object it held (a handler
// added to a filled store hears of them in turns).

import type { KubeObject } from '../../api/registry.js';
import { InformerFactory, type IndexFunc, type InformerRegistration, type SharedInformer } from '../../client/informer/mod.js';

export class TermInformers extends InformerFactory {
  private readonly registrations: Array<InformerRegistration & { resource: string }> = [];
  private readonly views = new Map<string, SharedInformer<KubeObject>>();
  private ended = false;

  constructor(private readonly shared: InformerFactory) {
    super(() => {
      throw new Error('TermInformers lists nothing itself: its informers are the shared ones');
    });
  }

  override informer<T extends KubeObject = KubeObject>(resource: string, o: { indexers?: Readonly<Record<string, IndexFunc<T>>> } = {}): SharedInformer<T> {
    const inf = this.shared.informer<T>(resource, o);
    let view = this.views.get(resource) as SharedInformer<T> | undefined;
    if (view === undefined) {
      const registrations = this.registrations;
      const isEnded = (): boolean => this.ended;
      const replays = (): Promise<unknown> => Promise.all(registrations.filter((r) => r.resource === resource).map((r) => r.synced));
      // Bound once per method: handlers call through the view for every event.
      const bound = new Map<PropertyKey, { fn: unknown; bound: unknown }>();
      view = new Proxy(inf, {
        get(target, key) {
          if (key === 'addEventHandler') {
            return (h: Parameters<SharedInformer<T>['addEventHandler']>[0]) => {
              if (isEnded()) throw new Error(`Cannot add a handler to informer "${resource}": its term has ended`);
              const r = target.addEventHandler(h);
              registrations.push({ ...r, resource });
              return r;
            };
          }
          if (key === 'waitForSync') {
            return async (o?: Parameters<SharedInformer<T>['waitForSync']>[0]) => {
              await target.waitForSync(o);
              await replays();
            };
          }
          if (key === 'stop') return () => {};
          const v = Reflect.get(target, key, target) as unknown;
          if (typeof v !== 'function') return v;
          let b = bound.get(key);
          if (b === undefined || b.fn !== v) bound.set(key, (b = { fn: v, bound: (v as (...a: unknown[]) => unknown).bind(target) }));
          return b.bound;
        },
      });
      this.views.set(resource, view as unknown as SharedInformer<KubeObject>);
    }
    return view;
  }

  /** Starts any shared informer not yet running (a term may ask for new resources). */
  override start(): void {
    this.shared.start();
  }

  override async waitForSync(o: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    await this.shared.waitForSync(o);
    await Promise.all(this.registrations.map((r) => r.synced));
  }

  /** Ends the term: removes its handlers; the shared informers keep running. */
  override stop(): void {
    this.ended = true;
    for (const r of this.registrations.splice(0)) r.remove();
  }
}
