// What every verb needs: the backend, the clock, identity generation and limits. Verbs are plain
// functions over a Context so each lives in its own small file.

import { randomBytes, randomUUID } from 'node:crypto';
import { kindForResource, resolveResource, type KindInfo, type KubeObject, type PriorityClass } from '../api/registry.js';
import { ApiError } from './api_error.js';
import { fromStoreError, type Backend } from './backend.js';
import { DEFAULT_TOLERATION_SECONDS } from './default_tolerations.js';
import { DEFAULT_EVENT_TTL_SECONDS, EventLeases } from './event_ttl.js';
import { decodeStoredKv, objectKey } from './objects.js';
import type { KeyValue } from '../store/mod.js';
import { ByRevision } from './by_revision.js';
import type { ApiErrorCode } from './api_error.js';

/** 1.5 MiB, etcd's default request limit, as Kubernetes refuses larger objects. */
export const DEFAULT_MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;

export type Verb = 'create' | 'get' | 'list' | 'update' | 'patch' | 'delete' | 'watch';

/** One finished request, for metrics (apiserver_request_total, apiserver_request_duration_seconds). */
export interface RequestRecord {
  verb: Verb;
  /** The resource as the request named it ("pods", "deploy"), else the plural of the body's kind. */
  resource: string;
  subresource: string;
  /** "OK" or the ApiError code. */
  code: 'OK' | ApiErrorCode;
  seconds: number;
}

export interface ApiServerOptions {
  backend: Backend;
  /** Wall clock for creationTimestamp and deletionTimestamp. @default Date.now */
  nowMs?: () => number;
  /** @default crypto.randomUUID */
  newUid?: () => string;
  /** The suffix generateName appends (5 characters in Kubernetes). @default random */
  randomSuffix?: () => string;
  /** Encoded objects larger than this are refused with TooLarge. @default 1.5 MiB */
  maxObjectBytes?: number;
  /** Most items one list page returns, whatever the client asks. @default 10000 */
  maxListLimit?: number;
  /**
   * A list page ends early, with a continue token, once its items reach this many stored bytes
   * (Kubernetes lets a server return fewer items than the limit), so a page of large objects stays
   * under the clients' message limit. A page always holds at least one item. @default 16 MiB
   */
  maxListPageBytes?: number;
  /** Store reads per list page while selectors filter items out, in keys. @default 1000 */
  listChunkKeys?: number;
  /** Retries of a patch or unconditional update that lost a race with another writer. @default 8 */
  maxConflictRetries?: number;
  /** Serve watches from one shared store watch per resource (see watch_cache.ts). @default true */
  watchCache?: boolean;
  /** Changes each resource's watch cache keeps for watchers to read. @default 10000 */
  watchCacheEvents?: number;
  /** Events are deleted this long after their last write, as kube-apiserver's --event-ttl; 0 keeps them. @default 3600 */
  eventTtlSeconds?: number;
  /** tolerationSeconds of the not-ready and unreachable tolerations added to new pods (see default_tolerations.ts). @default 20 */
  defaultTolerationSeconds?: number;
  /** Hears of a watch cache that stopped (its watchers continue from the store). @default nothing */
  onWatchCacheFailure?: (resource: string, err: Error) => void;
  /** Called once per request when it finishes (a watch: when it is opened), for metrics. */
  onRequest?: (record: RequestRecord) => void;
}

export interface Context {
  backend: Backend;
  nowMs: () => number;
  newUid: () => string;
  randomSuffix: () => string;
  maxObjectBytes: number;
  maxListLimit: number;
  maxListPageBytes: number;
  listChunkKeys: number;
  maxConflictRetries: number;
  /** Leases Events are written with (absent: Events do not expire). */
  eventLeases?: EventLeases;
  defaultTolerationSeconds: number;
  /** Whether each namespace is terminating, as last decoded (see namespaceGuard). */
  namespaceStates: ByRevision<boolean>;
  /** The PriorityClasses as last decoded (see pod_priority.ts); read-only. */
  priorityClasses: ByRevision<PriorityClass>;
}

/** Namespaces and PriorityClasses whose decoded state a context keeps; past it the table starts over. */
const KEPT_NAMESPACE_STATES = 10_000;
const KEPT_PRIORITY_CLASSES = 10_000;

