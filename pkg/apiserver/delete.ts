// Delete: preconditions on uid and resourceVersion; objects with finalizers (or a propagation
// policy that adds one) are only marked (deletionTimestamp) and go when the last finalizer is
// removed; a Pod bound to a node is deleted gracefully: marked with its grace period so the agent
// can stop it, then removed by a delete with grace period 0.

import type { KindInfo, KubeObject, Namespace, Pod } from '../api/registry.js';
import { badRequest, conflict, forbidden, notFound } from './api_error.js';
import { checkFencingToken, fencedTxn, leaseFenceOps, type FencingToken } from './fencing.js';
import { checkName, namespaceOf, readObject, resolve, type Context, type ObjectRef } from './context.js';
import { clone, formatTime, objectKey } from './objects.js';
import { FINALIZER_NAMESPACE, LOST_RACE, hasSpecFinalizers, writeUpdate, type Current } from './update.js';

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

/** Namespaces the cluster itself lives in, which Kubernetes refuses to delete. */
const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

/** Finalizers the garbage collector acts on (Kubernetes' names). */
export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';

export interface DeleteRequest extends ObjectRef {
  preconditions?: { uid?: string; resourceVersion?: string };
  /** 0: now. Absent: the object's default (a Pod's terminationGracePeriodSeconds, else 0). */
  gracePeriodSeconds?: number;
  /**
   * Absent: the object's own orphan or foregroundDeletion finalizer decides, else the kind's default
   * (Background; Orphan for batch/v1 Jobs, as Kubernetes keeps for compatibility).
   */
  propagationPolicy?: PropagationPolicy;
  dryRun?: boolean;
  /** Write only while this Lease is held as the token says (else Forbidden). */
  fencing?: FencingToken;
}

export interface DeleteResult {
  /** The object as deleted (resourceVersion: the delete's revision) or as marked for deletion. */
  object: KubeObject;
  /** True when the object is gone; false when it waits for finalizers or its grace period. */
  deleted: boolean;
}

function gracePeriodFor(object: KubeObject, asked: number | undefined): number {
  if (object.kind !== 'Pod') return 0;
  const pod = object as Pod;
  // Never scheduled or already finished: nothing runs, so nothing to wait for (as Kubernetes).
  if (!pod.spec?.nodeName || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 0;
  return asked ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
}

export async function deleteObject(ctx: Context, req: DeleteRequest): Promise<DeleteResult> {
  const info = resolve(req.resource);
  const name = checkName(info, req.name);
  const ns = namespaceOf(info, req.namespace, 'delete');
  if (info.kind === 'Namespace' && IMMORTAL_NAMESPACES.has(name)) throw forbidden(info, name, 'this namespace may not be deleted');
  const grace = req.gracePeriodSeconds;
  const fencing = checkFencingToken(req.fencing);
  if (grace !== undefined && (!Number.isSafeInteger(grace) || grace < 0)) throw badRequest(`Invalid gracePeriodSeconds ${JSON.stringify(grace)}: expected a non-negative integer`);
  const policy = req.propagationPolicy;
  if (policy !== undefined && policy !== 'Orphan' && policy !== 'Background' && policy !== 'Foreground') {
    throw badRequest(`Invalid propagationPolicy ${JSON.stringify(policy)}: expected Orphan, Background or Foreground`);
  }
  for (let attempt = 0; ; attempt++) {
    const cur = await readObject(ctx, info, ns, name);
    if (!cur) throw notFound(info, name);
    const meta = cur.object.metadata!;
    const pre = req.preconditions ?? {};
    if (pre.uid && pre.uid !== meta.uid) throw conflict(info, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid}`);
    if (pre.resourceVersion && pre.resourceVersion !== meta.resourceVersion) {
      throw conflict(info, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`);
    }
    const result = await deleteOnce(ctx, info, cur, gracePeriodFor(cur.object, grace), policy, req.dryRun ?? false, fencing);
    if (result !== LOST_RACE) return result;
    if (pre.resourceVersion || attempt >= ctx.maxConflictRetries) throw conflict(info, name);
  }
}

/**
 * The object's finalizers once the garbage collector's are set for this delete (Kubernetes'
 * deletionFinalizersForGarbageCollection): both removed, then the one the policy asks for added
 * back. With no policy, the one the object already carries stays, else the kind's default applies.
 * A later delete may so switch an object from orphaning its dependents to deleting them, or back.
 */
