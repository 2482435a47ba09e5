// The pod garbage collector (Kubernetes' podgc): every gcCheckPeriodMs it force-deletes
// - pods bound to a Node that no longer exists (after a quarantine, and once the API confirms the
//   node is gone): nothing would ever run them or finish their deletion, so a deleted node's
//   pods, evicted or not, would stay Terminating or Running for ever;
// - the oldest finished pods (Succeeded, Failed) beyond terminatedPodThreshold.
// Force means grace period 0 with the pod's uid as precondition, so a new pod of the same name is
// never hit. It only deletes; the owners (ReplicaSets) replace what they need. Kubernetes' other
// cases are not here: unscheduled pods left terminating cannot happen (the API deletes those at
// once), and there is no out-of-service taint, so pods evicted from a node that is unreachable but
// not deleted stay Terminating until it comes back or is deleted.

import type { Node, Pod } from '../../api/registry.js';
import { isApiError } from '../../apiserver/api_error.js';
import type { InformerFactory } from '../../client/informer/informer_factory.js';
import type { SharedInformer } from '../../client/informer/shared_informer.js';
import type { Clock, TimerHandle } from '../../../raft/node/ports.js';
import type { ObjectClient } from '../client.js';
import { message, type ControllerLogger } from '../controller_utils.js';

/** Kubernetes' figures: sweep every 20 s, wait 40 s before trusting that a node is gone, keep 12,500 finished pods. */
export const DEFAULT_GC_CHECK_PERIOD_MS = 20_000;
export const DEFAULT_QUARANTINE_MS = 40_000;
export const DEFAULT_TERMINATED_POD_THRESHOLD = 12_500;
/** Deletes one sweep sends at most, for each kind of garbage; the rest wait for the next sweep. */
const MAX_DELETES_PER_SWEEP = 500;

export interface PodGcOptions {
  client: ObjectClient;
  factory: InformerFactory;
  clock: Clock;
  logger: ControllerLogger;
  gcCheckPeriodMs?: number;
  quarantineMs?: number;
  /** Finished pods kept; 0 keeps them all (as Kubernetes' --terminated-pod-gc-threshold 0). */
  terminatedPodThreshold?: number;
}

export class PodGcController {
  private readonly pods: SharedInformer<Pod>;
  private readonly nodes: SharedInformer<Node>;
  private readonly periodMs: number;
  private readonly quarantineMs: number;
  private readonly threshold: number;
  /** Node names pods are bound to that the cache lacks, with when that was first seen. Only names pods still name. */
  private readonly missingSince = new Map<string, number>();
  private timer: TimerHandle | undefined;
  private stopped = false;
  private sweeping: Promise<void> | undefined;

  constructor(private readonly o: PodGcOptions) {
    this.pods = o.factory.informer<Pod>('pods');
    this.nodes = o.factory.informer<Node>('nodes');
    this.periodMs = o.gcCheckPeriodMs ?? DEFAULT_GC_CHECK_PERIOD_MS;
    this.quarantineMs = o.quarantineMs ?? DEFAULT_QUARANTINE_MS;
    this.threshold = o.terminatedPodThreshold ?? DEFAULT_TERMINATED_POD_THRESHOLD;
    if (!(this.periodMs > 0)) throw new RangeError(`Cannot create the pod GC controller: gcCheckPeriodMs must be > 0, got ${o.gcCheckPeriodMs}`);
  }

  start(): void {
    void Promise.all([this.pods.waitForSync(), this.nodes.waitForSync()]).then(
      () => this.schedule(),
      (err: unknown) => {
        if (!this.stopped) this.o.logger.warn(`Controller "podgc": informers did not sync: ${message(err)}`);
      },
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    await this.sweeping;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.sweeping = this.sweep()
        .catch((err: unknown) => this.o.logger.warn(`Controller "podgc": sweep failed: ${message(err)}`))
        .finally(() => {
          this.sweeping = undefined;
          this.schedule();
        });
    }, this.periodMs);
  }

  /** One pass over the cached pods (tests call it directly). */
  async sweep(): Promise<void> {
    const now = this.o.clock.nowMs();
    const finished: Pod[] = [];
    const byMissingNode = new Map<string, Pod[]>();
    for (const p of this.pods.store.list()) {
      const node = p.spec?.nodeName;
      if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') finished.push(p);
      if (node && this.nodes.store.get(undefined, node) === undefined) {
        const list = byMissingNode.get(node);
        if (list) list.push(p);
        else byMissingNode.set(node, [p]);
      }
    }
    for (const name of this.missingSince.keys()) if (!byMissingNode.has(name)) this.missingSince.delete(name);
    for (const name of byMissingNode.keys()) if (!this.missingSince.has(name)) this.missingSince.set(name, now);
    // Orphans first, each kind with its own budget: a backlog of finished pods must not starve them.
    const deleted = new Set<Pod>();
    let budget = MAX_DELETES_PER_SWEEP;
    for (const [node, list] of byMissingNode) {
      if (budget <= 0 || this.stopped) break;
      if (now - this.missingSince.get(node)! < this.quarantineMs || !(await this.confirmedGone(node))) continue;
      for (const p of list) {
        if (budget <= 0 || this.stopped) break;
        deleted.add(p);
        if (await this.forceDelete(p)) budget--;
      }
    }
    budget = MAX_DELETES_PER_SWEEP;
    for (const p of this.excessFinished(finished, now)) {
      if (budget <= 0 || this.stopped) break;
      if (!deleted.has(p) && (await this.forceDelete(p))) budget--;
    }
  }

  /** The oldest finished pods beyond the threshold. */
  private excessFinished(finished: Pod[], now: number): Pod[] {
    if (this.threshold <= 0 || finished.length <= this.threshold) return [];
    const keyed = finished.map((p) => ({ p, t: Date.parse(p.metadata?.creationTimestamp ?? '') || now }));
    keyed.sort((a, b) => a.t - b.t);
    return keyed.slice(0, finished.length - this.threshold).map((k) => k.p);
  }

  /** The cache may lag a node just created: only the API's NotFound counts. */
  private async confirmedGone(node: string): Promise<boolean> {
    try {
      await this.o.client.get('nodes', undefined, node);
      return false;
    } catch (err) {
      if (isApiError(err, 'NotFound')) return true;
      throw err;
    }
  }

  /** False when there was nothing to do: force-deleted already (it waits for its finalizers), or gone. */
  private async forceDelete(p: Pod): Promise<boolean> {
    const m = p.metadata!;
    if (m.deletionTimestamp && m.deletionGracePeriodSeconds === 0) return false;
    try {
      await this.o.client.delete('pods', m.namespace, m.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: m.uid } });
      return true;
    } catch (err) {
      // Gone already, or another pod now has the name.
      if (isApiError(err, 'NotFound') || isApiError(err, 'Conflict')) return false;
      throw err;
    }
  }
}
