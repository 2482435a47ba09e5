import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCpu, formatMemory, formatPercent, nodesTable, podsTable } from './top.js';

describe('top formatting', () => {
  it('prints CPU as millicores rounded up and memory as MiB rounded down, as kubectl does', () => {
    assert.equal(formatCpu(250_000_000), '250m');
    assert.equal(formatCpu(1), '1m');
    assert.equal(formatCpu(0), '0m');
    assert.equal(formatMemory(1024 * 1024 * 1024), '1024Mi');
    assert.equal(formatMemory(1024 * 1024 - 1), '0Mi');
    assert.equal(formatPercent(250, 2000), '12%');
    assert.equal(formatPercent(1, 0), '<unknown>');
  });

  it('prints a node row per node, <unknown> for one without metrics', () => {
    const text = nodesTable([
      { name: 'node-1', allocatableMilliCpu: 2000, allocatableMemoryBytes: 8 * 1024 ** 3, metrics: { name: 'node-1', timestamp: '', windowMs: 10_000, cpuNanocores: 250_000_000, memoryBytes: 1024 ** 3, memoryTotalBytes: 0 } },
      { name: 'node-2' },
    ]);
    assert.equal(
      text,
      'NAME     CPU(cores)   CPU%        MEMORY(bytes)   MEMORY%\n' + 'node-1   250m         12%         1024Mi          12%\n' + 'node-2   <unknown>    <unknown>   <unknown>       <unknown>\n',
    );
  });

  it('sums a pod\'s containers, or prints one row per container with --containers; -A adds NAMESPACE', () => {
    const pods = [
      { namespace: 'default', name: 'web', nodeName: 'n', timestamp: '', windowMs: 1, containers: [{ name: 'httpd', cpuNanocores: 1_500_000, memoryBytes: 3 * 1024 * 1024 }, { name: 'side', cpuNanocores: 1_000_000, memoryBytes: 1024 * 1024 }] },
    ];
    assert.equal(podsTable(pods, { withNamespace: false, containers: false }), 'NAME   CPU(cores)   MEMORY(bytes)\nweb    3m           4Mi\n');
    assert.equal(podsTable(pods, { withNamespace: true, containers: true }), 'NAMESPACE   POD   NAME    CPU(cores)   MEMORY(bytes)\ndefault     web   httpd   2m           3Mi\ndefault     web   side    1m           1Mi\n');
  });
});
