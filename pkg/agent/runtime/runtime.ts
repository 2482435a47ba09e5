// What the agent needs from a container runtime. containerd (./containerd/) implements it for real
// pods; the fake (./fake.ts) serves unit tests. A pod is a network namespace made by CNI plus one
// container per pod container, each joining that namespace by path: there is no pause container.
// Decisions (restarts, backoff, grace periods, probes) live in the pod worker, on a Clock; the
// runtime only does what it is told and reports what it sees.

/** Credentials for one registry, as Kubernetes' dockerconfigjson "auths" entries carry them. */
export interface RegistryCredential {
  /** Host[:port] the credential is for, e.g. "127.0.0.1:5000" or "registry.example.com". */
  registry: string;
  username?: string;
  password?: string;
  /** base64("user:password"), as in .dockerconfigjson. */
  auth?: string;
  identityToken?: string;
}

export interface ImageInfo {
  /** The reference asked for, normalised (e.g. "127.0.0.1:5000/navarch/busybox:latest"). */
  ref: string;
  /** Digest of the manifest chosen for this platform (sha256:...). */
  digest: string;
  /** Digest of the image config: the "imageID" in containerStatuses. */
  configDigest: string;
  sizeBytes: number;
  /** Entrypoint, Cmd, Env, WorkingDir and User from the image config. */
  config: { entrypoint: string[]; cmd: string[]; env: string[]; workingDir: string; user: string };
}

export interface Mount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

export interface ContainerConfig {
  /** Unique runtime id; the pod worker derives it from pod uid, container name and attempt. */
  id: string;
  podUid: string;
  podName: string;
  podNamespace: string;
  containerName: string;
  /** 0 for the first run of this container in this pod, then 1, 2, ... on each restart. */
  attempt: number;
  /** An image already pulled (ImageInfo.ref). */
  image: string;
  /** The final argv (the pod worker merged command/args with the image's entrypoint/cmd). */
  argv: string[];
  env: { name: string; value: string }[];
  workingDir?: string;
  mounts: Mount[];
  /** Path of the pod's network namespace (e.g. /var/run/netns/navarch-<uid>). */
  netnsPath: string;
  hostname: string;
  /** cgroup limits: cpu from limits (CFS quota) and requests (shares); memory limit. */
  resources: { cpuLimitMillis?: number; cpuRequestMillis?: number; memoryLimitBytes?: number };
  runAsUser?: number;
  runAsGroup?: number;
  /** stdout and stderr go to this file, one line per record: "<RFC3339Nano> stdout|stderr F <text>". */
  logPath: string;
  labels: Record<string, string>;
}

export type ContainerPhase = 'created' | 'running' | 'exited' | 'unknown';

export interface ContainerState {
  id: string;
  podUid: string;
  containerName: string;
  attempt: number;
  image: string;
  imageDigest: string;
  phase: ContainerPhase;
  labels: Record<string, string>;
  createdAtMs: number;
  startedAtMs?: number;
  finishedAtMs?: number;
  exitCode?: number;
  /** Why it exited when the runtime knows better than the code: "OOMKilled", "Error", "Completed". */
  reason?: string;
  pid?: number;
  logPath: string;
}

export interface ExecOptions {
  argv: string[];
  tty: boolean;
  stdin: boolean;
}

/** A running exec: write to stdin, read stdout/stderr (stderr is merged into stdout with a TTY). */
export interface ExecSession {
  stdin: NodeJS.WritableStream | undefined;
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream | undefined;
  resize(cols: number, rows: number): Promise<void>;
  /** The command's exit code once it ends. */
  exit: Promise<number>;
  kill(): Promise<void>;
}

export interface ContainerStats {
  /** Cumulative CPU time used, in nanoseconds. */
  cpuUsageNanos: number;
  memoryWorkingSetBytes: number;
  timestampMs: number;
}

export type RuntimeEvent = { type: 'exited'; id: string; exitCode: number; atMs: number } | { type: 'started'; id: string } | { type: 'deleted'; id: string };

export interface ContainerRuntime {
  /** "containerd 1.6.20", or the fake's name. */
  version(): Promise<string>;
  /** Pulls from the registry (manifest lists resolved to this platform); credentials tried by registry host. */
  pullImage(ref: string, credentials?: readonly RegistryCredential[]): Promise<ImageInfo>;
  /** The image when it is present locally, else undefined. */
  imageStatus(ref: string): Promise<ImageInfo | undefined>;
  /** Imports every image of an OCI archive (a tar of an OCI image layout) under its annotated names. */
  importImage(archivePath: string): Promise<ImageInfo[]>;
  createContainer(config: ContainerConfig): Promise<void>;
  startContainer(id: string): Promise<void>;
  /** Sends a signal to the container's main process; a container that is not running is not an error. */
  signalContainer(id: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Deletes the container and its task and snapshot; a missing container is not an error. */
  removeContainer(id: string): Promise<void>;
  /**
   * Every container this runtime made (in its own namespace), with its current state; with a pod
   * uid, only that pod's (the pod workers ask per sync, and asking for all costs one shim call per task).
   */
  listContainers(filter?: { podUid?: string }): Promise<ContainerState[]>;
  containerStatus(id: string): Promise<ContainerState | undefined>;
  exec(id: string, options: ExecOptions): Promise<ExecSession>;
  stats(id: string): Promise<ContainerStats | undefined>;
  /** Exits and other changes as they happen; returns the unsubscribe function. */
  subscribe(listener: (e: RuntimeEvent) => void): () => void;
  close(): Promise<void>;
}
