// Container log files on disk, laid out as the kubelet's: <podsDir>/<namespace>_<name>_<uid>/<container>/<attempt>.log.

import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from '../../../gen/navarch/api/v1/core.js';
import type { LogDirs } from './ports.js';

export function podLogDir(podsDir: string, namespace: string, name: string, uid: string): string {
  return join(podsDir, `${namespace}_${name}_${uid}`);
}

export function containerLogPath(podsDir: string, pod: Pod, containerName: string, attempt: number): string {
  const m = pod.metadata;
  return join(podLogDir(podsDir, m?.namespace ?? '', m?.name ?? '', m?.uid ?? ''), containerName, `${attempt}.log`);
}

export class FsLogDirs implements LogDirs {
  constructor(readonly podsDir: string) {}

  containerDir(namespace: string, name: string, uid: string, containerName: string): string {
    return join(podLogDir(this.podsDir, namespace, name, uid), containerName);
  }

  async prepare(pod: Pod, containerName: string, attempt: number): Promise<string> {
    const path = containerLogPath(this.podsDir, pod, containerName, attempt);
    await mkdir(join(path, '..'), { recursive: true });
    return path;
  }

  async removePod(namespace: string, name: string, uid: string): Promise<void> {
    await rm(podLogDir(this.podsDir, namespace, name, uid), { recursive: true, force: true });
  }

  async removeOrphans(keepUids: ReadonlySet<string>): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.podsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const n of names) {
      const uid = n.slice(n.lastIndexOf('_') + 1);
      if (n.split('_').length === 3 && !keepUids.has(uid)) await rm(join(this.podsDir, n), { recursive: true, force: true });
    }
  }
}
