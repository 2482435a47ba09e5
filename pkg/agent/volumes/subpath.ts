// volumeMounts[].subPath: a path inside the volume, mounted instead of the whole volume. A subPath
// must stay inside its volume: it is relative, has no '..', and no symlink along it (which a
// container could have planted in a shared volume) may lead outside. Missing directories along it
// are created, as the kubelet does. The result is the resolved path, free of symlinks.

import { lstat, mkdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';

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
