// Writes what the agent knows about its pods to the API, as the kubelet's status manager: pod
// status through the status subresource, and the final delete (grace 0) of a pod whose containers
// have stopped. Work is keyed by pod: a newer status replaces one not yet written (coalescing), a
// delete replaces any status, and one pod never has two writes in flight. The queue is bounded
// (maxPendingPods); work refused when it is full is counted, and the caller's periodic resync
// offers it again. A write that lost a race (Conflict) is redone on a fresh read; one that could
// not reach the API is retried with backoff, then given up (counted) for the resync to redo.

import type { Pod, PodCondition, PodStatus } from '../../gen/navarch/api/v1/core.js';
import type { Clock } from '../../raft/node/ports.js';
import { sameIgnoringEmpty } from '../api/deep_equal.js';
import { isApiError } from '../apiserver/api_error.js';
import type { ObjectClient } from '../controllers/client.js';
import { discardAnswer } from '../client/client.js';

export interface StatusManagerOptions {
  client: ObjectClient;
  clock: Clock;
  /** Pods with work waiting; more are refused (stats.dropped). @default 10000 */
  maxPendingPods?: number;
  /** Writes in flight at once. @default 16 */
  concurrency?: number;
  /** Reads-and-rewrites after a Conflict. @default 5 */
  maxConflictRetries?: number;
  /** Attempts of a write that fails otherwise (e.g. Unavailable). @default 5 */
  maxAttempts?: number;
  /** @default 200 */
  retryInitialMs?: number;
  /** @default 5000 */
  retryMaxMs?: number;
  onError?: (what: string, err: unknown) => void;
}

export interface StatusManagerStats {
  /** Status writes that changed the pod. */
  written: number;
  /** Status work found already true in the API (no write). */
  unchanged: number;
  deleted: number;
  conflicts: number;
  /** Refused because the queue was full. */
  dropped: number;
  /** Given up after maxAttempts. */
  failed: number;
}

type Work = { kind: 'status'; pod: Pod; status: PodStatus } | { kind: 'delete'; pod: Pod };

const podKey = (p: Pod): string => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;

