// The transport-free API core: every verb of the object API as a method, errors as ApiError,
// watch as an AsyncIterable. Adapters (gRPC now, HTTP later) only translate requests and
// responses; they hold no logic of their own.

import { kindByName, type KindInfo, type KubeObject, type Pod } from '../api/registry.js';
import { ApiError, badRequest, toApiError } from './api_error.js';
import { makeContext, resolve, type ApiServerOptions, type Context, type RequestRecord, type Verb } from './context.js';

export type { RequestRecord, Verb } from './context.js';
import { bind, type BindRequest } from './bind.js';
import { bindBatch, type BindOutcome } from './bind_batch.js';
import { create, type CreateRequest } from './create.js';
import { createBatch, type CreateOutcome } from './create_batch.js';
import { evict } from './eviction.js';
import { deleteObject, type DeleteRequest, type DeleteResult } from './delete.js';
import { get, getBytes, type GetRequest } from './get.js';
import { list, listBytes, type ListRequest, type ListResult } from './list.js';
import { patch, type PatchRequest } from './patch.js';
import { update, type UpdateRequest } from './update.js';
import { openWatch, type ApiWatch, type WatchRequest } from './watch.js';
import { WatchCache } from './watch_cache.js';

function checkRequest(req: unknown): void {
  if (typeof req !== 'object' || req === null || Array.isArray(req)) throw new ApiError('Invalid', 'Cannot serve the request: expected a request object');
}

function resourceOf(req: unknown): string {
  const r = req as { resource?: unknown; object?: { kind?: unknown } } | null;
  if (typeof r?.resource === 'string') return r.resource;
  if (r?.resource && typeof r.resource === 'object' && typeof (r.resource as KindInfo).resource === 'string') return (r.resource as KindInfo).resource;
  const kind = r?.object?.kind;
  return typeof kind === 'string' ? (kindByName(kind)?.resource ?? kind) : '';
}

export class ApiServer {
  private readonly ctx: Context;
  private readonly watches = new Set<ApiWatch>();
  private readonly caches = new Map<KindInfo, WatchCache>();
  /** Open watches of each resource that has a cache. */
  private readonly cacheWatchers = new Map<WatchCache, number>();
  /** Caches that had no watcher at the last closeIdleWatchCaches call. */
  private idleCaches = new Set<WatchCache>();

  constructor(private readonly options: ApiServerOptions) {
    this.ctx = makeContext(options);
  }

  /** Every failure leaves the core as an ApiError; anything else is a bug, reported as Internal with its cause. */
  private async run<T>(verb: Verb, req: unknown, f: () => Promise<T>, labels?: { resource: string; subresource: string }): Promise<T> {
    const t0 = performance.now();
    let code: RequestRecord['code'] = 'OK';
    try {
      checkRequest(req);
      return await f();
    } catch (err) {
      const e = toApiError(err);
      code = e.code;
      throw e;
    } finally {
      const sub = (req as { subresource?: unknown } | null)?.subresource;
      const { resource, subresource } = labels ?? { resource: resourceOf(req), subresource: typeof sub === 'string' ? sub : '' };
      this.options.onRequest?.({ verb, resource, subresource, code, seconds: (performance.now() - t0) / 1000 });
    }
  }

  create(req: CreateRequest): Promise<KubeObject> {
    const subresource = (req as Partial<CreateRequest> | null)?.subresource;
    if (subresource === 'eviction') {
      return this.run(
        'create',
        req,
        async () => {
          if (req.resource && resolve(req.resource).resource !== 'pods') throw new ApiError('NotFound', `the server could not find the requested resource: ${req.resource}/eviction is not served (only pods/eviction)`);
          return evict(this.ctx, { namespace: req.namespace, name: req.name, eviction: req.object, dryRun: req.dryRun, fencing: req.fencing });
        },
        { resource: 'pods', subresource: 'eviction' },
      );
    }
    if (subresource) return this.run('create', req, () => Promise.reject(badRequest(`Cannot create the ${JSON.stringify(subresource)} subresource: only pods/eviction is created so`)));
    return this.run('create', req, () => create(this.ctx, req));
  }

  /**
   * Many creates, each done or refused on its own as its own create would be; those that pass are
   * written in one store transaction when it can take them all (see create_batch.ts). Each counts
   * as a create request in the metrics.
   */
  async createBatch(reqs: readonly CreateRequest[]): Promise<CreateOutcome[]> {
    const t0 = performance.now();
    const outcomes = await createBatch(this.ctx, reqs);
    const seconds = (performance.now() - t0) / 1000;
    reqs.forEach((req, i) => this.options.onRequest?.({ verb: 'create', resource: resourceOf(req), subresource: '', code: outcomes[i].error?.code ?? 'OK', seconds }));
    return outcomes;
  }

  get(req: GetRequest): Promise<KubeObject> {
    return this.run('get', req, () => get(this.ctx, req));
  }

  /** get with the object as its protobuf bytes (what the gRPC API sends). */
  getBytes(req: GetRequest): Promise<Buffer> {
    return this.run('get', req, () => getBytes(this.ctx, req));
  }

  list(req: ListRequest): Promise<ListResult> {
    return this.run('list', req, () => list(this.ctx, req));
  }

