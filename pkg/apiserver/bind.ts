// Binding: Kubernetes' POST pods/{name}/binding. The scheduler's one way to put a pod on a node: it
// sets spec.nodeName only while the pod is unbound (so two schedulers, or a stale one, cannot both
// place it), checks the uid when given (a pod deleted and recreated under the same name is another
// pod), and marks the PodScheduled condition True, all in one write.

import { fieldErrors, formatFieldErrors, type FieldError } from '../api/field_errors.js';
import { isDNS1123Subdomain } from '../api/validation/names.js';
import { kindByName, type KubeObject, type Pod } from '../api/registry.js';
import { PodStatus } from '../../gen/navarch/api/v1/core.js';
import { ApiError, notFound } from './api_error.js';
import { checkName, namespaceOf, type Context } from './context.js';
import { checkFencingToken, type FencingToken } from './fencing.js';
import { formatTime } from './objects.js';
import { LOST_RACE, RECHECK, readForWrite, writeUpdate, type Current } from './update.js';

const POD = kindByName('Pod')!;

/** A Binding (v1) addressed to one pod: metadata.namespace, metadata.name, metadata.uid, target. */
export interface BindRequest {
  namespace: string;
  /** The pod's name. */
  name: string;
  /** The pod must still have this uid (else Conflict). */
  uid?: string;
  /** The node: kind "Node" (or empty) and its name. */
  target: { kind?: string; name: string };
  dryRun?: boolean;
  /** Write only while this Lease is held as the token says (else Forbidden). */
  fencing?: FencingToken;
}

function bindingConflict(name: string, why: string): ApiError {
  return new ApiError('Conflict', `Operation cannot be fulfilled on pods/binding ${JSON.stringify(name)}: ${why}`, { resource: 'pods', kind: 'Pod', name });
}

function checkTarget(name: string, target: unknown): string {
  const t = (typeof target === 'object' && target !== null ? target : {}) as { kind?: unknown; name?: unknown };
  const errors: FieldError[] = [];
  if (t.kind !== undefined && t.kind !== '' && t.kind !== 'Node') errors.push(fieldErrors.notSupported('target.kind', t.kind, ['Node', '<empty>']));
  if (typeof t.name !== 'string' || t.name === '') errors.push(fieldErrors.required('target.name'));
  else for (const m of isDNS1123Subdomain(t.name)) errors.push(fieldErrors.invalid('target.name', t.name, m));
  if (errors.length) throw new ApiError('Invalid', `Binding ${JSON.stringify(name)} is invalid: ${formatFieldErrors(errors)}`, { kind: 'Binding', name, causes: errors });
  return t.name as string;
}

/** The pod a binding writes over `cur`, or why it is refused. */
export function decideBinding(ctx: Context, cur: Current | undefined, name: string, uid: string | undefined, nodeName: string): { next: Pod } | { refusal: ApiError } {
  if (!cur) return { refusal: notFound(POD, name) };
  const old = cur.object as Pod;
  const meta = old.metadata!;
  if (uid && uid !== meta.uid) return { refusal: bindingConflict(name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${meta.uid}`) };
  if (meta.deletionTimestamp) return { refusal: bindingConflict(name, `pod ${name} is being deleted, cannot be assigned to a host`) };
  if (old.spec?.nodeName) return { refusal: bindingConflict(name, `pod ${name} is already assigned to node ${JSON.stringify(old.spec.nodeName)}`) };
  // `old` is this attempt's own decode (readForWrite): the bound pod shares what it does not change.
  const next: Pod = { ...old, metadata: { ...meta }, spec: { ...old.spec!, nodeName } };
  setScheduled(next, formatTime(ctx.nowMs()));
  return { next };
}

/** The checked parts of a binding request: the pod's name and namespace, the node, the token. */
export function checkBinding(req: BindRequest): { name: string; ns: string; nodeName: string; fencing: FencingToken | undefined } {
  const name = checkName(POD, req.name);
  const ns = namespaceOf(POD, req.namespace, 'bind')!;
  return { name, ns, nodeName: checkTarget(name, req.target), fencing: checkFencingToken(req.fencing) };
}

/** Returns the pod as bound. */
export async function bind(ctx: Context, req: BindRequest): Promise<Pod> {
  const { name, ns, nodeName, fencing } = checkBinding(req);
  let local = !req.dryRun;
  for (let attempt = 0; ; ) {
    const cur = await readForWrite(ctx, POD, ns, name, local);
    const decided = decideBinding(ctx, cur, name, req.uid, nodeName);
    const refusal = 'refusal' in decided ? decided.refusal : undefined;
    let result: KubeObject | typeof LOST_RACE | typeof RECHECK = RECHECK;
    if ('next' in decided) result = await writeUpdate(ctx, POD, cur!, decided.next, { dryRun: req.dryRun, fencing, local, podChange: 'binding' });
    if (result !== LOST_RACE && result !== RECHECK) return result as Pod;
    if (local) {
      // A lagging replica may show an older pod: decide the refusal (or the race) on a fresh read.
      local = false;
      continue;
    }
    if (refusal) throw refusal;
    // Someone else wrote the pod: read it again (a bind by another writer now answers Conflict).
    if (attempt++ >= ctx.maxConflictRetries) throw bindingConflict(name, 'the pod kept changing during the bind; try again');
  }
}

/** Sets PodScheduled True in a status and conditions of the pod's own (the old pod's stay as they were). */
function setScheduled(pod: Pod, now: string): void {
  const status = (pod.status = { ...(pod.status ?? PodStatus.fromPartial({})) });
  const conditions = (status.conditions = [...status.conditions]);
  const i = conditions.findIndex((x) => x.type === 'PodScheduled');
  if (i < 0) {
    // Every field present, as a decoded condition has them.
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: undefined, lastTransitionTime: now, reason: undefined, message: undefined });
    return;
  }
  const c = conditions[i];
  conditions[i] = { ...c, status: 'True', lastTransitionTime: c.status !== 'True' ? now : c.lastTransitionTime, reason: undefined, message: undefined };
}
