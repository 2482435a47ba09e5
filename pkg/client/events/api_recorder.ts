// The EventRecorder controllers and the scheduler use in a real cluster: core/v1 Events written
// through the API, as client-go's record.EventRecorder + EventBroadcaster. event() only stamps the
// Event and queues it (a bounded queue; a full one drops and counts, never blocking the caller).
// Events leave the queue in order to be correlated (see correlator.ts) and written: a create, or
// for a repeat a merge patch of count, lastTimestamp and message. Up to maxInFlightWrites writes
// run at once, as the events.k8s.io broadcaster the kube-scheduler uses writes each Event on its
// own goroutine: one write at a time keeps up with a few hundred Events a second, and a scheduler
// binding more pods than that would drop most of their Scheduled events. Writes about the same
// Event (a create and the patches of its repeats) still run one after another. Events of
// cluster-scoped objects (Node) go to "default", as Kubernetes does. With a client that has
// createBatch (NavarchClient), the new Events of one event-loop turn go in one CreateBatch call,
// which the API server writes as one store transaction: a scheduler writes one Event per pod it
// binds, and one call and one Raft entry each cost as much as a fifth of the pod's own work.

import type { Registry } from 'prom-client';
import { LabeledCounter } from '../../metrics/labeled.js';
import { realClock, type Clock, type TimerHandle } from '../../../raft/node/ports.js';
import { kindByName, type Event, type KubeObject } from '../../api/registry.js';
import { isApiError } from '../../apiserver/api_error.js';
import { txnChunks } from '../../apiserver/batch_txn.js';
import type { ObjectClient } from '../../controllers/client.js';
import { isUnimplemented } from '../errors.js';
import { formatTime } from '../../api/time.js';
import { EventCorrelator, type CorrelateResult, type CorrelatorOptions } from './correlator.js';
import type { EventRecorder, EventType } from './recorder.js';

/** A client that creates many objects in one call (NavarchClient.createBatch). */
export interface BatchCreateClient {
  /** Each create's outcome in order: undefined when created, else its error. */
  createBatch(objects: readonly KubeObject[]): Promise<Array<Error | undefined>>;
}

/** A new Event waiting for its batch's answer. */
interface BatchItem {
  r: Extract<CorrelateResult, { skip: false }>;
  resolve(): void;
  reject(err: unknown): void;
}

export interface ApiEventRecorderOptions {
  /** With createBatch, new Events travel in batches (see above). */
  client: ObjectClient & Partial<BatchCreateClient>;
  /** source.component and reportingComponent: "navarch-scheduler", "node-lifecycle-controller". */
  component: string;
  /** source.host and reportingInstance: which process (a master's name). @default "" */
  instance?: string;
  /** @default realClock */
  clock?: Clock;
  /** Events waiting to be written, behind those in flight; beyond this, new ones are dropped and counted. @default 1000 */
  queueEvents?: number;
  /**
   * Writes (creates and patches) in flight at once, those waiting for an earlier write about the
   * same Event included. With CreateBatch these are a few calls: a scheduler binding 1,000 pods a
   * second keeps its Events through a second's stall of the API as well as the queue's.
   * @default 1000
   */
  maxInFlightWrites?: number;
  /** Tries per write while the API is unavailable. @default 3 */
  writeAttempts?: number;
  /** Wait between those tries (on the clock). @default 1000 */
  retryDelayMs?: number;
  /**
   * How long stop() waits for the queued Events to be written; the rest are dropped, and so are
   * writes not yet sent. A term's recorder stops with up to queueEvents + maxInFlightWrites Events
   * that its lost lease no longer lets it write, and
   * the term (its scheduler or controllers, every cache they hold) stays in memory until stop()
   * returns. @default 5000
   */
  stopWaitMs?: number;
  correlator?: CorrelatorOptions;
  /** Reports event_recorder_* counters here (label component). */
  registry?: Registry;
  logger?: { warn(msg: string): void };
}

