// Priority admission, as Kubernetes' plugin of that name: a new pod's spec.priority and
// spec.preemptionPolicy come from its PriorityClass (or the cluster's global default one), so the
// scheduler's queue order and preemption follow the class a user names. A PriorityClass marked
// globalDefault is refused while another one is.

import { kindByName, type KindInfo, type KubeObject, type Pod, type PriorityClass } from '../api/registry.js';
import { SYSTEM_PRIORITY_CLASSES } from '../api/validation/other.js';
import { forbidden } from './api_error.js';
import { call, readObjectConfirmingMissing, type Context } from './context.js';
import { decodeStoredKv, resourcePrefix } from './objects.js';
import { prefixEnd } from '../store/mod.js';

const PRIORITY_CLASS = kindByName('PriorityClass');
const POD = kindByName('Pod');

/** Bounds the scan for the default class: clusters have a handful. */
const MAX_PRIORITY_CLASSES = 10_000;
const PRIORITY_CLASS_PREFIX = resourcePrefix(PRIORITY_CLASS);
const PRIORITY_CLASS_END = prefixEnd(PRIORITY_CLASS_PREFIX);

/** Sets a pod's priority from its class; throws Forbidden for an unknown class or a priority that disagrees. */
export async function admitPodPriority(ctx: Context, pod: Pod): Promise<void> {
  const spec = pod.spec;
  if (!spec) return;
  const name = pod.metadata?.name ?? '';
  // Without a class or a default one: 0, and the policy every pod defaults to (as Kubernetes).
  let resolved: { value: number; preemptionPolicy?: string } = { value: 0, preemptionPolicy: 'PreemptLowerPriority' };
  if (spec.priorityClassName) {
    const found = systemClass(spec.priorityClassName) ?? (await readClass(ctx, spec.priorityClassName));
    if (!found) throw forbidden(POD, name, `no PriorityClass with name ${spec.priorityClassName} was found`);
    resolved = found;
  } else {
    const def = await globalDefault(ctx);
    if (def) {
      spec.priorityClassName = def.metadata?.name;
      resolved = { value: def.value ?? 0, preemptionPolicy: def.preemptionPolicy };
    }
  }
  const value = resolved.value;
  if (spec.priority !== undefined && spec.priority !== value) {
    throw forbidden(POD, name, `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`);
  }
  spec.priority = value;
  const policy = resolved.preemptionPolicy;
  if (policy === undefined) return;
  if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== policy) {
    throw forbidden(POD, name, `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`);
  }
  spec.preemptionPolicy = policy;
}

/** Refuses a second PriorityClass marked globalDefault (Kubernetes allows one). */
export async function admitPriorityClass(ctx: Context, pc: PriorityClass, prev?: PriorityClass): Promise<void> {
  if (!pc.globalDefault || prev?.globalDefault) return;
  const def = await globalDefault(ctx);
  if (def && def.metadata?.name !== pc.metadata?.name) {
    throw forbidden(PRIORITY_CLASS, pc.metadata?.name ?? '', `PriorityClass ${def.metadata?.name} is already marked as default. Only one default can exist`);
  }
}

/** The admission of a create or update of this kind, or undefined when it has none (no await on the hot paths). */
export function admission(info: KindInfo, o: KubeObject, prev?: KubeObject): ((ctx: Context) => Promise<void>) | undefined {
  if (info === POD && !prev) return (ctx) => admitPodPriority(ctx, o as Pod);
  if (info === PRIORITY_CLASS) return (ctx) => admitPriorityClass(ctx, o as PriorityClass, prev as PriorityClass | undefined);
  return undefined;
}

/** The built-in classes resolve without objects (Kubernetes creates them at its first start). */
function systemClass(name: string): { value: number; preemptionPolicy: string } | undefined {
  const value = SYSTEM_PRIORITY_CLASSES.get(name);
  return value === undefined ? undefined : { value, preemptionPolicy: 'PreemptLowerPriority' };
}

/**
 * Keeps a pod's priority and preemption policy across updates that leave them out (a PUT of the
 * manifest, a patch removing them), as Kubernetes' admission does on update: they are immutable.
 */
export function keepPodPriority(next: Pod, prev: Pod): void {
  if (!next.spec || !prev.spec) return;
  if (next.spec.priority === undefined) next.spec.priority = prev.spec.priority;
  if (next.spec.preemptionPolicy === undefined) next.spec.preemptionPolicy = prev.spec.preemptionPolicy;
}

async function readClass(ctx: Context, name: string): Promise<{ value: number; preemptionPolicy?: string } | undefined> {
  const found = await readObjectConfirmingMissing(ctx, PRIORITY_CLASS, undefined, name);
  if (!found) return undefined;
  const pc = found.object as PriorityClass;
  return { value: pc.value ?? 0, preemptionPolicy: pc.preemptionPolicy };
}

/** The default class: of several (created concurrently), the lowest value, as Kubernetes picks. */
async function globalDefault(ctx: Context): Promise<PriorityClass | undefined> {
  // Every pod created without a class looks: read in place when the replica allows (no request, no response).
  const kvs = ctx.backend.latestRange
    ? ctx.backend.latestRange(PRIORITY_CLASS_PREFIX, PRIORITY_CLASS_END, MAX_PRIORITY_CLASSES)
    : (await call(() => ctx.backend.range({ key: PRIORITY_CLASS_PREFIX, rangeEnd: PRIORITY_CLASS_END, limit: MAX_PRIORITY_CLASSES }, { serializable: true }))).kvs;
  let best: PriorityClass | undefined;
  for (const kv of kvs) {
    // Every pod created without a class looks for the default: each class is decoded once per version.
    const pc = ctx.priorityClasses.get(kv.key, kv, () => decodeStoredKv(PRIORITY_CLASS, kv) as PriorityClass);
    if (pc.globalDefault && (!best || (pc.value ?? 0) < (best.value ?? 0))) best = pc;
  }
  return best;
}
