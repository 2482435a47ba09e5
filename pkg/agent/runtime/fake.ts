// In-memory test doubles of ContainerRuntime and PodNetwork for the pod workers' fixture tests.
// Deterministic and on a Clock: a container "runs" from startContainer until the test makes it exit
// (exitContainer) or a signal ends it (SIGKILL always, SIGTERM unless the container is told to
// ignore it); pulls succeed for images "in the registry" (addRegistryImage) and fail otherwise or
// when told to. Every call that changes something is recorded in `calls` for assertions.

import { PassThrough } from 'node:stream';
import type { Clock } from '../../../raft/node/ports.js';
import type { PodNetwork, PodNetworkRequest, PodNetworkStatus } from '../cni/pod_network.js';
import type { ContainerConfig, ContainerRuntime, ContainerState, ContainerStats, ExecOptions, ExecSession, ImageInfo, RegistryCredential, RuntimeEvent } from './runtime.js';

export interface FakeImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
}

interface FakeContainer {
  config: ContainerConfig;
  state: ContainerState;
}

type FailableOp = 'pull' | 'create' | 'start';

export class FakeRuntime implements ContainerRuntime {
  /** "pull <ref>", "create <id>", "start <id>", "signal <id> SIGTERM", "remove <id>", in order. */
  readonly calls: string[] = [];
  /** The credentials each pull was given. */
  readonly pullCredentials: Array<{ ref: string; credentials: readonly RegistryCredential[] }> = [];
  private readonly registry = new Map<string, ImageInfo>();
  private readonly images = new Map<string, ImageInfo>();
  private readonly containers = new Map<string, FakeContainer>();
  private readonly listeners = new Set<(e: RuntimeEvent) => void>();
  private readonly failures = new Map<FailableOp, Array<{ match: string; error: Error }>>();
  private readonly ignoresSigterm = new Set<string>();
  private readonly blocked = new Map<string, Promise<void>>();
  private readonly usage = new Map<string, { cpuUsageNanos: number; memoryWorkingSetBytes: number }>();
  private digestSeq = 0;
  private execHandler: (id: string, argv: readonly string[]) => { exitCode: number; output?: string } = () => ({ exitCode: 0 });

  constructor(private readonly clock: Clock) {}

  /** An image the fake registry serves (pullImage copies it into the local store). */
  addRegistryImage(ref: string, config: FakeImageConfig = {}): ImageInfo {
    const n = ++this.digestSeq;
    const info: ImageInfo = {
      ref,
      digest: `sha256:${n.toString(16).padStart(64, 'a')}`,
      configDigest: `sha256:${n.toString(16).padStart(64, 'c')}`,
      sizeBytes: 1000 * n,
      config: { entrypoint: config.entrypoint ?? [], cmd: config.cmd ?? [], env: config.env ?? [], workingDir: config.workingDir ?? '', user: config.user ?? '' },
    };
    this.registry.set(ref, info);
    return info;
  }

  /** An image already present locally (as if pulled or imported earlier). */
  addLocalImage(ref: string, config: FakeImageConfig = {}): ImageInfo {
    const info = this.addRegistryImage(ref, config);
    this.registry.delete(ref);
    this.images.set(ref, info);
    return info;
  }

  /** The next `op` whose subject (image ref or container id) contains `match` fails with `error`. */
  failNext(op: FailableOp, match: string, error: Error): void {
    const list = this.failures.get(op) ?? [];
    list.push({ match, error });
    this.failures.set(op, list);
  }

  /** Pulls of refs containing `match` hang (an unreachable registry) until the returned function is called. */
  blockPulls(match: string): () => void {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    this.blocked.set(match, gate);
    return () => {
      this.blocked.delete(match);
      release();
    };
  }

  /** Containers of this name (in any pod) keep running on SIGTERM, as a shell as PID 1 does. */
  ignoreSigterm(containerName: string): void {
    this.ignoresSigterm.add(containerName);
  }

