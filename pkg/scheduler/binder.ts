// How the scheduler writes its decision: Kubernetes' POST pods/{name}/binding, one per pod. The API
// answers Conflict when the pod is already bound (by another scheduler, or by this one before a
// failover) or is not the pod with that uid any more; the scheduler then forgets it.
// NavarchClient (fenced through withFencing in a master) is a Binder as it is. Through clientBinder
// the binds the scheduling loop makes in one turn travel in one BindBatch call, each still
// answered on its own: one rpc (and one forward to the Raft leader) per batch instead of per pod.

import { isUnimplemented } from '../client/errors.js';

export interface BindOptions {
  /** The pod must still be this one (a pod recreated under the same name is another pod). */
  uid?: string;
}

export interface Binder {
  bind(namespace: string, name: string, nodeName: string, o: BindOptions): Promise<void>;
}

export interface BatchBinding {
  namespace: string;
  name: string;
  nodeName: string;
  uid?: string;
}

/** A client that can send many bindings in one call (NavarchClient.bindBatch). */
export interface BatchBindClient extends Binder {
  /** Each binding's outcome in order: undefined when bound, else its error. */
  bindBatch(bindings: readonly BatchBinding[]): Promise<Array<Error | undefined>>;
}

interface Queued {
  binding: BatchBinding;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Collects the binds made in one turn of the event loop (the pods placed after the watch events
 * that arrived together) and sends them as one BindBatch, at most maxBatch each.
 * A master that does not know BindBatch gets single binds from then on.
 */
export class BatchingBinder implements Binder {
  private queued: Queued[] = [];
  private flushQueued = false;
  private batching = true;
  /** Calls made and bindings sent, for tests and logs. */
  readonly stats = { calls: 0, bindings: 0 };

  constructor(
    private readonly client: BatchBindClient,
    readonly maxBatch = 256,
  ) {
    if (!(Number.isInteger(maxBatch) && maxBatch > 0)) throw new RangeError(`Cannot create the binder: maxBatch must be an integer > 0, got ${maxBatch}`);
  }

  bind(namespace: string, name: string, nodeName: string, o: BindOptions): Promise<void> {
    if (!this.batching) return this.client.bind(namespace, name, nodeName, o);
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ binding: { namespace, name, nodeName, uid: o.uid }, resolve, reject });
      if (this.queued.length >= this.maxBatch) this.flush();
      else if (!this.flushQueued) {
        this.flushQueued = true;
        // After this turn's I/O callbacks (watch events arriving together place pods together):
        // every bind made until then joins this batch.
        setImmediate(() => {
          this.flushQueued = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    if (this.queued.length === 0) return;
    const batch = this.queued;
    this.queued = [];
    this.stats.calls++;
    this.stats.bindings += batch.length;
    this.client.bindBatch(batch.map((q) => q.binding)).then(
      (results) => batch.forEach((q, i) => (results[i] === undefined ? q.resolve() : q.reject(results[i]))),
      (err: unknown) => {
        if (!isUnimplemented(err)) return batch.forEach((q) => q.reject(err));
        this.batching = false;
        for (const q of batch) this.client.bind(q.binding.namespace, q.binding.name, q.binding.nodeName, { uid: q.binding.uid }).then(q.resolve, q.reject);
      },
    );
  }
}

/**
 * The scheduler's Binder over a client: batching (BatchingBinder) when the client has bindBatch,
 * else a plain `client.bind` (keeping `this`, so the method can be passed around).
 */
export function clientBinder(client: Binder & Partial<Pick<BatchBindClient, 'bindBatch'>>): Binder {
  if (typeof client.bindBatch === "function") return new BatchingBinder(client as BatchBindClient);
  return { bind: (namespace, name, nodeName, o) => client.bind(namespace, name, nodeName, o) };
}
