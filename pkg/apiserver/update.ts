// Update (and the write half of patch): optimistic concurrency on resourceVersion, spec and status
// kept apart by the status subresource, generation bumped only when the spec changes (of the kinds
// that have one), server-set metadata preserved, and an object marked for deletion removed once its last finalizer goes.

import { applyDefaults } from '../api/defaults/defaults.js';
import { fieldErrors } from '../api/field_errors.js';
import { kindByName, type KindInfo, type KubeObject, type Namespace, type Pod } from '../api/registry.js';
import { validateObjectUpdate } from '../api/validation/validate.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../api/validation/common.js';
import { deepEqual } from '../api/deep_equal.js';
import { readValue, valueLength, type Compare, type KeyValue } from '../store/mod.js';
import { ApiError, badRequest, conflict, invalid, notFound } from './api_error.js';
import { namespaceOf, readObject, resolve, type Context, type ResourceRef } from './context.js';
import { withExpiry } from './event_ttl.js';
import { checkFencingToken, fencedTxn, leaseFenceOps, type FencingToken } from './fencing.js';
import { clone, emptyMeta, encodeStored, objectKey, sameBytes, generationChanges } from './objects.js';
import { admission, keepPodPriority } from './pod_priority.js';
import { keepPodQosClass } from './pod_qos_status.js';
import { addDefaultTolerations } from './default_tolerations.js';
import { finalizeNamespace, hasSpecFinalizers, keepNamespaceFinalizers } from './namespace_strategy.js';
import { scaleOf, withScale } from './scale.js';

export { FINALIZER_NAMESPACE, hasSpecFinalizers } from './namespace_strategy.js';
import { rememberStored } from './object_bytes.js';
import { parseResourceVersion } from './resource_version.js';
import { checkSize, kindOfBody } from './write_checks.js';

const POD = kindByName('Pod');

/** status: only .status; finalize (Namespaces): only spec.finalizers. */
export type Subresource = 'status' | 'finalize' | 'scale';

export interface UpdateRequest extends Partial<ResourceRef> {
  object: KubeObject;
  /** "status": write only .status; otherwise write everything but .status. */
  subresource?: Subresource;
  dryRun?: boolean;
  /** Write only while this Lease is held as the token says (else Forbidden). */
  fencing?: FencingToken;
  /**
   * `object` was decoded for this request alone (from the wire), and this decodes the request again:
   * each attempt fills in a body of its own and takes its parts as they are, not copies. The first
   * attempt uses `object`; a retry (a lost race, a stale local read) decodes a fresh one.
   */
  decodeAgain?: () => KubeObject;
}

export interface WriteOptions {
  dryRun?: boolean;
  fencing?: FencingToken;
  /**
   * `cur` came from this member's replica, which may lag (see readForWrite): only a write that
   * succeeds is an answer; a refusal or a no-op returns RECHECK instead, to be decided again on a
   * linearizable read.
   */
  local?: boolean;
  /**
   * Pods: `next` is the stored pod with only its status changed (the status subresource), or with
   * spec.nodeName and the PodScheduled condition set by a binding that checked the node name. The
   * rest was validated when it was written, so it is not again: validating the whole pod was most of
   * a binding's cost on the leader, and Kubernetes does not either.
   */
  podChange?: 'status' | 'binding';
  /** The subresource written: a status write never bumps the generation (and is a pod's 'status' podChange). */
  subresource?: Subresource;
  /** The write of a delete: it may set the garbage collector's finalizers on an object already marked (a later delete's policy). */
  fromDelete?: boolean;
}

export interface Current {
  kv: KeyValue;
  object: KubeObject;
}


/** The garbage collector's finalizers (orphan, foregroundDeletion), which a delete sets. */
const GC_FINALIZERS: ReadonlySet<string> = new Set(['orphan', 'foregroundDeletion']);

/** Another writer got there first (the txn's modRevision compare failed). */
export const LOST_RACE = Symbol('lostRace');

/** A local read's outcome that is not a successful write: read again, linearizably, and decide. */
export const RECHECK = Symbol('recheck');

/**
 * The read of a read-modify-write. The first one is served by this member's replica without a
 * ReadIndex round (a heartbeat to a quorum), since the write's modRevision compare proves at
 * apply time that the object read is still the current one; a refusal, a no-op or a lost race
 * then reads again linearizably. Dry runs write nothing to compare, so always read linearizably.
 */