  /** Ends a running container's process with `exitCode` (reason: the runtime's own, e.g. "OOMKilled"). */
  exitContainer(id: string, exitCode: number, reason?: string): void {
    const c = this.containers.get(id);
    if (c === undefined) throw new Error(`Cannot exit container ${id}: no such container`);
    if (c.state.phase !== 'running') throw new Error(`Cannot exit container ${id}: it is ${c.state.phase}`);
    this.exit(c, exitCode, reason);
  }

  /** The newest container (highest attempt) of a pod's container name. */
  latest(podUid: string, containerName: string): ContainerState | undefined {
    let best: ContainerState | undefined;
    for (const c of this.containers.values()) {
      if (c.state.podUid === podUid && c.state.containerName === containerName && (best === undefined || c.state.attempt > best.attempt)) best = c.state;
    }
    return best === undefined ? undefined : { ...best };
  }

  /** The config a container was created with. */
  configOf(id: string): ContainerConfig | undefined {
    return this.containers.get(id)?.config;
  }

  /** Calls recorded since the last take, then forgotten. */
  takeCalls(): string[] {
    return this.calls.splice(0);
  }

  async version(): Promise<string> {
    return 'fake 1';
  }

  async pullImage(ref: string, credentials: readonly RegistryCredential[] = []): Promise<ImageInfo> {
    this.calls.push(`pull ${ref}`);
    this.pullCredentials.push({ ref, credentials });
    for (const [match, gate] of this.blocked) if (ref.includes(match)) await gate;
    this.maybeFail('pull', ref);
    const info = this.registry.get(ref);
    if (info === undefined) throw new Error(`failed to resolve reference "${ref}": not found`);
    this.images.set(ref, info);
    return info;
  }

  async imageStatus(ref: string): Promise<ImageInfo | undefined> {
    return this.images.get(ref);
  }

  async importImage(archivePath: string): Promise<ImageInfo[]> {
    throw new Error(`Cannot import ${archivePath}: the fake runtime has no archives`);
  }

  async createContainer(config: ContainerConfig): Promise<void> {
    this.calls.push(`create ${config.id}`);
    this.maybeFail('create', config.id);
    if (this.containers.has(config.id)) throw new Error(`container "${config.id}": already exists`);
    const image = this.images.get(config.image);
    if (image === undefined) throw new Error(`Cannot create container ${config.id}: image ${config.image} is not present`);
    this.containers.set(config.id, {
      config: structuredClone(config),
      state: {
        id: config.id,
        podUid: config.podUid,
        containerName: config.containerName,
        attempt: config.attempt,
        image: config.image,
        imageDigest: image.digest,
        phase: 'created',
        labels: { ...config.labels },
        createdAtMs: this.clock.nowMs(),
        logPath: config.logPath,
      },
    });
  }

  async startContainer(id: string): Promise<void> {
    this.calls.push(`start ${id}`);
    const c = this.containers.get(id);
    if (c === undefined) throw new Error(`Cannot start container ${id}: no such container`);
    this.maybeFail('start', id);
    if (c.state.phase !== 'created') throw new Error(`Cannot start container ${id}: it is ${c.state.phase}`);
    c.state.phase = 'running';
    c.state.startedAtMs = this.clock.nowMs();
    c.state.pid = 1000 + this.containers.size;
    this.emit({ type: 'started', id });
  }

  async signalContainer(id: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    this.calls.push(`signal ${id} ${signal}`);
    const c = this.containers.get(id);
    if (c === undefined || c.state.phase !== 'running') return;
    if (signal === 'SIGKILL') this.exit(c, 137);
    else if (!this.ignoresSigterm.has(c.state.containerName)) this.exit(c, 143);
  }

  async removeContainer(id: string): Promise<void> {
    if (!this.containers.has(id)) return;
    this.calls.push(`remove ${id}`);
    this.containers.delete(id);
    this.emit({ type: 'deleted', id });
  }

  async listContainers(filter: { podUid?: string } = {}): Promise<ContainerState[]> {
    const all = [...this.containers.values()].filter((c) => filter.podUid === undefined || c.state.podUid === filter.podUid);
    return all.map((c) => ({ ...c.state, labels: { ...c.state.labels } }));
  }

