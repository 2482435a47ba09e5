// An ObjectClient for controller fixture tests: every call goes to a real in-process API server
// (validation, defaulting, resourceVersion conflicts, finalizers: the semantics the controller
// will meet) and is recorded as an action, so a test asserts "these writes, in this order".

import type { KubeObject } from '../../api/registry.js';
import type { ApiServer } from '../../apiserver/api_server.js';
import { resolve } from '../../apiserver/context.js';
import type { PatchType } from '../../apiserver/patch.js';
import { encodeBinary } from '../../api/convert/binary.js';
import type { DeleteOptions, ListOptions, ListPage, UpdateOptions, WriteOptions } from '../../client/client.js';
import type { ObjectClient } from '../client.js';

export type ActionVerb = 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete';

export interface Action {
  verb: ActionVerb;
  /** Plural resource, as the API resolves it ("pods", "replicasets"). */
  resource: string;
  namespace: string;
  name: string;
  subresource: string;
  /** create/update: the object sent; patch: the patch document; delete: the options. */
  body?: unknown;
}

export interface RecordingClientOptions {
  /** Record reads too. @default false (controllers read from informers; writes are what tests check) */
  recordReads?: boolean;
}

export class RecordingClient implements ObjectClient {
  readonly actions: Action[] = [];
  private readonly recordReads: boolean;

  constructor(
    readonly server: ApiServer,
    o: RecordingClientOptions = {},
  ) {
    this.recordReads = o.recordReads ?? false;
  }

  /** The recorded writes (and reads, if asked), then forgets them. */
  takeActions(): Action[] {
    return this.actions.splice(0);
  }

  /** Shorthand for assertions: "create pods default/web-abc", "update deployments default/web status". */
  takeSummary(): string[] {
    return this.takeActions().map((a) => `${a.verb} ${a.resource} ${a.namespace ? `${a.namespace}/` : ''}${a.name}${a.subresource ? ` ${a.subresource}` : ''}`);
  }

  private record(a: Action): void {
    if (!this.recordReads && (a.verb === 'get' || a.verb === 'list')) return;
    this.actions.push(a);
  }

  private resourceName(resource: string | undefined, object?: KubeObject): string {
    if (resource) return resolve(resource).resource;
    return object?.kind ? resolve(object.kind).resource : '';
  }

  async get<T extends KubeObject = KubeObject>(resource: string, namespace: string | undefined, name: string, o: { resourceVersion?: string; serializable?: boolean } = {}): Promise<T> {
    this.record({ verb: 'get', resource: this.resourceName(resource), namespace: namespace ?? '', name, subresource: '' });
    return (await this.server.get({ resource, namespace, name, resourceVersion: o.resourceVersion })) as T;
  }

  async list<T extends KubeObject = KubeObject>(resource: string, o: ListOptions = {}): Promise<ListPage<T>> {
    this.record({ verb: 'list', resource: this.resourceName(resource), namespace: o.namespace ?? '', name: '', subresource: '', body: o });
    const r = await this.server.list({ resource, namespace: o.namespace || undefined, labelSelector: o.labelSelector, fieldSelector: o.fieldSelector, limit: o.limit, continue: o.continue, resourceVersion: o.resourceVersion });
    return { kind: r.info.listKind, apiVersion: r.info.apiVersion, items: r.items as T[], resourceVersion: r.resourceVersion, continue: r.continue, remainingItemCount: r.remainingItemCount };
  }

  async create<T extends KubeObject>(object: T, o: WriteOptions & { resource?: string; namespace?: string } = {}): Promise<T> {
    const namespace = o.namespace || object.metadata?.namespace || '';
    this.record({ verb: 'create', resource: this.resourceName(o.resource, object), namespace, name: object.metadata?.name || object.metadata?.generateName || '', subresource: '', body: structuredClone(object) });
    return (await this.server.create({ resource: o.resource, namespace: namespace || undefined, object, dryRun: o.dryRun })) as T;
  }

  async update<T extends KubeObject, R = T>(object: T, o: UpdateOptions<R> & { subresource?: 'status' } = {}): Promise<R> {
    this.record({ verb: 'update', resource: this.resourceName(o.resource, object), namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '', subresource: o.subresource ?? '', body: structuredClone(object) });
    const stored = await this.server.update({ resource: o.resource, object, subresource: o.subresource, dryRun: o.dryRun });
    return o.decode ? o.decode(encodeBinary(stored)) : (stored as T & R);
  }

  updateStatus<T extends KubeObject, R = T>(object: T, o: Omit<UpdateOptions<R>, 'subresource'> = {}): Promise<R> {
    return this.update(object, { ...o, subresource: 'status' });
  }

  async patch<T extends KubeObject = KubeObject>(resource: string, namespace: string | undefined, name: string, type: PatchType, patch: unknown, o: WriteOptions & { subresource?: string } = {}): Promise<T> {
    this.record({ verb: 'patch', resource: this.resourceName(resource), namespace: namespace ?? '', name, subresource: o.subresource ?? '', body: typeof patch === 'string' ? JSON.parse(patch) : structuredClone(patch) });
    return (await this.server.patch({ resource, namespace, name, type, patch, subresource: o.subresource, dryRun: o.dryRun })) as T;
  }

  async delete<T extends KubeObject = KubeObject>(resource: string, namespace: string | undefined, name: string, o: DeleteOptions = {}): Promise<{ object: T; deleted: boolean }> {
    this.record({ verb: 'delete', resource: this.resourceName(resource), namespace: namespace ?? '', name, subresource: '', body: o });
    const r = await this.server.delete({ resource, namespace, name, preconditions: o.preconditions, gracePeriodSeconds: o.gracePeriodSeconds, propagationPolicy: o.propagationPolicy, dryRun: o.dryRun });
    return { object: r.object as T, deleted: r.deleted };
  }
}