export class StatusManager {
  readonly stats: StatusManagerStats = { written: 0, unchanged: 0, deleted: 0, conflicts: 0, dropped: 0, failed: 0 };
  private readonly pending = new Map<string, Work>();
  private readonly active = new Set<string>();
  private readonly maxPendingPods: number;
  private readonly concurrency: number;
  private readonly maxConflictRetries: number;
  private readonly maxAttempts: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly o: StatusManagerOptions) {
    this.maxPendingPods = o.maxPendingPods ?? 10_000;
    this.concurrency = o.concurrency ?? 16;
    this.maxConflictRetries = o.maxConflictRetries ?? 5;
    this.maxAttempts = o.maxAttempts ?? 5;
    this.retryInitialMs = o.retryInitialMs ?? 200;
    this.retryMaxMs = o.retryMaxMs ?? 5000;
    for (const [name, v] of [['maxPendingPods', this.maxPendingPods], ['concurrency', this.concurrency], ['maxConflictRetries', this.maxConflictRetries], ['maxAttempts', this.maxAttempts]] as const) {
      if (!(Number.isSafeInteger(v) && v >= 1)) throw new RangeError(`Cannot create the status manager: ${name} must be an integer >= 1, got ${v}`);
    }
  }

  /** Pods with work waiting or in flight. */
  get pendingCount(): number {
    return this.pending.size + this.active.size;
  }

  /** Queues `status` for `pod` (the latest copy the caller has). False when the queue is full. */
  setPodStatus(pod: Pod, status: PodStatus): boolean {
    const key = podKey(pod);
    const have = this.pending.get(key);
    if (have?.kind === 'delete' && have.pod.metadata?.uid === pod.metadata?.uid) return true;
    return this.enqueue(key, { kind: 'status', pod, status });
  }

  /** Queues the final delete (grace 0, only this uid) of a pod whose containers have stopped. */
  deletePod(pod: Pod): boolean {
    return this.enqueue(podKey(pod), { kind: 'delete', pod });
  }

  /** Resolves when nothing is waiting or in flight. */
  idle(): Promise<void> {
    if (this.pendingCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.pending.clear();
  }

  private enqueue(key: string, work: Work): boolean {
    if (this.stopped) return false;
    if (!this.pending.has(key) && this.pending.size >= this.maxPendingPods) {
      this.stats.dropped++;
      return false;
    }
    this.pending.set(key, work);
    this.pump();
    return true;
  }

  private pump(): void {
    for (const [key, work] of this.pending) {
      if (this.active.size >= this.concurrency) return;
      if (this.active.has(key)) continue;
      this.pending.delete(key);
      this.active.add(key);
      void this.run(work)
        .catch((err) => {
          this.stats.failed++;
          this.o.onError?.(`${work.kind === 'delete' ? 'delete' : 'status of'} pod ${key}`, err);
        })
        .finally(() => {
          this.active.delete(key);
          this.pump();
          if (this.pendingCount === 0) for (const w of this.idleWaiters.splice(0)) w();
        });
    }
  }

  private async run(work: Work): Promise<void> {
    let delayMs = this.retryInitialMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await (work.kind === 'delete' ? this.delete(work.pod) : this.writeStatus(work.pod, work.status));
      } catch (err) {
        if (this.stopped || attempt >= this.maxAttempts || isApiError(err, 'Invalid') || isApiError(err, 'Conflict')) throw err;
        this.o.onError?.(`${work.kind === 'delete' ? 'delete' : 'status of'} pod ${podKey(work.pod)} (attempt ${attempt} of ${this.maxAttempts})`, err);
        await new Promise<void>((r) => this.o.clock.setTimeout(r, delayMs));
        delayMs = Math.min(delayMs * 2, this.retryMaxMs);
      }
    }
  }

  private async writeStatus(pod: Pod, status: PodStatus): Promise<void> {
    const uid = pod.metadata?.uid;
    let base = pod;
    for (let n = 1; ; n++) {
      const next = mergePodStatus(base.status, status);
      if (sameStatus(base.status, next)) {
        this.stats.unchanged++;
        return;
      }
      try {
        // Without the spec: a status write keeps the stored one (Kubernetes' status strategy), and
        // the pod's largest part then costs no encoding here nor decoding at the API server. The
        // stored pod in the answer is not decoded either: the pod's watch brings it.
        await this.o.client.updateStatus({ apiVersion: base.apiVersion, kind: base.kind, metadata: base.metadata, status: next } as Pod, { decode: discardAnswer });
        this.stats.written++;
        return;
      } catch (err) {
        if (isApiError(err, 'NotFound')) return;
        if (!isApiError(err, 'Conflict') || n > this.maxConflictRetries) throw err;
        this.stats.conflicts++;
      }
      try {
        base = await this.o.client.get<Pod>('pods', pod.metadata?.namespace, pod.metadata?.name ?? '');
      } catch (err) {
        if (isApiError(err, 'NotFound')) return;
        throw err;
      }
      // Deleted and created again under the same name: not the pod this status is about.
      if (base.metadata?.uid !== uid) return;
    }
  }

  private async delete(pod: Pod): Promise<void> {
    try {
      await this.o.client.delete('pods', pod.metadata?.namespace, pod.metadata?.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } });
      this.stats.deleted++;
    } catch (err) {
      // Gone already, or replaced by a pod of the same name (the uid precondition).
      if (isApiError(err, 'NotFound') || isApiError(err, 'Conflict')) return;
      throw err;
    }
  }
}

/**
 * The status to write: the agent's, over what the API has. Conditions of types the agent did not
 * report are kept; a condition whose status did not change keeps its lastTransitionTime; startTime,
 * qosClass and nominatedNodeName are kept once set.
 */
export function mergePodStatus(old: PodStatus | undefined, next: PodStatus): PodStatus {
  if (old === undefined) return next;
  const mine = new Map(next.conditions.map((c) => [c.type, c]));
  const conditions: PodCondition[] = [];
  for (const c of old.conditions) {
    const n = mine.get(c.type);
    if (n === undefined) conditions.push(c);
    else {
      conditions.push(n.status === c.status && c.lastTransitionTime ? { ...n, lastTransitionTime: c.lastTransitionTime } : n);
      mine.delete(c.type);
    }
  }
  conditions.push(...mine.values());
  return {
    ...next,
    conditions,
    startTime: old.startTime ?? next.startTime,
    qosClass: next.qosClass ?? old.qosClass,
    nominatedNodeName: next.nominatedNodeName ?? old.nominatedNodeName,
  };
}

/** Equal once absent and empty values are dropped (the API's decoded form has empty lists for absent ones). */
export function sameStatus(a: PodStatus | undefined, b: PodStatus | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return sameIgnoringEmpty(a, b);
}
