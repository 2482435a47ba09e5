// hostPath type checks, as the kubelet makes them before a container starts: "" checks nothing;
// Directory, File, Socket, CharDevice and BlockDevice require that kind of thing at the path;
// DirectoryOrCreate makes the directory (and its parents, 0755) when nothing is there;
// FileOrCreate makes an empty 0644 file when nothing is there, but not its parent directory.

import { mkdir, stat, writeFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { Stats } from 'node:fs';

export const HOST_PATH_TYPES = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'] as const;
export type HostPathType = (typeof HOST_PATH_TYPES)[number];

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const KINDS: Record<string, [string, (s: Stats) => boolean]> = {
  Directory: ['a directory', (s) => s.isDirectory()],
  DirectoryOrCreate: ['a directory', (s) => s.isDirectory()],
  File: ['a file', (s) => s.isFile()],
  FileOrCreate: ['a file', (s) => s.isFile()],
  Socket: ['a socket', (s) => s.isSocket()],
  CharDevice: ['a character device', (s) => s.isCharacterDevice()],
  BlockDevice: ['a block device', (s) => s.isBlockDevice()],
};

/** Checks (and for the *OrCreate types, makes) the host path; throws an Error saying what is wrong. */
export async function checkHostPath(path: string, type: string): Promise<void> {
  if (!isAbsolute(path)) throw new Error(`hostPath ${JSON.stringify(path)} must be an absolute path`);
  if (!(HOST_PATH_TYPES as readonly string[]).includes(type)) throw new Error(`hostPath type ${JSON.stringify(type)} is not one of ${HOST_PATH_TYPES.filter((t) => t).join(', ')} or ""`);
  if (type === '') return;
  const [what, matches] = KINDS[type];
  let s = await statOrUndefined(path);
  if (s === undefined && type === 'DirectoryOrCreate') {
    await mkdir(path, { recursive: true, mode: 0o755 });
    s = await stat(path);
  } else if (s === undefined && type === 'FileOrCreate') {
    try {
      await writeFile(path, '', { mode: 0o644, flag: 'wx' });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new Error(`hostPath type check failed: cannot create ${path}: its parent directory does not exist`);
      if (code !== 'EEXIST') throw err;
    }
    s = await stat(path);
  }
  if (s === undefined) throw new Error(`hostPath type check failed: ${path} does not exist (type ${type})`);
  if (!matches(s)) throw new Error(`hostPath type check failed: ${path} is not ${what}`);
}