/** The API was unreachable or failed: the write may be tried again. A refusal (Invalid, NotFound, ...) is final, and so is a master that does not know the call. */
function isTransient(err: unknown): boolean {
  return !isUnimplemented(err) && (!isApiError(err) || err.code === 'Unavailable' || err.code === 'Internal');
}

/** Events one CreateBatch carries at most (the API server takes 1,000). */
const MAX_BATCH_EVENTS = 500;
/** About this many bytes of Events per CreateBatch, well within a call's message limit. */
const MAX_BATCH_BYTES = 1024 * 1024;

/** An Event's size, roughly: its texts and a generous allowance for the rest. */
function eventBytes(e: Event): number {
  return (e.message?.length ?? 0) + (e.involvedObject?.name?.length ?? 0) + 512;
}

/** The Event as a create sends it: a repeat written afresh carries no resourceVersion. */
function unwritten(e: Event): Event {
  return e.metadata?.resourceVersion === undefined ? e : { ...e, metadata: { ...e.metadata!, resourceVersion: undefined } };
}

/** Where a namespaced object's Events go, and a cluster-scoped one's ("default"). */
export function eventNamespace(regarding: KubeObject): string {
  return regarding.metadata?.namespace || 'default';
}

interface RecorderMetrics {
  dropped: LabeledCounter<'component'>;
  written: LabeledCounter<'component' | 'result'>;
}

const metricsByRegistry = new WeakMap<Registry, RecorderMetrics>();

function metricsFor(registry: Registry): RecorderMetrics {
  let m = metricsByRegistry.get(registry);
  if (m === undefined) {
    const registers = [registry];
    m = {
      // A scheduler counts one write per pod it binds: labeled.ts, not prom-client's own.
      dropped: new LabeledCounter({ name: 'event_recorder_dropped_events_total', help: 'Events dropped because the recorder queue was full', labelNames: ['component'], registers }),
      written: new LabeledCounter({ name: 'event_recorder_writes_total', help: 'Event writes by result: created, patched, skipped (spam filter), failed', labelNames: ['component', 'result'], registers }),
    };
    metricsByRegistry.set(registry, m);
  }
  return m;
}

export class ApiEventRecorder implements EventRecorder {
  readonly component: string;
  readonly instance: string;
  readonly queueEvents: number;
  readonly maxInFlightWrites: number;
  /** Events dropped because the queue was full (or the recorder stopped). */
  dropped = 0;
  /** Events not written because the spam filter held them back. */
  skipped = 0;
  /** Writes that failed for good. */
  failed = 0;
  /** CreateBatch calls made and the Events they carried. */
  readonly batches = { calls: 0, events: 0 };
  private readonly client: ObjectClient;
  /** Undefined when the client has no createBatch, or the master does not serve it. */
  private batchClient: BatchCreateClient | undefined;
  /** A pump is queued for the end of this turn (batching). */
  private pumpQueued = false;
  private readonly clock: Clock;
  private readonly correlator: EventCorrelator;
  private readonly writeAttempts: number;
  private readonly retryDelayMs: number;
  private readonly stopWaitMs: number;
  private readonly metrics: RecorderMetrics | undefined;
  private readonly logger: { warn(msg: string): void };
  private queue: Event[] = [];
  /** Writes started and not finished (each Event's, retries included). */
  private inFlight = 0;
  /** The last write started for each correlation key still in flight: the next one for that key waits for it. */
  private readonly lastWriteByKey = new Map<string, Promise<void>>();
  /** Resolved when the queue is empty and no write is in flight. */
  private idle: { promise: Promise<void>; resolve: () => void } | undefined;
  private stopped = false;
  /** stop() gave up waiting: writes not yet sent are dropped, and none is tried again. */
  private abandoned = false;
  private seq = 0;

