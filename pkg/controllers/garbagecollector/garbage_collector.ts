// The garbage collector, as Kubernetes': every served kind is watched (or the ones asked for) but
// Events, which Kubernetes' default gcIgnoredResources leaves out too (the busiest kind), and each
// object's ownerReferences point at owners by uid. An object whose owners are all gone is
// deleted (background propagation). An owner deleted in the foreground (finalizer
// foregroundDeletion) keeps existing until its dependents that block owner deletion are gone; the
// collector deletes them, then removes the finalizer. An owner deleted with propagation Orphan
// (finalizer orphan) has its dependents' references to it removed, then the finalizer.
//
// The informers' stores are the graph: an index by owner uid gives any object's dependents.
// Absence is never trusted to a cache that may lag (a pod can be seen before its new
// ReplicaSet): an owner missing from the store is looked up in the API before anything is deleted.

import type { OwnerReference } from '../../../gen/navarch/api/v1/meta.js';
import { KINDS, type KindInfo, type KubeObject } from '../../api/registry.js';
import { isApiError } from '../../apiserver/api_error.js';
import type { EventRecorder } from '../../client/events/recorder.js';
import type { InformerFactory } from '../../client/informer/informer_factory.js';
import { namespacedKey, splitKey } from '../../client/informer/keys.js';
import type { SharedInformer } from '../../client/informer/shared_informer.js';
import type { ObjectClient } from '../client.js';
import { QueueController, type QueueControllerOptions } from '../controller_utils.js';
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN, UNRESOLVABLE, classifyReferences, hasFinalizer, ownerKind, policyForDependent } from './owners.js';

export const OWNER_UID_INDEX = 'byOwnerUid';
/** Left alone by default, as kube-controller-manager's --gc-ignored-resources default. */
export const GC_IGNORED_RESOURCES: readonly string[] = ['events'];
const byOwnerUid = (o: KubeObject): string[] => (o.metadata?.ownerReferences ?? []).map((r) => r.uid ?? '').filter((u) => u !== '');
/** The index the collector adds to the informer of every resource it watches. */
export const OWNER_INDEXERS = { [OWNER_UID_INDEX]: byOwnerUid };

export interface GarbageCollectorOptions extends QueueControllerOptions {
  client: ObjectClient;
  informers: InformerFactory;
  events: EventRecorder;
  /** Plural resources to watch as owners and dependents. @default every served kind but GC_IGNORED_RESOURCES */
  resources?: readonly string[];
  /** Owner uids remembered as confirmed gone, to spare API lookups. @default 1024 */
  absentOwnerCacheSize?: number;
}

/** The queue key of an object: "<resource>|<namespace>/<name>" ("<resource>|<name>" when cluster-scoped). */
export function gcKey(info: KindInfo, o: KubeObject): string {
  return `${info.resource}|${namespacedKey(o.metadata?.namespace, o.metadata?.name ?? '')}`;
}

export class GarbageCollector extends QueueController {
  private readonly client: ObjectClient;
  private readonly events: EventRecorder;
  private readonly informers = new Map<string, { info: KindInfo; informer: SharedInformer<KubeObject> }>();
  private readonly absentOwners = new Map<string, true>();
  /** Dependent and owner uids already looked at for OwnerRefInvalidNamespace (bounded as absentOwners). */
  private readonly invalidNamespaceSeen = new Set<string>();
  private readonly absentOwnerCacheSize: number;

  constructor(o: GarbageCollectorOptions) {
    super('garbagecollector', o);
    this.client = o.client;
    this.events = o.events;
    this.absentOwnerCacheSize = o.absentOwnerCacheSize ?? 1024;
    const resources = o.resources ?? KINDS.map((k) => k.resource).filter((r) => !GC_IGNORED_RESOURCES.includes(r));
    for (const resource of resources) {
      const info = KINDS.find((k) => k.resource === resource);
      if (info === undefined) throw new RangeError(`Cannot watch ${JSON.stringify(resource)} for garbage collection: not a served resource (expected a plural name such as "pods")`);
      const informer = o.informers.informer<KubeObject>(resource, { indexers: OWNER_INDEXERS });
      informer.addEventHandler({
        onAdd: (obj) => this.observe(info, undefined, obj),
        onUpdate: (old, obj) => this.observe(info, old, obj),
        onDelete: (obj) => this.removed(obj),
      });
      this.informers.set(resource, { info, informer });
      this.waitFor(informer);
    }
  }

