// The client side of `navctl top`: navarch.apiserver.v1.Metrics on the first master that answers.
// A master that cannot be reached is skipped; an error from one that answered is final.

import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { MetricsClient, type NodeMetricsList, type PodMetricsList } from '../../gen/navarch/apiserver/v1/metrics.js';
import { ApiError } from '../apiserver/api_error.js';
import { checkEndpoints } from './endpoints.js';
import { classify } from './errors.js';

export class MetricsApi {
  private readonly endpoints: string[];
  private readonly clients = new Map<string, MetricsClient>();

  constructor(
    endpoints: readonly string[],
    /** Per master tried; the masters give each agent 5 s. */
    private readonly timeoutMs = 15_000,
  ) {
    this.endpoints = checkEndpoints(endpoints);
  }

  nodeMetrics(): Promise<NodeMetricsList> {
    return this.call((c, d, cb) => c.nodeMetrics({}, new Metadata(), { deadline: d }, cb));
  }

  /** namespace "": every namespace. */
  podMetrics(namespace: string): Promise<PodMetricsList> {
    return this.call((c, d, cb) => c.podMetrics({ namespace }, new Metadata(), { deadline: d }, cb));
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private async call<T>(f: (c: MetricsClient, deadline: Date, cb: (err: ServiceError | null, r?: T) => void) => void): Promise<T> {
    const failures: string[] = [];
    for (const endpoint of this.endpoints) {
      let client = this.clients.get(endpoint);
      if (!client) this.clients.set(endpoint, (client = new MetricsClient(endpoint, credentials.createInsecure())));
      const c = client;
      try {
        return await new Promise<T>((resolve, reject) => f(c, new Date(Date.now() + this.timeoutMs), (err, r) => (err || r === undefined ? reject(err ?? new Error('empty answer')) : resolve(r))));
      } catch (err) {
        const failure = classify(err, endpoint);
        if (failure.fromServer) throw failure.error;
        failures.push(`${endpoint}: ${failure.error.message}`);
      }
    }
    throw new ApiError('Unavailable', `Cannot reach master ${failures.join('; ')}`, { retryAfterSeconds: 1 });
  }
}

