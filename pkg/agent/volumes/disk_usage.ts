// Disk used under a directory (allocated blocks of everything in it, as du counts), for the
// sizeLimit of disk-backed emptyDirs. Symlinks are not followed; the walk stops early once the
// total passes `stopAboveBytes`, so checking a volume far over its limit stays cheap.

import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function diskUsageBytes(dir: string, stopAboveBytes = Number.POSITIVE_INFINITY): Promise<number> {
  let total = 0;
  const stack = [dir];
  while (stack.length > 0 && total <= stopAboveBytes) {
    const d = stack.pop()!;
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (err) {
      // Removed while we walked: it uses nothing now.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      try {
        total += (await lstat(p)).blocks * 512;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if (e.isDirectory()) stack.push(p);
    }
  }
  return total;
}