  private observe(info: KindInfo, old: KubeObject | undefined, o: KubeObject): void {
    if (old !== undefined && old.metadata?.resourceVersion === o.metadata?.resourceVersion) return;
    const refs = o.metadata?.ownerReferences ?? [];
    const deleting = !!o.metadata?.deletionTimestamp && (hasFinalizer(o, FINALIZER_ORPHAN) || hasFinalizer(o, FINALIZER_FOREGROUND));
    const refsChanged = old === undefined || !sameOwnerRefs(old.metadata?.ownerReferences ?? [], refs);
    if (deleting || (refs.length > 0 && refsChanged)) this.enqueue(gcKey(info, o));
    // A dependent dropped a reference or started going: an owner waiting on it may be done.
    if (old !== undefined && (refsChanged || (!old.metadata?.deletionTimestamp && o.metadata?.deletionTimestamp))) this.enqueueWaitingOwners(old);
  }

  private removed(o: KubeObject): void {
    const uid = o.metadata?.uid;
    if (uid) for (const d of this.dependentsOf(uid)) this.enqueue(gcKey(d.info, d.object));
    this.enqueueWaitingOwners(o);
  }

  private enqueueWaitingOwners(o: KubeObject): void {
    for (const ref of o.metadata?.ownerReferences ?? []) {
      const entry = this.entryFor(ownerKind(ref));
      if (entry === undefined) continue;
      const owner = entry.informer.store.get(entry.info.namespaced ? o.metadata?.namespace : undefined, ref.name ?? '');
      if (owner !== undefined && owner.metadata?.uid === ref.uid && owner.metadata?.deletionTimestamp) this.enqueue(gcKey(entry.info, owner));
    }
  }

  private entryFor(info: KindInfo | undefined): { info: KindInfo; informer: SharedInformer<KubeObject> } | undefined {
    return info && this.informers.get(info.resource);
  }

  /** Every watched object with an ownerReference to this uid. */
  private dependentsOf(uid: string): Array<{ info: KindInfo; object: KubeObject }> {
    const out: Array<{ info: KindInfo; object: KubeObject }> = [];
    for (const { info, informer } of this.informers.values()) for (const object of informer.store.byIndex(OWNER_UID_INDEX, uid)) out.push({ info, object });
    return out;
  }

  protected async sync(key: string): Promise<void> {
    const bar = key.indexOf('|');
    const entry = this.informers.get(key.slice(0, bar));
    if (entry === undefined) return;
    const [namespace, name] = splitKey(key.slice(bar + 1));
    const o = entry.informer.store.get(namespace || undefined, name);
    if (o === undefined) return;
    if (o.metadata?.deletionTimestamp) {
      if (hasFinalizer(o, FINALIZER_ORPHAN)) {
        await this.orphanDependents(entry.info, o);
        return;
      }
      if (hasFinalizer(o, FINALIZER_FOREGROUND)) {
        await this.deleteDependentsFirst(entry.info, o);
        return;
      }
    }
    await this.collectIfOwnersGone(entry.info, o);
  }

  /**
   * The owner as it is now (same uid), undefined if it is gone (a cache miss is confirmed with the
   * API), or UNRESOLVABLE: a kind not served here (perhaps a custom resource of another tool) or a
   * namespaced owner of a cluster-scoped object. Kubernetes never collects through those.
   */
  private async lookupOwner(dependent: KubeObject, dependentInfo: KindInfo, ref: OwnerReference): Promise<KubeObject | undefined | typeof UNRESOLVABLE> {
    const uid = ref.uid ?? '';
    const info = ownerKind(ref);
    if (info === undefined) return UNRESOLVABLE;
    if (info.namespaced && !dependentInfo.namespaced) {
      this.reportInvalidNamespace(dependent, info, ref);
      return UNRESOLVABLE;
    }
    const namespace = info.namespaced ? dependent.metadata?.namespace : undefined;
    // Absent as looked up from here: the same uid may well exist in another namespace (a dependent
    // there naming it is not orphaned by this one's bad reference), as Kubernetes keys it since 1.20.
    const absentKey = `${info.resource}/${namespace ?? ''}/${ref.name ?? ''}/${uid}`;
    if (this.absentOwners.has(absentKey)) return undefined;
    const cached = this.entryFor(info)?.informer.store.get(namespace, ref.name ?? '');
    if (cached !== undefined && cached.metadata?.uid === uid) return cached;
    try {
      const live = await this.client.get(info.resource, namespace, ref.name ?? '');
      if (live.metadata?.uid === uid) return live;
    } catch (err) {
      if (!isApiError(err, 'NotFound')) throw err;
    }
    this.reportInvalidNamespace(dependent, info, ref);
    return this.rememberAbsent(uid, absentKey);
  }

