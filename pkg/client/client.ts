// The Go-client of Navarch: typed calls to the object API (navarch.apiserver.v1.Objects) on a set
// of masters. A call that cannot reach a member moves to the next one; reads are retried until the
// retry deadline, writes only while it is certain they had no effect (so a create is never made
// twice behind the caller's back). Errors are ApiError with the server's code and details.

import { Metadata, type ClientUnaryCall, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { decodeStored, encodeBinary } from '../api/convert/binary.js';
import type { Eviction, KubeObject } from '../api/registry.js';
import { ApiError } from '../apiserver/api_error.js';
import type { PropagationPolicy } from '../apiserver/delete.js';
import { checkFencingToken, type FencingToken } from '../apiserver/fencing.js';
import type { PatchType } from '../apiserver/patch.js';
import type { BindBatchResponse, CreateBatchResponse, ListResponse, ObjectResponse, DeleteResponse, ObjectsClient } from '../../gen/navarch/apiserver/v1/objects.js';
import type { StreamedMethod } from '../apiserver/call_stream.js';
import { EndpointPool, LEADER_HINT_METADATA } from './endpoints.js';
import { classify, itemError } from './errors.js';
import { ResumableWatch, decodeItem, type ClientWatchEvent, type LocalWatchSource, type WatchOptions } from './watch.js';

export interface NavarchClientOptions {
  /** Masters' client addresses, host:port. */
  endpoints: readonly string[];
  /** One attempt gives up after this long. @default 10000 */
  callTimeoutMs?: number;
  /** Retrying (on other members) stops after this long. @default 15000 */
  retryDeadlineMs?: number;
  /** The master this process runs inside (one of the endpoints): watches of it are read in process. */
  localWatch?: LocalWatchSource;
  /**
   * Connect to the masters on connections of this client's own. By default grpc-js gives every
   * client of the same masters in a process the same connections, so this client's calls and
   * answers queue behind the others' on the same socket. Leader election has a client of its own
   * (kube-scheduler builds a separate one for it too): under load a lease renewal sent beside
   * hundreds of Event writes took up to 3 s to arrive, and the lease changed hands.
   */
  ownConnections?: boolean;
}

export interface ListOptions {
  /** "" or absent: every namespace (namespaced kinds). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  serializable?: boolean;
  /**
   * The items go into a cache (an informer's): decoded with parts shared among objects and frozen
   * (see pkg/api/convert/shared_decode.ts). Never change them in place.
   */
  forCache?: boolean;
  /**
   * Decodes each item's stored bytes instead of the full decode: a reader that needs a few fields
   * (a benchmark's progress watch) skips the rest. It must keep metadata's name, namespace and
   * resourceVersion. Wins over forCache.
   */
  decode?: (bytes: Uint8Array) => KubeObject;
}

export interface ListPage<T extends KubeObject = KubeObject> {
  kind: string;
  apiVersion: string;
  items: T[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface WriteOptions {
  dryRun?: boolean;
}

export interface UpdateOptions<R> extends WriteOptions {
  resource?: string;
  subresource?: 'status' | 'scale';
  /**
   * Decodes the answer's stored bytes instead of the full decode: a writer that does not read the
   * stored object back (an agent's status write) passes discardAnswer and skips it. create takes it too.
   */
  decode?: (bytes: Uint8Array) => R;
}

/** UpdateOptions.decode for a writer that needs only to know the write succeeded. */
export const discardAnswer = (): void => undefined;

export interface DeleteOptions extends WriteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
  propagationPolicy?: PropagationPolicy;
}

type Unary<Res> = (client: ObjectsClient, deadline: Date, cb: (err: ServiceError | null, res: Res) => void) => unknown;

const bytes = (o: KubeObject): Buffer => {
  const b = encodeBinary(o);
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
};
const decode = <T extends KubeObject>(b: Uint8Array): T => decodeStored(b) as T;

/** One binding of a pod to a node; `uid`: the pod must still be that one. */
export interface Binding {
  namespace: string;
  name: string;
  nodeName: string;
  uid?: string;
}

export class NavarchClient {
  private readonly pool: EndpointPool;
  private readonly callTimeoutMs: number;
  private readonly retryDeadlineMs: number;
  private readonly localWatch: LocalWatchSource | undefined;
  private token: FencingToken | undefined;
  private ownsPool = true;

  constructor(o: NavarchClientOptions) {
    this.pool = new EndpointPool(o.endpoints, o.ownConnections, o.localWatch?.endpoint);
    this.callTimeoutMs = o.callTimeoutMs ?? 10_000;
    this.retryDeadlineMs = o.retryDeadlineMs ?? 15_000;
    this.localWatch = o.localWatch;
  }

  get endpoints(): readonly string[] {
    return this.pool.endpoints;
  }

  /** The token every write of this client carries (see withFencing). */
  get fencing(): FencingToken | undefined {
    return this.token;
  }

  /**
   * A client on the same connections whose every write (create, update, status, patch, delete,
   * bind) carries `token`: the API server refuses them (Forbidden) once the token's Lease is held by
   * anyone else or at another transition. Closing it leaves the connections to this client.
   */
  withFencing(token: FencingToken): NavarchClient {
    const checked = checkFencingToken(token);
    const c = Object.create(NavarchClient.prototype) as NavarchClient;
    Object.assign(c, this);
    c.token = checked;
    c.ownsPool = false;
    return c;
  }

  close(): void {
    if (this.ownsPool) this.pool.close();
  }

  /** Where the next write goes: the leader once a write's answer named it, else the member reads go to. */
  get writeEndpoint(): string {
    return this.pool.pickForWrite().endpoint;
  }

  /** Where the next read or watch goes: a member that does not lead, once an answer named the leader. */
  get readEndpoint(): string {
    return this.pool.pick().endpoint;
  }

  async get<T extends KubeObject = KubeObject>(resource: string, namespace: string | undefined, name: string, o: { resourceVersion?: string; serializable?: boolean; subresource?: 'scale' } = {}): Promise<T> {
    const r = { resource, namespace: namespace ?? '', name, resourceVersion: o.resourceVersion ?? '', serializable: o.serializable ?? false, subresource: o.subresource ?? '' };
    const res = await this.call<ObjectResponse>(true, (c, deadline, cb) => c.get(r, new Metadata(), { deadline }, cb), { method: 'Get', request: r });
    return decode<T>(res.object);
  }

  async list<T extends KubeObject = KubeObject>(resource: string, o: ListOptions = {}): Promise<ListPage<T>> {
    const res = await this.call<ListResponse>(true, (c, deadline, cb) =>
      c.list(
        {
          resource,
          namespace: o.namespace ?? '',
          labelSelector: o.labelSelector ?? '',
          fieldSelector: o.fieldSelector ?? '',
          limit: o.limit ?? 0,
          continue: o.continue ?? '',
          resourceVersion: o.resourceVersion ?? '',
          serializable: o.serializable ?? false,
        },
        new Metadata(),
        { deadline },
        cb,
      ),
    );
    return {
      kind: res.kind,
      apiVersion: res.apiVersion,
      items: res.items.map((b) => decodeItem(o, b) as T),
      resourceVersion: res.resourceVersion,
      continue: res.continue || undefined,
      remainingItemCount: res.remainingItemCount,
    };
  }

  /** Every page of a list, read at the first page's revision (a consistent snapshot). */
  async listAll<T extends KubeObject = KubeObject>(resource: string, o: Omit<ListOptions, 'continue'> & { pageSize?: number } = {}): Promise<ListPage<T>> {
    const first = await this.list<T>(resource, { ...o, limit: o.pageSize ?? 500 });
    const items = [...first.items];
    let next = first.continue;
    while (next) {
      // The token carries the first page's revision; a resourceVersion beside it is refused.
      const page = await this.list<T>(resource, { ...o, resourceVersion: undefined, limit: o.pageSize ?? 500, continue: next });
      items.push(...page.items);
      next = page.continue;
    }
    return { ...first, items, continue: undefined, remainingItemCount: undefined };
  }

  async create<T extends KubeObject, R = T>(object: T, o: WriteOptions & { resource?: string; namespace?: string; decode?: (bytes: Uint8Array) => R } = {}): Promise<R> {
    const r = { resource: o.resource ?? '', namespace: o.namespace ?? '', object: bytes(object), dryRun: o.dryRun ?? false, fencing: this.token, subresource: '', name: '' };
    const res = await this.call<ObjectResponse>(false, (c, deadline, cb) => c.create(r, new Metadata(), { deadline }, cb), { method: 'Create', request: r });
    return o.decode ? o.decode(res.object) : decode<T & R>(res.object);
  }

  /** Replaces the object; with a resourceVersion in its metadata, only if it is still that version (else Conflict). */
  /** With subresource "scale", `object` is an autoscaling/v1 Scale and `resource` names the object's kind. */
  async update<T extends KubeObject, R = T>(object: T, o: UpdateOptions<R> = {}): Promise<R> {
    const r = { resource: o.resource ?? '', namespace: '', object: bytes(object), subresource: o.subresource ?? '', dryRun: o.dryRun ?? false, fencing: this.token };
    const res = await this.call<ObjectResponse>(false, (c, deadline, cb) => c.update(r, new Metadata(), { deadline }, cb), { method: 'Update', request: r });
    return o.decode ? o.decode(res.object) : decode<T & R>(res.object);
  }

  updateStatus<T extends KubeObject, R = T>(object: T, o: Omit<UpdateOptions<R>, 'subresource'> = {}): Promise<R> {
    return this.update(object, { ...o, subresource: 'status' });
  }

  /** `patch`: the patch document (JSON text, or a value to serialise). */
  async patch<T extends KubeObject = KubeObject>(resource: string, namespace: string | undefined, name: string, type: PatchType, patch: unknown, o: WriteOptions & { subresource?: string } = {}): Promise<T> {
    const text = typeof patch === 'string' ? patch : JSON.stringify(patch);
    const r = { resource, namespace: namespace ?? '', name, type, patch: text, subresource: o.subresource ?? '', dryRun: o.dryRun ?? false, fencing: this.token };
    const res = await this.call<ObjectResponse>(false, (c, deadline, cb) => c.patch(r, new Metadata(), { deadline }, cb), { method: 'Patch', request: r });
    return decode<T>(res.object);
  }

  /**
   * POST pods/{name}/eviction: deletes the pod if its PodDisruptionBudget allows it, else fails with
   * TooManyRequests (retry later), as `kubectl drain` evicts.
   */
  async evict(namespace: string, name: string, o: DeleteOptions = {}): Promise<void> {
    const eviction = {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name, namespace, labels: {}, annotations: {}, ownerReferences: [], finalizers: [] },
      deleteOptions: {
        gracePeriodSeconds: o.gracePeriodSeconds,
        preconditions: o.preconditions,
        propagationPolicy: o.propagationPolicy,
        dryRun: o.dryRun ? ['All'] : [],
      },
    } as Eviction;
    const r = { resource: 'pods', namespace, object: bytes(eviction), dryRun: o.dryRun ?? false, fencing: this.token, subresource: 'eviction', name };
    await this.call<ObjectResponse>(false, (c, deadline, cb) => c.create(r, new Metadata(), { deadline }, cb), { method: 'Create', request: r });
  }

  /** Resolves with the object as deleted, or as marked for deletion (`deleted: false`: finalizers or a grace period remain). */
  async delete<T extends KubeObject = KubeObject>(resource: string, namespace: string | undefined, name: string, o: DeleteOptions = {}): Promise<{ object: T; deleted: boolean }> {
    const r = {
      resource,
      namespace: namespace ?? '',
      name,
      preconditionUid: o.preconditions?.uid ?? '',
      preconditionResourceVersion: o.preconditions?.resourceVersion ?? '',
      gracePeriodSeconds: o.gracePeriodSeconds,
      propagationPolicy: o.propagationPolicy ?? '',
      dryRun: o.dryRun ?? false,
      fencing: this.token,
    };
    const res = await this.call<DeleteResponse>(false, (c, deadline, cb) => c.delete(r, new Metadata(), { deadline }, cb), { method: 'Delete', request: r });
    return { object: decode<T>(res.object), deleted: res.deleted };
  }

  /**
   * Binds a pod to a node (POST pods/{name}/binding): Conflict if the pod is already bound, or if
   * `uid` is given and the pod under that name is another one.
   */
  async bind(namespace: string, name: string, nodeName: string, o: WriteOptions & { uid?: string } = {}): Promise<void> {
    const r = { namespace, name, uid: o.uid ?? '', targetKind: 'Node', targetName: nodeName, dryRun: o.dryRun ?? false, fencing: this.token };
    await this.call<ObjectResponse>(false, (c, deadline, cb) => c.bind(r, new Metadata(), { deadline }, cb), { method: 'Bind', request: r });
  }

  /**
   * Many bindings in one call (BindBatch). Resolves with each one's outcome in order: undefined when
   * bound, else the ApiError its own bind() would have thrown. Rejects only when the call as a whole
   * got no answer (then any of them may or may not have been bound, as with a bind that timed out).
   */
  async bindBatch(bindings: readonly Binding[], o: WriteOptions = {}): Promise<Array<ApiError | undefined>> {
    if (bindings.length === 0) return [];
    const r = { bindings: bindings.map((b) => ({ namespace: b.namespace, name: b.name, uid: b.uid ?? '', targetKind: 'Node', targetName: b.nodeName, dryRun: o.dryRun ?? false, fencing: this.token })) };
    const res = await this.call<BindBatchResponse>(false, (c, deadline, cb) => c.bindBatch(r, new Metadata(), { deadline }, cb), { method: 'BindBatch', request: r });
    if (res.results.length !== bindings.length) throw new ApiError('Internal', `BindBatch answered ${res.results.length} results for ${bindings.length} bindings`);
    return res.results.map((r) => (r.errorCode === '' ? undefined : itemError(r.errorCode, r.errorMessage, r.errorDetails)));
  }

  /**
   * Many creates in one call (CreateBatch), each object in the namespace its metadata names.
   * Resolves with each one's outcome in order: undefined when created, else the ApiError its own
   * create() would have thrown. Rejects only when the call as a whole got no answer (then any of
   * them may or may not have been created, as with a create that timed out).
   */
  async createBatch(objects: readonly KubeObject[], o: WriteOptions = {}): Promise<Array<ApiError | undefined>> {
    if (objects.length === 0) return [];
    const r = { creates: objects.map((object) => ({ resource: '', namespace: '', object: bytes(object), dryRun: o.dryRun ?? false, fencing: this.token, subresource: '', name: '' })) };
    const res = await this.call<CreateBatchResponse>(false, (c, deadline, cb) => c.createBatch(r, new Metadata(), { deadline }, cb), { method: 'CreateBatch', request: r });
    if (res.results.length !== objects.length) throw new ApiError('Internal', `CreateBatch answered ${res.results.length} results for ${objects.length} creates`);
    return res.results.map((r) => (r.errorCode === '' ? undefined : itemError(r.errorCode, r.errorMessage, r.errorDetails)));
  }

  /**
   * Changes to a resource as an async iterable. From a numeric resourceVersion the watch survives the
   * loss of a member: it reopens on another one from the last revision it delivered, with no gap and
   * no duplicate. Ends with ApiError Expired when that revision is compacted away (relist, then watch).
   */
  watch<T extends KubeObject = KubeObject>(resource: string, o: WatchOptions = {}): ResumableWatch<T> {
    return new ResumableWatch<T>(this.pool, resource, o, this.retryDeadlineMs, (r, lo) => this.listAll(r, lo), this.localWatch);
  }

  private async call<Res>(idempotent: boolean, f: Unary<Res>, streamed?: { method: StreamedMethod; request: unknown }): Promise<Res> {
    const retryUntil = performance.now() + this.retryDeadlineMs;
    let delayMs = 50;
    for (;;) {
      // Writes go to the leader when an earlier write's answer named it (a hint: any member takes them).
      const { client, calls, endpoint, index } = idempotent ? this.pool.pick() : this.pool.pickForWrite();
      try {
        const onStream = streamed && calls.available() ? calls.call(streamed.method, streamed.request, this.callTimeoutMs) : undefined;
        if (onStream) {
          const { response, trailers } = await onStream;
          this.noteLeaderHint(trailers);
          return response as Res;
        }
        return await new Promise<Res>((resolve, reject) => {
          const call = f(client, new Date(Date.now() + this.callTimeoutMs), (err, res) => (err ? reject(err) : resolve(res)));
          (call as ClientUnaryCall).on('status', (s: StatusObject) => this.noteLeaderHint(s.metadata));
        });
      } catch (err) {
        const failure = classify(err, endpoint);
        if (!failure.fromServer) this.pool.failed(index);
        const retry = failure.error.code === 'Unavailable' && (idempotent || failure.notApplied);
        if (!retry || performance.now() + delayMs >= retryUntil) throw failure.error;
        await new Promise((r) => setTimeout(r, delayMs));
        delayMs = Math.min(delayMs * 2, 1000);
      }
    }
  }

  private noteLeaderHint(md: Metadata | undefined): void {
    const hint = md?.get(LEADER_HINT_METADATA)[0];
    if (typeof hint === 'string') this.pool.noteLeader(hint);
  }
}

export { ApiError };
