// navarch.apiserver.v1.Metrics on the masters' port: metrics.k8s.io's NodeMetrics and PodMetrics,
// built from the agents' summaries (fanout.ts) at each call.

import type { Server } from '@grpc/grpc-js';
import { MetricsService, type MetricsServer, type NodeMetricsList, type PodMetricsList } from '../../../gen/navarch/apiserver/v1/metrics.js';
import { realClock } from '../../../raft/node/ports.js';
import type { ApiServer } from '../api_server.js';
import { toGrpcError } from '../grpc_adapter.js';
import { gatherSummaries, type FanOutOptions } from './fanout.js';

const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function nodeMetrics(api: ApiServer, o: FanOutOptions): Promise<NodeMetricsList> {
  const { answers, unreachable } = await gatherSummaries(api, o);
  return {
    items: answers.map(({ node, summary: s }) => ({
      name: node,
      timestamp: rfc3339(s.timestampMs),
      windowMs: s.windowMs,
      cpuNanocores: s.nodeCpuNanocores,
      memoryBytes: s.nodeMemoryWorkingSetBytes,
      memoryTotalBytes: s.nodeMemoryTotalBytes,
    })),
    unreachable,
  };
}

/** namespace "": every namespace. */
export async function podMetrics(api: ApiServer, namespace: string, o: FanOutOptions): Promise<PodMetricsList> {
  const { answers, unreachable } = await gatherSummaries(api, o);
  const items = answers.flatMap(({ node, summary: s }) =>
    s.pods
      .filter((p) => namespace === '' || p.namespace === namespace)
      .map((p) => ({
        namespace: p.namespace,
        name: p.name,
        nodeName: node,
        timestamp: rfc3339(s.timestampMs),
        windowMs: s.windowMs,
        containers: p.containers.map((c) => ({ name: c.name, cpuNanocores: c.cpuNanocores, memoryBytes: c.memoryWorkingSetBytes })),
      })),
  );
  items.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  return { items, unreachable };
}

export function metricsServer(api: ApiServer, o: FanOutOptions): MetricsServer {
  return {
    nodeMetrics: (_call, callback) => {
      nodeMetrics(api, o).then((r) => callback(null, r), (err) => callback(toGrpcError(err)));
    },
    podMetrics: (call, callback) => {
      podMetrics(api, call.request.namespace ?? '', o).then((r) => callback(null, r), (err) => callback(toGrpcError(err)));
    },
  };
}

export function addMetrics(server: Server, api: ApiServer, o: FanOutOptions = { clock: realClock }): void {
  server.addService(MetricsService, metricsServer(api, o));
}
