// Network namespaces kept alive by a bind mount on a file (what `ip netns add` does, in a directory
// of our choosing): `unshare --net=FILE true` creates one, a lazy unmount and unlink remove it.
// With the default directory /run/netns, `ip netns list` and `ip netns exec` see the pods' namespaces.

import { execFile } from 'node:child_process';
import { mkdir, open, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TOOL_TIMEOUT_MS = 10_000;

/** Whether a namespace is mounted at path (an nsfs mount has its own device, unlike the file under it). */
export async function netnsMounted(path: string): Promise<boolean> {
  try {
    const [file, dir] = await Promise.all([stat(path), stat(dirname(path))]);
    return file.dev !== dir.dev;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** Creates a new network namespace mounted at path; one already there is kept. */
export async function createNetns(path: string): Promise<void> {
  if (await netnsMounted(path)) return;
  await mkdir(dirname(path), { recursive: true });
  await (await open(path, 'a')).close();
  try {
    await run('unshare', [`--net=${path}`, 'true'], { timeout: TOOL_TIMEOUT_MS });
  } catch (e) {
    await unlink(path).catch(() => {});
    throw new Error(`Cannot create the network namespace ${path}: ${toolError(e)}`);
  }
}

/** Unmounts and removes the namespace at path; one that is not there is not an error. */
export async function deleteNetns(path: string): Promise<void> {
  if (await netnsMounted(path)) {
    try {
      // Lazy: a process still inside (a container being killed) does not block the removal.
      await run('umount', ['--lazy', path], { timeout: TOOL_TIMEOUT_MS });
    } catch (e) {
      if (await netnsMounted(path)) throw new Error(`Cannot remove the network namespace ${path}: ${toolError(e)}`);
    }
  }
  await unlink(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw new Error(`Cannot remove the network namespace file ${path}: ${e.message}`);
  });
}

function toolError(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  return (err.stderr?.trim() || err.message || String(e)).split('\n')[0];
}
