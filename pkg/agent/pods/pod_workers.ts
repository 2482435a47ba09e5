// The agent's pod workers, as the kubelet's: one worker per pod bound to the node, level-triggered.
// Each sync compares the pod the API wants with what runs (the runtime's containers, labelled with
// the pod uid, and the pod's network namespace) and does the next steps: admit, set up the network
// and volumes, pull images, run init containers one at a time, start the containers, restart the
// ones that exited per restartPolicy with CrashLoopBackOff, and report the status. A pod marked for
// deletion gets SIGTERM, then SIGKILL after its grace period (on the Clock), then its containers,
// network and volumes are removed and the pod object is deleted. Syncs of one pod never overlap;
// at most maxConcurrentSyncs run at once. A new PodWorkers over the same runtime adopts what runs
// (the labels say which pod and attempt) and removes what belongs to no pod (start()).

import type { Container, Pod, PodStatus } from '../../../gen/navarch/api/v1/core.js';
import type { Clock, TimerHandle } from '../../../raft/node/ports.js';
import { addAmounts, admit, allocatableAmounts, podRequests, rejectedStatus, type ResourceAmounts } from '../admission.js';
import type { PodNetwork, PodNetworkRequest, PodNetworkStatus } from '../cni/pod_network.js';
import type { NodeResources } from '../node_registration.js';
import type { NodePodHandler } from '../pod_source.js';
import type { ContainerRuntime, ContainerState, RuntimeEvent } from '../runtime/runtime.js';
import { sameStatus, mergePodStatus, type StatusManager } from '../status_manager.js';
import type { ContainerLocation, ContainerRef } from '../stream/lookup.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { buildContainerConfig, LABEL_SPEC_IMAGE, podUidOfContainerId } from './container_config.js';
import { goDuration, hasRun, imageID, imageIDOf, isSidecar, runsByName, succeeded } from './container_runs.js';
import { runtimeExec } from './exec_fn.js';
import { ImagePuller } from './image_puller.js';
import { podStatus, type ContainerView } from './pod_status.js';
import { apiEnv, type ContainerObserver, type EnvResolver, type LogDirs, type PodVolumes, type ReadinessSource } from './ports.js';
import { pullCredentials, type SecretReader } from './pull_secrets.js';

export interface PodWorkersOptions {
  nodeName: string;
  hostIP: string;
  runtime: ContainerRuntime;
  network: PodNetwork;
  status: Pick<StatusManager, 'setPodStatus' | 'deletePod'>;
  /** Reads imagePullSecrets. */
  client: SecretReader;
  clock: Clock;
  volumes: PodVolumes;
  logs: LogDirs;
  /** @default apiEnv(client): ../env.ts over the API */
  env?: EnvResolver;
  readiness?: ReadinessSource;
  /** Told of each container run (the prober starts and stops its probes). */
  observer?: ContainerObserver;
  /** Pods whose requests do not fit beside the admitted ones fail (OutOfcpu, ...). Absent: no check. */
  allocatable?: NodeResources;
  /** The network namespace hostNetwork pods join. @default "/proc/1/ns/net" (the node's) */
  hostNetnsPath?: string;
  /** Syncs running at once. @default 8 */
  maxConcurrentSyncs?: number;
  /** Pods tracked at once; more are refused with OutOfpods. @default 1024 */
  maxPods?: number;
  /** CrashLoopBackOff (and sandbox retries). @default 10 s doubling to 5 min */
  crashBackoff?: BackoffOptions;
  /** ErrImagePull / ImagePullBackOff. @default 10 s doubling to 5 min */
  imageBackoff?: BackoffOptions;
  /** How soon a pod is synced again after an error shown in its status (ErrImagePull -> ImagePullBackOff). @default 1000 */
  errorResyncMs?: number;
  /** After a sync that threw, the next try. @default 5000 */
  syncRetryMs?: number;
  /** How long a SIGKILLed container may take to exit before it is removed regardless. @default 10000 */
  killWaitMs?: number;
  /** A status the API already shows is sent again only after this long (a lost write is redone). @default 60000 */
  statusResendMs?: number;
  onError?: (what: string, err: unknown) => void;
  onWarning?: (message: string) => void;
}

export interface PodWorkersStats {
  syncs: number;
  syncErrors: number;
  containersStarted: number;
  /** Containers and network namespaces of pods that no longer exist, removed at start. */
  orphansRemoved: number;
}

interface Terminating {
  startMs: number;
  deadlineMs: number;
  termSent: boolean;
  killSentMs?: number;
}

