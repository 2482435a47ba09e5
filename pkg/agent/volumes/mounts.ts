// tmpfs mounts for memory-backed emptyDirs and secret volumes, and finding what is mounted under a
// pod's directory (from /proc/self/mountinfo, so it survives an agent restart) to unmount it before
// the directory is removed. mount(8) and umount(8) come from util-linux, present on every Debian.

import { execFile } from 'node:child_process';
import { readFile, realpath } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The mount point field of mountinfo, with its octal escapes (\040 for a space) decoded. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Every mount point of this process's mount namespace. */
export async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => unescapeMountPath(l.split(' ')[4]));
}

export async function isMountPoint(path: string): Promise<boolean> {
  const real = await realpath(path);
  return (await mountPoints()).includes(real);
}

/** Mount points at or under `dir`, deepest first (the order to unmount them in). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const real = await realpath(dir);
  return [...new Set((await mountPoints()).filter((m) => m === real || m.startsWith(real + '/')))].sort((a, b) => b.length - a.length);
}

/** Mounts a tmpfs on `dir` (mode of its root, optional size in bytes); a no-op when one is already there. */
export async function mountTmpfs(dir: string, o: { mode: number; sizeBytes?: number }): Promise<void> {
  if (await isMountPoint(dir)) return;
  const options = [`mode=${o.mode.toString(8).padStart(4, '0')}`, 'nodev', 'nosuid'];
  if (o.sizeBytes !== undefined) options.push(`size=${o.sizeBytes}`);
  try {
    await run('mount', ['-t', 'tmpfs', '-o', options.join(','), 'tmpfs', dir]);
  } catch (err) {
    throw new Error(`Cannot mount a tmpfs on ${dir}: ${((err as { stderr?: string }).stderr ?? String(err)).trim()}`);
  }
}

export async function unmount(dir: string): Promise<void> {
  try {
    await run('umount', [dir]);
  } catch (err) {
    throw new Error(`Cannot unmount ${dir}: ${((err as { stderr?: string }).stderr ?? String(err)).trim()}`);
  }
}

/** Bind-mounts `source` onto `target`, replacing a bind already there (a container restart re-checks its subPaths). */
export async function bindMount(source: string, target: string): Promise<void> {
  if (await isMountPoint(target)) await unmount(target);
  try {
    // --no-canonicalize: the kernel, not mount(8), must resolve a /proc/<pid>/fd/<n> source.
    await run('mount', ['--no-canonicalize', '--bind', source, target]);
  } catch (err) {
    throw new Error(`Cannot bind-mount ${source} on ${target}: ${((err as { stderr?: string }).stderr ?? String(err)).trim()}`);
  }
}
