// The two systems under test, started the same way and seen through the same handle:
// 3 etcd 3.4 members (Debian etcd-server) or 3 `navarch master` processes, all on 127.0.0.1.

import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { LocalMasterCluster } from '../../pkg/localcluster/master_cluster.js';
import { etcdAvailable, startEtcd } from '../etcd_peer.js';
import type { SystemName } from './config.js';
import { pidByCommandLine } from './rss.js';
import { sleep } from './stats.js';

export interface SystemUnderTest {
  name: SystemName;
  /** host:port of every member's client API (etcd v3; on Navarch also the object API). */
  endpoints: string[];
  /** Member pids in endpoint order (undefined when not found). */
  pids(): Array<number | undefined>;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;

/** Waits until a put through each member succeeds, so the first measured request finds a leader. */
async function waitWritable(endpoints: string[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (const host of endpoints) {
    const c = new Etcd3({ hosts: [host], defaultCallOptions: () => ({ deadline: Date.now() + 2000 }) });
    try {
      for (;;) {
        try {
          await c.put('bench/ready').value('1');
          break;
        } catch (e) {
          if (Date.now() > deadline) throw new Error(`Member ${host} did not accept a put within ${READY_TIMEOUT_MS} ms: ${(e as Error).message}`);
          await sleep(100);
        }
      }
    } finally {
      c.close();
    }
  }
}

export interface NavarchOptions {
  snapshotEntries?: number;
  cpuProfDir?: string;
}

export async function startSystem(name: SystemName, dir: string, o: NavarchOptions = {}): Promise<SystemUnderTest> {
  return name === 'etcd' ? startEtcdSystem(join(dir, 'etcd')) : startNavarchSystem(join(dir, 'navarch'), o);
}

async function startEtcdSystem(dir: string): Promise<SystemUnderTest> {
  if (!etcdAvailable()) throw new Error('etcd not found: install Debian etcd-server (make bench-deps)');
  const etcd = await startEtcd(dir);
  const dataDirs = [1, 2, 3].map((i) => join(dir, `e${i}`));
  const pids = new Map<number, number | undefined>();
  const sut: SystemUnderTest = {
    name: 'etcd',
    endpoints: etcd.endpoints,
    pids: () =>
      dataDirs.map((d, i) => {
        if (!pids.get(i)) pids.set(i, pidByCommandLine(['--data-dir', d]));
        return pids.get(i);
      }),
    stop: () => etcd.stop(),
  };
  try {
    await waitWritable(sut.endpoints);
  } catch (e) {
    await etcd.stop();
    throw e;
  }
  return sut;
}

async function startNavarchSystem(dir: string, o: NavarchOptions): Promise<SystemUnderTest> {
  const nodeArgs = o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : undefined;
  const cluster = await LocalMasterCluster.create({ dir, masters: 3, snapshotEntries: o.snapshotEntries, nodeArgs });
  const sut: SystemUnderTest = {
    name: 'navarch',
    endpoints: cluster.members.map((m) => m.clientAddress),
    pids: () => cluster.members.map((m) => (cluster.isRunning(m.id) ? m.pid : undefined)),
    stop: () => cluster.stopAll('SIGTERM'),
  };
  try {
    cluster.startAll();
    await cluster.waitForLeader(READY_TIMEOUT_MS);
    await waitWritable(sut.endpoints);
  } catch (e) {
    await cluster.stopAll('SIGKILL');
    throw new Error(`Navarch did not start (logs in ${dir}): ${(e as Error).message}`);
  }
  return sut;
}
