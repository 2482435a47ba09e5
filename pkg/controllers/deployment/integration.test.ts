// The Deployment controller running for real (start(), its own workers) next to the real
// ReplicaSet controller, over one in-process API server: only the kubelet's part (marking pods
// Ready) is played by the test. Checks the rollout limits at every observed moment.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../../api/registry.js';
import { obj, testServer, type TestServer } from '../../apiserver/test_util.js';
import { RecordingEventRecorder } from '../../client/events/recorder.js';
import { InformerFactory } from '../../client/informer/informer_factory.js';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { formatTimeMs, isPodReady } from '../controller_utils.js';
import { ReplicaSetController } from '../replicaset/index.js';
import { RecordingClient } from '../testing/recording_client.js';
import { DeploymentController } from './deployment_controller.js';
import { deploymentJson, rolloutStatus, serverListWatcher, START_MS } from './fixture_test_util.js';
import type { Deployment, ReplicaSet } from '../../api/registry.js';

describe('DeploymentController with the ReplicaSet controller', () => {
  let t: TestServer;
  let clock: FakeClock;
  let factory: InformerFactory;
  let deployments: DeploymentController;
  let replicaSets: ReplicaSetController;

  before(async () => {
    clock = new FakeClock(START_MS);
    let suffix = 0;
    // Pods get generated names: each needs its own suffix.
    t = await testServer({ nowMs: () => clock.nowMs(), randomSuffix: () => `p${++suffix}` });
    const quiet = { warn: () => {} };
    factory = new InformerFactory((resource) => serverListWatcher(t.server, resource), { logger: quiet, clock });
    const client = new RecordingClient(t.server);
    replicaSets = new ReplicaSetController({ client, informers: factory, events: new RecordingEventRecorder(), clock, logger: quiet });
    deployments = new DeploymentController({
      client,
      recorder: new RecordingEventRecorder(),
      clock,
      logger: quiet,
      deployments: factory.informer<Deployment>('deployments'),
      replicaSets: factory.informer<ReplicaSet>('replicasets'),
      pods: factory.informer<Pod>('pods'),
    });
    factory.start();
    replicaSets.start();
    deployments.start();
  });

  after(async () => {
    await deployments.stop();
    await replicaSets.stop();
    factory.stop();
    t.server.closeWatches();
  });

  async function pods(): Promise<Pod[]> {
    return (await t.server.list({ resource: 'pods', namespace: 'default' })).items as Pod[];
  }

  /** The kubelet's part: up to n pods become Running and Ready. */
  async function readyPods(n: number): Promise<void> {
    for (const p of (await pods()).filter((x) => !x.metadata?.deletionTimestamp && !isPodReady(x)).slice(0, n)) {
      p.status = { hostIPs: [], podIPs: [], initContainerStatuses: [], containerStatuses: [], ...p.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: formatTimeMs(clock.nowMs()) }] };
      // A pod the ReplicaSet controller just deleted is no longer there to become ready.
      await t.server.updateStatus({ object: p }).catch((e: { code?: string }) => {
        if (e.code !== 'NotFound') throw e;
      });
    }
  }

  /** Rounds of: time passes, one pod becomes ready, the limits hold; until kubectl rollout status would say done. */
  async function rollOut(name: string, replicas: number, surge: number, unavailable: number, checkAvailability: boolean): Promise<number> {
    let observations = 0;
    for (let round = 0; round < 400; round++) {
      await clock.advance(1000);
      const live = (await pods()).filter((p) => !p.metadata?.deletionTimestamp);
      const ready = live.filter(isPodReady).length;
      assert.ok(live.length <= replicas + surge, `round ${round}: ${live.length} pods, more than ${replicas}+${surge}`);
      if (checkAvailability) assert.ok(ready >= replicas - unavailable, `round ${round}: ${ready} ready pods, fewer than ${replicas}-${unavailable}`);
      observations++;
      const d = (await t.server.get({ resource: 'deployments', namespace: 'default', name })) as Deployment;
      if (rolloutStatus(d).done && live.length === replicas && ready === replicas) return observations;
      await readyPods(1);
    }
    const d = await t.server.get({ resource: 'deployments', namespace: 'default', name });
    const rss = (await t.server.list({ resource: 'replicasets', namespace: 'default' })).items as ReplicaSet[];
    throw new Error(`${name} did not roll out: ${JSON.stringify((d as Deployment).status)} RSs ${JSON.stringify(rss.map((r) => [r.metadata?.name, r.spec?.replicas, r.status]))} pods ${(await pods()).length}`);
  }

  it('rolls out a new Deployment, then a new image within maxSurge and maxUnavailable, on its own workers', async () => {
    await t.server.create({ object: obj(deploymentJson('web', { replicas: 6, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 1 } } })) });
    await rollOut('web', 6, 2, 1, false);
    await t.server.patch({ resource: 'deployments', namespace: 'default', name: 'web', type: 'strategic', patch: { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } } } } });
    const observations = await rollOut('web', 6, 2, 1, true);
    assert.ok(observations > 3);
    const live = (await pods()).filter((p) => !p.metadata?.deletionTimestamp);
    assert.equal(live.length, 6);
    assert.ok(live.every((p) => p.spec!.containers[0].image === 'nginx:1.26'));
    const d = (await t.server.get({ resource: 'deployments', namespace: 'default', name: 'web' })) as Deployment;
    assert.equal(d.metadata!.annotations['deployment.kubernetes.io/revision'], '2');
    assert.deepEqual([d.status!.replicas, d.status!.updatedReplicas, d.status!.availableReplicas], [6, 6, 6]);
  });
});