export function gcFinalizers(info: KindInfo, old: KubeObject, policy: PropagationPolicy | undefined): string[] {
  const had = old.metadata?.finalizers ?? [];
  const firstGc = had.find((f) => f === FINALIZER_ORPHAN || f === FINALIZER_FOREGROUND);
  const orphan = policy !== undefined ? policy === 'Orphan' : firstGc !== undefined ? firstGc === FINALIZER_ORPHAN : orphansByDefault(info);
  const foreground = policy !== undefined ? policy === 'Foreground' : had.includes(FINALIZER_FOREGROUND);
  const next = had.filter((f) => f !== FINALIZER_ORPHAN && f !== FINALIZER_FOREGROUND);
  if (orphan) next.push(FINALIZER_ORPHAN);
  if (foreground) next.push(FINALIZER_FOREGROUND);
  const same = next.length === had.length && next.every((f) => had.includes(f));
  return same ? [...had] : next;
}

/** batch/v1 Jobs orphan their pods unless told otherwise (Kubernetes' jobStrategy, for compatibility). */
function orphansByDefault(info: KindInfo): boolean {
  return info.kind === 'Job' && info.group === 'batch';
}

async function deleteOnce(ctx: Context, info: KindInfo, cur: Current, grace: number, policy: PropagationPolicy | undefined, dryRun: boolean, fencing: FencingToken | undefined): Promise<DeleteResult | typeof LOST_RACE> {
  const old = cur.object;
  const finalizers = gcFinalizers(info, old, policy);
  const alreadyMarked = !!old.metadata?.deletionTimestamp;
  // A Namespace goes only after the namespace controller has deleted its contents and emptied spec.finalizers.
  const namespace = old.kind === 'Namespace' && (!alreadyMarked || hasSpecFinalizers(old));
  if (finalizers.length === 0 && grace === 0 && !namespace) {
    if (dryRun) return { object: old, deleted: true };
    const key = objectKey(info, old.metadata?.namespace, old.metadata?.name ?? '');
    const r = await fencedTxn(
      ctx,
      { compare: [{ key, target: 'modRevision', result: '=', number: cur.kv.modRevision }], success: [{ type: 'deleteRange', key }, ...leaseFenceOps(info, old, undefined)] },
      fencing,
      { info, name: old.metadata?.name ?? '' },
    );
    if (!r.succeeded) return LOST_RACE;
    const object = clone(old);
    object.metadata!.resourceVersion = String(r.header.revision);
    return { object, deleted: true };
  }
  const next = clone(old);
  if (namespace && !alreadyMarked) {
    const ns = next as Namespace;
    const spec = (ns.spec ??= { finalizers: [] });
    if (!spec.finalizers.includes(FINALIZER_NAMESPACE)) spec.finalizers = [...spec.finalizers, FINALIZER_NAMESPACE];
    (ns.status ??= { conditions: [] }).phase = 'Terminating';
  }
  const m = next.metadata!;
  m.finalizers = finalizers;
  if (!alreadyMarked) {
    m.deletionTimestamp = formatTime(ctx.nowMs() + grace * 1000);
    m.deletionGracePeriodSeconds = grace;
  } else if (grace < (m.deletionGracePeriodSeconds ?? 0)) {
    // A second delete may shorten the grace period, never lengthen it; as in Kubernetes the
    // shorter period counts from when the first delete began, not from now.
    const startedMs = Date.parse(m.deletionTimestamp!) - (m.deletionGracePeriodSeconds ?? 0) * 1000;
    m.deletionTimestamp = formatTime((Number.isNaN(startedMs) ? ctx.nowMs() : startedMs) + grace * 1000);
    m.deletionGracePeriodSeconds = grace;
  }
  const result = await writeUpdate(ctx, info, cur, next, { dryRun, fencing, fromDelete: true });
  if (result === LOST_RACE) return LOST_RACE;
  return { object: result, deleted: !!result.metadata?.deletionTimestamp && result.metadata.deletionGracePeriodSeconds === 0 && result.metadata.finalizers.length === 0 && !hasSpecFinalizers(result) };
}