  constructor(o: ApiEventRecorderOptions) {
    if (!o.component) throw new TypeError('Cannot create an event recorder: component is required (it fills source.component)');
    this.client = o.client;
    this.batchClient = typeof o.client.createBatch === 'function' ? (o.client as BatchCreateClient) : undefined;
    this.component = o.component;
    this.instance = o.instance ?? '';
    this.clock = o.clock ?? realClock;
    this.queueEvents = o.queueEvents ?? 1000;
    this.maxInFlightWrites = o.maxInFlightWrites ?? 1000;
    this.writeAttempts = o.writeAttempts ?? 3;
    this.retryDelayMs = o.retryDelayMs ?? 1000;
    this.stopWaitMs = o.stopWaitMs ?? 5000;
    if (!Number.isInteger(this.queueEvents) || this.queueEvents < 1) throw new RangeError(`Cannot create an event recorder: queueEvents must be an integer >= 1, got ${o.queueEvents}`);
    if (!Number.isInteger(this.maxInFlightWrites) || this.maxInFlightWrites < 1) throw new RangeError(`Cannot create an event recorder: maxInFlightWrites must be an integer >= 1, got ${o.maxInFlightWrites}`);
    if (!Number.isInteger(this.writeAttempts) || this.writeAttempts < 1) throw new RangeError(`Cannot create an event recorder: writeAttempts must be an integer >= 1, got ${o.writeAttempts}`);
    if (!(this.retryDelayMs >= 0)) throw new RangeError(`Cannot create an event recorder: retryDelayMs must be >= 0, got ${o.retryDelayMs}`);
    if (!(this.stopWaitMs >= 0)) throw new RangeError(`Cannot create an event recorder: stopWaitMs must be >= 0, got ${o.stopWaitMs}`);
    this.correlator = new EventCorrelator(o.correlator);
    this.metrics = o.registry ? metricsFor(o.registry) : undefined;
    this.logger = o.logger ?? { warn: (msg) => process.stderr.write(`${msg}\n`) };
  }

  /** Events waiting to be written. */
  get pending(): number {
    return this.queue.length;
  }

  event(regarding: KubeObject, type: EventType, reason: string, message: string): void {
    if (this.stopped || this.queue.length >= this.queueEvents) {
      this.dropped++;
      this.countDropped(1);
      return;
    }
    let ev: Event;
    try {
      ev = this.makeEvent(regarding, type, reason, message);
    } catch (err) {
      this.logger.warn(`Event recorder ${this.component}: cannot record ${type} ${reason} about a ${regarding?.kind || 'object'}: ${errorText(err)}`);
      return;
    }
    this.queue.push(ev);
    if (this.batchClient) this.pumpSoon();
    else this.pump();
  }

  /**
   * Pumps after this turn's I/O callbacks (as the scheduler's BatchingBinder sends its binds): the
   * Events recorded until then leave together.
   */
  private pumpSoon(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /** Writes in flight. */
  get writing(): number {
    return this.inFlight;
  }

  /** Resolves once every queued Event has been written (or given up on). */
  flush(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    if (!this.idle) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.idle = { promise, resolve };
    }
    return this.idle.promise;
  }

