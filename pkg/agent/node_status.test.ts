import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node } from '../../gen/navarch/api/v1/core.js';
import { testServer } from '../apiserver/test_util.js';
import { FakeClock } from '../client/testing/fake_clock.js';
import { RecordingClient } from '../controllers/testing/recording_client.js';
import { registerNode, type NodeRegistrationSpec } from './node_registration.js';
import { NodeStatusReporter } from './node_status.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);
const spec: NodeRegistrationSpec = { nodeName: 'n1', capacity: { cpu: '4', memory: '16Gi', pods: '110', ephemeralStorage: '100Gi' }, internalIP: '198.18.0.1' };

describe('NodeStatusReporter', () => {
  it('refreshes the heartbeat every interval and puts Ready back when someone else changed it', async () => {
    const t = await testServer();
    const client = new RecordingClient(t.server);
    const clock = new FakeClock(T0);
    await registerNode(client, spec, clock);
    client.takeActions();
    const reporter = new NodeStatusReporter({ client, clock, spec, reportIntervalMs: 60_000 });
    reporter.start();
    await clock.advance(59_999);
    assert.deepEqual(client.takeSummary(), []);
    await clock.advance(1);
    assert.deepEqual(client.takeSummary(), ['update nodes n1 status']);
    const ready = async () => ((await t.server.get({ resource: 'nodes', name: 'n1' })) as Node).status!.conditions.find((c) => c.type === 'Ready')!;
    assert.equal((await ready()).lastHeartbeatTime, '2026-01-02T03:05:05Z');
    // As the node lifecycle controller does when the lease stops.
    const n = (await t.server.get({ resource: 'nodes', name: 'n1' })) as Node;
    const conditions = n.status!.conditions.map((c) => (c.type === 'Ready' ? { ...c, status: 'Unknown', reason: 'NodeStatusUnknown' } : c));
    await t.server.updateStatus({ object: { ...n, status: { ...n.status!, conditions } } });
    await clock.advance(60_000);
    const r = await ready();
    assert.equal(r.status, 'True');
    assert.equal(r.reason, 'KubeletReady');
    assert.equal(r.lastTransitionTime, '2026-01-02T03:06:05Z');
    assert.equal(reporter.reports, 2);
    reporter.stop();
  });
});
