// How many pods a PodDisruptionBudget expects and how many of them must stay healthy (Kubernetes'
// getExpectedPodCount and getExpectedScale): an integer minAvailable counts the matching pods;
// maxUnavailable and a percentage minAvailable count the replicas of the pods' controllers, found
// through each pod's controller reference (a ReplicaSet, or the Deployment that controls it; a
// StatefulSet; a Deployment), each controller once.

import type { OwnerReference } from '../../../gen/navarch/api/v1/meta.js';
import { scaledValueFromIntOrPercent } from '../../api/int_or_string.js';
import { kindFor, type Deployment, type KubeObject, type Pod, type PodDisruptionBudget, type ReplicaSet, type StatefulSet } from '../../api/registry.js';
import { qualifiedResource } from '../../apiserver/api_error.js';
import type { ReadonlyIndexer } from '../../client/informer/indexer.js';
import { getControllerOf } from '../controller_utils.js';

/** A pod's controller could not be resolved to a scale: the budget cannot be computed. */
export class ExpectedPodCountError extends Error {
  override readonly name = 'ExpectedPodCountError';
}

export interface ControllerSources {
  replicaSets: Pick<ReadonlyIndexer<ReplicaSet>, 'get'>;
  deployments: Pick<ReadonlyIndexer<Deployment>, 'get'>;
  statefulSets: Pick<ReadonlyIndexer<StatefulSet>, 'get'>;
  /**
   * Reads a controller its cache does not hold (yet) from the API, as Kubernetes reads the scale
   * subresource when its listers miss; resolves undefined when it does not exist.
   */
  read?(resource: 'replicasets' | 'deployments' | 'statefulsets', namespace: string, name: string): Promise<KubeObject | undefined>;
}

export interface ExpectedPodCount {
  expectedCount: number;
  desiredHealthy: number;
  /** Names of matching pods without a controller, left out of expectedCount (and reported). */
  unmanagedPods: string[];
}

/**
 * The expected and desired healthy pod counts for the budget's matching pods. Throws
 * ExpectedPodCountError when a pod's controller is unknown, not scalable or missing.
 */
export async function expectedPodCount(pdb: PodDisruptionBudget, pods: readonly Pod[], sources: ControllerSources): Promise<ExpectedPodCount> {
  const spec = pdb.spec ?? {};
  if (spec.maxUnavailable !== undefined) {
    const { expectedCount, unmanagedPods } = await expectedScale(pods, sources);
    const maxUnavailable = scaled(spec.maxUnavailable, expectedCount);
    return { expectedCount, desiredHealthy: Math.max(0, expectedCount - maxUnavailable), unmanagedPods };
  }
  if (spec.minAvailable !== undefined) {
    if (spec.minAvailable.strVal === undefined) return { expectedCount: pods.length, desiredHealthy: spec.minAvailable.intVal ?? 0, unmanagedPods: [] };
    const { expectedCount, unmanagedPods } = await expectedScale(pods, sources);
    return { expectedCount, desiredHealthy: scaled(spec.minAvailable, expectedCount), unmanagedPods };
  }
  return { expectedCount: 0, desiredHealthy: 0, unmanagedPods: [] };
}

/** Whether the budget's counts depend on its pods' controllers' replicas (maxUnavailable, or a percentage minAvailable). */
export function dependsOnScale(pdb: PodDisruptionBudget): boolean {
  const spec = pdb.spec ?? {};
  return spec.maxUnavailable !== undefined || spec.minAvailable?.strVal !== undefined;
}

function scaled(v: NonNullable<PodDisruptionBudget['spec']>['minAvailable'], total: number): number {
  try {
    return scaledValueFromIntOrPercent(v, total, true);
  } catch (err) {
    throw new ExpectedPodCountError((err as Error).message);
  }
}

