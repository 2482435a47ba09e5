// ContainerRuntime over containerd's gRPC API. Everything lives in one containerd namespace; each
// container's labels carry what the agent needs after a restart, and output FIFOs sit at paths
// derived from the container id, so a new runtime object on the same socket resumes where the
// last one stopped.

import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { realClock, type Clock, type TimerHandle } from '../../../../raft/node/ports.js';
import type { Process } from '../../../../gen/containerd/github.com/containerd/containerd/api/types/task/task.js';
import type {
  ContainerConfig,
  ContainerRuntime,
  ContainerState,
  ContainerStats,
  ExecOptions,
  ExecSession,
  ImageInfo,
  RegistryCredential,
  RuntimeEvent,
} from '../runtime.js';
import { importArchive } from './archive.js';
import { ContainerdClient, ContainerdError, DEFAULT_NAMESPACE, isAlreadyExists, isNotFound } from './client.js';
import { TaskEvents, type TaskEvent } from './events.js';
import { execInContainer } from './exec.js';
import { withLease } from './image_store.js';
import { getImage, imageStatus, toImageInfo } from './images.js';
import { ensureLogDir, FifoPool, LogCopier, makeFifos, removeFifos, type StdioPaths } from './io.js';
import { containerLabels, LABEL } from './labels.js';
import { chainIds } from './oci.js';
import { buildSpec, checkConfig, SPEC_TYPE_URL } from './spec.js';
import { pullImage } from './pull.js';
import { toState } from './state.js';
import { containerStats } from './stats.js';
import { SNAPSHOTTER } from './unpack.js';

export interface ContainerdRuntimeOptions {
  socketPath: string;
  /** @default "navarch" */
  namespace?: string;
  /** Where output FIFOs live; must survive an agent restart (not a per-process temp dir). @default "/run/navarch/containerd/<namespace>" */
  stateDir?: string;
  /** cgroup parent of every container. @default "/navarch" */
  cgroupParent?: string;
  /** @default "io.containerd.runc.v2" */
  runtimeName?: string;
  /** runc's state dir for our containers; tests give each containerd its own. @default runc's (/run/containerd/runc) */
  runcRoot?: string;
  clock?: Clock;
  /**
   * How often running containers are checked against containerd's task list, so that an exit the
   * event stream missed (containerd restarting) is still reported. @default 5000
   */
  relistIntervalMs?: number;
  onError?: (e: Error) => void;
}

/**
 * The runc shim's options (containerd.runc.v1.Options in runtime/v2/runc/options/oci.proto) with only
 * `root` (field 7) set; written by hand since it is the one field we use.
 */
function runcOptions(root: string) {
  return { typeUrl: 'containerd.runc.v1.Options', value: Buffer.from(new BinaryWriter().tag(7, WireType.LengthDelimited).string(root).finish()) };
}

const SIGNALS = { SIGTERM: 15, SIGKILL: 9 } as const;
/** How long removeContainer waits for a killed task to exit. */
const KILL_WAIT_MS = 10_000;

export class ContainerdRuntime implements ContainerRuntime {
  readonly client: ContainerdClient;
  private readonly stateDir: string;
  private readonly cgroupParent: string;
  private readonly runtimeName: string;
  private readonly clock: Clock;
  private readonly listeners = new Set<(e: RuntimeEvent) => void>();
  private readonly copiers = new Map<string, LogCopier>();
  private readonly events: TaskEvents;
  /** Containers we saw start and not yet exit: the ones a relist checks. */
  private readonly running = new Set<string>();
  private readonly fifos: FifoPool;
  private relistTimer: TimerHandle | undefined;
  private closed = false;
  private readonly options: ContainerdRuntimeOptions;

  private constructor(options: ContainerdRuntimeOptions, client: ContainerdClient) {
    this.options = options;
    this.client = client;
    this.stateDir = options.stateDir ?? join('/run/navarch/containerd', client.namespace);
    this.cgroupParent = options.cgroupParent ?? '/navarch';
    this.runtimeName = options.runtimeName ?? 'io.containerd.runc.v2';
    this.clock = options.clock ?? realClock;
    this.fifos = new FifoPool(join(this.stateDir, '.fifo-pool'));
    this.events = new TaskEvents(client, this.clock, (e) => this.onTaskEvent(e), (e) => options.onError?.(e));
    this.scheduleRelist();
  }

