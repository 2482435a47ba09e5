// The pod workers' test bed: a real in-process API server (RecordingClient records every write),
// a StatusManager writing to it, the fake runtime and network, simple volumes and log dirs, all on
// one FakeClock. `settle()` plays the informer: it hands the workers the pods as the API has them
// now (and the ones gone) until nothing changes any more.

import type { Pod, PodStatus } from '../../../gen/navarch/api/v1/core.js';
import type { KubeObject } from '../../api/registry.js';
import { obj, testServer, type TestServer } from '../../apiserver/test_util.js';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { RecordingClient } from '../../controllers/testing/recording_client.js';
import type { NodeResources } from '../node_registration.js';
import { FakePodNetwork, FakeRuntime } from '../runtime/fake.js';
import type { Mount } from '../runtime/runtime.js';
import { StatusManager } from '../status_manager.js';
import { containerLogPath } from './log_dirs.js';
import { PodWorkers, type PodWorkersOptions } from './pod_workers.js';
import type { LogDirs, PodVolumes, ReadinessSource } from './ports.js';

export const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);
export const NODE = 'n1';
export const HOST_IP = '10.0.0.7';

export class FakeVolumes implements PodVolumes {
  readonly tornDown: string[] = [];
  async setUp(pod: Pod): Promise<Map<string, string>> {
    return new Map((pod.spec?.volumes ?? []).map((v) => [v.name ?? '', `/vol/${pod.metadata?.uid}/${v.name}`]));
  }
  async mountsFor(_pod: Pod, container: { volumeMounts: { name?: string; mountPath?: string; readOnly?: boolean }[] }, paths: ReadonlyMap<string, string>): Promise<Mount[]> {
    return container.volumeMounts.map((m, i) => {
      const hostPath = paths.get(m.name ?? '');
      if (hostPath === undefined) throw new Error(`volumeMounts[${i}].name: Not found: "${m.name}"`);
      return { hostPath, containerPath: m.mountPath ?? '', readOnly: m.readOnly ?? false };
    });
  }
  async tearDown(podUid: string): Promise<void> {
    this.tornDown.push(podUid);
  }
}

export class MemoryLogDirs implements LogDirs {
  readonly pods = new Set<string>();
  containerDir(namespace: string, name: string, uid: string, containerName: string): string {
    return `/pods/${namespace}_${name}_${uid}/${containerName}`;
  }
  async prepare(pod: Pod, containerName: string, attempt: number): Promise<string> {
    this.pods.add(pod.metadata?.uid ?? '');
    return containerLogPath('/pods', pod, containerName, attempt);
  }
  async removePod(_ns: string, _name: string, uid: string): Promise<void> {
    this.pods.delete(uid);
  }
  async removeOrphans(keep: ReadonlySet<string>): Promise<void> {
    for (const uid of this.pods) if (!keep.has(uid)) this.pods.delete(uid);
  }
}

export class FakeReadiness implements ReadinessSource {
  readonly ready = new Map<string, boolean>();
  isReady(podUid: string, containerName: string): boolean | undefined {
    return this.ready.get(`${podUid}/${containerName}`);
  }
}

export interface FixtureOptions {
  allocatable?: NodeResources;
  /** Reuse another fixture's API, runtime and network (an agent restart). */
  from?: Fixture;
  workers?: Partial<PodWorkersOptions>;
}

export class Fixture {
  readonly errors: string[] = [];
  readonly readiness = new FakeReadiness();
  readonly volumes = new FakeVolumes();
  readonly logs = new MemoryLogDirs();
  readonly status: StatusManager;
  readonly workers: PodWorkers;
  private readonly seen = new Map<string, Pod>();

  constructor(
    readonly t: TestServer,
    readonly client: RecordingClient,
    readonly clock: FakeClock,
    readonly runtime: FakeRuntime,
    readonly network: FakePodNetwork,
    o: FixtureOptions,
  ) {
    this.status = new StatusManager({ client, clock, onError: (what, err) => this.errors.push(`${what}: ${(err as Error).message}`) });
    this.workers = new PodWorkers({
      nodeName: NODE,
      hostIP: HOST_IP,
      runtime,
      network,
      status: this.status,
      client,
      clock,
      volumes: this.volumes,
      logs: this.logs,
      readiness: this.readiness,
      allocatable: o.allocatable,
      onError: (what, err) => this.errors.push(`${what}: ${(err as Error).message}`),
      ...o.workers,
    });
  }