interface PodRecord {
  uid: string;
  pod: Pod;
  gone: boolean;
  /** It had containers when this process started: admitted earlier. */
  adopted: boolean;
  admitted: boolean;
  requests?: ResourceAmounts;
  released: boolean;
  rejected?: PodStatus;
  /** Succeeded or Failed: final, nothing is started again. */
  terminal?: 'Succeeded' | 'Failed';
  /** Resources released, what runs stopped and the network torn down after the pod ended. */
  wrappedUp?: boolean;
  /** Why the agent ended the pod itself (DeadlineExceeded). */
  terminalReason?: { reason: string; message: string };
  /** Ended in the API by others or before this process saw it: nothing to run and nothing to write. */
  terminalInApi: boolean;
  startTimeMs?: number;
  net?: PodNetworkStatus;
  waiting: Map<string, { reason: string; message?: string }>;
  podWaitingMessage?: string;
  /** The last failure to set up the network, shown until a retry succeeds. */
  sandboxError?: string;
  imageIDs: Map<string, string>;
  startFailedAtMs: Map<string, number>;
  /** Runs killed because the spec's image changed (their exit is no failure). */
  specChanged: Set<string>;
  terminating?: Terminating;
  finished: boolean;
  wakeMs?: number;
  wakeTimer?: TimerHandle;
  lastSent?: { status: PodStatus; resourceVersion: string; atMs: number };
}

export class PodWorkers implements NodePodHandler {
  readonly stats: PodWorkersStats = { syncs: 0, syncErrors: 0, containersStarted: 0, orphansRemoved: 0 };
  private readonly records = new Map<string, PodRecord>();
  private readonly queue = new Set<string>();
  private readonly syncing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly crashBackoff: Backoff;
  private readonly images: ImagePuller;
  private readonly env: EnvResolver;
  private readonly maxConcurrentSyncs: number;
  private readonly maxPods: number;
  private readonly errorResyncMs: number;
  private readonly syncRetryMs: number;
  private readonly killWaitMs: number;
  private readonly statusResendMs: number;
  private readonly allocatable: ResourceAmounts | undefined;
  private used: ResourceAmounts = { cpu: 0, memory: 0, ephemeralStorage: 0, pods: 0 };
  private readonly unsubscribe: () => void;
  private readonly eventWaiters = new Set<() => void>();
  /** SIGKILLs due after a liveness kill's grace period (one per killed container). */
  private readonly killTimers = new Set<TimerHandle>();
  private idleWaiters: Array<() => void> = [];
  private started = false;
  private stopped = false;

  constructor(private readonly o: PodWorkersOptions) {
    this.crashBackoff = new Backoff(o.crashBackoff);
    this.images = new ImagePuller(o.runtime, o.clock, new Backoff(o.imageBackoff));
    this.env = o.env ?? apiEnv(o.client);
    this.maxConcurrentSyncs = o.maxConcurrentSyncs ?? 8;
    this.maxPods = o.maxPods ?? 1024;
    this.errorResyncMs = o.errorResyncMs ?? 1000;
    this.syncRetryMs = o.syncRetryMs ?? 5000;
    this.killWaitMs = o.killWaitMs ?? 10_000;
    this.statusResendMs = o.statusResendMs ?? 60_000;
    for (const [name, v] of [['maxConcurrentSyncs', this.maxConcurrentSyncs], ['maxPods', this.maxPods]] as const) {
      if (!(Number.isSafeInteger(v) && v >= 1)) throw new RangeError(`Cannot create the pod workers: ${name} must be an integer >= 1, got ${v}`);
    }
    this.allocatable = o.allocatable ? allocatableAmounts(o.allocatable) : undefined;
    this.unsubscribe = o.runtime.subscribe((e) => this.onRuntimeEvent(e));
  }

  /** Pods tracked (running, waiting, terminating). */
  get podCount(): number {
    return this.records.size;
  }

  /**
   * Starts syncing. `pods` must be every pod bound to the node (the informer's first list): what the
   * runtime and network hold for any other pod is removed first; what they hold for these is adopted.
   */
  async start(pods: readonly Pod[]): Promise<void> {
    if (this.started) throw new Error('Cannot start the pod workers: already started');
    for (const p of pods) this.onPod(p);
    const known = new Set(this.records.keys());
    const containers = await this.o.runtime.listContainers();
    const orphanUids = new Set<string>();
    const orphans = containers.filter((c) => !known.has(c.podUid));
    for (const c of orphans) orphanUids.add(c.podUid);
    await this.killAndRemove(orphans);
    this.stats.orphansRemoved += orphans.length;
    for (const uid of await this.o.network.list()) {
      if (known.has(uid)) continue;
      orphanUids.add(uid);
      await this.o.network.tearDown(uid);
      this.stats.orphansRemoved++;
    }
    for (const uid of orphanUids) await this.o.volumes.tearDown(uid);
    await this.o.logs.removeOrphans(known);
    const withContainers = new Set(containers.map((c) => c.podUid));
    const recs = [...this.records.values()];
    for (const r of recs) r.adopted = withContainers.has(r.uid) || r.pod.status?.phase === 'Running';
    // Admission in the kubelet's order: what already runs first, then by creation time.
    recs.sort((a, b) => Number(b.adopted) - Number(a.adopted) || (a.pod.metadata?.creationTimestamp ?? '').localeCompare(b.pod.metadata?.creationTimestamp ?? ''));
    this.started = true;
    for (const r of recs) this.kick(r.uid);
  }

