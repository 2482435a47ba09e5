// The node's heartbeat, as the kubelet's lease controller: a coordination.k8s.io/v1 Lease in
// kube-node-lease named after the node, holderIdentity the node, renewed (renewTime = now) every
// renewIntervalMs on the injected Clock. Renewals keep their phase (the k-th is due at
// firstDue + k * renewIntervalMs), so many nodes given spread initial delays stay spread. A failed
// renewal is retried with doubling backoff (retryInitialMs up to retryMaxMs) until one succeeds;
// at most one write is in flight. The Lease is owned by the Node (ownerReferences), so deleting
// the Node lets the garbage collector remove it.

import type { Lease } from '../../gen/navarch/api/v1/coordination.js';
import type { OwnerReference } from '../../gen/navarch/api/v1/meta.js';
import type { Clock } from '../../raft/node/ports.js';
import { isApiError } from '../apiserver/api_error.js';
import type { ObjectClient } from '../controllers/client.js';
import { Periodic } from './periodic.js';
import { microTime } from './timestamps.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/**
 * The agent's lease duration: the masters' default node monitor grace period. Renewed only as often
 * as the grace period, one late renewal (a busy API) marked the node Unknown and every pod on it
 * not Ready, which the agent then wrote back pod by pod.
 */
export const AGENT_NODE_LEASE_DURATION_SECONDS = 10;

/** The kubelet's ratio: a quarter of the duration, so a renewal or two may be late or lost. */
export function nodeLeaseRenewIntervalMs(leaseDurationSeconds: number): number {
  return leaseDurationSeconds * 250;
}

export interface NodeLeaseOptions {
  client: ObjectClient;
  clock: Clock;
  nodeName: string;
  /** @default 10000 (the kubelet: a quarter of the lease duration) */
  renewIntervalMs?: number;
  /** @default 40 */
  leaseDurationSeconds?: number;
  /** The first renewal is due this long after start(). @default 0 */
  initialDelayMs?: number;
  /** @default 200 */
  retryInitialMs?: number;
  /** @default 7000 */
  retryMaxMs?: number;
  /** The Node's uid once known: the Lease gets an ownerReference to it. */
  nodeUid?: () => string | undefined;
  /** Hears of each failed attempt (it is retried). */
  onError?: (err: unknown) => void;
  /** Runs each attempt (its reads and writes); many leases sharing one bound their calls in flight. */
  gate?: <T>(attempt: () => Promise<T>) => Promise<T>;
}

export interface NodeLeaseStats {
  renewals: number;
  creates: number;
  failures: number;
}

export class NodeLease {
  readonly stats: NodeLeaseStats = { renewals: 0, creates: 0, failures: 0 };
  private readonly leaseDurationSeconds: number;
  private readonly schedule: Periodic;
  private current: Lease | undefined;
  private readonly onFailure = (err: unknown): void => {
    this.stats.failures++;
    this.o.onError?.(err);
  };

  constructor(private readonly o: NodeLeaseOptions) {
    this.leaseDurationSeconds = o.leaseDurationSeconds ?? 40;
    if (!(Number.isSafeInteger(this.leaseDurationSeconds) && this.leaseDurationSeconds > 0)) {
      throw new RangeError(`Cannot create the lease of node ${o.nodeName}: leaseDurationSeconds must be an integer > 0, got ${o.leaseDurationSeconds}`);
    }
    const attempt = () => (o.gate ? o.gate(() => this.sync()) : this.sync());
    this.schedule = new Periodic(
      `the lease of node ${o.nodeName}`,
      {
        clock: o.clock,
        intervalMs: o.renewIntervalMs ?? 10_000,
        initialDelayMs: o.initialDelayMs,
        retryInitialMs: o.retryInitialMs,
        retryMaxMs: o.retryMaxMs,
        onError: this.onFailure,
      },
      attempt,
    );
  }

  /** The Lease as last written. */
  get lease(): Lease | undefined {
    return this.current;
  }

  start(): void {
    this.schedule.start();
    // As the kubelet, the Lease is written at once; only the renewals wait for their phase. A first
    // write that waited for its phase (up to an interval) could miss the node lifecycle controller's
    // grace period and mark a new node unreachable.
    if ((this.o.initialDelayMs ?? 0) > 0) this.schedule.runNow().catch(this.onFailure);
  }

  stop(): void {
    this.schedule.stop();
  }

  /** Creates or renews the Lease now (throws on failure; the schedule is not changed). */
  renewNow(): Promise<void> {
    return this.schedule.runNow();
  }

  private async sync(): Promise<void> {
    const { client, nodeName } = this.o;
    if (this.current === undefined) {
      try {
        this.current = await client.get<Lease>('leases', NODE_LEASE_NAMESPACE, nodeName);
      } catch (err) {
        if (!isApiError(err, 'NotFound')) throw err;
        this.current = await client.create(this.newLease(), { namespace: NODE_LEASE_NAMESPACE });
        this.stats.creates++;
        return;
      }
    }
    try {
      this.current = await client.update(this.renewed(this.current));
    } catch (err) {
      // Someone else wrote it (or deleted it): start from a fresh read next time.
      if (isApiError(err, 'Conflict') || isApiError(err, 'NotFound')) this.current = undefined;
      throw err;
    }
    this.stats.renewals++;
  }

  private ownerReferences(): OwnerReference[] {
    const uid = this.o.nodeUid?.();
    return uid ? [{ apiVersion: 'v1', kind: 'Node', name: this.o.nodeName, uid, controller: false, blockOwnerDeletion: false }] : [];
  }

  private newLease(): Lease {
    const now = microTime(this.o.clock.nowMs());
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.o.nodeName, namespace: NODE_LEASE_NAMESPACE, labels: {}, annotations: {}, ownerReferences: this.ownerReferences(), finalizers: [] },
      spec: { holderIdentity: this.o.nodeName, leaseDurationSeconds: this.leaseDurationSeconds, renewTime: now },
    };
  }

  private renewed(cur: Lease): Lease {
    const meta = cur.metadata!;
    const owners = meta.ownerReferences.length === 0 ? this.ownerReferences() : meta.ownerReferences;
    return {
      ...cur,
      metadata: { ...meta, ownerReferences: owners },
      spec: { ...cur.spec, holderIdentity: this.o.nodeName, leaseDurationSeconds: this.leaseDurationSeconds, renewTime: microTime(this.o.clock.nowMs()) },
    };
  }
}