/** The sum of the replicas of the distinct controllers of the pods; pods without one are listed apart. */
export async function expectedScale(pods: readonly Pod[], sources: ControllerSources): Promise<{ expectedCount: number; unmanagedPods: string[] }> {
  /** Replicas by the uid of the controller that decides them (a Deployment for its ReplicaSets' pods). */
  const scaleByUid = new Map<string, number>();
  /** Pod controller reference uids already resolved. */
  const resolved = new Set<string>();
  const unmanagedPods: string[] = [];
  for (const p of pods) {
    const ref = getControllerOf(p);
    if (ref === undefined) {
      unmanagedPods.push(p.metadata?.name ?? '');
      continue;
    }
    if (ref.uid && resolved.has(ref.uid)) continue;
    const found = await findController(ref, p.metadata?.namespace ?? '', sources);
    if (found === undefined) throw new ExpectedPodCountError(`found no controllers for pod ${JSON.stringify(p.metadata?.name ?? '')}`);
    scaleByUid.set(found.uid, found.replicas);
    if (ref.uid) resolved.add(ref.uid);
  }
  let expectedCount = 0;
  for (const n of scaleByUid.values()) expectedCount += n;
  return { expectedCount, unmanagedPods };
}

interface ControllerScale {
  uid: string;
  replicas: number;
}

const APPS = ['apps', 'extensions'];

/**
 * The controller a reference names and its replicas (Kubernetes' finders, in order): a ReplicaSet
 * controlled by a Deployment counts as that Deployment; a ReplicaSet whose Deployment is gone, a
 * StatefulSet or a Deployment count as themselves (for the latter through the scale subresource in
 * Kubernetes: the same replicas). Undefined when the object is gone or is another one (uid).
 */
async function findController(ref: OwnerReference, namespace: string, sources: ControllerSources): Promise<ControllerScale | undefined> {
  const group = groupOf(ref.apiVersion ?? '');
  const name = ref.name ?? '';
  if (ref.kind === 'ReplicaSet' && APPS.includes(group)) {
    const rs = await lookup(sources.replicaSets, 'replicasets', namespace, name, ref.uid, sources);
    if (rs === undefined) return undefined;
    const dref = getControllerOf(rs);
    if (dref?.kind === 'Deployment' && APPS.includes(groupOf(dref.apiVersion ?? ''))) {
      const d = await lookup(sources.deployments, 'deployments', namespace, dref.name ?? '', dref.uid, sources);
      if (d !== undefined) return { uid: d.metadata?.uid ?? '', replicas: d.spec?.replicas ?? 1 };
    }
    return { uid: rs.metadata?.uid ?? '', replicas: rs.spec?.replicas ?? 1 };
  }
  if (ref.kind === 'StatefulSet' && group === 'apps') {
    const ss = await lookup(sources.statefulSets, 'statefulsets', namespace, name, ref.uid, sources);
    return ss && { uid: ss.metadata?.uid ?? '', replicas: ss.spec?.replicas ?? 1 };
  }
  if (ref.kind === 'Deployment' && APPS.includes(group)) {
    const d = await lookup(sources.deployments, 'deployments', namespace, name, ref.uid, sources);
    return d && { uid: d.metadata?.uid ?? '', replicas: d.spec?.replicas ?? 1 };
  }
  // Kubernetes then asks the scale subresource of the reference's kind; here only the kinds above have one.
  const info = kindFor(ref.apiVersion ?? '', ref.kind ?? '');
  if (info === undefined) throw new ExpectedPodCountError(`no matches for kind ${JSON.stringify(ref.kind ?? '')} in version ${JSON.stringify(ref.apiVersion ?? '')}`);
  if (!info.hasScale) throw new ExpectedPodCountError(`${qualifiedResource(info)} does not implement the scale subresource`);
  return undefined;
}

async function lookup<T extends KubeObject>(
  cache: Pick<ReadonlyIndexer<T>, 'get'>,
  resource: 'replicasets' | 'deployments' | 'statefulsets',
  namespace: string,
  name: string,
  uid: string | undefined,
  sources: ControllerSources,
): Promise<T | undefined> {
  if (!name) return undefined;
  const o = cache.get(namespace, name) ?? ((await sources.read?.(resource, namespace, name)) as T | undefined);
  return o !== undefined && o.metadata?.uid === uid ? o : undefined;
}

/** "apps/v1" → "apps"; "v1" → "" (the core group). */
function groupOf(apiVersion: string): string {
  const parts = apiVersion.split('/');
  if (parts.length > 2) throw new ExpectedPodCountError(`unexpected GroupVersion string: ${apiVersion}`);
  return parts.length === 2 ? parts[0] : '';
}
