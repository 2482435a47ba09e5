import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HollowNodes } from './hollow_nodes.js';
import { HollowMetrics } from './metrics.js';

test("the hollow process's /metrics tells what its nodes do, and nothing else is served", async () => {
  const stats = { nodes: 3, registered: 2, registerFailures: 1, podsRunning: 7, podsWaitingForIp: 0, leaseRenewals: 12, leaseFailures: 0 };
  const status = { pendingCount: 4, stats: { written: 9, unchanged: 1, conflicts: 0, dropped: 0, failed: 2, deleted: 3 } };
  const metrics = new HollowMetrics({ stats: () => stats, status } as unknown as HollowNodes);
  const port = await metrics.listen(0);
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(text, /^hollow_nodes_registered 2$/m);
    assert.match(text, /^hollow_pods_running 7$/m);
    assert.match(text, /^hollow_pod_status_writes_total\{result="failed"\} 2$/m);
    assert.match(text, /^process_cpu_seconds_total /m);
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
  } finally {
    await metrics.close();
  }
});
