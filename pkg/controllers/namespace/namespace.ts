// The namespace controller, as Kubernetes' namespace deleter. Deleting a Namespace only marks it
// (deletionTimestamp, phase Terminating, spec.finalizers ["kubernetes"]: see
// pkg/apiserver/delete.ts), and the API then refuses new objects in it. This controller deletes
// every namespaced object in it, of every served kind, read live from the API (not from a cache
// that could miss one), and once nothing is left it empties spec.finalizers, which lets the
// namespace go. Objects still terminating (pods in their grace period) make it look again later.

import { KINDS, type KindInfo, type KubeObject, type Namespace } from '../../api/registry.js';
import { isApiError } from '../../apiserver/api_error.js';
import { FINALIZER_NAMESPACE } from '../../apiserver/update.js';
import type { EventRecorder } from '../../client/events/recorder.js';
import type { InformerFactory } from '../../client/informer/informer_factory.js';
import type { SharedInformer } from '../../client/informer/shared_informer.js';
import type { ObjectClient } from '../client.js';
import { QueueController, message, parseTimeMs, type QueueControllerOptions } from '../controller_utils.js';
import { mergeConditions, namespaceConditions } from './conditions.js';

export { FINALIZER_NAMESPACE };

export interface NamespaceControllerOptions extends QueueControllerOptions {
  client: ObjectClient;
  informers: InformerFactory;
  events: EventRecorder;
  /** Objects listed per request. @default 500 */
  listPageSize?: number;
  /** Deletes in flight at once. @default 16 */
  deleteConcurrency?: number;
  /** How soon to look again while objects are still terminating, at least. @default 1000 */
  minRecheckMs?: number;
  /** ... and at most. @default 15000 */
  maxRecheckMs?: number;
}

/** What one pass over a namespace's contents found. */
export interface ContentsPass {
  /** Deletes sent, by resource. */
  deleted: Record<string, number>;
  /** Objects still there after the pass (terminating, or waiting on finalizers), by resource. */
  remaining: Record<string, number>;
  /** Remaining objects held by each finalizer. */
  finalizers: Record<string, number>;
  /** Deletes that failed, as messages (at most 10 kept). */
  failures: string[];
  /** The latest deletion deadline among the remaining objects (ms), if any. */
  latestDeadlineMs: number | undefined;
}

const MAX_FAILURES_KEPT = 10;

export class NamespaceController extends QueueController {
  private readonly client: ObjectClient;
  private readonly events: EventRecorder;
  private readonly nsInformer: SharedInformer<Namespace>;
  private readonly listPageSize: number;
  private readonly deleteConcurrency: number;
  private readonly minRecheckMs: number;
  private readonly maxRecheckMs: number;
  private readonly kinds: readonly KindInfo[] = KINDS.filter((k) => k.namespaced);

  constructor(o: NamespaceControllerOptions) {
    super('namespace', o);
    this.client = o.client;
    this.events = o.events;
    this.listPageSize = o.listPageSize ?? 500;
    this.deleteConcurrency = o.deleteConcurrency ?? 16;
    this.minRecheckMs = o.minRecheckMs ?? 1000;
    this.maxRecheckMs = o.maxRecheckMs ?? 15_000;
    if (!(this.listPageSize >= 1 && this.deleteConcurrency >= 1 && this.minRecheckMs > 0 && this.maxRecheckMs >= this.minRecheckMs)) {
      throw new RangeError(`Cannot create the namespace controller: expected listPageSize >= 1, deleteConcurrency >= 1 and 0 < minRecheckMs <= maxRecheckMs`);
    }
    this.nsInformer = o.informers.informer<Namespace>('namespaces');
    this.nsInformer.addEventHandler({
      onAdd: (ns) => this.maybeEnqueue(ns),
      onUpdate: (_, ns) => this.maybeEnqueue(ns),
    });
    this.waitFor(this.nsInformer);
  }

  private maybeEnqueue(ns: Namespace): void {
    if (ns.metadata?.deletionTimestamp) this.enqueueObject(ns);
  }

