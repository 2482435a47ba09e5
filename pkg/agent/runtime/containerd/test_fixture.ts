// Test support: a containerd of the test's own with the busybox image imported, a network namespace,
// and helpers to wait for container states. Everything is undone by cleanup().

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../../../localcluster/until.js';
import { buildBusyboxImage, writeOciArchive } from '../../../oci/mod.js';
import type { ContainerConfig, ContainerState, ImageInfo } from '../runtime.js';
import { ContainerdRuntime } from './containerd_runtime.js';
import { startContainerd, type TestContainerd } from './test_containerd.js';

export interface Fixture {
  containerd: TestContainerd;
  runtime: ContainerdRuntime;
  dir: string;
  archivePath: string;
  image: ImageInfo;
  netnsPath: string;
  /** A second runtime object on the same socket and state dir (an agent restart). */
  reconnect(): Promise<ContainerdRuntime>;
  cgroupParent: string;
  config(id: string, argv: string[], extra?: Partial<ContainerConfig>): ContainerConfig;
  cleanup(): Promise<void>;
}

export async function startFixture(namespace = 'navarch-test'): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'navarch-runtime-'));
  const netns = `navarch-rt-${process.pid}-${randomBytes(3).toString('hex')}`;
  let containerd: TestContainerd | undefined;
  const runtimes: ContainerdRuntime[] = [];
  const closed = new WeakSet<ContainerdRuntime>();
  const cgroupParent = `/navarch-test-${process.pid}-${randomBytes(3).toString('hex')}`;
  const cleanup = async () => {
    // Remove what the tests left (tasks killed, snapshots and FIFOs gone), then stop containerd.
    const live = runtimes.find((r) => !closed.has(r));
    if (live) {
      for (const c of await live.listContainers().catch(() => [])) await live.removeContainer(c.id).catch(() => undefined);
    }
    for (const r of runtimes) await r.close().catch(() => undefined);
    await containerd?.stop();
    await removeCgroup(cgroupParent);
    try {
      execFileSync('ip', ['netns', 'delete', netns], { stdio: 'ignore' });
    } catch {
      /* not created */
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    execFileSync('ip', ['netns', 'add', netns]);
    containerd = await startContainerd();
    const stateDir = join(containerd.dir, 'navarch-state');
    const connect = async () => {
      const r = await ContainerdRuntime.connect({ socketPath: containerd!.socketPath, namespace, stateDir, cgroupParent, runcRoot: join(containerd!.dir, 'runc') });
      runtimes.push(r);
      const close = r.close.bind(r);
      r.close = () => (closed.add(r), close());
      return r;
    };
    const runtime = await connect();
    const img = await buildBusyboxImage(join(dir, 'layout'), { ref: '127.0.0.1:5000/navarch/busybox:test' });
    const archivePath = join(dir, 'busybox.tar');
    await writeOciArchive(img.layoutDir, archivePath);
    const [image] = await runtime.importImage(archivePath);
    const netnsPath = `/run/netns/${netns}`;
    return {
      containerd,
      runtime,
      dir,
      archivePath,
      image: image!,
      netnsPath,
      cgroupParent,
      reconnect: connect,
      config: (id, argv, extra = {}) => ({
        id,
        podUid: `uid-${id}`,
        podName: `pod-${id}`,
        podNamespace: 'default',
        containerName: 'main',
        attempt: 0,
        image: image!.ref,
        argv,
        env: [],
        mounts: [],
        netnsPath,
        hostname: `pod-${id}`,
        resources: {},
        logPath: join(dir, 'logs', id, '0.log'),
        labels: {},
        ...extra,
      }),
      cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

export function waitForState(rt: ContainerdRuntime, id: string, phase: ContainerState['phase'], timeoutMs = 30_000): Promise<ContainerState> {
  return until(`container ${id} to be ${phase}`, async () => {
    const s = await rt.containerStatus(id);
    return s?.phase === phase ? s : undefined;
  }, timeoutMs);
}

/** The texts of the log file's records for one stream, once `pred` holds for them. */
export function waitForLog(path: string, pred: (lines: string[]) => boolean, timeoutMs = 30_000): Promise<string[]> {
  return until(`log ${path} to have the expected lines`, async () => {
    const lines = (await readFile(path, 'utf8').catch(() => ''))
      .split('\n')
      .filter((l) => l)
      .map((l) => l.split(' ').slice(1).join(' '));
    return pred(lines) ? lines : undefined;
  }, timeoutMs);
}

/**
 * Kills what still runs in the test's cgroup parent (a test that failed midway leaves containers
 * whose shims are gone), waits for it to be gone, then removes the parent in every v1 hierarchy.
 */
async function removeCgroup(parent: string): Promise<void> {
  // v1: one tree per controller; v2: the one unified tree.
  const dirs = [...readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h, parent)), join('/sys/fs/cgroup', parent)].filter((d) => existsSync(d));
  const procsUnder = (d: string): number[] => {
    const out: number[] = [];
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) out.push(...procsUnder(join(d, e.name)));
    const file = join(d, 'cgroup.procs');
    if (existsSync(file)) out.push(...readFileSync(file, 'utf8').split('\n').filter((l) => l).map(Number));
    return out;
  };
  const alive = () => dirs.flatMap((d) => (existsSync(d) ? procsUnder(d) : []));
  for (const pid of new Set(alive())) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await until('the test cgroup to empty', () => alive().length === 0, 10_000).catch(() => undefined);
  const rmTree = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rmTree(join(d, e.name));
    try {
      rmdirSync(d);
    } catch {
      /* still busy */
    }
  };
  for (const d of dirs) if (existsSync(d)) rmTree(d);
}

/** Where a container's cgroup files for `controller` are: per-controller dirs under v1, one dir under v2. */
export function cgroupDir(controller: 'memory' | 'cpu', path: string): string {
  return existsSync('/sys/fs/cgroup/cgroup.controllers') ? join('/sys/fs/cgroup', path) : join('/sys/fs/cgroup', controller, path);
}

export const CGROUP_V2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