  static async create(o: FixtureOptions = {}): Promise<Fixture> {
    if (o.from !== undefined) {
      const f = o.from;
      f.stop();
      return new Fixture(f.t, f.client, f.clock, f.runtime, f.network, o);
    }
    const t = await testServer();
    const clock = new FakeClock(T0);
    return new Fixture(t, new RecordingClient(t.server), clock, new FakeRuntime(clock), new FakePodNetwork(), o);
  }

  /** Creates a pod bound to the node (Kubernetes JSON for its spec). */
  async createPod(name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): Promise<Pod> {
    const p = obj({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', ...metadata }, spec: { nodeName: NODE, ...spec } });
    return (await this.t.server.create({ object: p })) as Pod;
  }

  async create(object: Record<string, unknown>): Promise<KubeObject> {
    return this.t.server.create({ object: obj(object) });
  }

  async pod(name: string): Promise<Pod> {
    return (await this.t.server.get({ resource: 'pods', namespace: 'default', name })) as Pod;
  }

  async podGone(name: string): Promise<boolean> {
    const pods = (await this.t.server.list({ resource: 'pods', namespace: 'default' })).items as Pod[];
    return !pods.some((p) => p.metadata?.name === name);
  }

  async deletePod(name: string, gracePeriodSeconds?: number): Promise<void> {
    await this.t.server.delete({ resource: 'pods', namespace: 'default', name, gracePeriodSeconds });
  }

  /** Starts the workers with the pods the API has (an informer's first list). */
  async start(): Promise<void> {
    const pods = (await this.t.server.list({ resource: 'pods' })).items as Pod[];
    for (const p of pods) this.seen.set(p.metadata?.uid ?? '', p);
    await this.workers.start(pods);
    await this.settle();
  }

  /** Hands the workers the pods as they are now until neither the API nor the runtime changes. */
  async settle(): Promise<void> {
    let last = '';
    for (let i = 0; i < 50; i++) {
      const pods = (await this.t.server.list({ resource: 'pods' })).items as Pod[];
      const now = new Map(pods.map((p) => [p.metadata?.uid ?? '', p]));
      for (const [uid, p] of this.seen) if (!now.has(uid)) this.workers.onPodGone(p);
      this.seen.clear();
      for (const [uid, p] of now) {
        this.seen.set(uid, p);
        this.workers.onPod(p);
      }
      await this.workers.idle();
      await this.status.idle();
      const state = `${pods.map((p) => p.metadata?.resourceVersion).join(',')}|${this.runtime.calls.length}|${this.network.calls.length}`;
      if (state === last) return;
      last = state;
    }
    throw new Error('The pod workers did not settle in 50 rounds');
  }

  /** Time passes; then everything due has happened. */
  async advance(ms: number): Promise<void> {
    await this.clock.advance(ms);
    await this.settle();
  }

  async statusOf(name: string): Promise<PodStatus> {
    return (await this.pod(name)).status ?? { conditions: [], hostIPs: [], podIPs: [], initContainerStatuses: [], containerStatuses: [] };
  }

  /** The status update writes recorded since the last call. */
  takeStatusWrites(): string[] {
    return this.client.takeSummary().filter((s) => s.endsWith(' status'));
  }

  stop(): void {
    this.workers.stop();
    this.status.stop();
  }
}

/** "Ready=True" lines of a status's conditions. */
export function conditions(s: PodStatus): string[] {
  return s.conditions.map((c) => `${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ''}`);
}

/** "running", "waiting CrashLoopBackOff", "terminated 1 Error" of each container. */
export function states(statuses: PodStatus['containerStatuses']): string[] {
  return statuses.map((s) => {
    const st = s.state ?? {};
    if (st.running) return `${s.name} running`;
    if (st.terminated) return `${s.name} terminated ${st.terminated.exitCode} ${st.terminated.reason}`;
    return `${s.name} waiting ${st.waiting?.reason ?? ''}`;
  });
}
