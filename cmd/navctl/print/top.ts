// `navctl top` tables as kubectl prints them: CPU in whole millicores rounded up ("250m"), memory
// in whole MiB rounded down ("1024Mi"), percentages of the node's allocatable rounded down ("12%"),
// "<unknown>" for a node whose agent did not answer.

import type { NodeMetrics, PodMetrics } from '../../../gen/navarch/apiserver/v1/metrics.js';
import { Table } from './table.js';

const MIB = 1024 * 1024;

export const formatCpu = (nanocores: number): string => `${Math.ceil(nanocores / 1e6)}m`;
export const formatMemory = (bytes: number): string => `${Math.floor(bytes / MIB)}Mi`;
/** usage / allocatable, both in the same unit; "<unknown>" when the node reports no allocatable. */
export const formatPercent = (usage: number, allocatable: number | undefined): string => (allocatable && allocatable > 0 ? `${Math.floor((usage / allocatable) * 100)}%` : '<unknown>');

export interface NodeRow {
  name: string;
  /** From the Node's status.allocatable. */
  allocatableMilliCpu?: number;
  allocatableMemoryBytes?: number;
  /** Absent: the node's agent did not answer. */
  metrics?: NodeMetrics;
}

export function nodesTable(rows: readonly NodeRow[]): string {
  const table = new Table(['NAME', 'CPU(cores)', 'CPU%', 'MEMORY(bytes)', 'MEMORY%']);
  return table.render(
    rows.map((r) => {
      const m = r.metrics;
      if (!m) return [r.name, '<unknown>', '<unknown>', '<unknown>', '<unknown>'];
      // kubectl compares millicores with millicores: the rounded-up usage over allocatable.
      return [r.name, formatCpu(m.cpuNanocores), formatPercent(Math.ceil(m.cpuNanocores / 1e6), r.allocatableMilliCpu), formatMemory(m.memoryBytes), formatPercent(m.memoryBytes, r.allocatableMemoryBytes)];
    }),
  );
}

export function podsTable(pods: readonly PodMetrics[], o: { withNamespace: boolean; containers: boolean }): string {
  const headers = [...(o.withNamespace ? ['NAMESPACE'] : []), ...(o.containers ? ['POD'] : []), 'NAME', 'CPU(cores)', 'MEMORY(bytes)'];
  const rows: string[][] = [];
  for (const p of pods) {
    const ns = o.withNamespace ? [p.namespace] : [];
    if (o.containers) {
      for (const c of p.containers) rows.push([...ns, p.name, c.name, formatCpu(c.cpuNanocores), formatMemory(c.memoryBytes)]);
    } else {
      // kubectl sums the containers' exact usage, then rounds once.
      const cpu = p.containers.reduce((s, c) => s + c.cpuNanocores, 0);
      const mem = p.containers.reduce((s, c) => s + c.memoryBytes, 0);
      rows.push([...ns, p.name, formatCpu(cpu), formatMemory(mem)]);
    }
  }
  return new Table(headers).render(rows);
}
