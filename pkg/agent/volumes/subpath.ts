// volumeMounts[].subPath: a path inside the volume, mounted instead of the whole volume. A subPath
// must stay inside its volume: it is relative, has no '..', and no symlink along it (which a
// container could have planted in a shared volume) may lead outside. Missing directories along it
// are created, as the kubelet does. The result is the resolved path, free of symlinks.

import { constants } from 'node:fs';
import { lstat, mkdir, open, realpath, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export class SubPathError extends Error {
  override name = 'SubPathError';
}

function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root === '/' ? '/' : root + '/');
}

/** The host path of `subPath` within `volumeRoot`; throws SubPathError when it is invalid or escapes. */
export async function resolveSubPath(volumeRoot: string, subPath: string): Promise<string> {
  if (subPath.startsWith('/')) throw new SubPathError(`subPath ${JSON.stringify(subPath)} must be a relative path`);
  const parts = subPath.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new SubPathError(`subPath ${JSON.stringify(subPath)} must not contain '..'`);
  const root = await realpath(volumeRoot);
  let cur = root;
  for (const part of parts) {
    const next = join(cur, part);
    let isLink = false;
    try {
      isLink = (await lstat(next)).isSymbolicLink();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(next, { mode: 0o755 });
    }
    let resolved = next;
    if (isLink) {
      try {
        resolved = await realpath(next);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SubPathError(`subPath ${JSON.stringify(subPath)}: ${part} is a dangling symlink`);
        throw err;
      }
    }
    if (!inside(root, resolved)) throw new SubPathError(`subPath ${JSON.stringify(subPath)} leads outside its volume (through ${part})`);
    cur = resolved;
  }
  return cur;
}

/**
 * Pins a checked subPath: bind-mounts exactly the file or directory reached by walking from the
 * volume root without following any symlink onto `target`, so a symlink swapped in by a container
 * between the check and the container's start cannot redirect the mount (CVE-2017-1002101). Each
 * step opens the next component through /proc/self/fd/<parent> with O_NOFOLLOW, as openat(2) would.
 */
export async function pinSubPath(volumeRoot: string, resolved: string, target: string, bind: (sourcePath: string, target: string) => Promise<void>): Promise<void> {
  const root = await realpath(volumeRoot);
  if (!inside(root, resolved)) throw new SubPathError(`subPath ${resolved} is outside its volume`);
  const parts = resolved === root ? [] : resolved.slice(root.length + 1).split('/');
  const fds: FileHandle[] = [];
  try {
    fds.push(await open(root, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW));
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | (last ? 0 : constants.O_DIRECTORY);
      try {
        fds.push(await open(`/proc/self/fd/${fds[fds.length - 1].fd}/${part}`, flags));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENOENT') throw new SubPathError(`subPath changed while it was being mounted (${part}: ${code})`);
        throw err;
      }
    }
    const final = fds[fds.length - 1];
    const isDir = (await final.stat()).isDirectory();
    await mkdir(dirname(target), { recursive: true, mode: 0o750 });
    try {
      await (isDir ? mkdir(target) : writeFile(target, '', { flag: 'wx' }));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    await bind(`/proc/${process.pid}/fd/${final.fd}`, target);
  } finally {
    for (const fd of fds.reverse()) await fd.close();
  }
}