  /** Connects (a clear error when containerd is not there) and resumes copying running containers' logs. */
  static async connect(options: ContainerdRuntimeOptions): Promise<ContainerdRuntime> {
    const client = new ContainerdClient({ socketPath: options.socketPath, namespace: options.namespace ?? DEFAULT_NAMESPACE });
    try {
      await client.version();
    } catch (e) {
      client.close();
      throw e;
    }
    const rt = new ContainerdRuntime(options, client);
    await mkdir(rt.stateDir, { recursive: true, mode: 0o700 });
    await rt.resumeLogs();
    return rt;
  }

  version(): Promise<string> {
    return this.client.version();
  }

  pullImage(ref: string, credentials: readonly RegistryCredential[] = []): Promise<ImageInfo> {
    return pullImage(this.client, ref, credentials);
  }

  imageStatus(ref: string): Promise<ImageInfo | undefined> {
    return imageStatus(this.client, ref);
  }

  async importImage(archivePath: string): Promise<ImageInfo[]> {
    const stored = await importArchive(this.client, archivePath);
    const out: ImageInfo[] = [];
    for (const s of stored) {
      const got = await getImage(this.client, s.name);
      if (got) out.push(toImageInfo(got.image, got.manifestDigest));
    }
    return out;
  }

  private fifoDir(id: string): string {
    return join(this.stateDir, id);
  }

  private fifoPaths(id: string): StdioPaths {
    const dir = this.fifoDir(id);
    return { dir, stdout: join(dir, 'stdout'), stderr: join(dir, 'stderr') };
  }

  createContainer(config: ContainerConfig): Promise<void> {
    return this.create(config, false);
  }

  private async create(config: ContainerConfig, retried: boolean): Promise<void> {
    checkConfig(config);
    const found = await getImage(this.client, config.image);
    if (!found) throw new ContainerdError(`Cannot create container ${config.id}: image "${config.image}" is not present; pull it first`, status.NOT_FOUND);
    const image = toImageInfo(found.image, found.manifestDigest);
    const diffIds = found.image.config.rootfs.diff_ids;
    // /etc/hostname holds the pod's name, as under Kubernetes; the file goes with the FIFOs' dir.
    let hostnamePath: string | undefined;
    if (config.hostname) {
      await mkdir(this.fifoDir(config.id), { recursive: true, mode: 0o700 });
      hostnamePath = join(this.fifoDir(config.id), 'hostname');
      await writeFile(hostnamePath, `${config.hostname}\n`, { mode: 0o644 });
    }
    const spec = buildSpec(config, image, `${this.cgroupParent}/${config.id}`, { hostnamePath });
    const labels = containerLabels(config, found.manifestDigest);
    const { containers: c, snapshots: s, tasks: t } = this.client;
    const chain = chainIds(diffIds);
    let created = false;
    try {
      const mounts = await withLease(this.client, async (ctx) => {
        const prepared = await this.client.unary('Snapshots.Prepare', s.prepare.bind(s), { snapshotter: SNAPSHOTTER, key: config.id, parent: chain[chain.length - 1] ?? '', labels: {} }, ctx);
        await this.client.unary(
          'Containers.Create',
          c.create.bind(c),
          {
            container: {
              id: config.id,
              labels,
              image: image.ref,
              runtime: { name: this.runtimeName, ...(this.options.runcRoot ? { options: runcOptions(this.options.runcRoot) } : {}) },
              spec: { typeUrl: SPEC_TYPE_URL, value: Buffer.from(JSON.stringify(spec)) },
              snapshotter: SNAPSHOTTER,
              snapshotKey: config.id,
              extensions: {},
            },
          },
          ctx,
        );
        created = true;
        return prepared.mounts;
      });
      await ensureLogDir(config.logPath);
      const paths = await makeFifos(this.fifoDir(config.id), { stdin: false, stderr: true }, this.fifos);
      const copier = new LogCopier(paths, config.logPath, { keepOpen: true, nowMs: () => this.clock.nowMs() });
      this.copiers.set(config.id, copier);
      await this.client.unary('Tasks.Create', t.create.bind(t), {
        containerId: config.id,
        rootfs: mounts,
        stdin: '',
        stdout: paths.stdout,
        stderr: paths.stderr ?? '',
        terminal: false,
        runtimePath: '',
      });
    } catch (e) {
      if (isAlreadyExists(e) && !created) {
        // A snapshot without its container is what an agent that died midway through a create
        // leaves (its lease keeps it for an hour): drop it and create again, once.
        if (!retried && !(await this.containerStatus(config.id))) {
          await this.client.unary('Snapshots.Remove', s.remove.bind(s), { snapshotter: SNAPSHOTTER, key: config.id }).catch(() => undefined);
          return this.create(config, true);
        }
        throw new ContainerdError(`Cannot create container ${config.id}: it already exists`, status.ALREADY_EXISTS, { cause: e });
      }
      await this.removeContainer(config.id).catch(() => undefined);
      throw e;
    }
  }

