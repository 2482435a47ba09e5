// Write admission, after Kubernetes' API Priority and Fairness: at most maxInflightWrites writes
// wait on the store (the Raft log) at once, and the rest wait here in a bounded FIFO. Without it an
// overloaded cluster queues every write in the log itself, so a leader-election Lease renewal waits
// behind hundreds of pod writes (seconds during a fill) and the scheduler's lease moves for nothing.
// Writes to leader-election Leases (kube-system) are exempt: they never queue and take no seat.
// A write refused here (queue full, or waited too long) never reached the log: TooManyRequests.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { realClock, type Clock, type TimerHandle } from '../../raft/node/ports.js';
import { kindByName } from '../api/registry.js';
import type { RangeRequest, RangeResponse, TxnRequest, TxnResponse, WatchOptions } from '../store/mod.js';
import { ApiError } from './api_error.js';
import type { Backend, BackendWatch, ReadOptions } from './backend.js';
import { resourcePrefix } from './objects.js';

export interface WriteAdmissionOptions {
  /** Writes on the store at once; more wait in the queue. @default 64 */
  maxInflightWrites?: number;
  /** Writes waiting; one more is refused with TooManyRequests. @default 4096 */
  maxQueuedWrites?: number;
  /** A write that waited this long is refused with TooManyRequests. @default 15000 */
  maxQueueWaitMs?: number;
  /** Writes of a key this accepts skip the queue. @default leader-election Leases (namespace kube-system) */
  exempt?: (key: string) => boolean;
  /** @default realClock */
  clock?: Clock;
  /** Adds apiserver_flowcontrol_* metrics to it. */
  registry?: Registry;
}

export const EXEMPT_LEVEL = 'leader-election';
export const LIMITED_LEVEL = 'global-default';

const LEADER_ELECTION_PREFIX = resourcePrefix(kindByName('Lease'), 'kube-system');

export function isLeaderElectionKey(key: string): boolean {
  return key.startsWith(LEADER_ELECTION_PREFIX);
}

interface Waiter {
  start(): void;
  refuse(err: ApiError): void;
  /** Started or refused: skipped when reached in the queue. */
  done: boolean;
  queuedAtMs: number;
  timer: TimerHandle | undefined;
}

interface Metrics {
  executing: Gauge<'priority_level'>;
  inQueue: Gauge<'priority_level'>;
  rejected: Counter<'priority_level' | 'reason'>;
  waitSeconds: Histogram<'priority_level' | 'execute'>;
}

const WAIT_BUCKETS_S = [0.001, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15];

/** A Backend whose txn() goes through write admission; reads and watches pass straight through. */
export class AdmittedBackend implements Backend {
  private readonly maxInflight: number;
  private readonly maxQueued: number;
  private readonly maxWaitMs: number;
  private readonly exempt: (key: string) => boolean;
  private readonly clock: Clock;
  private readonly metrics: Metrics | undefined;
  private readonly queue: Waiter[] = [];
  private queueHead = 0;
  private queued = 0;
  private executing = 0;

  constructor(
    private readonly inner: Backend,
    o: WriteAdmissionOptions = {},
  ) {
    this.maxInflight = o.maxInflightWrites ?? 64;
    this.maxQueued = o.maxQueuedWrites ?? 4096;
    this.maxWaitMs = o.maxQueueWaitMs ?? 15_000;
    for (const [name, v] of [['maxInflightWrites', this.maxInflight], ['maxQueuedWrites', this.maxQueued]] as const) {
      if (!(Number.isInteger(v) && v > 0)) throw new RangeError(`Cannot create write admission: ${name} must be an integer > 0, got ${v}`);
    }
    if (!(this.maxWaitMs > 0)) throw new RangeError(`Cannot create write admission: maxQueueWaitMs must be > 0, got ${o.maxQueueWaitMs}`);
    this.exempt = o.exempt ?? isLeaderElectionKey;
    this.clock = o.clock ?? realClock;
    this.metrics = o.registry && metricsIn(o.registry);
  }

  /** Writes on the store now (exempt ones not counted). */
  get inflightWrites(): number {
    return this.executing;
  }

  get queuedWrites(): number {
    return this.queued;
  }

  async txn(req: TxnRequest): Promise<TxnResponse> {
    if (this.isExempt(req)) {
      this.metrics?.waitSeconds.observe({ priority_level: EXEMPT_LEVEL, execute: 'true' }, 0);
      return this.inner.txn(req);
    }
    await this.admit();
    try {
      return await this.inner.txn(req);
    } finally {
      this.release();
    }
  }

