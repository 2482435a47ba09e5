// Eviction: Kubernetes' POST pods/{name}/eviction (policy/v1 Eviction), the polite delete that
// `drain` uses. A pod that no PodDisruptionBudget guards, or that is not running (Pending,
// Succeeded, Failed, already terminating), is deleted at once. Otherwise its one budget must allow
// a disruption: the eviction takes one from status.disruptionsAllowed and records the pod in
// status.disruptedPods (so the disruption controller does not count it healthy while it goes), then
// deletes the pod. A budget that allows none answers 429 TooManyRequests, which clients retry.
// The pod first gets the DisruptionTarget condition, as Kubernetes' PodDisruptionConditions does.

import { fieldErrors, type FieldError } from '../api/field_errors.js';
import { DISRUPTION_TARGET_CONDITION, disruptionTargetCondition, updateDisruptionAllowedCondition } from '../api/disruption_conditions.js';
import { selectorFromLabelSelector, type Selector } from '../api/labels.js';
import { kindByName, type Eviction, type KubeObject, type Pod, type PodDisruptionBudget } from '../api/registry.js';
import { PodStatus } from '../../gen/navarch/api/v1/core.js';
import { PodDisruptionBudgetStatus } from '../../gen/navarch/api/v1/policy.js';
import { ApiError, badRequest, forbidden, isApiError, notFound } from './api_error.js';
import { checkName, namespaceOf, readObject, type Context } from './context.js';
import { namespaceGuard } from './write_checks.js';
import { deleteObject, type PropagationPolicy } from './delete.js';
import type { FencingToken } from './fencing.js';
import { list } from './list.js';
import { clone, formatTime } from './objects.js';
import { update } from './update.js';

const POD = kindByName('Pod');
const PDB = kindByName('PodDisruptionBudget');

/** Kubernetes' MaxDisruptedPodSize: evictions the disruption controller has not yet confirmed, at most. */
export const MAX_DISRUPTED_PODS = 2000;

export const TOO_MANY_REQUESTS_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget.";

export interface EvictRequest {
  namespace?: string;
  /** The pod's name, as the request's path gives it; the Eviction's metadata.name must agree. */
  name?: string;
  eviction: KubeObject;
  dryRun?: boolean;
  fencing?: FencingToken;
}

interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: PropagationPolicy;
  dryRun: boolean;
}

function tooManyRequests(why: string, retryAfterSeconds: number): ApiError {
  return new ApiError('TooManyRequests', TOO_MANY_REQUESTS_MESSAGE, { causes: [{ type: 'DisruptionBudget', field: '', detail: why }], retryAfterSeconds });
}

/** Kubernetes' createTooManyRequestsError: the budget's state is about to change; come back in 10 s. */
function stillProcessing(pdb: string): ApiError {
  return tooManyRequests(`The disruption budget ${pdb} is still being processed by the server.`, 10);
}

/**
 * Concurrent evictions under one budget each take a disruption with a status write; all but one
 * conflict per round. A loser tries again while the budget still allows one (the winner made
 * progress), up to this many times.
 */
const MAX_BUDGET_ATTEMPTS = 256;

function pdbForbidden(name: string, why: string): ApiError {
  return forbidden(PDB, name, why);
}

function deleteOptionsOf(e: Eviction, dryRun: boolean): DeleteOptions {
  const o = e.deleteOptions;
  const errors: FieldError[] = [];
  if (o !== undefined && (typeof o !== 'object' || o === null)) throw badRequest('Invalid Eviction: deleteOptions must be an object');
  if (o?.dryRun !== undefined && !Array.isArray(o.dryRun)) errors.push(fieldErrors.invalid('deleteOptions.dryRun', o.dryRun, 'expected a list such as ["All"]'));
  const grace = o?.gracePeriodSeconds;
  if (grace !== undefined && (!Number.isSafeInteger(grace) || grace < 0)) errors.push(fieldErrors.invalid('deleteOptions.gracePeriodSeconds', grace, 'must be greater than or equal to 0'));
  const policy = o?.propagationPolicy;
  if (policy !== undefined && policy !== 'Orphan' && policy !== 'Background' && policy !== 'Foreground') {
    errors.push(fieldErrors.notSupported('deleteOptions.propagationPolicy', policy, ['Background', 'Foreground', 'Orphan']));
  }
  if (o?.orphanDependents !== undefined && policy !== undefined) errors.push(fieldErrors.invalid('deleteOptions.propagationPolicy', policy, 'orphanDependents and deletionPropagation cannot be both set'));
  for (const [i, d] of (Array.isArray(o?.dryRun) ? o.dryRun : []).entries()) if (d !== 'All') errors.push(fieldErrors.notSupported(`deleteOptions.dryRun[${i}]`, d, ['All']));
  if (errors.length) throw new ApiError('Invalid', `Eviction.policy ${JSON.stringify(e.metadata?.name ?? '')} is invalid: ${errors.map((x) => `${x.field}: ${x.detail}`).join(', ')}`, { kind: 'Eviction', group: 'policy', name: e.metadata?.name, causes: errors });
  const pre = o?.preconditions;
  return {
    gracePeriodSeconds: grace,
    preconditions: pre && (pre.uid || pre.resourceVersion) ? { uid: pre.uid || undefined, resourceVersion: pre.resourceVersion || undefined } : undefined,
    // The deprecated orphanDependents, as Kubernetes reads it: true orphans, false deletes in the background.
    propagationPolicy: (policy as PropagationPolicy | undefined) ?? (o?.orphanDependents === undefined ? undefined : o.orphanDependents ? 'Orphan' : 'Background'),
    dryRun: dryRun || (Array.isArray(o?.dryRun) && o.dryRun.includes('All')),
  };
}