  protected async sync(key: string): Promise<void> {
    const ns = this.nsInformer.store.getByKey(key);
    if (ns === undefined || !ns.metadata?.deletionTimestamp) return;
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER_NAMESPACE)) return;
    const name = ns.metadata.name ?? '';
    const pass = await this.deleteContents(name);
    const current = await this.writeConditions(ns, pass);
    if (pass.failures.length > 0) {
      throw new Error(`Cannot delete the contents of namespace ${JSON.stringify(name)}: ${pass.failures.length} deletes failed, first: ${pass.failures[0]}`);
    }
    const remaining = Object.entries(pass.remaining);
    if (remaining.length > 0) {
      const nowMs = this.clock.nowMs();
      const waitMs = Math.min(this.maxRecheckMs, Math.max(this.minRecheckMs, (pass.latestDeadlineMs ?? 0) - nowMs));
      this.enqueueAfter(key, waitMs);
      return;
    }
    await this.finalize(current);
  }

  /** Deletes what is in the namespace and not already being deleted; counts what is still there. */
  async deleteContents(namespace: string): Promise<ContentsPass> {
    const pass: ContentsPass = { deleted: {}, remaining: {}, finalizers: {}, failures: [], latestDeadlineMs: undefined };
    for (const info of this.kinds) {
      let cont: string | undefined;
      do {
        const page = await this.client.list(info.resource, { namespace, limit: this.listPageSize, continue: cont });
        cont = page.continue || undefined;
        const items = page.items as KubeObject[];
        for (let i = 0; i < items.length; i += this.deleteConcurrency) {
          await Promise.all(items.slice(i, i + this.deleteConcurrency).map(async (o) => {
            try {
              const r = await this.deleteOne(info, o);
              if (r.sent) pass.deleted[info.resource] = (pass.deleted[info.resource] ?? 0) + 1;
              if (r.stillThere === undefined) return;
              pass.remaining[info.resource] = (pass.remaining[info.resource] ?? 0) + 1;
              for (const fin of r.stillThere.metadata?.finalizers ?? []) pass.finalizers[fin] = (pass.finalizers[fin] ?? 0) + 1;
              const deadline = parseTimeMs(r.stillThere.metadata?.deletionTimestamp);
              if (deadline !== undefined) pass.latestDeadlineMs = Math.max(pass.latestDeadlineMs ?? deadline, deadline);
            } catch (err) {
              if (pass.failures.length < MAX_FAILURES_KEPT) pass.failures.push(`${info.resource} "${o.metadata?.name}": ${message(err)}`);
            }
          }));
        }
      } while (cont);
    }
    return pass;
  }

  /** Deletes one object unless it is already being deleted; says whether a delete was sent and what is still there. */
  private async deleteOne(info: KindInfo, o: KubeObject): Promise<{ sent: boolean; stillThere: KubeObject | undefined }> {
    if (o.metadata?.deletionTimestamp) return { sent: false, stillThere: o };
    try {
      const r = await this.client.delete(info.resource, o.metadata?.namespace, o.metadata?.name ?? '', { preconditions: { uid: o.metadata?.uid }, propagationPolicy: 'Background' });
      return { sent: true, stillThere: r.deleted ? undefined : r.object };
    } catch (err) {
      if (isApiError(err, 'NotFound')) return { sent: false, stillThere: undefined };
      // Changed under us (a lost race, a new object of that name): the next pass looks again.
      if (isApiError(err, 'Conflict')) return { sent: false, stillThere: o };
      throw err;
    }
  }

  /** Reports the pass in the namespace's conditions (written only when they change); returns the namespace as now stored. */
  private async writeConditions(ns: Namespace, pass: ContentsPass): Promise<Namespace> {
    const conditions = mergeConditions(ns.status?.conditions ?? [], namespaceConditions(pass), this.clock.nowMs());
    if (conditions === undefined) return ns;
    try {
      return await this.client.updateStatus<Namespace>({ ...ns, status: { phase: ns.status?.phase ?? 'Terminating', conditions } });
    } catch (err) {
      // Conditions are a report: a conflict only means the next pass writes them.
      if (!isApiError(err, 'Conflict') && !isApiError(err, 'NotFound')) throw err;
      return ns;
    }
  }

  /** Empties the namespace's own finalizer: with no other finalizer left, the API deletes it. */
  private async finalize(ns: Namespace): Promise<void> {
    const finalizers = (ns.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_NAMESPACE);
    try {
      await this.client.patch('namespaces', undefined, ns.metadata?.name ?? '', 'merge', { metadata: { uid: ns.metadata?.uid, resourceVersion: ns.metadata?.resourceVersion }, spec: { finalizers } }, { subresource: 'finalize' });
    } catch (err) {
      if (isApiError(err, 'NotFound')) return;
      this.events.event(ns, 'Warning', 'FailedFinalize', `Cannot remove finalizer ${JSON.stringify(FINALIZER_NAMESPACE)}: ${message(err)}`);
      throw err;
    }
  }
}