  /**
   * As Kubernetes' graph builder: a Warning on the dependent when the owner it names exists, but in
   * another namespace (an owner must be in its dependent's namespace; a cluster-scoped object can
   * have no namespaced owner). Looked for only when the owner was not found where it should be.
   */
  private reportInvalidNamespace(dependent: KubeObject, info: KindInfo, ref: OwnerReference): void {
    const uid = ref.uid ?? '';
    const namespace = dependent.metadata?.namespace ?? '';
    const store = this.entryFor(info)?.informer.store;
    if (!uid || store === undefined) return;
    // Looked for once per dependent and owner (bounded): the look walks the owner kind's store.
    const seenKey = `${dependent.metadata?.uid ?? ''}|${uid}`;
    if (this.invalidNamespaceSeen.has(seenKey)) return;
    if (this.invalidNamespaceSeen.size >= this.absentOwnerCacheSize) this.invalidNamespaceSeen.delete(this.invalidNamespaceSeen.values().next().value!);
    this.invalidNamespaceSeen.add(seenKey);
    if (!store.list().some((o) => o.metadata?.uid === uid && (o.metadata.namespace ?? '') !== namespace)) return;
    const named = `[${ref.apiVersion ?? ''}/${ref.kind ?? ''}, namespace: ${namespace}, name: ${ref.name ?? ''}, uid: ${uid}]`;
    this.events.event(dependent, 'Warning', 'OwnerRefInvalidNamespace', `ownerRef ${named} does not exist in namespace ${JSON.stringify(namespace)}`);
  }

  private rememberAbsent(uid: string, key: string): undefined {
    if (!uid) return undefined;
    if (this.absentOwners.size >= this.absentOwnerCacheSize) this.absentOwners.delete(this.absentOwners.keys().next().value!);
    this.absentOwners.set(key, true);
    return undefined;
  }

  /** A dependent: delete it once every owner is gone; drop references to gone owners while another remains. */
  private async collectIfOwnersGone(info: KindInfo, o: KubeObject): Promise<void> {
    const refs = o.metadata?.ownerReferences ?? [];
    if (refs.length === 0) return;
    const c = await classifyReferences(refs, (ref) => this.lookupOwner(o, info, ref));
    // As Kubernetes: an owner it cannot look up stops the whole decision, so nothing is deleted on a guess.
    if (c.unresolvable.length > 0) return;
    if (c.solid.length > 0) {
      if (c.dangling.length === 0 && c.waiting.length === 0) return;
      // Another owner still holds it: only the references to the gone and the waiting owners go.
      const drop = new Set([...c.dangling, ...c.waiting].map((r) => r.uid));
      await this.patchOwnerRefs(info, o, refs.filter((r) => !drop.has(r.uid)));
      return;
    }
    if (o.metadata?.deletionTimestamp) return;
    const dependents = this.dependentsOf(o.metadata?.uid ?? '');
    // An owner waits for it, and it would wait for a dependent that itself waits for its own
    // dependents: maybe a cycle (A owns B owns A), where each would wait for the other for ever.
    // As Kubernetes, its references stop blocking their owners first, then it goes in the foreground.
    if (c.waiting.length > 0 && dependents.some((d) => d.object.metadata?.deletionTimestamp && hasFinalizer(d.object, FINALIZER_FOREGROUND))) {
      const refs = o.metadata?.ownerReferences ?? [];
      if (refs.some((r) => r.blockOwnerDeletion)) await this.patchOwnerRefs(info, o, refs.map((r) => (r.blockOwnerDeletion ? { ...r, blockOwnerDeletion: false } : r)));
    }
    await this.deleteObject(info, o, policyForDependent(o, c.waiting, dependents.length > 0));
  }