  onPod(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    if (uid === '' || this.stopped) return;
    let rec = this.records.get(uid);
    if (rec === undefined) {
      if (this.records.size >= this.maxPods) {
        this.o.status.setPodStatus(pod, rejectedStatus('OutOfpods', `Pod was rejected: the agent tracks at most ${this.maxPods} pods`));
        return;
      }
      rec = {
        uid,
        pod,
        gone: false,
        adopted: false,
        admitted: false,
        released: false,
        terminalInApi: false,
        waiting: new Map(),
        imageIDs: new Map(),
        startFailedAtMs: new Map(),
        specChanged: new Set(),
        finished: false,
      };
      this.records.set(uid, rec);
    }
    rec.pod = pod;
    this.kick(uid);
  }

  onPodGone(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const rec = this.records.get(uid);
    if (rec === undefined) return;
    // Before start() this is remembered; start() then kills what the pod left.
    rec.gone = true;
    this.kick(uid);
  }

  /** Syncs the pod soon (the prober calls this when a readiness result changes). */
  requestSync(podUid: string): void {
    if (this.records.has(podUid)) this.kick(podUid);
  }

  /**
   * Kills a running container (a failed liveness probe): SIGTERM, SIGKILL after the grace period
   * (the probe's own when it has one, else the pod's); the restartPolicy then decides what follows.
   */
  async restartContainer(podUid: string, containerName: string, reason: string, o: { gracePeriodSeconds?: number } = {}): Promise<void> {
    const rec = this.records.get(podUid);
    if (rec === undefined) return;
    const running = (await this.containersOf(podUid)).find((c) => c.containerName === containerName && c.phase === 'running');
    if (running === undefined) return;
    this.o.onWarning?.(`Killing container ${containerName} of pod ${podKey(rec.pod)}: ${reason}`);
    await this.o.runtime.signalContainer(running.id, 'SIGTERM');
    const graceMs = (o.gracePeriodSeconds ?? rec.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
    const timer = this.o.clock.setTimeout(() => {
      this.killTimers.delete(timer);
      void this.o.runtime
        .containerStatus(running.id)
        .then((s) => (s?.phase === 'running' ? this.o.runtime.signalContainer(running.id, 'SIGKILL') : undefined))
        .catch((err) => this.o.onError?.(`kill container ${running.id}`, err));
    }, graceMs);
    this.killTimers.add(timer);
  }

  /** Where a container's logs are and its current runtime id (for the logs and exec streams). */
  async lookup(ref: ContainerRef): Promise<ContainerLocation | undefined> {
    for (const rec of this.records.values()) {
      const m = rec.pod.metadata;
      if (m?.namespace !== ref.namespace || m?.name !== ref.name || (ref.uid !== '' && rec.uid !== ref.uid)) continue;
      const spec = rec.pod.spec;
      if (![...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].some((c) => c.name === ref.container)) return undefined;
      const current = runsByName(await this.containersOf(rec.uid))
        .get(ref.container)
        ?.find((c) => c.phase === 'running' || c.phase === 'created');
      return { logDir: this.o.logs.containerDir(ref.namespace, ref.name, rec.uid, ref.container), containerId: current?.id };
    }
    return undefined;
  }

  /** Resolves when no sync is queued or running and no image pull is under way. */
  idle(): Promise<void> {
    if (this.queue.size === 0 && this.syncing.size === 0 && this.images.pendingCount === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    this.queue.clear();
    for (const r of this.records.values()) if (r.wakeTimer !== undefined) this.o.clock.clearTimeout(r.wakeTimer);
    for (const t of this.killTimers) this.o.clock.clearTimeout(t);
    this.killTimers.clear();
    for (const w of [...this.eventWaiters]) w();
  }

  private onRuntimeEvent(e: RuntimeEvent): void {
    for (const w of [...this.eventWaiters]) w();
    if (e.type === 'exited') {
      const uid = podUidOfContainerId(e.id);
      if (this.records.has(uid)) this.kick(uid);
    }
  }

  private kick(uid: string): void {
    if (!this.started || this.stopped) return;
    if (this.syncing.has(uid)) {
      this.dirty.add(uid);
      return;
    }
    this.queue.add(uid);
    this.pump();
  }

  private pump(): void {
    for (const uid of this.queue) {
      if (this.syncing.size >= this.maxConcurrentSyncs) return;
      this.queue.delete(uid);
      const rec = this.records.get(uid);
      if (rec === undefined) continue;
      this.syncing.add(uid);
      void this.run(rec).finally(() => {
        this.syncing.delete(uid);
        if (this.dirty.delete(uid) && this.records.has(uid)) this.queue.add(uid);
        this.pump();
        this.checkIdle();
      });
    }
  }

  private async run(rec: PodRecord): Promise<void> {
    this.stats.syncs++;
    const wakes: number[] = [];
    try {
      await this.sync(rec, (atMs) => wakes.push(atMs));
    } catch (err) {
      this.stats.syncErrors++;
      this.o.onError?.(`sync of pod ${podKey(rec.pod)}`, err);
      wakes.push(this.o.clock.nowMs() + this.syncRetryMs);
    }
    if (this.stopped || !this.records.has(rec.uid)) return;
    this.scheduleWake(rec, wakes.length === 0 ? undefined : Math.min(...wakes));
  }

  private scheduleWake(rec: PodRecord, atMs: number | undefined): void {
    if (rec.wakeTimer !== undefined && rec.wakeMs === atMs) return;
    if (rec.wakeTimer !== undefined) this.o.clock.clearTimeout(rec.wakeTimer);
    rec.wakeTimer = undefined;
    rec.wakeMs = atMs;
    if (atMs === undefined) return;
    rec.wakeTimer = this.o.clock.setTimeout(() => {
      rec.wakeTimer = undefined;
      rec.wakeMs = undefined;
      this.kick(rec.uid);
    }, Math.max(0, atMs - this.o.clock.nowMs()));
  }

  private async sync(rec: PodRecord, wake: (atMs: number) => void): Promise<void> {
    const pod = rec.pod;
    if (rec.gone) return this.removeGone(rec);
    if (pod.metadata?.deletionTimestamp) return this.terminate(rec, wake);
    if (rec.rejected !== undefined) return this.send(rec, rec.rejected);
    const apiPhase = pod.status?.phase;
    if (rec.terminal === undefined && (apiPhase === 'Succeeded' || apiPhase === 'Failed')) {
      // Ended in the API by others (or before this process): it never runs again here.
      rec.terminal = apiPhase;
      rec.terminalInApi = true;
    }
    if (rec.terminalInApi) {
      if (!rec.wrappedUp) await this.wrapUp(rec, await this.containersOf(rec.uid));
      return;
    }
    if (!rec.admitted && !this.admit(rec)) return;
    const now = this.o.clock.nowMs();
    // After an agent restart the pod's start time is the one the API shows (activeDeadlineSeconds counts from it).
    const shown = pod.status?.startTime ? Date.parse(pod.status.startTime) : NaN;
    rec.startTimeMs ??= Number.isNaN(shown) ? now : shown;
    const mine = await this.containersOf(rec.uid);
    const deadlineS = pod.spec?.activeDeadlineSeconds;
    if (rec.terminal === undefined && deadlineS !== undefined && deadlineS > 0) {
      const deadlineMs = rec.startTimeMs + deadlineS * 1000;
      if (now >= deadlineMs) {
        // As the kubelet's active deadline handler: the pod fails and its containers are stopped.
        rec.terminal = 'Failed';
        rec.terminalReason = { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' };
      } else wake(deadlineMs);
    }
    if (rec.terminal === undefined) {
      rec.waiting.clear();
      rec.podWaitingMessage = undefined;
      const paths = await this.preparePod(rec, wake);
      if (paths !== undefined) await this.runContainers(rec, mine, paths, wake);
    }
    const after = await this.containersOf(rec.uid);
    this.observe(rec, after);
    const status = this.statusOf(rec, after);
    if (rec.terminal === undefined && (status.phase === 'Succeeded' || status.phase === 'Failed')) rec.terminal = status.phase;
    if (rec.terminal !== undefined && !rec.wrappedUp) await this.wrapUp(rec, after);
    this.send(rec, status);
  }

  /** The pod has ended: its resources are released, what still runs is stopped, its IP freed. */
  private async wrapUp(rec: PodRecord, mine: ContainerState[]): Promise<void> {
    rec.wrappedUp = true;
    this.release(rec);
    // What still runs (sidecars, everything past the active deadline, a pod failed by others) is stopped, as the kubelet does.
    for (const c of mine) if (c.phase === 'running') await this.restartContainer(rec.uid, c.containerName, 'the pod has ended');
    // The IP goes back to the pool; the status keeps showing it, as Kubernetes does.
    if (!rec.pod.spec?.hostNetwork) await this.o.network.tearDown(rec.uid);
  }

  private admit(rec: PodRecord): boolean {
    const requests = podRequests(rec.pod);
    if (!rec.adopted && this.allocatable !== undefined) {
      const verdict = admit(requests, this.used, this.allocatable);
      if (!verdict.admit) {
        rec.rejected = rejectedStatus(verdict.reason, verdict.message);
        this.send(rec, rec.rejected);
        return false;
      }
    }
    rec.admitted = true;
    rec.requests = requests;
    this.used = addAmounts(this.used, requests);
    return true;
  }

  private release(rec: PodRecord): void {
    if (rec.released || rec.requests === undefined) return;
    rec.released = true;
    this.used = addAmounts(this.used, rec.requests, -1);
  }

  /** Network and volumes; undefined (and the reason in the status) when they are not ready yet. */
  private async preparePod(rec: PodRecord, wake: (atMs: number) => void): Promise<Map<string, string> | undefined> {
    const pod = rec.pod;
    const retry = (what: string, err: unknown): undefined => {
      const now = this.o.clock.nowMs();
      const key = `${rec.uid}/#${what}`;
      this.crashBackoff.next(key, now, now);
      rec.podWaitingMessage = `${what === 'sandbox' ? 'Failed to create pod sandbox' : 'Unable to attach or mount volumes'}: ${(err as Error).message}`;
      if (what === 'sandbox') rec.sandboxError = rec.podWaitingMessage;
      this.o.onWarning?.(`Pod ${podKey(pod)}: ${rec.podWaitingMessage}`);
      wake(now + this.crashBackoff.get(key));
      return undefined;
    };
    if (!pod.spec?.hostNetwork && rec.net === undefined) {
      const key = `${rec.uid}/#sandbox`;
      const until = this.crashBackoff.backoffSinceUpdateUntil(key, this.o.clock.nowMs());
      if (until !== undefined) {
        rec.podWaitingMessage = rec.sandboxError;
        wake(until);
        return undefined;
      }
      try {
        rec.net = (await this.o.network.status(rec.uid)) ?? (await this.o.network.setUp(this.networkRequest(pod)));
        this.crashBackoff.reset(key);
        rec.sandboxError = undefined;
      } catch (err) {
        return retry('sandbox', err);
      }
    }
    try {
      return await this.o.volumes.setUp(pod);
    } catch (err) {
      return retry('volumes', err);
    }
  }

  private networkRequest(pod: Pod): PodNetworkRequest {
    const portMappings: PodNetworkRequest['portMappings'] = [];
    for (const c of pod.spec?.containers ?? []) {
      for (const p of c.ports) {
        if (!p.hostPort) continue;
        const protocol = (p.protocol ?? 'TCP').toLowerCase();
        if (protocol !== 'tcp' && protocol !== 'udp') {
          this.o.onWarning?.(`Pod ${podKey(pod)}: hostPort ${p.hostPort}/${p.protocol} is not mapped: only TCP and UDP are supported`);
          continue;
        }
        portMappings.push({ hostPort: p.hostPort, containerPort: p.containerPort ?? p.hostPort, protocol, ...(p.hostIP ? { hostIP: p.hostIP } : {}) });
      }
    }
    return { podUid: pod.metadata?.uid ?? '', podName: pod.metadata?.name ?? '', podNamespace: pod.metadata?.namespace ?? '', portMappings };
  }

  /** Init containers one at a time, in order; then every container; restarts per restartPolicy. */
  private async runContainers(rec: PodRecord, mine: ContainerState[], paths: Map<string, string>, wake: (atMs: number) => void): Promise<void> {
    const spec = rec.pod.spec;
    const policy = spec?.restartPolicy ?? 'Always';
    const runs = runsByName(mine);
    const inits = spec?.initContainers ?? [];
    // Once initialized, sidecars (init containers with restartPolicy Always) are kept running beside the containers.
    const initialized = inits.every((c) => (isSidecar(c) ? hasRun(runs.get(c.name ?? '')?.[0]) : succeeded(runs.get(c.name ?? '')?.[0])));
    for (const c of inits) {
      const r = runs.get(c.name ?? '') ?? [];
      const latest = r[0];
      if (isSidecar(c)) {
        if (latest?.phase === 'running' || latest?.phase === 'unknown') continue;
        if (latest?.phase === 'created') await this.startCreated(rec, c, latest, wake);
        else await this.launch(rec, c, true, r, paths, wake);
        if (initialized) continue;
        return;
      }
      if (initialized || succeeded(latest)) continue;
      if (latest?.phase === 'running' || latest?.phase === 'unknown') return;
      if (latest?.phase === 'created') return this.startCreated(rec, c, latest, wake);
      // Failed under Never: the pod fails (the status says so); nothing more runs.
      if (latest?.phase === 'exited' && policy === 'Never') return;
      await this.launch(rec, c, true, r, paths, wake);
      return;
    }
    for (const c of spec?.containers ?? []) {
      const name = c.name ?? '';
      const r = runs.get(name) ?? [];
      const latest = r[0];
      // The pod's image was changed (the one field of a container an update may change): the run
      // goes, and the new image starts whatever the restartPolicy, as the kubelet does.
      if (latest?.phase === 'running' && latest.labels[LABEL_SPEC_IMAGE] !== undefined && latest.labels[LABEL_SPEC_IMAGE] !== c.image) {
        if (!rec.specChanged.has(latest.id)) {
          rec.specChanged.add(latest.id);
          await this.restartContainer(rec.uid, name, `Container ${name} definition changed`);
        }
        continue;
      }
      // (The id stays noted until a new run replaces it: a pull may hold the start up for a while.)
      if (latest?.phase === 'exited' && rec.specChanged.has(latest.id)) {
        // Not a failure: no backoff either.
        this.crashBackoff.reset(`${rec.uid}/${name}`);
        await this.launch(rec, c, false, r, paths, wake, { fresh: true });
        continue;
      }
      if (latest?.phase === 'running' || latest?.phase === 'unknown') continue;
      if (latest?.phase === 'created') {
        await this.startCreated(rec, c, latest, wake);
        continue;
      }
      if (latest?.phase === 'exited' && !(policy === 'Always' || (policy === 'OnFailure' && latest.exitCode !== 0))) continue;
      await this.launch(rec, c, false, r, paths, wake);
    }
  }

  /** A container created but never started (the agent stopped in between): start it now. */
  private async startCreated(rec: PodRecord, c: Container, s: ContainerState, wake: (atMs: number) => void): Promise<void> {
    try {
      await this.o.runtime.startContainer(s.id);
      this.stats.containersStarted++;
    } catch (err) {
      await this.startFailed(rec, c, s.id, err, wake);
    }
  }

  /** Runs the next attempt of a container, unless it is in CrashLoopBackOff. */
  private async launch(rec: PodRecord, c: Container, init: boolean, runs: ContainerState[], paths: Map<string, string>, wake: (atMs: number) => void, o: { fresh?: boolean } = {}): Promise<void> {
    const pod = rec.pod;
    const name = c.name ?? '';
    const now = this.o.clock.nowMs();
    const latest = runs[0];
    const key = `${rec.uid}/${name}`;
    const exitedMs = latest?.phase === 'exited' ? (latest.finishedAtMs ?? now) : undefined;
    const failedMs = rec.startFailedAtMs.get(name);
    const lastFailureMs = exitedMs === undefined ? failedMs : failedMs === undefined ? exitedMs : Math.max(exitedMs, failedMs);
    if (lastFailureMs !== undefined && !o.fresh) {
      const until = this.crashBackoff.backoffUntil(key, lastFailureMs, now);
      if (until !== undefined) {
        rec.waiting.set(name, {
          reason: 'CrashLoopBackOff',
          message: `back-off ${goDuration(this.crashBackoff.get(key))} restarting failed container=${name} pod=${pod.metadata?.name}_${pod.metadata?.namespace}(${rec.uid})`,
        });
        wake(until);
        return;
      }
    }
    const attempt = latest === undefined ? 0 : latest.attempt + 1;
    const waitWith = (reason: string, err: unknown, retryAtMs: number): void => {
      rec.waiting.set(name, { reason, message: (err as Error).message ?? String(err) });
      wake(retryAtMs);
    };

    const pull = await this.images.ensure(
      pod,
      c,
      () => pullCredentials(this.o.client, pod, (m) => this.o.onWarning?.(m)),
      () => this.pullSettled(rec.uid),
    );
    if (!pull.ok && pull.pending) {
      rec.waiting.set(name, { reason: pull.reason });
      return;
    }
    if (!pull.ok) {
      rec.waiting.set(name, { reason: pull.reason, message: pull.message });
      const soon = this.o.clock.nowMs() + this.errorResyncMs;
      wake(pull.retryAtMs === undefined ? this.o.clock.nowMs() + this.syncRetryMs : pull.reason === 'ErrImagePull' ? Math.min(soon, pull.retryAtMs) : pull.retryAtMs);
      return;
    }
    rec.imageIDs.set(name, imageID(pull.image));
    let config;
    try {
      const env = await this.env(pod, c, { podIP: rec.net?.ip ?? (pod.spec?.hostNetwork ? this.o.hostIP : undefined), hostIP: this.o.hostIP, nodeName: this.o.nodeName });
      const mounts = await this.o.volumes.mountsFor(pod, c, paths, { env });
      const logPath = await this.o.logs.prepare(pod, name, attempt);
      config = buildContainerConfig({ pod, container: c, init, attempt, image: pull.image, env, mounts, netnsPath: pod.spec?.hostNetwork ? (this.o.hostNetnsPath ?? '/proc/1/ns/net') : (rec.net?.netnsPath ?? ''), logPath });
    } catch (err) {
      return waitWith('CreateContainerConfigError', err, this.o.clock.nowMs() + this.syncRetryMs);
    }
    // The backoff grows only when a run is really made (not when a pull or the config held it up).
    if (lastFailureMs !== undefined && !o.fresh) this.crashBackoff.next(key, lastFailureMs, this.o.clock.nowMs());
    try {
      await this.o.runtime.createContainer(config);
    } catch (err) {
      return waitWith('CreateContainerError', err, this.o.clock.nowMs() + this.syncRetryMs);
    }
    try {
      await this.o.runtime.startContainer(config.id);
    } catch (err) {
      return this.startFailed(rec, c, config.id, err, wake);
    }
    this.stats.containersStarted++;
    rec.startFailedAtMs.delete(name);
    // The run before this one stays (lastState, logs --previous); older ones go.
    for (const old of runs.slice(1)) await this.o.runtime.removeContainer(old.id);
  }

  private pullSettled(uid: string): void {
    if (this.records.has(uid)) this.kick(uid);
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.queue.size === 0 && this.syncing.size === 0 && this.images.pendingCount === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async startFailed(rec: PodRecord, c: Container, id: string, err: unknown, wake: (atMs: number) => void): Promise<void> {
    const name = c.name ?? '';
    const now = this.o.clock.nowMs();
    rec.startFailedAtMs.set(name, now);
    rec.waiting.set(name, { reason: 'RunContainerError', message: (err as Error).message ?? String(err) });
    await this.o.runtime.removeContainer(id);
    wake(now + this.errorResyncMs);
  }

  /** Tells the observer (the prober) which run of each container is running now. */
  private observe(rec: PodRecord, mine: ContainerState[]): void {
    const observer = this.o.observer;
    if (observer === undefined) return;
    const runs = runsByName(mine);
    const spec = rec.pod.spec;
    for (const c of [...(spec?.initContainers ?? []).filter(isSidecar), ...(spec?.containers ?? [])]) {
      const name = c.name ?? '';
      const latest = runs.get(name)?.[0];
      try {
        if (latest?.phase === 'running') {
          const podIP = rec.pod.spec?.hostNetwork ? this.o.hostIP : (rec.net?.ip ?? '');
          observer.containerStarted(rec.pod, name, { containerId: latest.id, startedAtMs: latest.startedAtMs ?? this.o.clock.nowMs(), podIP, exec: runtimeExec(this.o.runtime, this.o.clock, latest.id) });
        } else observer.containerStopped(rec.uid, name);
      } catch (err) {
        this.o.onError?.(`probes of container ${name} of pod ${podKey(rec.pod)}`, err);
      }
    }
  }

  private statusOf(rec: PodRecord, mine: ContainerState[]): PodStatus {
    const runs = runsByName(mine);
    const spec = rec.pod.spec;
    const view = (c: Container): ContainerView => {
      const name = c.name ?? '';
      const r = runs.get(name) ?? [];
      return {
        latest: r[0],
        previous: r[1],
        waiting: rec.terminal === undefined ? rec.waiting.get(name) : undefined,
        imageID: rec.imageIDs.get(name) ?? (r[0] ? imageIDOf(r[0]) : undefined),
        ready: this.o.readiness?.isReady(rec.uid, name),
        started: this.o.readiness?.isStarted?.(rec.uid, name),
      };
    };
    return podStatus({
      pod: rec.pod,
      init: (spec?.initContainers ?? []).map(view),
      app: (spec?.containers ?? []).map(view),
      hostIP: this.o.hostIP,
      podIP: spec?.hostNetwork ? this.o.hostIP : rec.net?.ip,
      startTimeMs: rec.startTimeMs ?? this.o.clock.nowMs(),
      nowMs: this.o.clock.nowMs(),
      podWaitingMessage: rec.podWaitingMessage,
      terminalPhase: rec.terminal,
      terminalReason: rec.terminalReason,
    });
  }

  /** To the status manager, unless the API shows it already or it was just sent for this version of the pod. */
  private send(rec: PodRecord, status: PodStatus): void {
    const pod = rec.pod;
    if (sameStatus(pod.status, mergePodStatus(pod.status, status))) return;
    const now = this.o.clock.nowMs();
    const rv = pod.metadata?.resourceVersion ?? '';
    const last = rec.lastSent;
    if (last !== undefined && last.resourceVersion === rv && now - last.atMs < this.statusResendMs && sameStatus(last.status, status)) return;
    if (this.o.status.setPodStatus(pod, status)) rec.lastSent = { status, resourceVersion: rv, atMs: now };
  }

  /** Graceful deletion: SIGTERM, SIGKILL once the grace period is over, then remove everything and delete the pod. */
  private async terminate(rec: PodRecord, wake: (atMs: number) => void): Promise<void> {
    const pod = rec.pod;
    if (!rec.finished) {
      const now = this.o.clock.nowMs();
      const graceMs = Math.max(0, pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
      if (rec.terminating === undefined) this.o.observer?.removePod(rec.uid);
      const t = (rec.terminating ??= { startMs: now, deadlineMs: now + graceMs, termSent: false });
      // A second delete may shorten the grace period, never lengthen it.
      t.deadlineMs = Math.min(t.deadlineMs, t.startMs + graceMs);
      const running = (await this.containersOf(rec.uid)).filter((c) => c.phase === 'running' || c.phase === 'unknown');
      if (running.length > 0) {
        if (!t.termSent && now < t.deadlineMs) {
          t.termSent = true;
          for (const c of running) await this.o.runtime.signalContainer(c.id, 'SIGTERM');
        }
        if (now < t.deadlineMs) {
          wake(t.deadlineMs);
          return;
        }
        if (t.killSentMs === undefined) {
          t.killSentMs = now;
          for (const c of running) await this.o.runtime.signalContainer(c.id, 'SIGKILL');
        }
        const still = (await this.containersOf(rec.uid)).filter((c) => c.phase === 'running');
        if (still.length > 0 && now < t.killSentMs + this.killWaitMs) {
          wake(t.killSentMs + this.killWaitMs);
          return;
        }
      }
      await this.cleanUp(rec);
      rec.finished = true;
      this.release(rec);
    }
    this.o.status.deletePod(pod);
  }

  /** Gone from the API: killed at once, everything removed, the record dropped. */
  private async removeGone(rec: PodRecord): Promise<void> {
    if (!rec.finished) {
      await this.killAndRemove(await this.containersOf(rec.uid));
      await this.cleanUp(rec);
    }
    this.release(rec);
    if (rec.wakeTimer !== undefined) this.o.clock.clearTimeout(rec.wakeTimer);
    this.records.delete(rec.uid);
    this.dirty.delete(rec.uid);
  }

  private async cleanUp(rec: PodRecord): Promise<void> {
    this.o.observer?.removePod(rec.uid);
    for (const c of await this.containersOf(rec.uid)) await this.o.runtime.removeContainer(c.id);
    await this.o.network.tearDown(rec.uid);
    await this.o.volumes.tearDown(rec.uid);
    const m = rec.pod.metadata;
    await this.o.logs.removePod(m?.namespace ?? '', m?.name ?? '', rec.uid);
    this.images.forgetPod(rec.uid);
    this.crashBackoff.forgetPrefix(`${rec.uid}/`);
  }

  /** SIGKILL, wait (bounded) for the exits, remove. */
  private async killAndRemove(containers: readonly ContainerState[]): Promise<void> {
    const live = containers.filter((c) => c.phase === 'running' || c.phase === 'unknown');
    for (const c of live) await this.o.runtime.signalContainer(c.id, 'SIGKILL');
    const deadline = this.o.clock.nowMs() + this.killWaitMs;
    for (const c of live) {
      while (!this.stopped && (await this.o.runtime.containerStatus(c.id))?.phase === 'running' && this.o.clock.nowMs() < deadline) {
        await new Promise<void>((resolve) => {
          // Woken by the next runtime event (or the deadline), then the status is read again.
          const done = (): void => {
            this.eventWaiters.delete(done);
            this.o.clock.clearTimeout(timer);
            resolve();
          };
          this.eventWaiters.add(done);
          const timer = this.o.clock.setTimeout(done, Math.max(0, deadline - this.o.clock.nowMs()));
        });
      }
    }
    for (const c of containers) await this.o.runtime.removeContainer(c.id);
  }

  private async containersOf(uid: string): Promise<ContainerState[]> {
    return this.o.runtime.listContainers({ podUid: uid });
  }
}

function podKey(p: Pod): string {
  return `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
}
