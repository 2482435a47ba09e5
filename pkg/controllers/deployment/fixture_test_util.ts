// The Deployment controller's test fixture: a real in-process API server, informers that follow it
// (a test waits until they have caught up, never a fixed time), a RecordingClient for the
// controller's writes, a FakeClock, and a stand-in for the ReplicaSet controller (which is not part
// of these tests) that creates and deletes pods for each ReplicaSet and reports its status, so a
// whole rollout can be stepped and checked at every step.

import assert from 'node:assert/strict';
import type { Deployment, KubeObject, Pod, ReplicaSet } from '../../api/registry.js';
import type { ApiServer } from '../../apiserver/api_server.js';
import { obj, testServer, type TestServer } from '../../apiserver/test_util.js';
import { RecordingEventRecorder } from '../../client/events/recorder.js';
import type { ListWatcher, WatchStream } from '../../client/informer/list_watcher.js';
import { SharedInformer } from '../../client/informer/shared_informer.js';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { eventually } from '../../client/testing/settle.js';
import { CONTROLLER_UID_INDEX, formatTimeMs, getControllerOf, indexByControllerUid, isPodAvailable, isPodReady, newControllerRef } from '../controller_utils.js';
import { RecordingClient } from '../testing/recording_client.js';
import { DeploymentController } from './deployment_controller.js';
import { maxSurge, maxUnavailable, replicasOf, REVISION_ANNOTATION } from './util.js';

export const START_MS = Date.UTC(2026, 0, 2, 3, 4, 5);

/** A ListWatcher straight over the in-process API server. */
export function serverListWatcher<T extends KubeObject>(server: ApiServer, resource: string): ListWatcher<T> {
  return {
    async list() {
      const r = await server.list({ resource });
      return { items: r.items as T[], resourceVersion: r.resourceVersion };
    },
    watch(w) {
      return server.watch({ resource, resourceVersion: w.resourceVersion, allowBookmarks: w.allowBookmarks }) as unknown as WatchStream<T>;
    },
  };
}

export interface DeploymentSpecOptions {
  replicas?: number;
  image?: string;
  strategy?: Record<string, unknown>;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  progressDeadlineSeconds?: number;
  paused?: boolean;
}

export function deploymentJson(name: string, o: DeploymentSpecOptions = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: o.image ?? 'nginx:1.25' }] } },
      ...(o.strategy ? { strategy: o.strategy } : {}),
      ...(o.minReadySeconds !== undefined ? { minReadySeconds: o.minReadySeconds } : {}),
      ...(o.revisionHistoryLimit !== undefined ? { revisionHistoryLimit: o.revisionHistoryLimit } : {}),
      ...(o.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: o.progressDeadlineSeconds } : {}),
      ...(o.paused !== undefined ? { paused: o.paused } : {}),
    },
  };
}

export interface PodCounts {
  /** Pods not being deleted. */
  live: number;
  ready: number;
  available: number;
  terminating: number;
}

export class Fixture {
  private podSeq = 0;
  private constructor(
    readonly t: TestServer,
    readonly clock: FakeClock,
    readonly client: RecordingClient,
    readonly recorder: RecordingEventRecorder,
    readonly informers: { deployments: SharedInformer<Deployment>; replicaSets: SharedInformer<ReplicaSet>; pods: SharedInformer<Pod> },
    readonly controller: DeploymentController,
  ) {}

  static async create(): Promise<Fixture> {
    const clock = new FakeClock(START_MS);
    const t = await testServer({ nowMs: () => clock.nowMs() });
    const client = new RecordingClient(t.server);
    const recorder = new RecordingEventRecorder();
    const quiet = { warn: () => {} };
    const informers = {
      deployments: new SharedInformer<Deployment>(serverListWatcher(t.server, 'deployments'), { name: 'deployments', logger: quiet }),
      replicaSets: new SharedInformer<ReplicaSet>(serverListWatcher(t.server, 'replicasets'), { name: 'replicasets', logger: quiet }),
      pods: new SharedInformer<Pod>(serverListWatcher(t.server, 'pods'), { name: 'pods', logger: quiet }),
    };
    // As in the controller manager, where the ReplicaSet controller has indexed pods first.
    informers.pods.addIndexers({ [CONTROLLER_UID_INDEX]: indexByControllerUid });
    const controller = new DeploymentController({ client, recorder, clock, logger: quiet, ...informers });
    for (const inf of Object.values(informers)) inf.start();
    await Promise.all(Object.values(informers).map((inf) => inf.waitForSync()));
    return new Fixture(t, clock, client, recorder, informers, controller);
  }

  get server(): ApiServer {
    return this.t.server;
  }

