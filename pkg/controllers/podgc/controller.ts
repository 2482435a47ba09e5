// The pod garbage collector (Kubernetes' podgc): every gcCheckPeriodMs it force-deletes
// - pods bound to a Node that no longer exists (after a quarantine, and once the API confirms the
//   node is gone): nothing would ever run them or finish their deletion, so a deleted node's
//   pods, evicted or not, would stay Terminating or Running for ever;
// - the oldest finished pods (Succeeded, Failed) beyond terminatedPodThreshold.
// Force means grace period 0 with the pod's uid as precondition, so a new pod of the same name is
// never hit. It only deletes; the owners (ReplicaSets) replace what they need. (Kubernetes' third
// case, unscheduled pods left terminating, cannot happen here: the API deletes those at once.)

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
/** Deletes one sweep sends at most; the rest wait for the next sweep. */
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
    const pods = this.pods.store.list();
    const finished: Pod[] = [];
    const byMissingNode = new Map<string, Pod[]>();
    for (const p of pods) {
      const node = p.spec?.nodeName;
      if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') {
        if (!p.metadata?.deletionTimestamp) finished.push(p);
      }
      if (node && this.nodes.store.get(undefined, node) === undefined) {
        const list = byMissingNode.get(node);
        if (list) list.push(p);
        else byMissingNode.set(node, [p]);
      }
    }
    for (const name of this.missingSince.keys()) if (!byMissingNode.has(name)) this.missingSince.delete(name);
    let budget = MAX_DELETES_PER_SWEEP;
    const remove = async (p: Pod): Promise<void> => {
      if (budget <= 0 || this.stopped) return;
      budget--;
      await this.forceDelete(p);
    };
    for (const p of this.excessFinished(finished)) await remove(p);
    for (const [node, list] of byMissingNode) {
      const since = this.missingSince.get(node);
      if (since === undefined) this.missingSince.set(node, now);
      if (since === undefined || now - since < this.quarantineMs || !(await this.confirmedGone(node))) continue;
      for (const p of list) await remove(p);
    }
  }

  /** The oldest finished pods beyond the threshold. */
  private excessFinished(finished: Pod[]): Pod[] {
    if (this.threshold <= 0 || finished.length <= this.threshold) return [];
    const created = (p: Pod) => Date.parse(p.metadata?.creationTimestamp ?? '') || 0;
    return finished.sort((a, b) => created(a) - created(b)).slice(0, finished.length - this.threshold);
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

  private async forceDelete(p: Pod): Promise<void> {
    const m = p.metadata!;
    try {
      await this.o.client.delete('pods', m.namespace, m.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: m.uid } });
    } catch (err) {
      // Gone already, or another pod now has the name.
      if (isApiError(err, 'NotFound') || isApiError(err, 'Conflict')) return;
      throw err;
    }
  }
}
