import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node } from '../../gen/navarch/api/v1/core.js';
import { testServer } from '../apiserver/test_util.js';
import { FakeClock } from '../client/testing/fake_clock.js';
import { RecordingClient } from '../controllers/testing/recording_client.js';
import { registerNode, type NodeRegistrationSpec } from './node_registration.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

const spec: NodeRegistrationSpec = {
  nodeName: 'n1',
  capacity: { cpu: '4', memory: '16Gi', pods: '110', ephemeralStorage: '100Gi' },
  internalIP: '198.18.0.1',
  arch: 'amd64',
  podCIDR: '198.18.32.0/24',
  labels: { 'topology.kubernetes.io/zone': 'z1' },
};

describe('registerNode', () => {
  it('creates a Node with capacity, addresses, the well-known labels, healthy conditions and nodeInfo', async () => {
    const t = await testServer();
    const client = new RecordingClient(t.server);
    await registerNode(client, spec, new FakeClock(T0));
    assert.deepEqual(client.takeSummary(), ['create nodes n1']);
    const n = (await t.server.get({ resource: 'nodes', name: 'n1' })) as Node;
    assert.deepEqual(n.status?.capacity, { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' });
    assert.deepEqual(n.status?.allocatable, n.status?.capacity);
    assert.deepEqual(n.status?.addresses, [{ type: 'InternalIP', address: '198.18.0.1' }, { type: 'Hostname', address: 'n1' }]);
    assert.equal(n.metadata?.labels['kubernetes.io/hostname'], 'n1');
    assert.equal(n.metadata?.labels['kubernetes.io/os'], 'linux');
    assert.equal(n.metadata?.labels['kubernetes.io/arch'], 'amd64');
    assert.equal(n.metadata?.labels['topology.kubernetes.io/zone'], 'z1');
    assert.deepEqual(
      n.status?.conditions.map((c) => `${c.type}=${c.status} ${c.lastHeartbeatTime}`),
      ['MemoryPressure=False 2026-01-02T03:04:05Z', 'DiskPressure=False 2026-01-02T03:04:05Z', 'PIDPressure=False 2026-01-02T03:04:05Z', 'Ready=True 2026-01-02T03:04:05Z'],
    );
    assert.equal(n.status?.nodeInfo?.operatingSystem, 'linux');
    assert.equal(n.status?.nodeInfo?.architecture, 'amd64');
    assert.equal(n.spec?.podCIDR, '198.18.32.0/24');
  });

  it('adopts an existing Node: keeps labels set by others, adds its own, refreshes the heartbeat, keeps transition times', async () => {
    const t = await testServer();
    const client = new RecordingClient(t.server);
    const clock = new FakeClock(T0);
    await registerNode(client, spec, clock);
    const n = (await t.server.get({ resource: 'nodes', name: 'n1' })) as Node;
    await t.server.update({ object: { ...n, metadata: { ...n.metadata!, labels: { ...n.metadata!.labels, team: 'infra' } } } });
    client.takeActions();
    await clock.advance(60_000);
    await registerNode(client, { ...spec, labels: { disk: 'ssd' } }, clock);
    assert.deepEqual(client.takeSummary(), ['create nodes n1', 'update nodes n1', 'update nodes n1 status']);
    const after = (await t.server.get({ resource: 'nodes', name: 'n1' })) as Node;
    assert.equal(after.metadata?.labels.team, 'infra');
    assert.equal(after.metadata?.labels.disk, 'ssd');
    const ready = after.status?.conditions.find((c) => c.type === 'Ready');
    assert.equal(ready?.lastHeartbeatTime, '2026-01-02T03:05:05Z');
    assert.equal(ready?.lastTransitionTime, '2026-01-02T03:04:05Z');
  });
});