  async close(): Promise<void> {
    await this.controller.stop();
    for (const inf of Object.values(this.informers)) inf.stop();
    this.server.closeWatches();
  }

  /** Waits until every informer holds exactly what the server holds. */
  async caughtUp(): Promise<void> {
    for (const [resource, inf] of Object.entries({ deployments: this.informers.deployments, replicasets: this.informers.replicaSets, pods: this.informers.pods })) {
      const want = (await this.server.list({ resource })).items.map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort().join(',');
      const have = () => (inf.store.list() as KubeObject[]).map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort().join(',');
      await eventually(`${resource} informer caught up`, () => have() === want, 100_000);
    }
  }

  async createDeployment(name: string, o: DeploymentSpecOptions = {}): Promise<Deployment> {
    return (await this.server.create({ object: obj(deploymentJson(name, o)) })) as Deployment;
  }

  /** A merge patch on the Deployment, as kubectl scale / set image / rollout pause would send. */
  async patchDeployment(name: string, patch: unknown, type: 'merge' | 'json' | 'strategic' = 'merge'): Promise<Deployment> {
    return (await this.server.patch({ resource: 'deployments', namespace: 'default', name, type, patch })) as Deployment;
  }

  async setImage(name: string, image: string): Promise<Deployment> {
    return this.patchDeployment(name, { spec: { template: { spec: { containers: [{ name: 'web', image }] } } } }, 'strategic');
  }

  async deployment(name: string): Promise<Deployment> {
    return (await this.server.get({ resource: 'deployments', namespace: 'default', name })) as Deployment;
  }

  /** ReplicaSets, oldest first. */
  async replicaSets(): Promise<ReplicaSet[]> {
    const items = (await this.server.list({ resource: 'replicasets', namespace: 'default' })).items as ReplicaSet[];
    return items.sort((a, b) => Date.parse(a.metadata!.creationTimestamp!) - Date.parse(b.metadata!.creationTimestamp!) || a.metadata!.name!.localeCompare(b.metadata!.name!));
  }

  async pods(): Promise<Pod[]> {
    return (await this.server.list({ resource: 'pods', namespace: 'default' })).items as Pod[];
  }

  /** One controller sync of the Deployment, on informers that have seen everything so far. */
  async sync(name: string): Promise<void> {
    await this.caughtUp();
    await this.controller.syncKey(`default/${name}`);
  }

