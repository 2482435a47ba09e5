// What the agent set up for each pod, one JSON file per pod uid, so that status() and tearDown()
// work after an agent restart: the namespace, the configuration list the pod was attached with
// (DEL must run the same plugins with the same settings) and the chain's result. A record is
// written before the namespace is created and removed after it is gone, so every namespace the
// agent made has a record to find it by.

import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { NetConfList } from './conflist.js';
import type { PodNetworkRequest } from './pod_network.js';

export interface PodRecord {
  podUid: string;
  podName: string;
  podNamespace: string;
  containerId: string;
  netnsPath: string;
  ifName: string;
  portMappings: PodNetworkRequest['portMappings'];
  conflist: NetConfList;
  /** The chain's final result; absent until ADD has completed. */
  result?: Record<string, unknown>;
  /** The pod's IPv4 address, from the result. */
  ip?: string;
}

const SUFFIX = '.json';

export class PodRecords {
  constructor(readonly dir: string) {}

  private path(podUid: string): string {
    return join(this.dir, `${podUid}${SUFFIX}`);
  }

  async get(podUid: string): Promise<PodRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.path(podUid), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      const r = JSON.parse(text) as PodRecord;
      if (r.podUid !== podUid || typeof r.netnsPath !== 'string' || typeof r.conflist !== 'object') throw new Error('fields missing');
      return r;
    } catch (e) {
      throw new Error(`Cannot read the network record of pod uid ${podUid} at ${this.path(podUid)}: ${(e as Error).message}`);
    }
  }

  /** Writes the record durably: a temporary file, fsync, then rename over the old one. */
  async put(r: PodRecord): Promise<void> {
    const path = this.path(r.podUid);
    const tmp = `${path}.tmp`;
    const f = await open(tmp, 'w', 0o600);
    try {
      await f.writeFile(JSON.stringify(r, null, 1));
      await f.sync();
    } finally {
      await f.close();
    }
    await rename(tmp, path);
  }

  async remove(podUid: string): Promise<void> {
    await unlink(this.path(podUid)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  async uids(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names.filter((n) => n.endsWith(SUFFIX)).map((n) => n.slice(0, -SUFFIX.length)).sort();
  }
}