// Kubernetes' alphabet for generated names: no vowels, no look-alikes.
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(): string {
  const b = randomBytes(5);
  let s = '';
  for (const x of b) s += SUFFIX_ALPHABET[x % SUFFIX_ALPHABET.length];
  return s;
}

function eventLeases(ttlSeconds: number): EventLeases | undefined {
  return ttlSeconds > 0 ? new EventLeases(ttlSeconds) : undefined;
}

export function makeContext(o: ApiServerOptions): Context {
  return {
    backend: o.backend,
    nowMs: o.nowMs ?? Date.now,
    newUid: o.newUid ?? randomUUID,
    randomSuffix: o.randomSuffix ?? randomSuffix,
    maxObjectBytes: o.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES,
    maxListLimit: o.maxListLimit ?? 10_000,
    maxListPageBytes: o.maxListPageBytes ?? 16 * 1024 * 1024,
    listChunkKeys: o.listChunkKeys ?? 1000,
    maxConflictRetries: o.maxConflictRetries ?? 8,
    eventLeases: eventLeases(o.eventTtlSeconds ?? DEFAULT_EVENT_TTL_SECONDS),
    defaultTolerationSeconds: o.defaultTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS,
    namespaceStates: new ByRevision(KEPT_NAMESPACE_STATES),
    priorityClasses: new ByRevision(KEPT_PRIORITY_CLASSES),
  };
}

/** Which objects a request is about. */
export interface ResourceRef {
  /** A KindInfo, or what a user types: "pods", "deploy", "deployments.apps". */
  resource: KindInfo | string;
  /** Required for namespaced kinds (except list and watch across all namespaces); ignored for cluster-scoped ones. */
  namespace?: string;
}

export interface ObjectRef extends ResourceRef {
  name: string;
}

/** The kind a request names; unknown resources are NotFound as in Kubernetes. */
export function resolve(resource: KindInfo | string): KindInfo {
  if (typeof resource === 'object' && resource !== null && typeof resource.kind === 'string' && 'codec' in resource) return resource;
  if (typeof resource !== 'string' || resource === '') throw new ApiError('Invalid', 'Cannot serve the request: the resource is not named');
  const slash = resource.split('/');
  const info = slash.length === 3 ? kindForResource(slash[0], slash[1], slash[2]) : resolveResource(resource);
  if (!info) throw new ApiError('NotFound', `the server doesn't have a resource type ${JSON.stringify(resource)}`);
  return info;
}

export function namespaceOf(info: KindInfo, namespace: string | undefined, what: string): string | undefined {
  if (!info.namespaced) return undefined;
  if (!namespace) throw new ApiError('Invalid', `Cannot ${what} ${info.resource}: a namespace is required`);
  return namespace;
}

export function checkName(info: KindInfo, name: unknown): string {
  if (typeof name !== 'string' || name === '') throw new ApiError('Invalid', `Cannot find ${info.resource}: resource name may not be empty`);
  return name;
}

/** Runs a backend call, translating store failures. */
export async function call<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw fromStoreError(err);
  }
}

/** The stored object at its key with its kv (for modRevision compares), or undefined. */
export async function readObject(ctx: Context, info: KindInfo, namespace: string | undefined, name: string, revision = 0, serializable = false): Promise<{ kv: KeyValue; object: KubeObject } | undefined> {
  const kv = await readKv(ctx, info, namespace, name, revision, serializable);
  return kv ? { kv, object: decodeStoredKv(info, kv) } : undefined;
}

/**
 * The object from this replica when it has it; only "missing" is confirmed up to date (the object
 * may have just been created). For checks whose write pins what they read, or that may be stale.
 */
export async function readObjectConfirmingMissing(ctx: Context, info: KindInfo, namespace: string | undefined, name: string): Promise<{ kv: KeyValue; object: KubeObject } | undefined> {
  return (await readObject(ctx, info, namespace, name, 0, true)) ?? (await readObject(ctx, info, namespace, name));
}

/** The stored key-value of an object, undecoded, or undefined. */
export async function readKv(ctx: Context, info: KindInfo, namespace: string | undefined, name: string, revision = 0, serializable = false): Promise<KeyValue | undefined> {
  if (serializable && revision === 0 && ctx.backend.latest) return ctx.backend.latest(objectKey(info, namespace, name));
  const r = await call(() => ctx.backend.range({ key: objectKey(info, namespace, name), revision }, { serializable }));
  return r.kvs[0];
}
