// A containerd of the local cluster's own: config, root, state and socket under one directory, so
// it never touches a system containerd. Started detached by `navarch up` (it outlives the command)
// and stopped by `navarch down` by its recorded PID, after the agent has removed the pods.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { until } from './until.js';

export interface LocalContainerdPaths {
  dir: string;
  config: string;
  socketPath: string;
  log: string;
}

export function localContainerdPaths(dir: string): LocalContainerdPaths {
  return { dir, config: join(dir, 'config.toml'), socketPath: join(dir, 'containerd.sock'), log: join(dir, 'containerd.log') };
}

/** containerd's config for a private instance: everything under `dir`, no CRI plugin (we drive containerd directly). */
export function containerdConfig(dir: string, socketPath: string): string {
  return [
    'version = 2',
    `root = "${join(dir, 'root')}"`,
    `state = "${join(dir, 'state')}"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]',
    '[grpc]',
    `  address = "${socketPath}"`,
    '[ttrpc]',
    `  address = "${socketPath}.ttrpc"`,
    '[debug]',
    `  address = "${socketPath}.debug"`,
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = "${join(dir, 'opt')}"`,
    '',
  ].join('\n');
}

/** Whether pid is a containerd running with this directory's config (a reused PID is not ours). */
export function isOurContainerd(pid: number, dir: string): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return (args[0] ?? '').endsWith('containerd') && args.includes(localContainerdPaths(dir).config);
  } catch {
    return false;
  }
}

/** Starts containerd detached on `dir`, and waits for its socket. */
export async function startLocalContainerd(dir: string, timeoutMs = 60_000): Promise<{ pid: number } & LocalContainerdPaths> {
  const paths = localContainerdPaths(dir);
  mkdirSync(dir, { recursive: true });
  writeFileSync(paths.config, containerdConfig(dir, paths.socketPath));
  const out = openSync(paths.log, 'a');
  const child = spawn('containerd', ['--config', paths.config], { stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`Cannot start containerd (is Debian's containerd package installed?); see ${paths.log}`);
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', () => (exited = true));
  const tail = (): string => readFileSync(paths.log, 'utf8').trimEnd().split('\n').slice(-10).join('\n');
  let state: 'exited' | 'ready';
  try {
    state = await until('containerd to listen on its socket', () => (exited ? 'exited' : existsSync(paths.socketPath) ? 'ready' : undefined), timeoutMs);
  } catch (e) {
    process.kill(pid, 'SIGKILL');
    throw new Error(`${(e as Error).message}; last lines of ${paths.log}:\n${tail()}`);
  }
  if (state === 'exited') throw new Error(`containerd exited while starting; last lines of ${paths.log}:\n${tail()}`);
  return { pid, ...paths };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Not ours (PID reused): nothing. */
export async function stopLocalContainerd(pid: number, dir: string, graceMs = 10_000): Promise<boolean> {
  if (!isOurContainerd(pid, dir)) return false;
  process.kill(pid, 'SIGTERM');
  try {
    await until('containerd to exit', () => !isOurContainerd(pid, dir), graceMs);
  } catch {
    if (isOurContainerd(pid, dir)) process.kill(pid, 'SIGKILL');
    await until('containerd to exit after SIGKILL', () => !isOurContainerd(pid, dir), 5_000);
  }
  return true;
}
