// What every controller shares, as Kubernetes' controller_utils.go and controller_ref_manager.go:
// controller references (who owns an object, adopting and releasing), expectations (do not act
// again until our own writes are seen in the informer), pod readiness and availability, and
// QueueController, the "informer → queue → sync(key)" shell with a sync-duration metric.

import { DISRUPTION_TARGET_CONDITION, disruptionTargetCondition } from '../api/disruption_conditions.js';
import { formatTime } from '../api/time.js';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { OwnerReference } from '../../gen/navarch/api/v1/meta.js';
import { realClock, type Clock } from '../../raft/node/ports.js';
import type { KubeObject, ObjectLike, Pod } from '../api/registry.js';
import type { Selector } from '../api/labels.js';
import { isApiError } from '../apiserver/api_error.js';
import type { ReadonlyIndexer } from '../client/informer/indexer.js';
import { objectKey } from '../client/informer/keys.js';
import { RateLimitingQueue } from '../client/workqueue/rate_limiting_queue.js';
import { runWorkers } from '../client/workqueue/run_workers.js';
import { WorkQueueFullError } from '../client/workqueue/queue.js';
import type { ObjectClient } from './client.js';

// ---- controller references ----

/** The ownerReference with controller: true, if any. */
export function getControllerOf(o: ObjectLike): OwnerReference | undefined {
  return o.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** True when `o`'s controller reference points at the object with this uid. */
export function isControlledBy(o: ObjectLike, ownerUid: string | undefined): boolean {
  return !!ownerUid && getControllerOf(o)?.uid === ownerUid;
}

/** The reference a controller puts on what it creates or adopts (blockOwnerDeletion, as Kubernetes). */
export function newControllerRef(owner: ObjectLike, gvk: { apiVersion: string; kind: string }): OwnerReference {
  const m = owner.metadata;
  if (!m?.name || !m.uid) throw new TypeError(`Cannot reference a ${gvk.kind} as controller: it has no metadata.name or metadata.uid`);
  return { apiVersion: gvk.apiVersion, kind: gvk.kind, name: m.name, uid: m.uid, controller: true, blockOwnerDeletion: true };
}

/** The owner a controller reference names, from a store, if it is still the same object (uid). */
export function resolveControllerRef<T extends KubeObject>(namespace: string | undefined, ref: OwnerReference | undefined, kind: string, store: Pick<ReadonlyIndexer<T>, 'get'>): T | undefined {
  if (!ref || ref.kind !== kind || !ref.name) return undefined;
  const owner = store.get(namespace, ref.name);
  return owner && owner.metadata?.uid === ref.uid ? owner : undefined;
}

/** Index name and function: objects by the uid of their controller (see indexByControllerUid). */
export const CONTROLLER_UID_INDEX = 'byControllerUid';
export const indexByControllerUid = (o: ObjectLike): string[] => {
  const uid = getControllerOf(o)?.uid;
  return uid ? [uid] : [];
};

export interface ClaimOptions {
  /** The would-be controller (a ReplicaSet claiming pods, a Deployment claiming ReplicaSets). */
  owner: ObjectLike;
  ownerGvk: { apiVersion: string; kind: string };
  /** Which of the owner's candidates it wants. */
  selector: Selector;
  client: ObjectClient;
  /** Plural resource of the candidates ("pods"). */
  resource: string;
  /**
   * Checked once before the first adoption: resolves if the owner may still adopt (it exists with
   * the same uid and is not being deleted, read fresh from the API), else throws.
   */
  canAdopt?: () => Promise<void>;
}

/**
 * The candidates the owner controls after adopting orphans that match its selector and releasing
 * the ones it controls that no longer match (Kubernetes' ClaimPods / ClaimReplicaSets). Adoption
 * and release patch metadata.ownerReferences conditionally on the candidate's resourceVersion; a
 * candidate that is gone meanwhile is skipped; any other failure is thrown (the sync retries).
 */
export async function claimObjects<T extends ObjectLike>(candidates: readonly T[], o: ClaimOptions): Promise<T[]> {
  const ownerUid = o.owner.metadata?.uid;
  const ownerDeleting = !!o.owner.metadata?.deletionTimestamp;
  const claimed: T[] = [];
  let adoptChecked = false;
  for (const c of candidates) {
    const ref = getControllerOf(c);
    const matches = o.selector.matches(c.metadata?.labels);
    if (ref !== undefined) {
      if (ref.uid !== ownerUid) continue;
      if (matches) {
        claimed.push(c);
        continue;
      }
      // An owner being deleted leaves its objects to the garbage collector.
      if (ownerDeleting) continue;
      await patchOwnerRefs(o, c, (c.metadata?.ownerReferences ?? []).filter((r) => r.uid !== ownerUid));
      continue;
    }
    if (!matches || ownerDeleting || c.metadata?.deletionTimestamp) continue;
    if (!adoptChecked && o.canAdopt) {
      await o.canAdopt();
      adoptChecked = true;
    }
    const refs = [...(c.metadata?.ownerReferences ?? []), newControllerRef(o.owner, o.ownerGvk)];
    const adopted = await patchOwnerRefs(o, c, refs);
    if (adopted !== undefined) claimed.push(adopted);
  }
  return claimed;
}

async function patchOwnerRefs<T extends ObjectLike>(o: ClaimOptions, c: T, ownerReferences: OwnerReference[]): Promise<T | undefined> {
  const m = c.metadata!;
  try {
    return await o.client.patch<T & KubeObject>(o.resource, m.namespace, m.name ?? '', 'merge', {
      metadata: { uid: m.uid, resourceVersion: m.resourceVersion, ownerReferences },
    });
  } catch (err) {
    if (isApiError(err) && err.code === 'NotFound') return undefined;
    throw err;
  }
}

// ---- pods ----

/** RFC 3339 time → ms since the epoch; undefined if absent or unparsable. */
export function parseTimeMs(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : ms;
}

/** ms since the epoch → RFC 3339 in whole seconds, as the API server writes times. */
export const formatTimeMs = formatTime;

/**
 * Says why a pod is about to be deleted, as Kubernetes' taint eviction and preemption do before the
 * delete: DisruptionTarget=True with this reason and message (a Job's podFailurePolicy reads it).
 * A strategic patch of that one condition, on the pod's uid; nothing when the pod already says so.
 */
export async function markDisruptionTarget(client: ObjectClient, pod: Pod, reason: string, message: string, nowMs: number): Promise<void> {
  const old = pod.status?.conditions?.find((c) => c.type === DISRUPTION_TARGET_CONDITION);
  if (old?.status === 'True' && old.reason === reason) return;
  const condition = disruptionTargetCondition(old, reason, message, nowMs);
  const m = pod.metadata!;
  await client.patch<Pod>('pods', m.namespace, m.name!, 'strategic', { metadata: { uid: m.uid }, status: { conditions: [condition] } }, { subresource: 'status' });
}

/** Neither finished nor being deleted: it counts towards a controller's replicas. */
export function isPodActive(p: Pod): boolean {
  const phase = p.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !p.metadata?.deletionTimestamp;
}

export function isPodTerminating(p: Pod): boolean {
  return !!p.metadata?.deletionTimestamp;
}

export function podReadyCondition(p: Pod): { status?: string; lastTransitionTime?: string } | undefined {
  return p.status?.conditions?.find((c) => c.type === 'Ready');
}

export function isPodReady(p: Pod): boolean {
  return podReadyCondition(p)?.status === 'True';
}

/** Ready for at least minReadySeconds at nowMs (Kubernetes' IsPodAvailable). */
export function isPodAvailable(p: Pod, minReadySeconds: number, nowMs: number): boolean {
  const c = podReadyCondition(p);
  if (c?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = parseTimeMs(c.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 <= nowMs;
}

/** When a ready pod becomes available (ms), for requeueing after minReadySeconds; undefined if not ready. */
export function podAvailableAtMs(p: Pod, minReadySeconds: number): number | undefined {
  const c = podReadyCondition(p);
  if (c?.status !== 'True') return undefined;
  return (parseTimeMs(c.lastTransitionTime) ?? 0) + Math.max(0, minReadySeconds) * 1000;
}

// ---- expectations ----

interface Expectation {
  adds: number;
  /** Keys of objects whose deletion we asked for and have not yet seen go. */
  deletes: Set<string>;
  setAtMs: number;
  /** Given up on before the TTL: a write whose outcome is unknown has had its time to show up. */
  expireAtMs?: number;
}

export interface ExpectationsOptions {
  clock?: Clock;
  /** Expectations older than this are considered satisfied (a watch event was lost). @default 300000 (Kubernetes' 5 min) */
  ttlMs?: number;
}

/**
 * What a controller expects to see in its informer after its own writes (Kubernetes'
 * UIDTrackingControllerExpectations): a number of creates, and the deletes of named objects. Until
 * they are observed the controller must not act on the (stale) cache again, or it would create
 * twice. An expectation unmet after ttlMs is dropped, so a lost event cannot wedge a controller.
 */
export class ControllerExpectations {
  private readonly byKey = new Map<string, Expectation>();
  private readonly clock: Clock;
  readonly ttlMs: number;

  constructor(o: ExpectationsOptions = {}) {
    this.clock = o.clock ?? realClock;
    this.ttlMs = o.ttlMs ?? 300_000;
    if (!(this.ttlMs > 0)) throw new RangeError(`Cannot create expectations: ttlMs must be > 0, got ${o.ttlMs}`);
  }

  /** Nothing outstanding for this controller key (or what was outstanding expired). */
  satisfied(key: string): boolean {
    const e = this.byKey.get(key);
    if (e === undefined) return true;
    if (e.adds <= 0 && e.deletes.size === 0) return true;
    return this.clock.nowMs() >= this.expiryOf(e);
  }

  /** How long until this key's outstanding expectations expire (0 when nothing is outstanding). */
  expiresInMs(key: string): number {
    if (this.satisfied(key)) return 0;
    return Math.max(0, this.expiryOf(this.byKey.get(key)!) - this.clock.nowMs());
  }

  private expiryOf(e: Expectation): number {
    return Math.min(e.setAtMs + this.ttlMs, e.expireAtMs ?? Infinity);
  }

  /**
   * A create whose outcome is unknown (no answer): it stays expected, as it may yet show up, but for
   * at most waitMs more, after which the controller looks again rather than waiting out the TTL.
   */
  creationUncertain(key: string, waitMs: number): void {
    const e = this.byKey.get(key);
    if (e !== undefined) e.expireAtMs = Math.min(e.expireAtMs ?? Infinity, this.clock.nowMs() + waitMs);
  }

  /** Replaces this key's expectations with `adds` creates. */
  expectCreations(key: string, adds: number): void {
    this.byKey.set(key, { adds, deletes: new Set(), setAtMs: this.clock.nowMs() });
  }

  /** Replaces this key's expectations with the deletes of these objects (their keys). */
  expectDeletions(key: string, objectKeys: readonly string[]): void {
    this.byKey.set(key, { adds: 0, deletes: new Set(objectKeys), setAtMs: this.clock.nowMs() });
  }

  /** One create seen (or one create that failed, so will never be seen). */
  creationObserved(key: string): void {
    const e = this.byKey.get(key);
    if (e !== undefined) e.adds--;
  }

  /** The delete of this object seen (or failed); idempotent. */
  deletionObserved(key: string, objectKey: string): void {
    this.byKey.get(key)?.deletes.delete(objectKey);
  }

  /** For tests and debugging: what is still expected. */
  pending(key: string): { adds: number; deletes: string[] } | undefined {
    const e = this.byKey.get(key);
    return e && { adds: e.adds, deletes: [...e.deletes] };
  }

  /** The controller is gone: forget its expectations. */
  delete(key: string): void {
    this.byKey.delete(key);
  }
}

// ---- the controller shell ----

/** Controllers' Prometheus metrics, one set per Registry. */
export class ControllerMetrics {
  private static readonly byRegistry = new WeakMap<Registry, ControllerMetrics>();
  readonly syncSeconds: Histogram<'controller' | 'result'>;
  readonly syncErrors: Counter<'controller'>;

  static for(registry: Registry): ControllerMetrics {
    let m = ControllerMetrics.byRegistry.get(registry);
    if (m === undefined) {
      m = new ControllerMetrics(registry);
      ControllerMetrics.byRegistry.set(registry, m);
    }
    return m;
  }

  private constructor(registry: Registry) {
    const registers = [registry];
    this.syncSeconds = new Histogram({
      name: 'navarch_controller_sync_duration_seconds',
      help: 'How long one sync of a controller key took, by controller and result (success, error)',
      labelNames: ['controller', 'result'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.syncErrors = new Counter({ name: 'navarch_controller_sync_errors_total', help: 'Syncs of a controller key that failed and were retried or dropped', labelNames: ['controller'], registers });
  }
}

export interface ControllerLogger {
  warn(msg: string): void;
}

export interface QueueControllerOptions {
  /** @default realClock */
  clock?: Clock;
  /** Where workqueue_* and navarch_controller_* metrics go; none if absent. */
  registry?: Registry;
  /** Keys synced at once. @default 2 */
  workers?: number;
  /**
   * A key that failed this many times in a row is dropped (until its next event). In Kubernetes the
   * Deployment controller drops at 15; ReplicaSet, GC, namespace and node controllers retry with
   * backoff (at most 1000 s) for ever.
   * @default Infinity
   */
  maxRetries?: number;
  /** Distinct keys that may wait in the queue. @default 1000000 */
  maxQueueDepth?: number;
  /** @default warnings to stderr */
  logger?: ControllerLogger;
}

/** Something start() waits for before the first sync: an informer. */
export interface Syncable {
  waitForSync(o?: { timeoutMs?: number; signal?: AbortSignal }): Promise<void>;
}

/**
 * The shape of every controller (sample-controller): informer handlers enqueue keys; workers take
 * a key and call sync(key), level-triggered; a failed sync is retried with backoff. Subclasses
 * implement sync() and list their informers with waitFor(). Tests call syncKey() directly.
 */
export abstract class QueueController {
  readonly queue: RateLimitingQueue<string>;
  protected readonly clock: Clock;
  protected readonly logger: ControllerLogger;
  private readonly metrics: ControllerMetrics | undefined;
  private readonly workers: number;
  private readonly maxRetries: number;
  private readonly syncables: Syncable[] = [];
  private readonly abort = new AbortController();
  private runDone: Promise<void> | undefined;

  constructor(
    readonly name: string,
    o: QueueControllerOptions = {},
  ) {
    this.clock = o.clock ?? realClock;
    this.logger = o.logger ?? { warn: (msg) => process.stderr.write(`${msg}\n`) };
    this.workers = o.workers ?? 2;
    this.maxRetries = o.maxRetries ?? Infinity;
    this.metrics = o.registry ? ControllerMetrics.for(o.registry) : undefined;
    this.queue = new RateLimitingQueue<string>({ name, clock: this.clock, registry: o.registry, maxDepth: o.maxQueueDepth });
  }

  /** Reconciles one key; throws to be retried with backoff. */
  protected abstract sync(key: string): Promise<void>;

  /** Informers to wait for before the first sync. */
  protected waitFor(...s: Syncable[]): void {
    this.syncables.push(...s);
  }

  /** Queues a key ("namespace/name"); a full queue is logged, never thrown into an informer. */
  enqueue(key: string): void {
    try {
      this.queue.add(key);
    } catch (err) {
      if (!(err instanceof WorkQueueFullError)) throw err;
      this.logger.warn(`Controller "${this.name}": dropped ${key}: ${err.message}`);
    }
  }

  enqueueObject(o: KubeObject): void {
    this.enqueue(objectKey(o));
  }

  /** Queues a key after delayMs (on the controller's clock); a full queue is logged, as in enqueue. */
  enqueueAfter(key: string, delayMs: number): void {
    try {
      this.queue.addAfter(key, delayMs);
    } catch (err) {
      if (!(err instanceof WorkQueueFullError)) throw err;
      this.logger.warn(`Controller "${this.name}": dropped ${key}: ${err.message}`);
    }
  }

  /** One sync of `key`, timed into the metrics; throws what sync threw. */
  async syncKey(key: string): Promise<void> {
    const startMs = this.clock.nowMs();
    let result = 'success';
    try {
      await this.sync(key);
    } catch (err) {
      result = 'error';
      throw err;
    } finally {
      this.metrics?.syncSeconds.observe({ controller: this.name, result }, (this.clock.nowMs() - startMs) / 1000);
    }
  }

  /** Waits for the informers, then syncs keys until stop(); resolves then. */
  run(): Promise<void> {
    this.runDone ??= this.runLoop();
    return this.runDone;
  }

  start(): void {
    void this.run();
  }

  /** Stops taking keys; resolves once the syncs in progress have finished. */
  async stop(): Promise<void> {
    this.abort.abort(new Error(`Controller "${this.name}" stopped`));
    this.queue.shutDown();
    await this.runDone;
  }

  private async runLoop(): Promise<void> {
    // One abort listener for all informers (a listener per informer trips Node's MaxListeners warning).
    const signal = this.abort.signal;
    const stopped = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    stopped.catch(() => {});
    try {
      if (signal.aborted) return;
      await Promise.race([Promise.all(this.syncables.map((s) => s.waitForSync())), stopped]);
    } catch (err) {
      if (this.abort.signal.aborted) return;
      this.logger.warn(`Controller "${this.name}": informers did not sync: ${message(err)}`);
      return;
    }
    await runWorkers(this.queue, (key) => this.syncKey(key), {
      workers: this.workers,
      maxRetries: this.maxRetries,
      onError: (key, err, requeued) => {
        this.metrics?.syncErrors.inc({ controller: this.name });
        this.logger.warn(`Controller "${this.name}": sync of ${key} failed${requeued ? ' (will retry)' : ` ${this.maxRetries} times, dropped`}: ${message(err)}`);
      },
    });
  }
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