export async function readForWrite(ctx: Context, info: KindInfo, namespace: string | undefined, name: string, local: boolean): Promise<Current | undefined> {
  return readObject(ctx, info, namespace, name, 0, local);
}

export function checkSubresource(info: KindInfo, subresource: string | undefined): Subresource | undefined {
  if (subresource === undefined || subresource === '') return undefined;
  if (subresource === 'status' && info.hasStatus) return 'status';
  if (subresource === 'finalize' && info.kind === 'Namespace') return 'finalize';
  if (subresource === 'scale' && info.hasScale) return 'scale';
  throw new ApiError('NotFound', `the server could not find the requested resource (${info.resource}/${subresource})`, { resource: info.resource, group: info.group });
}

/**
 * The object to store: what the writer may change taken from `incoming`, the rest from `old`.
 * `owned`: incoming is this attempt's to fill in, and its parts are taken as they are, not copied.
 */
export function mergeForUpdate(info: KindInfo, old: KubeObject, incoming: KubeObject, subresource: Subresource | undefined, owned = false): KubeObject {
  const name = old.metadata?.name ?? '';
  const oldMeta = old.metadata ?? emptyMeta();
  const uid = incoming.metadata?.uid;
  if (uid && uid !== oldMeta.uid) {
    throw conflict(info, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${oldMeta.uid}`);
  }
  if (subresource === 'status') {
    // As Kubernetes' status strategies: the spec stays the stored one, the writer's metadata is
    // kept, bar a Deployment's labels and a Pod's ownerReferences (old kubelets corrupted them).
    // `old` is this attempt's own decode of the stored object: the new object may share its parts.
    const meta = incoming.metadata ?? emptyMeta();
    const metadata = withServerMeta(info, owned ? meta : clone(meta), oldMeta);
    if (info.kind === 'Deployment') metadata.labels = oldMeta.labels;
    if (info.kind === 'Pod') metadata.ownerReferences = oldMeta.ownerReferences;
    const status = (incoming as { status?: unknown }).status;
    return { ...old, metadata, status: owned ? status : clone(status) } as KubeObject;
  }
  if (subresource === 'finalize') return finalizeNamespace(old as Namespace, incoming as Namespace);
  if (subresource === 'scale') return withScale(info, old, incoming);
  const next = (owned ? incoming : clone(incoming)) as KubeObject & { status?: unknown };
  if (info.hasStatus) next.status = clone((old as { status?: unknown }).status);
  next.metadata = withServerMeta(info, next.metadata ?? emptyMeta(), oldMeta);
  if (info.kind === 'Namespace') keepNamespaceFinalizers(next as Namespace, old as Namespace);
  return next;
}

/** The writer's metadata with what only the server sets (Kubernetes' rest.BeforeUpdate) taken from the stored object's. */
function withServerMeta(info: KindInfo, m: NonNullable<KubeObject['metadata']>, oldMeta: NonNullable<KubeObject['metadata']>): NonNullable<KubeObject['metadata']> {
  m.name ||= oldMeta.name;
  if (info.namespaced) m.namespace ||= oldMeta.namespace;
  m.uid = oldMeta.uid;
  m.creationTimestamp = oldMeta.creationTimestamp;
  m.generation = oldMeta.generation;
  m.deletionTimestamp = oldMeta.deletionTimestamp;
  m.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
  m.selfLink = undefined;
  return m;
}

/** Whether a write changes the metadata a writer owns (the server-set fields are the stored ones by now). */
function metadataChanged(next: KubeObject, old: KubeObject): boolean {
  const a = next.metadata ?? emptyMeta();
  const b = old.metadata ?? emptyMeta();
  return a.name !== b.name || a.namespace !== b.namespace || !deepEqual(a.labels ?? {}, b.labels ?? {}) || !deepEqual(a.annotations ?? {}, b.annotations ?? {}) || !deepEqual(a.finalizers ?? [], b.finalizers ?? []) || !deepEqual(a.ownerReferences ?? [], b.ownerReferences ?? []);
}

function validateMetadataUpdate(info: KindInfo, next: KubeObject, old: KubeObject) {
  return [...validateObjectMetaUpdate(next.metadata, old.metadata), ...validateObjectMeta(next.metadata, { namespaced: info.namespaced })];
}

/**
 * Defaults, validates and writes `next` over `cur` if nobody wrote in between. Returns the stored
 * object, `cur.object` when nothing changed (no write, no new resourceVersion), or LOST_RACE.
 * A fenced write whose token is stale throws Forbidden (a no-op write changes nothing, so passes).
 */
export async function writeUpdate(ctx: Context, info: KindInfo, cur: Current, next: KubeObject, o?: WriteOptions & { local?: false }): Promise<KubeObject | typeof LOST_RACE>;
export async function writeUpdate(ctx: Context, info: KindInfo, cur: Current, next: KubeObject, o: WriteOptions): Promise<KubeObject | typeof LOST_RACE | typeof RECHECK>;
export async function writeUpdate(ctx: Context, info: KindInfo, cur: Current, next: KubeObject, o: WriteOptions = {}): Promise<KubeObject | typeof LOST_RACE | typeof RECHECK> {
  const dryRun = o.dryRun ?? false;
  if (o.local && dryRun) throw new TypeError('writeUpdate: a dry run must read linearizably');
  const old = cur.object;
  const name = old.metadata?.name ?? '';
  if (checkUpdate(ctx, info, old, next, o) === RECHECK) return RECHECK;
  const admit = admission(info, next, old);
  if (admit) {
    try {
      await admit(ctx);
    } catch (err) {
      // Decided on this member's copy, which may be stale: the caller reads again and retries.
      if (o.local) return RECHECK;
      throw err;
    }
  }
  const plan = planUpdate(ctx, info, cur, next, o);
  if (plan === RECHECK) return RECHECK;
  if (plan === SAME) return old;
  const m = next.metadata!;
  const { key, value, compare } = plan;
  if (plan.remove) {
    if (dryRun) return next;
    const r = await fencedTxn(ctx, { compare, success: [{ type: 'deleteRange', key }, ...leaseFenceOps(info, old, undefined)] }, o.fencing, { info, name });
    if (!r.succeeded) return LOST_RACE;
    m.resourceVersion = String(r.header.revision);
    return next;
  }
  if (dryRun) return next;
  const r = await withExpiry(ctx, info, (lease) => fencedTxn(ctx, { compare, success: [{ type: 'put', key, value, lease }, ...leaseFenceOps(info, old, next)] }, o.fencing, { info, name }));
  if (!r.succeeded) return LOST_RACE;
  m.resourceVersion = String(r.header.revision);
  rememberStored(next, value, r.header.revision);
  return next;
}

/** The same object again: nothing to write. */
export const SAME = Symbol('same');

/**
 * Defaults `next` and validates it against `old` (before admission). Throws Invalid, or returns
 * RECHECK for a local read.
 */
export function checkUpdate(ctx: Context, info: KindInfo, old: KubeObject, next: KubeObject, o: WriteOptions): typeof RECHECK | undefined {
  const name = old.metadata?.name ?? '';
  applyDefaults(next);
  if (info === POD) {
    keepPodPriority(next as Pod, old as Pod);
    keepPodQosClass(next as Pod, old as Pod);
  }
  // A pod's status or binding write leaves its spec alone: only metadata the writer changed is validated.
  const podChange = info === POD ? (o.podChange ?? (o.subresource === 'status' ? 'status' : undefined)) : undefined;
  // As on create (Kubernetes runs that admission on updates too): a PUT of the original manifest keeps them.
  if (info === POD && !podChange) addDefaultTolerations(info, next, ctx.defaultTolerationSeconds);
  const errors = !podChange ? validateObjectUpdate(next, old) : metadataChanged(next, old) ? validateMetadataUpdate(info, next, old) : [];
  const m = next.metadata!;
  if (old.metadata?.deletionTimestamp) {
    const had = new Set(old.metadata.finalizers);
    const added = (m.finalizers ?? []).filter((f) => !had.has(f) && !(o.fromDelete && GC_FINALIZERS.has(f)));
    if (added.length) {
      errors.push(fieldErrors.forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`));
    }
  }
  if (errors.length) {
    if (o.local) return RECHECK;
    throw invalid(info, name, errors);
  }
  return undefined;
}