  /**
   * What the ReplicaSet controller would do, once, for every ReplicaSet: create or delete pods to
   * match spec.replicas (deleting not-ready pods first) and write status from the pods.
   */
  async runReplicaSets(o: { gracefulDelete?: boolean } = {}): Promise<void> {
    const now = this.clock.nowMs();
    for (const rs of await this.replicaSets()) {
      const owned = (await this.pods()).filter((p) => getControllerOf(p)?.uid === rs.metadata?.uid);
      const live = owned.filter((p) => !p.metadata?.deletionTimestamp);
      const want = replicasOf(rs);
      for (let i = live.length; i < want; i++) {
        await this.server.create({ object: withOwner(rs.spec!.template, rs, `${rs.metadata!.name}-${++this.podSeq}`) });
      }
      if (live.length > want) {
        const victims = [...live].sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)) || b.metadata!.name!.localeCompare(a.metadata!.name!, undefined, { numeric: true }));
        for (const p of victims.slice(0, live.length - want)) {
          await this.server.delete({ resource: 'pods', namespace: 'default', name: p.metadata!.name!, gracePeriodSeconds: o.gracefulDelete ? 30 : 0 });
        }
      }
      const after = (await this.pods()).filter((p) => getControllerOf(p)?.uid === rs.metadata?.uid && !p.metadata?.deletionTimestamp);
      const fresh = (await this.server.get({ resource: 'replicasets', namespace: 'default', name: rs.metadata!.name! })) as ReplicaSet;
      fresh.status = {
        replicas: after.length,
        fullyLabeledReplicas: after.length,
        readyReplicas: after.filter(isPodReady).length,
        availableReplicas: after.filter((p) => isPodAvailable(p, fresh.spec?.minReadySeconds ?? 0, now)).length,
        observedGeneration: fresh.metadata?.generation,
        terminatingReplicas: undefined,
        conditions: [],
      };
      await this.server.updateStatus({ object: fresh });
    }
  }

  /** Marks up to `count` not-ready live pods (of RSs whose name starts with `rsPrefix`) Running and Ready now. */
  async readyPods(count = Infinity, rsPrefix = ''): Promise<number> {
    let n = 0;
    for (const p of await this.pods()) {
      if (n >= count) break;
      if (p.metadata?.deletionTimestamp || isPodReady(p) || !p.metadata!.name!.startsWith(rsPrefix)) continue;
      p.status = { ...(p.status ?? { conditions: [], hostIPs: [], podIPs: [], initContainerStatuses: [], containerStatuses: [] }), phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: formatTimeMs(this.clock.nowMs()) }] };
      await this.server.updateStatus({ object: p });
      n++;
    }
    return n;
  }

  /** Removes pods that were deleted gracefully (the agent finished stopping them). */
  async finishTermination(): Promise<void> {
    for (const p of await this.pods()) {
      if (p.metadata?.deletionTimestamp) await this.server.delete({ resource: 'pods', namespace: 'default', name: p.metadata.name!, gracePeriodSeconds: 0 });
    }
  }

  async podCounts(): Promise<PodCounts> {
    const now = this.clock.nowMs();
    const pods = await this.pods();
    const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
    const rsByUid = new Map((await this.replicaSets()).map((rs) => [rs.metadata!.uid!, rs]));
    return {
      live: live.length,
      ready: live.filter(isPodReady).length,
      available: live.filter((p) => isPodAvailable(p, rsByUid.get(getControllerOf(p)?.uid ?? '')?.spec?.minReadySeconds ?? 0, now)).length,
      terminating: pods.length - live.length,
    };
  }

  /** Asserts the rollout's promises: never more than replicas+maxSurge pods, never fewer than replicas-maxUnavailable available. */
  async checkLimits(name: string, where: string, o: { availability?: boolean } = {}): Promise<PodCounts> {
    const d = await this.deployment(name);
    const counts = await this.podCounts();
    const rsTotal = (await this.replicaSets()).reduce((n, rs) => n + replicasOf(rs), 0);
    const maxTotal = replicasOf(d) + maxSurge(d);
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    assert.ok(rsTotal <= maxTotal, `${where}: ReplicaSets ask for ${rsTotal} pods, more than replicas+maxSurge=${maxTotal}`);
    assert.ok(counts.live <= maxTotal, `${where}: ${counts.live} pods exist, more than replicas+maxSurge=${maxTotal}`);
    if (o.availability !== false) assert.ok(counts.available >= minAvailable, `${where}: ${counts.available} pods available, fewer than replicas-maxUnavailable=${minAvailable}`);
    return counts;
  }

  /** Syncs and runs ReplicaSets until the Deployment is fully available, every pod made ready at once. */
  async rollOutFully(name: string, maxSteps = 50): Promise<Deployment> {
    for (let i = 0; i < maxSteps; i++) {
      await this.sync(name);
      await this.runReplicaSets();
      await this.readyPods();
      await this.runReplicaSets();
      const d = await this.deployment(name);
      if (rolloutStatus(d).done) return d;
    }
    throw new Error(`Deployment ${name} did not finish rolling out in ${maxSteps} steps: ${JSON.stringify((await this.deployment(name)).status)}`);
  }
}

function withOwner(template: NonNullable<ReplicaSet['spec']>['template'], rs: ReplicaSet, name: string): Pod {
  const p = obj<Pod>({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: template?.metadata?.labels ?? {} },
    spec: { containers: (template?.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image })), nodeName: 'node-1' },
  });
  p.metadata!.ownerReferences = [newControllerRef(rs, { apiVersion: 'apps/v1', kind: 'ReplicaSet' })];
  return p;
}

/** What `kubectl rollout status` would print for this Deployment (its logic, line for line). */
export function rolloutStatus(d: Deployment): { done: boolean; message: string } {
  const name = d.metadata?.name;
  const s = d.status;
  if ((d.metadata?.generation ?? 0) > (s?.observedGeneration ?? 0)) return { done: false, message: 'Waiting for deployment spec update to be observed...' };
  const progressing = s?.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return { done: false, message: `deployment "${name}" exceeded its progress deadline` };
  const want = replicasOf(d);
  const updated = s?.updatedReplicas ?? 0;
  const replicas = s?.replicas ?? 0;
  const available = s?.availableReplicas ?? 0;
  if (updated < want) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${want} new replicas have been updated...` };
  if (replicas > updated) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${replicas - updated} old replicas are pending termination...` };
  if (available < updated) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...` };
  return { done: true, message: `deployment "${name}" successfully rolled out` };
}

export function revision(o: { metadata?: { annotations?: Record<string, string> } | undefined }): string | undefined {
  return o.metadata?.annotations?.[REVISION_ANNOTATION];
}

/** Takes every key waiting in the controller's queue (nothing runs workers in these tests). */
export async function drainQueue(f: Fixture): Promise<string[]> {
  const keys: string[] = [];
  while (f.controller.queue.length > 0) {
    const k = await f.controller.queue.get();
    if (typeof k !== 'string') break;
    keys.push(k);
    f.controller.queue.done(k);
  }
  return keys.sort();
}