/** Terminal, not yet running, or already going: its eviction disrupts nothing (Kubernetes' canIgnorePDB). */
function canIgnoreBudget(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata?.deletionTimestamp;
}

function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The budgets whose selector takes the pod (policy/v1: {} takes every pod of the namespace, none takes none). */
async function budgetsOf(ctx: Context, pod: Pod): Promise<PodDisruptionBudget[]> {
  const r = await list(ctx, { resource: PDB.resource, namespace: pod.metadata?.namespace ?? '' });
  const labels = pod.metadata?.labels ?? {};
  return (r.items as PodDisruptionBudget[]).filter((pdb) => {
    let selector: Selector;
    try {
      selector = selectorFromLabelSelector(pdb.spec?.selector);
    } catch {
      return false; // An invalid selector matches nothing.
    }
    return selector.matches(labels);
  });
}

/**
 * Takes one disruption from the budget for the pod and records it (Kubernetes' checkAndDecrement).
 * Throws TooManyRequests while the budget allows none or the controller has not yet seen its spec.
 */
async function takeDisruption(ctx: Context, pdb: PodDisruptionBudget, podName: string, o: DeleteOptions, fencing: FencingToken | undefined): Promise<void> {
  const name = pdb.metadata?.name ?? '';
  const st = pdb.status;
  if ((st?.observedGeneration ?? 0) < (pdb.metadata?.generation ?? 0)) throw stillProcessing(name);
  const allowed = st?.disruptionsAllowed ?? 0;
  if (allowed < 0) throw pdbForbidden(name, 'pdb disruptions allowed is negative');
  if (Object.keys(st?.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) throw pdbForbidden(name, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
  if (allowed === 0) throw tooManyRequests(`The disruption budget ${name} needs ${st?.desiredHealthy ?? 0} healthy pods and has ${st?.currentHealthy ?? 0} currently`, 0);
  if (o.dryRun) return;
  const next = clone(pdb);
  const status = (next.status ??= PodDisruptionBudgetStatus.create());
  status.disruptionsAllowed = allowed - 1;
  if (status.disruptionsAllowed === 0) updateDisruptionAllowedCondition(status, ctx.nowMs());
  status.disruptedPods = { ...(status.disruptedPods ?? {}), [podName]: formatTime(ctx.nowMs()) };
  await update(ctx, { resource: PDB.resource, namespace: pdb.metadata?.namespace, object: next, subresource: 'status', fencing });
}

/** As Kubernetes' eviction words it (the group resource "Pod", not "pods"). */
function preconditionConflict(name: string, why: string): ApiError {
  return new ApiError('Conflict', `Operation cannot be fulfilled on Pod ${JSON.stringify(name)}: ${why}`, { resource: 'pods', kind: 'Pod', name });
}

function uidConflict(name: string, wanted: string, found: string | undefined): ApiError {
  return preconditionConflict(name, `the UID in the precondition (${wanted}) does not match the UID in record (${found}). The object might have been deleted and then recreated`);
}

/** Marks the pod DisruptionTarget (reason EvictionByEvictionAPI) and deletes it, both under the caller's preconditions. */
async function markAndDelete(ctx: Context, ns: string, name: string, o: DeleteOptions, fencing: FencingToken | undefined): Promise<void> {
  let preconditions = o.preconditions;
  if (!o.dryRun) {
    for (let attempt = 0; ; attempt++) {
      const cur = await readObject(ctx, POD, ns, name);
      if (!cur) throw notFound(POD, name);
      const pod = cur.object as Pod;
      const meta = pod.metadata!;
      if (preconditions?.uid && preconditions.uid !== meta.uid) throw uidConflict(name, preconditions.uid, meta.uid);
      if (preconditions?.resourceVersion && preconditions.resourceVersion !== meta.resourceVersion) {
        throw preconditionConflict(name, `the ResourceVersion in the precondition (${preconditions.resourceVersion}) does not match the ResourceVersion in record (${meta.resourceVersion}). The object might have been modified`);
      }
      const next = clone(pod);
      const status = (next.status ??= PodStatus.create());
      const conditions = status.conditions ?? [];
      const old = conditions.find((c) => c.type === DISRUPTION_TARGET_CONDITION);
      const target = disruptionTargetCondition(old, 'EvictionByEvictionAPI', 'Eviction API: evicting', ctx.nowMs());
      status.conditions = [...conditions.filter((c) => c.type !== DISRUPTION_TARGET_CONDITION), target];
      try {
        const written = await update(ctx, { resource: POD.resource, namespace: ns, object: next, subresource: 'status', fencing });
        // The delete's resourceVersion precondition now names our own write.
        if (preconditions?.resourceVersion) preconditions = { ...preconditions, resourceVersion: written.metadata?.resourceVersion };
        break;
      } catch (e) {
        if (!isApiError(e, 'Conflict') || attempt >= ctx.maxConflictRetries) throw e;
      }
    }
  }
  await deleteObject(ctx, { resource: POD.resource, namespace: ns, name, gracePeriodSeconds: o.gracePeriodSeconds, preconditions, propagationPolicy: o.propagationPolicy, dryRun: o.dryRun, fencing });
}

/** Evicts the pod; returns the Eviction as sent once the pod is deleted (or marked for deletion). */
export async function evict(ctx: Context, req: EvictRequest): Promise<Eviction> {
  const e = req.eviction as Eviction | undefined;
  if (typeof e !== 'object' || e === null) throw badRequest('Cannot create pods/eviction: the body must be a policy/v1 Eviction object');
  if (e.kind !== 'Eviction' || e.apiVersion !== 'policy/v1') {
    throw badRequest(`Cannot create pods/eviction: the body is a ${e.kind} of ${JSON.stringify(e.apiVersion)}, not an Eviction of "policy/v1"`);
  }
  const bodyName = e.metadata?.name ?? '';
  if (req.name !== undefined && req.name !== bodyName) throw badRequest('name in URL does not match name in Eviction object');
  const name = checkName(POD, bodyName);
  const ns = namespaceOf(POD, req.namespace || e.metadata?.namespace, 'evict')!;
  if (req.namespace && e.metadata?.namespace && req.namespace !== e.metadata.namespace) {
    throw badRequest(`Cannot create pods/eviction: the namespace of the Eviction (${JSON.stringify(e.metadata.namespace)}) does not match the namespace of the request (${JSON.stringify(req.namespace)})`);
  }
  const options = deleteOptionsOf(e, req.dryRun ?? false);
  // An eviction is a create: a terminating namespace takes none (Kubernetes' namespace lifecycle admission).
  await namespaceGuard(ctx, POD, ns, name);
  const withRv = (pod: Pod): DeleteOptions => (options.preconditions?.resourceVersion ? options : { ...options, preconditions: { ...options.preconditions, resourceVersion: pod.metadata?.resourceVersion } });
  let pod: Pod;
  for (let attempt = 0; ; attempt++) {
    const cur = await readObject(ctx, POD, ns, name);
    if (!cur) throw notFound(POD, name);
    pod = cur.object as Pod;
    const uid = options.preconditions?.uid;
    // A pod with another uid never becomes the one asked for: no retry.
    if (uid && uid !== pod.metadata?.uid) throw uidConflict(name, uid, pod.metadata?.uid);
    if (!canIgnoreBudget(pod)) break;
    try {
      // A Pending pod could start and count as healthy meanwhile: delete only the version read.
      await markAndDelete(ctx, ns, name, pod.status?.phase === 'Pending' ? withRv(pod) : options, req.fencing);
      return e;
    } catch (err) {
      // It changed under us: decide again from the latest (unless the caller pinned a version).
      if (!isApiError(err, 'Conflict') || options.preconditions?.resourceVersion || attempt >= ctx.maxConflictRetries) throw err;
    }
  }
  const budgets = await budgetsOf(ctx, pod);
  if (budgets.length > 1) throw new ApiError('Internal', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.', { resource: 'pods', kind: 'Pod', name });
  let pdb = budgets[0];
  if (pdb) {
    const st = pdb.status;
    const alwaysAllow = pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow';
    // An unready pod counts toward no budget: it may go when the budget is whole anyway (IfHealthyBudget), or always.
    if (!isReady(pod) && (alwaysAllow || ((st?.currentHealthy ?? 0) >= (st?.desiredHealthy ?? 0) && (st?.desiredHealthy ?? 0) > 0))) {
      try {
        await markAndDelete(ctx, ns, name, withRv(pod), req.fencing);
      } catch (err) {
        // The version we pinned moved on (an unready pod's status changes often): the client tries again.
        if (isApiError(err, 'Conflict') && !options.preconditions?.resourceVersion) throw stillProcessing(pdb.metadata?.name ?? '');
        throw err;
      }
      return e;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await takeDisruption(ctx, pdb, name, options, req.fencing);
        break;
      } catch (err) {
        if (!isApiError(err, 'Conflict')) throw err;
        // Too many evictions at once under this budget: the client comes back later (429, as kubectl retries).
        if (attempt >= MAX_BUDGET_ATTEMPTS) throw stillProcessing(pdb.metadata?.name ?? '');
        // Another eviction (or the controller) wrote the budget first: decide again on what it wrote.
        const fresh = await readObject(ctx, PDB, ns, pdb.metadata?.name ?? '');
        if (!fresh) throw notFound(PDB, pdb.metadata?.name ?? '');
        pdb = fresh.object as PodDisruptionBudget;
      }
    }
  }
  await markAndDelete(ctx, ns, name, options, req.fencing);
  return e;
}
