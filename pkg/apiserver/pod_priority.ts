// Priority admission, as Kubernetes' plugin of that name: a new pod's spec.priority and
// spec.preemptionPolicy come from its PriorityClass (or the cluster's global default one), so the
// scheduler's queue order and preemption follow the class a user names. A PriorityClass marked
// globalDefault is refused while another one is.

import { kindByName, type KindInfo, type KubeObject, type Pod, type PriorityClass } from '../api/registry.js';
import { forbidden } from './api_error.js';
import { call, readObject, type Context } from './context.js';
import { decodeStoredKv, resourcePrefix } from './objects.js';
import { prefixEnd } from '../store/mod.js';

const PRIORITY_CLASS = kindByName('PriorityClass');
const POD = kindByName('Pod');

/** Classes every cluster has without objects (Kubernetes creates them at its first start). */
const SYSTEM_CLASSES: ReadonlyMap<string, { value: number; preemptionPolicy: string }> = new Map([
  ['system-node-critical', { value: 2_000_001_000, preemptionPolicy: 'PreemptLowerPriority' }],
  ['system-cluster-critical', { value: 2_000_000_000, preemptionPolicy: 'PreemptLowerPriority' }],
]);

/** Bounds the scan for the default class: clusters have a handful. */
const MAX_PRIORITY_CLASSES = 10_000;

/** Sets a pod's priority from its class; throws Forbidden for an unknown class or a priority that disagrees. */
export async function admitPodPriority(ctx: Context, pod: Pod): Promise<void> {
  const spec = pod.spec;
  if (!spec) return;
  const name = pod.metadata?.name ?? '';
  let resolved: { value: number; preemptionPolicy?: string } | undefined;
  if (spec.priorityClassName) {
    resolved = SYSTEM_CLASSES.get(spec.priorityClassName) ?? (await readClass(ctx, spec.priorityClassName));
    if (!resolved) throw forbidden(POD, name, `no PriorityClass with name ${spec.priorityClassName} was found`);
  } else {
    const def = await globalDefault(ctx);
    if (def) {
      spec.priorityClassName = def.metadata?.name;
      resolved = { value: def.value ?? 0, preemptionPolicy: def.preemptionPolicy };
    }
  }
  const value = resolved?.value ?? 0;
  if (spec.priority !== undefined && spec.priority !== value) {
    throw forbidden(POD, name, `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`);
  }
  spec.priority = value;
  const policy = resolved?.preemptionPolicy;
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

async function readClass(ctx: Context, name: string): Promise<{ value: number; preemptionPolicy?: string } | undefined> {
  // The replica's copy when it has the class; only "missing" is confirmed up to date (it may be new).
  const found = (await readObject(ctx, PRIORITY_CLASS, undefined, name, 0, true)) ?? (await readObject(ctx, PRIORITY_CLASS, undefined, name));
  if (!found) return undefined;
  const pc = found.object as PriorityClass;
  return { value: pc.value ?? 0, preemptionPolicy: pc.preemptionPolicy };
}

/** The default class: of several (created concurrently), the lowest value, as Kubernetes picks. */
async function globalDefault(ctx: Context): Promise<PriorityClass | undefined> {
  const key = resourcePrefix(PRIORITY_CLASS);
  const r = await call(() => ctx.backend.range({ key, rangeEnd: prefixEnd(key), limit: MAX_PRIORITY_CLASSES }, { serializable: true }));
  let best: PriorityClass | undefined;
  for (const kv of r.kvs) {
    const pc = decodeStoredKv(PRIORITY_CLASS, kv) as PriorityClass;
    if (pc.globalDefault && (!best || (pc.value ?? 0) < (best.value ?? 0))) best = pc;
  }
  return best;
}