  async startContainer(id: string): Promise<void> {
    const t = this.client.tasks;
    // Tracked before Start: an immediate exit's event may arrive before Start's answer.
    this.running.add(id);
    try {
      await this.client.unary('Tasks.Start', t.start.bind(t), { containerId: id, execId: '' });
    } catch (e) {
      this.running.delete(id);
      throw e;
    }
    await this.setLabel(id, LABEL.startedAt, String(this.clock.nowMs()));
  }

  private async setLabel(id: string, key: string, value: string): Promise<void> {
    const c = this.client.containers;
    const got = await this.client.unary('Containers.Get', c.get.bind(c), { id });
    const container = got.container!;
    await this.client.unary('Containers.Update', c.update.bind(c), { container: { ...container, labels: { ...container.labels, [key]: value } }, updateMask: [`labels.${key}`] });
  }

  async signalContainer(id: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const t = this.client.tasks;
    try {
      await this.client.unary('Tasks.Kill', t.kill.bind(t), { containerId: id, execId: '', signal: SIGNALS[signal], all: false });
    } catch (e) {
      // Not running (never started, exited, gone) is what the caller wanted anyway.
      if (isNotFound(e) || (e instanceof ContainerdError && e.code === status.FAILED_PRECONDITION)) return;
      throw e;
    }
  }

  async removeContainer(id: string): Promise<void> {
    const { containers: c, snapshots: s, tasks: t } = this.client;
    const task = await this.getTask(id);
    if (task) {
      if (task.status !== 3 /* STOPPED */) {
        const waited = this.client.unary('Tasks.Wait', t.wait.bind(t), { containerId: id, execId: '' }, { timeoutMs: KILL_WAIT_MS }).catch(() => undefined);
        await this.client.unary('Tasks.Kill', t.kill.bind(t), { containerId: id, execId: '', signal: SIGNALS.SIGKILL, all: true }).catch(() => undefined);
        await waited;
      }
      await this.client.unary('Tasks.Delete', t.delete.bind(t), { containerId: id }).catch((e) => {
        if (!isNotFound(e)) throw e;
      });
    }
    this.running.delete(id);
    const copier = this.copiers.get(id);
    if (copier) {
      copier.release();
      copier.close();
      this.copiers.delete(id);
    }
    await removeFifos(this.fifoDir(id));
    await this.client.unary('Containers.Delete', c.delete.bind(c), { id }).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
    await this.client.unary('Snapshots.Remove', s.remove.bind(s), { snapshotter: SNAPSHOTTER, key: id }).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
  }

  /**
   * A SIGKILLed container whose OOM event has not been recorded yet (the event and the exit race)
   * still shows OOMKilled when its memory cgroup counted an OOM kill.
   */
  private withOomCheck(s: ContainerState): ContainerState {
    if (s.phase !== 'exited' || s.exitCode !== 137 || s.reason === 'OOMKilled') return s;
    // cgroups v1 counts OOM kills in memory.oom_control, v2 in memory.events.
    for (const file of [`/sys/fs/cgroup/memory${this.cgroupParent}/${s.id}/memory.oom_control`, `/sys/fs/cgroup${this.cgroupParent}/${s.id}/memory.events`]) {
      try {
        if (/^oom_kill [1-9]/m.test(readFileSync(file, 'utf8'))) return { ...s, reason: 'OOMKilled' };
      } catch {
        // Not this cgroup version, or the cgroup is gone: the event is all we have.
      }
    }
    return s;
  }