  range(req: RangeRequest, options?: ReadOptions): Promise<RangeResponse> {
    return this.inner.range(req, options);
  }

  watch(options: WatchOptions): BackendWatch {
    return this.inner.watch(options);
  }

  /** A txn that writes an exempt key (a Lease write also writes its fencing key beside it). */
  private isExempt(req: TxnRequest): boolean {
    for (const ops of [req.success, req.failure]) {
      for (const op of ops ?? []) if (op.type !== 'range' && this.exempt(op.key)) return true;
    }
    return false;
  }

  private admit(): Promise<void> {
    if (this.executing < this.maxInflight && this.queued === 0) {
      this.setExecuting(this.executing + 1);
      this.metrics?.waitSeconds.observe({ priority_level: LIMITED_LEVEL, execute: 'true' }, 0);
      return Promise.resolve();
    }
    if (this.queued >= this.maxQueued) {
      this.metrics?.rejected.inc({ priority_level: LIMITED_LEVEL, reason: 'queue-full' });
      return Promise.reject(tooMany(`its queue of ${this.maxQueued} writes is full`));
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        done: false,
        queuedAtMs: this.clock.nowMs(),
        timer: undefined,
        start: () => {
          w.done = true;
          if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
          this.metrics?.waitSeconds.observe({ priority_level: LIMITED_LEVEL, execute: 'true' }, (this.clock.nowMs() - w.queuedAtMs) / 1000);
          resolve();
        },
        refuse: (err) => {
          w.done = true;
          this.setQueued(this.queued - 1);
          this.metrics?.rejected.inc({ priority_level: LIMITED_LEVEL, reason: 'time-out' });
          this.metrics?.waitSeconds.observe({ priority_level: LIMITED_LEVEL, execute: 'false' }, (this.clock.nowMs() - w.queuedAtMs) / 1000);
          reject(err);
        },
      };
      w.timer = this.clock.setTimeout(() => w.refuse(tooMany(`the write waited ${this.maxWaitMs} ms for its turn`)), this.maxWaitMs);
      this.queue.push(w);
      this.setQueued(this.queued + 1);
    });
  }

  /** Hands the freed seat to the oldest waiting write. */
  private release(): void {
    for (;;) {
      const w = this.queue[this.queueHead];
      if (w === undefined) break;
      this.queueHead++;
      if (w.done) continue;
      this.setQueued(this.queued - 1);
      this.compactQueue();
      w.start();
      return;
    }
    this.compactQueue();
    this.setExecuting(this.executing - 1);
  }

  private compactQueue(): void {
    if (this.queueHead >= 1024 && this.queueHead * 2 >= this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private setExecuting(n: number): void {
    this.executing = n;
    this.metrics?.executing.set({ priority_level: LIMITED_LEVEL }, n);
  }

  private setQueued(n: number): void {
    this.queued = n;
    this.metrics?.inQueue.set({ priority_level: LIMITED_LEVEL }, n);
  }
}

function tooMany(why: string): ApiError {
  return new ApiError('TooManyRequests', `Too many requests: the server is overloaded (${why}); try again later`, { retryAfterSeconds: 1, notApplied: true });
}


/** One set per registry: a registry may serve several members' API servers in tests. */
const metricsByRegistry = new WeakMap<Registry, Metrics>();

function metricsIn(registry: Registry): Metrics {
  let m = metricsByRegistry.get(registry);
  if (m === undefined) {
    const registers = [registry];
    m = {
      executing: new Gauge({ name: 'apiserver_flowcontrol_current_executing_requests', help: 'Writes on the store now, by priority level (exempt ones not counted)', labelNames: ['priority_level'], registers }),
      inQueue: new Gauge({ name: 'apiserver_flowcontrol_current_inqueue_requests', help: 'Writes waiting for a seat, by priority level', labelNames: ['priority_level'], registers }),
      rejected: new Counter({ name: 'apiserver_flowcontrol_rejected_requests_total', help: 'Writes refused with TooManyRequests, by priority level and reason (queue-full, time-out)', labelNames: ['priority_level', 'reason'], registers }),
      waitSeconds: new Histogram({
        name: 'apiserver_flowcontrol_request_wait_duration_seconds',
        help: 'Time a write waited for its seat, by priority level and whether it then ran',
        labelNames: ['priority_level', 'execute'],
        buckets: WAIT_BUCKETS_S,
        registers,
      }),
    };
    metricsByRegistry.set(registry, m);
  }
  return m;
}
