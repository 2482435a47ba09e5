import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeSummary } from '../../../gen/navarch/agent/v1/stats.js';
import type { KubeObject } from '../../api/registry.js';
import { FakeClock } from '../../client/testing/fake_clock.js';
import type { ListRequest, ListResult } from '../list.js';
import { gatherSummaries } from './fanout.js';

const nodes = (n: number): KubeObject[] =>
  Array.from({ length: n }, (_, i) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${String(i).padStart(2, '0')}` }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 20000 + i } } } }) as unknown as KubeObject);

const apiWith = (items: KubeObject[]) => ({
  list: async (r: ListRequest): Promise<ListResult> => {
    assert.equal(r.resource, 'nodes');
    return { items, resourceVersion: '1' } as unknown as ListResult;
  },
});

const summary = (port: number): NodeSummary => ({ timestampMs: 0, windowMs: 10_000, nodeCpuNanocores: port, nodeMemoryWorkingSetBytes: 0, nodeMemoryTotalBytes: 0, pods: [] });

describe('gatherSummaries', () => {
  it('asks at most `concurrency` agents at once and each with its own deadline; failures are named, not fatal', async () => {
    const clock = new FakeClock(5_000);
    let inFlight = 0;
    let maxInFlight = 0;
    const deadlines = new Set<number>();
    const r = await gatherSummaries(apiWith(nodes(30)), {
      clock,
      concurrency: 4,
      timeoutMs: 700,
      ask: async (address, deadlineMs) => {
        deadlines.add(deadlineMs);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        const port = Number(address.split(':')[1]);
        if (port % 10 === 3) throw new Error(`connect ECONNREFUSED ${address}`);
        return summary(port);
      },
    });
    assert.equal(maxInFlight, 4);
    assert.deepEqual([...deadlines], [5_700]);
    assert.equal(r.answers.length, 27);
    assert.deepEqual(r.answers.slice(0, 2).map((a) => a.node), ['node-00', 'node-01']);
    assert.deepEqual(r.unreachable, ['03', '13', '23'].map((i) => ({ name: `node-${i}`, message: `connect ECONNREFUSED 127.0.0.1:200${i}` })));
  });

  it('returns nothing, and asks nobody, when there are no nodes', async () => {
    const r = await gatherSummaries(apiWith([]), { clock: new FakeClock(0), ask: () => assert.fail('no node to ask') });
    assert.deepEqual(r, { answers: [], unreachable: [] });
  });
});