  private async getTask(id: string): Promise<Process | undefined> {
    const t = this.client.tasks;
    try {
      return (await this.client.unary('Tasks.Get', t.get.bind(t), { containerId: id, execId: '' })).process;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async listContainers(filter: { podUid?: string } = {}): Promise<ContainerState[]> {
    const { containers: c, tasks: t } = this.client;
    if (filter.podUid !== undefined) {
      // One pod's: its containers by label, then each one's task (Tasks.List asks every shim).
      const mine = await this.client.unary('Containers.List', c.list.bind(c), { filters: [`labels."${LABEL.podUid}"==${JSON.stringify(filter.podUid)}`] });
      return Promise.all(mine.containers.map(async (x) => this.withOomCheck(toState(x, await this.getTask(x.id)))));
    }
    const [list, tasks] = await Promise.all([this.client.unary('Containers.List', c.list.bind(c), { filters: [] }), this.client.unary('Tasks.List', t.list.bind(t), { filter: '' })]);
    const byId = new Map(tasks.tasks.map((p) => [p.id, p]));
    return list.containers.map((x) => this.withOomCheck(toState(x, byId.get(x.id))));
  }

  async containerStatus(id: string): Promise<ContainerState | undefined> {
    const c = this.client.containers;
    try {
      const got = await this.client.unary('Containers.Get', c.get.bind(c), { id });
      return this.withOomCheck(toState(got.container!, await this.getTask(id)));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  exec(id: string, options: ExecOptions): Promise<ExecSession> {
    return execInContainer(this.client, id, this.stateDir, this.fifos, options);
  }

  stats(id: string): Promise<ContainerStats | undefined> {
    return containerStats(this.client, id, this.clock.nowMs());
  }

  subscribe(listener: (e: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: RuntimeEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.options.onError?.(err as Error);
      }
    }
  }

  private onTaskEvent(e: TaskEvent): void {
    switch (e.type) {
      case 'exit':
        if (!e.execId) this.exited(e.containerId, e.exitCode, e.atMs);
        return;
      case 'start':
        this.running.add(e.containerId);
        this.emit({ type: 'started', id: e.containerId });
        return;
      case 'delete':
        this.emit({ type: 'deleted', id: e.containerId });
        return;
      case 'oom':
        this.setLabel(e.containerId, LABEL.oomKilled, 'true').catch((err) => this.options.onError?.(err as Error));
        return;
    }
  }

  /** Reports an exit once, whether the event stream or a relist saw it first. */
  private exited(id: string, exitCode: number, atMs: number): void {
    if (!this.running.delete(id)) return;
    const copier = this.copiers.get(id);
    if (copier) {
      copier.release();
      void copier.done.then(() => this.copiers.get(id) === copier && this.copiers.delete(id));
    }
    this.emit({ type: 'exited', id, exitCode, atMs });
  }

  private scheduleRelist(): void {
    if (this.closed) return;
    this.relistTimer = this.clock.setTimeout(() => {
      this.relist()
        .catch((e) => this.options.onError?.(e as Error))
        .finally(() => this.scheduleRelist());
    }, this.options.relistIntervalMs ?? 5000);
  }

  /** Exits the event stream missed: a running container whose task stopped or vanished. */
  async relist(): Promise<void> {
    if (this.running.size === 0) return;
    const t = this.client.tasks;
    const tasks = new Map((await this.client.unary('Tasks.List', t.list.bind(t), { filter: '' }, { timeoutMs: 10_000 })).tasks.map((p) => [p.id, p]));
    for (const id of [...this.running]) {
      const p = tasks.get(id);
      if (!p) this.exited(id, 255, this.clock.nowMs());
      else if (p.status === 3 /* STOPPED */) this.exited(id, p.exitStatus, p.exitedAt?.getTime() ?? this.clock.nowMs());
    }
  }

  /** Reopens the output FIFOs of containers whose task is still there (agent restart). */
  private async resumeLogs(): Promise<void> {
    for (const s of await this.listContainers()) {
      if (s.phase === 'running') this.running.add(s.id);
      if (s.phase === 'unknown' || !s.logPath || this.copiers.has(s.id)) continue;
      try {
        await ensureLogDir(s.logPath);
        const copier = new LogCopier(this.fifoPaths(s.id), s.logPath, { keepOpen: false, nowMs: () => this.clock.nowMs() });
        this.copiers.set(s.id, copier);
        void copier.done.then(() => this.copiers.get(s.id) === copier && this.copiers.delete(s.id));
      } catch (e) {
        // FIFOs gone (a reboot, another state dir): the output written while we were away is lost.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.options.onError?.(e as Error);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.relistTimer !== undefined) this.clock.clearTimeout(this.relistTimer);
    this.events.close();
    for (const c of this.copiers.values()) c.close();
    this.copiers.clear();
    this.client.close();
  }
}