  /**
   * The dependents whose reference can name this owner: a namespaced owner's are in its namespace.
   * Others naming its uid (a cluster-scoped object, another namespace) never resolve to it, and
   * must not hold up its foreground deletion for ever.
   */
  private dependentsOfOwner(info: KindInfo, owner: KubeObject): Array<{ info: KindInfo; object: KubeObject }> {
    const all = this.dependentsOf(owner.metadata?.uid ?? '');
    if (!info.namespaced) return all;
    return all.filter((d) => d.info.namespaced && d.object.metadata?.namespace === owner.metadata?.namespace);
  }

  /** Foreground: delete the dependents; once none that blocks owner deletion is left, drop the finalizer. */
  private async deleteDependentsFirst(info: KindInfo, owner: KubeObject): Promise<void> {
    const uid = owner.metadata?.uid ?? '';
    const dependents = this.dependentsOfOwner(info, owner);
    let blocking = 0;
    for (const d of dependents) {
      const ref = (d.object.metadata?.ownerReferences ?? []).find((r) => r.uid === uid);
      if (ref?.blockOwnerDeletion) blocking++;
      if (!d.object.metadata?.deletionTimestamp) await this.collectIfOwnersGone(d.info, d.object);
    }
    if (blocking > 0) return;
    await this.removeFinalizer(info, owner, FINALIZER_FOREGROUND);
  }

  /** Orphan: remove every dependent's reference to the owner, then the owner's finalizer. */
  private async orphanDependents(info: KindInfo, owner: KubeObject): Promise<void> {
    const uid = owner.metadata?.uid ?? '';
    for (const d of this.dependentsOfOwner(info, owner)) {
      await this.patchOwnerRefs(d.info, d.object, (d.object.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid));
    }
    await this.removeFinalizer(info, owner, FINALIZER_ORPHAN);
  }

  private async deleteObject(info: KindInfo, o: KubeObject, propagationPolicy: 'Orphan' | 'Foreground' | 'Background'): Promise<void> {
    try {
      await this.client.delete(info.resource, o.metadata?.namespace, o.metadata?.name ?? '', { preconditions: { uid: o.metadata?.uid }, propagationPolicy });
    } catch (err) {
      // Gone already, or a new object of that name: nothing of ours to delete.
      if (isApiError(err, 'NotFound') || isApiError(err, 'Conflict')) return;
      throw err;
    }
  }

  private async patchOwnerRefs(info: KindInfo, o: KubeObject, ownerReferences: OwnerReference[]): Promise<void> {
    const m = o.metadata!;
    try {
      await this.client.patch(info.resource, m.namespace, m.name ?? '', 'merge', { metadata: { uid: m.uid, resourceVersion: m.resourceVersion, ownerReferences } });
    } catch (err) {
      if (isApiError(err, 'NotFound')) return;
      throw err;
    }
  }

  private async removeFinalizer(info: KindInfo, o: KubeObject, finalizer: string): Promise<void> {
    const m = o.metadata!;
    try {
      await this.client.patch(info.resource, m.namespace, m.name ?? '', 'merge', { metadata: { uid: m.uid, resourceVersion: m.resourceVersion, finalizers: (m.finalizers ?? []).filter((f) => f !== finalizer) } });
    } catch (err) {
      if (isApiError(err, 'NotFound')) return;
      throw err;
    }
  }
}

/** Field by field: this runs for every change of every watched object (a lease renewal too). */
function sameOwnerRefs(a: readonly OwnerReference[], b: readonly OwnerReference[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.uid !== y.uid || x.name !== y.name || x.kind !== y.kind || x.apiVersion !== y.apiVersion || !!x.controller !== !!y.controller || !!x.blockOwnerDeletion !== !!y.blockOwnerDeletion) return false;
  }
  return true;
}