/** The admitted `next` encoded, with the compare that pins `cur`: what to write, or SAME, or RECHECK. Throws TooLarge. */
export function planUpdate(ctx: Context, info: KindInfo, cur: Current, next: KubeObject, o: WriteOptions): { key: string; value: Uint8Array; compare: Compare[]; remove: boolean } | typeof SAME | typeof RECHECK {
  const old = cur.object;
  const name = old.metadata?.name ?? '';
  const m = next.metadata!;
  if (o.subresource !== 'status' && generationChanges(info, next, old)) m.generation = (old.metadata?.generation ?? 0) + 1;
  m.resourceVersion = old.metadata?.resourceVersion;
  // The stored bytes of `old` are in hand: encode only `next`, once, for the comparison and the write.
  const value = encodeStored(next);
  if (value.byteLength === valueLength(cur.kv) && sameBytes(value, readValue(cur.kv))) return o.local ? RECHECK : SAME;
  const key = objectKey(info, m.namespace, name);
  const compare: Compare[] = [{ key, target: 'modRevision', result: '=', number: cur.kv.modRevision }];
  // Marked for deletion with no grace left: the last finalizer's removal deletes the object.
  const remove = !!m.deletionTimestamp && (m.deletionGracePeriodSeconds ?? 0) === 0 && (m.finalizers ?? []).length === 0 && !hasSpecFinalizers(next);
  if (!remove) {
    if (o.local && value.byteLength > ctx.maxObjectBytes) return RECHECK;
    checkSize(ctx, info, name, value);
  }
  return { key, value, compare, remove };
}