  /** Stops taking Events; resolves once those queued are written, or after stopWaitMs with the rest dropped. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.queue.length === 0 && this.inFlight === 0) return;
    let timer: TimerHandle | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = this.clock.setTimeout(() => resolve(true), this.stopWaitMs)));
    const late = await Promise.race([this.flush().then(() => false), timedOut]);
    this.clock.clearTimeout(timer!);
    if (!late) return;
    // Writes already sent finish (or fail) on their own; those still waiting for one are dropped when their turn comes.
    this.abandoned = true;
    const n = this.queue.length;
    this.queue = [];
    this.drop(n);
    this.logger.warn(`Event recorder ${this.component}: stopped with ${n} events unwritten after ${this.stopWaitMs} ms; dropped them${this.inFlight ? ` (${this.inFlight} writes in flight are left to finish or fail; those not yet sent are dropped)` : ''}`);
  }

  private countDropped(n: number): void {
    const m = this.metrics;
    if (m) m.dropped.inc(m.dropped.child(this.component), n);
  }

  private countWrite(result: 'created' | 'patched' | 'skipped' | 'failed'): void {
    const m = this.metrics;
    if (m) m.written.inc(m.written.child(this.component, result));
  }

  private drop(n: number): void {
    this.dropped += n;
    this.countDropped(n);
  }

  private makeEvent(regarding: KubeObject, type: EventType, reason: string, message: string): Event {
    const meta = regarding.metadata;
    if (!meta?.name) throw new TypeError('the object has no metadata.name');
    const kind = regarding.kind || '';
    const now = formatTime(this.clock.nowMs());
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: this.newName(meta.name), namespace: eventNamespace(regarding), labels: {}, annotations: {}, ownerReferences: [], finalizers: [] },
      involvedObject: {
        kind,
        namespace: meta.namespace ?? '',
        name: meta.name,
        uid: meta.uid ?? '',
        apiVersion: regarding.apiVersion || (kindByName(kind)?.apiVersion ?? ''),
        resourceVersion: meta.resourceVersion ?? '',
      },
      reason,
      message,
      type,
      source: { component: this.component, host: this.instance },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: this.component,
      reportingInstance: this.instance,
    } as Event;
  }

  /** "<object>.<hex nanoseconds>" as client-go names Events; a sequence keeps names in one ms apart. */
  private newName(objectName: string): string {
    const nanos = BigInt(Math.floor(this.clock.nowMs())) * 1_000_000n + BigInt(this.seq++ % 1_000_000);
    return `${objectName}.${nanos.toString(16)}`;
  }

  /** Starts the writes of queued Events, in order, while fewer than maxInFlightWrites run. */
  private pump(): void {
    let batch: BatchItem[] | undefined;
    while (this.queue.length > 0 && this.inFlight < this.maxInFlightWrites) {
      // Correlated here, in the order the Events came: a repeat patches the Event written first.
      const r = this.correlate(this.queue.shift()!);
      if (r === undefined) continue;
      this.inFlight++;
      const before = this.lastWriteByKey.get(r.key);
      let started: Promise<void>;
      if (this.batchClient && !before && !r.patch && !this.abandoned) {
        const items = (batch ??= []);
        started = new Promise<void>((resolve, reject) => items.push({ r, resolve, reject }));
      } else {
        const start = (): Promise<void> => new Promise<void>((resolve, reject) => this.writeAlone({ r, resolve, reject }));
        started = before ? before.then(start) : start();
      }
      const write: Promise<void> = started
        .catch((err) => {
          const io = r.event.involvedObject;
          this.fail(`could not write event ${r.event.reason} about ${io?.kind} ${io?.namespace ? `${io.namespace}/` : ''}${io?.name}: ${errorText(err)}`);
        })
        .finally(() => {
          this.inFlight--;
          if (this.lastWriteByKey.get(r.key) === write) this.lastWriteByKey.delete(r.key);
          // Batching: the slots a batch's answer frees are refilled together, not one Event each.
          if (this.batchClient && this.queue.length > 0) this.pumpSoon();
          else this.pump();
        });
      this.lastWriteByKey.set(r.key, write);
    }
    if (batch) this.writeBatch(batch);
    if (this.queue.length === 0 && this.inFlight === 0 && this.idle) {
      const { resolve } = this.idle;
      this.idle = undefined;
      resolve();
    }
  }

  /**
   * Creates new Events in calls of at most MAX_BATCH_EVENTS and about MAX_BATCH_BYTES; an Event the
   * batch could not write for a passing reason, or whose whole batch was refused, is written on its own.
   */
  private writeBatch(items: BatchItem[]): void {
    for (const chunk of txnChunks(items, MAX_BATCH_EVENTS, (it) => eventBytes(it.r.event), MAX_BATCH_BYTES)) this.sendBatch(chunk);
  }

