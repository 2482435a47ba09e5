// `navctl top nodes` and `navctl top pods [-A] [--containers]`: CPU and memory use as the agents
// measured it over their last sampling window, gathered by a master (navarch.apiserver.v1.Metrics).

import type { Command } from 'commander';
import type { Node } from '../../pkg/api/registry.js';
import { quantityToBytes, quantityToMilli } from '../../pkg/api/quantity.js';
import { MetricsApi } from '../../pkg/client/metrics.js';
import type { UnreachableNode } from '../../gen/navarch/apiserver/v1/metrics.js';
import { nodesTable, podsTable, type NodeRow } from './print/top.js';
import { err, out, withSession } from './session.js';

const quantity = (text: string | undefined, f: (t: string) => number): number | undefined => {
  if (text === undefined) return undefined;
  try {
    return f(text);
  } catch {
    return undefined;
  }
};

const warnUnreachable = (us: readonly UnreachableNode[]): void => {
  for (const u of us) err(`warning: no metrics from node "${u.name}": ${u.message}\n`);
};

export function registerTop(program: Command): void {
  const top = program.command('top').description('show CPU and memory use of nodes or pods');
  top
    .command('nodes')
    .alias('node')
    .description("each node's CPU and memory use, and their share of its allocatable")
    .action(() =>
      withSession(program, async (s) => {
        const api = new MetricsApi(s.config.endpoints);
        try {
          const [metrics, nodes] = await Promise.all([api.nodeMetrics(), s.client.listAll<Node>('nodes')]);
          const byName = new Map(metrics.items.map((m) => [m.name, m]));
          const rows: NodeRow[] = nodes.items
            .map((n) => ({
              name: n.metadata?.name ?? '',
              allocatableMilliCpu: quantity(n.status?.allocatable?.cpu, quantityToMilli),
              allocatableMemoryBytes: quantity(n.status?.allocatable?.memory, quantityToBytes),
              metrics: byName.get(n.metadata?.name ?? ''),
            }))
            .sort((a, b) => a.name.localeCompare(b.name));
          if (rows.length === 0) return out('No resources found\n');
          out(nodesTable(rows));
          warnUnreachable(metrics.unreachable);
        } finally {
          api.close();
        }
      }),
    );
  top
    .command('pods')
    .alias('pod')
    .description("each pod's CPU and memory use (the sum of its containers')")
    .option('-A, --all-namespaces', 'every namespace (adds a NAMESPACE column)')
    .option('--containers', 'one row per container')
    .action((flags: { allNamespaces?: boolean; containers?: boolean }) =>
      withSession(program, async (s) => {
        const api = new MetricsApi(s.config.endpoints);
        try {
          const metrics = await api.podMetrics(flags.allNamespaces ? '' : s.namespace);
          warnUnreachable(metrics.unreachable);
          if (metrics.items.length === 0) return out(flags.allNamespaces ? 'No resources found\n' : `No resources found in ${s.namespace} namespace.\n`);
          out(podsTable(metrics.items, { withNamespace: flags.allNamespaces ?? false, containers: flags.containers ?? false }));
        } finally {
          api.close();
        }
      }),
    );
}
