// Gathers every node's stats summary from its agent, metrics-server style: on demand, at most
// `concurrency` agents asked at once, each given timeoutMs. A node that cannot be asked (no address)
// or does not answer in time is reported by name, never failing the whole request.

import { Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import { NodeStatsClient, type NodeSummary } from '../../../gen/navarch/agent/v1/stats.js';
import type { Clock } from '../../../raft/node/ports.js';
import type { Node } from '../../api/registry.js';
import type { ApiServer } from '../api_server.js';
import { agentAddress } from '../pod_streams/target.js';

export interface NodeAnswer {
  node: string;
  summary: NodeSummary;
}

export interface Unreachable {
  name: string;
  message: string;
}

export interface FanOutOptions {
  clock: Clock;
  /** Per agent. @default 5000 */
  timeoutMs?: number;
  /** Agents asked at once. @default 16 */
  concurrency?: number;
  /** How one agent is asked; tests may replace it. @default summaryOverGrpc */
  ask?: (address: string, deadlineMs: number) => Promise<NodeSummary>;
}

/** One Summary call on a channel of its own, closed afterwards (nothing kept per node). */
export function summaryOverGrpc(address: string, deadlineMs: number): Promise<NodeSummary> {
  const client = new NodeStatsClient(address, credentials.createInsecure());
  return new Promise<NodeSummary>((resolve, reject) => {
    client.summary({}, new Metadata(), { deadline: new Date(deadlineMs) }, (err: ServiceError | null, s?: NodeSummary) => (err || !s ? reject(err ?? new Error('empty answer')) : resolve(s)));
  }).finally(() => client.close());
}

export async function gatherSummaries(api: Pick<ApiServer, 'list'>, o: FanOutOptions): Promise<{ answers: NodeAnswer[]; unreachable: Unreachable[] }> {
  const timeoutMs = o.timeoutMs ?? 5000;
  const concurrency = Math.max(1, o.concurrency ?? 16);
  const ask = o.ask ?? summaryOverGrpc;
  const nodes: Node[] = [];
  let page: string | undefined;
  do {
    const r = await api.list({ resource: 'nodes', continue: page });
    nodes.push(...(r.items as Node[]));
    page = r.continue;
  } while (page);
  const answers: NodeAnswer[] = [];
  const unreachable: Unreachable[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < nodes.length) {
      const node = nodes[next++];
      const name = node.metadata?.name ?? '';
      try {
        const address = agentAddress(node);
        answers.push({ node: name, summary: await ask(address, o.clock.nowMs() + timeoutMs) });
      } catch (err) {
        const e = err as Partial<ServiceError>;
        unreachable.push({ name, message: typeof e.details === 'string' ? e.details : err instanceof Error ? err.message : String(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, nodes.length) }, worker));
  const byName = (a: { node?: string; name?: string }, b: { node?: string; name?: string }): number => (a.node ?? a.name ?? '').localeCompare(b.node ?? b.name ?? '');
  return { answers: answers.sort(byName), unreachable: unreachable.sort(byName) };
}