  private sendBatch(items: BatchItem[]): void {
    const client = this.batchClient;
    if (items.length === 1 || !client) return items.forEach((it) => this.writeAlone(it));
    const events = items.map((it) => unwritten(it.r.event));
    this.batches.calls++;
    this.batches.events += events.length;
    let tries = 0;
    const answered = (errors: Array<Error | undefined>): void => {
      if (errors.length !== items.length) throw new Error(`CreateBatch answered ${errors.length} results for ${items.length} Events`);
      items.forEach((it, i) => {
        const err = errors[i];
        // Created by an earlier try whose answer was lost: the name is this recorder's own.
        if (err === undefined || (tries > 1 && isApiError(err, 'AlreadyExists'))) {
          this.created(it.r, events[i]);
          it.resolve();
        } else if (isTransient(err)) this.writeAlone(it);
        else it.reject(err);
      });
    };
    this.withRetries(() => {
      tries++;
      return client.createBatch(events);
    }).then(
      (errors) => {
        try {
          answered(errors);
        } catch (err) {
          // Those already settled stay so.
          for (const it of items) it.reject(err);
        }
      },
      (err: unknown) => {
        // A master from before CreateBatch: one create each from now on.
        if (isUnimplemented(err)) this.batchClient = undefined;
        // Refused as a whole (too large, say) or unanswered: each Event gets its own write.
        for (const it of items) this.writeAlone(it);
      },
    );
  }

  /** One Event's own write, unless stop() gave up on the writes not yet sent. */
  private writeAlone(it: BatchItem): void {
    if (this.abandoned) {
      this.drop(1);
      return it.resolve();
    }
    this.write(it.r).then(it.resolve, it.reject);
  }

  /** What to write for `ev`, or undefined when nothing is (the spam filter held it back, or correlating failed: counted). */
  private correlate(ev: Event): Extract<CorrelateResult, { skip: false }> | undefined {
    let r: CorrelateResult;
    try {
      r = this.correlator.correlate(ev, this.clock.nowMs(), () => this.newName(ev.involvedObject?.name ?? 'event'));
    } catch (err) {
      this.fail(`cannot correlate event ${ev.reason}: ${errorText(err)}`);
      return undefined;
    }
    if (!r.skip) return r;
    this.skipped++;
    this.countWrite('skipped');
    return undefined;
  }

  private fail(what: string): void {
    this.failed++;
    this.countWrite('failed');
    this.logger.warn(`Event recorder ${this.component}: ${what}`);
  }

  private async write(r: Extract<CorrelateResult, { skip: false }>): Promise<void> {
    const e = r.event;
    const ns = e.metadata?.namespace ?? 'default';
    if (r.patch) {
      try {
        const written = await this.withRetries(() => this.client.patch<Event>('events', ns, e.metadata!.name!, 'merge', r.patch));
        this.correlator.written(r.key, written, e.metadata?.name);
        this.countWrite('patched');
        return;
      } catch (err) {
        // Someone deleted the Event (or it was never written): write it afresh with its count.
        if (!isApiError(err, 'NotFound')) throw err;
      }
    }
    const written = await this.withRetries(() => this.client.create<Event>(unwritten(e), { namespace: ns }));
    this.created(r, written);
  }

  private created(r: Extract<CorrelateResult, { skip: false }>, written: Event): void {
    this.correlator.written(r.key, written, r.event.metadata?.name);
    this.countWrite('created');
  }

  /** Retries while the API is unreachable; a refusal (Invalid, NotFound, ...) is final. */
  private async withRetries<T>(f: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await f();
      } catch (err) {
        if (!isTransient(err) || attempt >= this.writeAttempts || this.abandoned) throw err;
        await new Promise<void>((r) => this.clock.setTimeout(r, this.retryDelayMs));
      }
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