  async containerStatus(id: string): Promise<ContainerState | undefined> {
    const c = this.containers.get(id);
    return c === undefined ? undefined : { ...c.state, labels: { ...c.state.labels } };
  }

  /** What exec "runs": by default nothing, printing nothing and exiting 0. */
  onExec(handler: (id: string, argv: readonly string[]) => { exitCode: number; output?: string }): void {
    this.execHandler = handler;
  }

  async exec(id: string, options: ExecOptions): Promise<ExecSession> {
    const c = this.containers.get(id);
    if (c?.state.phase !== 'running') throw new Error(`Cannot exec in container ${id}: it is not running`);
    this.calls.push(`exec ${id} ${options.argv.join(' ')}`);
    const r = this.execHandler(id, options.argv);
    const stdout = new PassThrough();
    stdout.end(r.output ?? '');
    return { stdin: undefined, stdout, stderr: undefined, resize: async () => {}, exit: Promise.resolve(r.exitCode), kill: async () => {} };
  }

  /** What stats(id) reports from now on (cumulative CPU, as containerd's); zeros until set. */
  setUsage(id: string, usage: { cpuUsageNanos: number; memoryWorkingSetBytes: number }): void {
    this.usage.set(id, usage);
  }

  async stats(id: string): Promise<ContainerStats | undefined> {
    if (!this.containers.has(id)) return undefined;
    return { cpuUsageNanos: 0, memoryWorkingSetBytes: 0, ...this.usage.get(id), timestampMs: this.clock.nowMs() };
  }

  subscribe(listener: (e: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  private exit(c: FakeContainer, exitCode: number, reason?: string): void {
    c.state.phase = 'exited';
    c.state.exitCode = exitCode;
    c.state.finishedAtMs = this.clock.nowMs();
    if (reason !== undefined) c.state.reason = reason;
    this.emit({ type: 'exited', id: c.state.id, exitCode, atMs: c.state.finishedAtMs });
  }

  private maybeFail(op: FailableOp, subject: string): void {
    const list = this.failures.get(op);
    const i = list?.findIndex((f) => subject.includes(f.match)) ?? -1;
    if (list === undefined || i < 0) return;
    const [f] = list.splice(i, 1);
    throw f.error;
  }

  private emit(e: RuntimeEvent): void {
    for (const l of [...this.listeners]) l(e);
  }
}

/** Pod networks as records: IPs 198.18.0.2, .3, ... in order of setUp, never reused. */
export class FakePodNetwork implements PodNetwork {
  readonly calls: string[] = [];
  readonly requests = new Map<string, PodNetworkRequest>();
  private readonly pods = new Map<string, PodNetworkStatus>();
  private nextHost = 2;
  private failures: Array<{ podUid: string; error: Error }> = [];

  /** The next setUp of this pod fails with `error`. */
  failNextSetUp(podUid: string, error: Error): void {
    this.failures.push({ podUid, error });
  }

  /** Pretend a namespace exists already (an agent restart finds it). */
  addExisting(podUid: string, ip: string): void {
    this.pods.set(podUid, { netnsPath: `/var/run/netns/navarch-${podUid}`, ip });
  }

  async setUp(req: PodNetworkRequest): Promise<PodNetworkStatus> {
    const have = this.pods.get(req.podUid);
    if (have !== undefined) return have;
    this.calls.push(`setUp ${req.podUid}`);
    const i = this.failures.findIndex((f) => f.podUid === req.podUid);
    if (i >= 0) throw this.failures.splice(i, 1)[0].error;
    const status = { netnsPath: `/var/run/netns/navarch-${req.podUid}`, ip: `198.18.${Math.floor(this.nextHost / 256)}.${this.nextHost % 256}` };
    this.nextHost++;
    this.pods.set(req.podUid, status);
    this.requests.set(req.podUid, structuredClone(req));
    return status;
  }

  async tearDown(podUid: string): Promise<void> {
    if (!this.pods.delete(podUid)) return;
    this.calls.push(`tearDown ${podUid}`);
  }

  async status(podUid: string): Promise<PodNetworkStatus | undefined> {
    return this.pods.get(podUid);
  }

  async list(): Promise<string[]> {
    return [...this.pods.keys()];
  }
}