  /** list with the items as their protobuf bytes (what the gRPC API sends). */
  listBytes(req: ListRequest): Promise<ListResult<Buffer>> {
    return this.run('list', req, () => listBytes(this.ctx, req));
  }

  /** Replaces the object (or only its status, with subresource "status"). */
  update(req: UpdateRequest): Promise<KubeObject> {
    return this.run('update', req, () => update(this.ctx, req));
  }

  /** Writes only .status: shorthand for update with subresource "status". */
  updateStatus(req: Omit<UpdateRequest, 'subresource'>): Promise<KubeObject> {
    return this.run('update', { ...req, subresource: 'status' }, () => update(this.ctx, { ...req, subresource: 'status' }));
  }

  patch(req: PatchRequest): Promise<KubeObject> {
    return this.run('patch', req, () => patch(this.ctx, req));
  }

  /**
   * Many bindings, each done or refused on its own as its own bind would be; those decided on this
   * member's copy are written in one store transaction when it can take them all (see bind_batch.ts).
   * Each counts as a binding request in the metrics.
   */
  async bindBatch(reqs: readonly BindRequest[]): Promise<BindOutcome[]> {
    const t0 = performance.now();
    const outcomes = await bindBatch(this.ctx, reqs);
    const seconds = (performance.now() - t0) / 1000;
    for (const o of outcomes) this.options.onRequest?.({ verb: 'create', resource: 'pods', subresource: 'binding', code: o.error?.code ?? 'OK', seconds });
    return outcomes;
  }

  /** POST pods/{name}/binding: sets spec.nodeName of an unbound pod (else Conflict). Returns the pod as bound. */
  bind(req: BindRequest): Promise<Pod> {
    return this.run('create', req, () => bind(this.ctx, req), { resource: 'pods', subresource: 'binding' });
  }

  delete(req: DeleteRequest): Promise<DeleteResult> {
    return this.run('delete', req, () => deleteObject(this.ctx, req));
  }

  /** Opens a watch; throws at once for a bad request, later (from the iterator) for Expired. */
  watch(req: WatchRequest): ApiWatch {
    const t0 = performance.now();
    let w: ApiWatch;
    try {
      checkRequest(req);
      w = this.openWatch(req);
    } catch (err) {
      const e = toApiError(err);
      this.options.onRequest?.({ verb: 'watch', resource: resourceOf(req), subresource: '', code: e.code, seconds: (performance.now() - t0) / 1000 });
      throw e;
    }
    this.options.onRequest?.({ verb: 'watch', resource: resourceOf(req), subresource: '', code: 'OK', seconds: (performance.now() - t0) / 1000 });
    return w;
  }

  private openWatch(req: WatchRequest): ApiWatch {
    let cache: WatchCache | undefined;
    const w = openWatch(
      this.ctx,
      req,
      (closed) => {
        this.watches.delete(closed);
        const n = cache && this.cacheWatchers.get(cache);
        if (n !== undefined) this.cacheWatchers.set(cache!, n - 1);
      },
      this.options.watchCache === false ? undefined : (info) => (cache = this.cacheFor(info)),
    );
    // Aborted before it opened: it is closed already and will not call back.
    if (req.signal?.aborted) return w;
    if (cache) this.cacheWatchers.set(cache, (this.cacheWatchers.get(cache) ?? 0) + 1);
    this.watches.add(w);
    return w;
  }

  /**
   * Closes the watch caches that had no watcher at the last call and have none now: a cache decodes
   * every change of its resource for as long as it runs, and the master that leads Raft, whose
   * clients read elsewhere and whose own components stand down, would otherwise decode every pod
   * change for nobody. A later watch starts a new cache. The master calls this on a timer.
   */
  closeIdleWatchCaches(): void {
    const idle = new Set<WatchCache>();
    for (const [info, c] of this.caches) {
      if ((this.cacheWatchers.get(c) ?? 0) > 0) continue;
      if (this.idleCaches.has(c)) {
        this.caches.delete(info);
        this.cacheWatchers.delete(c);
        c.close();
      } else idle.add(c);
    }
    this.idleCaches = idle;
  }

  /** Open watches (for metrics and tests). */
  get watchCount(): number {
    return this.watches.size;
  }

  /** A BOOKMARK on every open watch that allows them; the master calls this on a timer (Kubernetes: about every minute). */
  requestWatchProgress(): void {
    for (const w of this.watches) w.requestBookmark();
  }

  /** Resources with a running watch cache (for metrics and tests). */
  get watchCacheCount(): number {
    return this.caches.size;
  }

  /** Ends every open watch and watch cache (shutdown). */
  closeWatches(): void {
    for (const w of [...this.watches]) w.close();
    for (const c of this.caches.values()) c.close();
    this.caches.clear();
    this.cacheWatchers.clear();
  }

  private cacheFor(info: KindInfo): WatchCache {
    let c = this.caches.get(info);
    if (!c) {
      c = new WatchCache(this.ctx, info, { watchCacheEvents: this.options.watchCacheEvents }, (failed) => {
        if (this.caches.get(info) === failed) {
          this.caches.delete(info);
          this.cacheWatchers.delete(failed);
        }
        if (failed.failure && !failed.closed) this.options.onWatchCacheFailure?.(info.resource, failed.failure);
      });
      this.caches.set(info, c);
    }
    return c;
  }
}