export async function update(ctx: Context, req: UpdateRequest): Promise<KubeObject> {
  // A Scale body names its object's resource only through the request.
  const scaling = req.subresource === 'scale';
  if (scaling && !req.resource) throw badRequest('Cannot update a scale subresource: the resource (deployments, replicasets or statefulsets) is not named');
  const info = scaling ? resolve(req.resource!) : kindOfBody(req.resource === undefined ? undefined : resolve(req.resource), req.object);
  const subresource = checkSubresource(info, req.subresource);
  const fencing = checkFencingToken(req.fencing);
  const name = req.object.metadata?.name ?? '';
  if (!name) throw invalid(info, name, [fieldErrors.required('metadata.name', 'name or generateName is required')]);
  const ns = namespaceOf(info, req.object.metadata?.namespace || req.namespace, 'update');
  if (req.namespace && req.object.metadata?.namespace && req.namespace !== req.object.metadata.namespace) {
    throw new ApiError('Invalid', `Cannot update ${info.resource}: the namespace of the object (${JSON.stringify(req.object.metadata.namespace)}) does not match the namespace of the request (${JSON.stringify(req.namespace)})`);
  }
  const wantRv = parseResourceVersion(req.object.metadata?.resourceVersion);
  let body = req.object;
  let local = !req.dryRun;
  for (let attempt = 0, tries = 0; ; tries++) {
    // A body the server fills in serves one attempt: the merge leaves fields in it (the uid, the
    // priority it kept) that a later attempt must not take for the writer's.
    if (tries > 0 && req.decodeAgain) body = req.decodeAgain();
    const cur = await readForWrite(ctx, info, ns, name, local);
    const result = await (async () => {
      if (!cur) return local ? RECHECK : Promise.reject(notFound(info, name));
      if (wantRv !== 0 && wantRv !== cur.kv.modRevision) return local ? RECHECK : Promise.reject(conflict(info, name));
      let merged: KubeObject;
      try {
        merged = mergeForUpdate(info, cur.object, body, subresource, req.decodeAgain !== undefined);
      } catch (err) {
        if (local) return RECHECK;
        throw err;
      }
      return writeUpdate(ctx, info, cur, merged, { dryRun: req.dryRun, fencing, local, subresource });
    })();
    if (result !== LOST_RACE && result !== RECHECK) return scaling ? scaleOf(result) : result;
    if (local) {
      local = false;
      continue;
    }
    // Only an unconditional update may retry against the newer object.
    if (wantRv !== 0 || attempt++ >= ctx.maxConflictRetries) throw conflict(info, name);
  }
}
