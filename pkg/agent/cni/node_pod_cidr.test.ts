import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { obj } from '../../apiserver/test_util.js';
import { peek, PENDING } from '../../client/testing/settle.js';
import { NodeIpamController } from '../../controllers/nodeipam/mod.js';
import { fixture } from '../../controllers/testing/fixture.js';
import { waitForPodCidr } from './node_pod_cidr.js';

describe('waitForPodCidr', () => {
  it('resolves with the range the node IPAM controller gives the registered Node', async () => {
    const f = await fixture();
    const ipam = new NodeIpamController({ client: f.client, factory: f.factory, recorder: f.events, clock: f.clock, logger: { warn: () => {} } });
    try {
      await f.server.create({ object: obj({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-1' } }) });
      const waiting = waitForPodCidr(f.client, 'worker-1', { clock: f.clock, pollMs: 500 });
      assert.equal(await peek(waiting), PENDING, 'no range yet');
      f.factory.start();
      ipam.start();
      await f.synced();
      await f.advance(500);
      assert.equal(await waiting, '198.18.0.0/24');
    } finally {
      await ipam.stop();
      f.close();
    }
  });

  it('gives up after its timeout naming the node and what gives ranges out', async () => {
    const f = await fixture();
    try {
      await f.server.create({ object: obj({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-2' } }) });
      const waiting = waitForPodCidr(f.client, 'worker-2', { clock: f.clock, pollMs: 1000, timeoutMs: 3000 });
      waiting.catch(() => {});
      await f.advance(3000);
      await assert.rejects(waiting, { message: 'Node worker-2 has no spec.podCIDR after 3000 ms: is the controller manager running (its node IPAM controller gives one out)?' });
    } finally {
      f.close();
    }
  });

  it('refuses a podCIDR that is not an IPv4 CIDR', async () => {
    const f = await fixture();
    try {
      await f.server.create({ object: obj({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-3' }, spec: { podCIDR: 'fd00::/64' } }) });
      await assert.rejects(waitForPodCidr(f.client, 'worker-3', { clock: f.clock }), /^TypeError: Node worker-3 spec.podCIDR: expected an IPv4 CIDR/);
    } finally {
      f.close();
    }
  });
});
