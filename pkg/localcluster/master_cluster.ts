// Starts `navarch master` processes on 127.0.0.1: `navarch up`, the e2e tests
// and the store benchmarks. Mirrors LocalKvCluster.

import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, isAlive, killAndWait, spawnLogged } from './process.js';
import { EtcdRawClient } from '../etcdserver/raw_client.js';
import { freePort } from './kv_cluster.js';

const ENTRY = join(ROOT, 'cmd/navarch.ts');

/** Where one master listens; `navarch up` records these so a restart keeps its ports. */
export interface MasterAddresses {
  id: number;
  /** master-<id> unless given. */
  name?: string;
  peerAddress: string;
  /** The object API and the etcd-compatible API (one gRPC port). */
  clientAddress: string;
  metricsAddress: string;
}

export interface MasterProcess {
  id: number;
  name: string;
  peerAddress: string;
  /** The object API and the etcd-compatible API (one gRPC port). */
  clientAddress: string;
  metricsAddress: string;
  dataDir: string;
  logFile: string;
  pid: number | undefined;
  child: ChildProcess | undefined;
}

export interface MasterClusterOptions {
  dir: string;
  masters?: number;
  /** Fixed addresses (ids 1..N in order), e.g. those of an earlier run on the same data; otherwise free ports. */
  addresses?: MasterAddresses[];
  /** Detached masters outlive this process (navarch up). */
  detached?: boolean;
  tickMs?: number;
  snapshotEntries?: number;
  nodeArgs?: string[];
}

export class LocalMasterCluster {
  readonly members: MasterProcess[] = [];

  private constructor(private readonly o: MasterClusterOptions) {}

  static async create(o: MasterClusterOptions): Promise<LocalMasterCluster> {
    const c = new LocalMasterCluster(o);
    const n = o.addresses?.length ?? o.masters ?? 3;
    if (o.addresses && o.masters !== undefined && o.masters !== n) throw new RangeError(`${n} addresses given for ${o.masters} masters`);
    for (let id = 1; id <= n; id++) {
      const fixed = o.addresses?.[id - 1];
      if (fixed && fixed.id !== id) throw new RangeError(`Addresses must be for ids 1..${n} in order; entry ${id} is for id ${fixed.id}`);
      const name = fixed?.name ?? `master-${id}`;
      c.members.push({
        id,
        name,
        peerAddress: fixed?.peerAddress ?? `127.0.0.1:${await freePort()}`,
        clientAddress: fixed?.clientAddress ?? `127.0.0.1:${await freePort()}`,
        metricsAddress: fixed?.metricsAddress ?? `127.0.0.1:${await freePort()}`,
        dataDir: join(o.dir, name),
        logFile: join(o.dir, `${name}.log`),
        pid: undefined,
        child: undefined,
      });
    }
    return c;
  }

  /** The client endpoints (object and etcd-compatible API), comma-separated (etcdctl --endpoints). */
  get endpoints(): string {
    return this.members.map((m) => m.clientAddress).join(',');
  }

  member(id: number): MasterProcess {
    const m = this.members.find((x) => x.id === id);
    if (!m) throw new RangeError(`No master ${id}`);
    return m;
  }

  startAll(): void {
    for (const m of this.members) this.start(m.id);
  }

  /** `extraArgs`: more `navarch master` flags for this start only (e.g. --no-scheduler). */
  start(id: number, extraArgs: readonly string[] = []): void {
    const m = this.member(id);
    mkdirSync(m.dataDir, { recursive: true });
    const peers = this.members.map((x) => `${x.id}=${x.peerAddress}`).join(',');
    const clients = this.members.map((x) => `${x.id}=${x.clientAddress}`).join(',');
    const args = [...(this.o.nodeArgs ?? []), '--import', 'tsx', ENTRY, 'master', '--id', String(id), '--name', m.name, '--data-dir', m.dataDir];
    args.push('--peers', peers, '--peer-clients', clients, '--listen-client', m.clientAddress, '--listen-metrics', m.metricsAddress);
    if (this.o.tickMs) args.push('--tick-ms', String(this.o.tickMs));
    if (this.o.snapshotEntries) args.push('--snapshot-entries', String(this.o.snapshotEntries));
    args.push(...extraArgs);
    const child = spawnLogged(args, m.logFile, this.o.detached ?? false);
    m.child = child;
    m.pid = child.pid;
    child.once('exit', () => {
      if (m.child === child) m.child = undefined;
    });
  }

  /** Sends a signal and waits until the process is gone; resolves with its exit code (null when a signal ended it). */
  async kill(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const m = this.member(id);
    const code = await killAndWait(m.child, signal);
    m.child = undefined;
    return code;
  }

  isRunning(id: number): boolean {
    return isAlive(this.member(id).child);
  }

  /** Waits until every running master answers Maintenance.Status naming the same running leader. */
  async waitForLeader(timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const leaders = new Set<number>();
      let answered = 0;
      let running = 0;
      for (const m of this.members) {
        if (!this.isRunning(m.id)) continue;
        running++;
        const c = new EtcdRawClient(m.clientAddress);
        try {
          const s = await c.call('Maintenance', 'Status', {}, 500);
          answered++;
          leaders.add(s.leader);
        } catch (e) {
          last = (e as Error).message;
        } finally {
          c.close();
        }
      }
      if (running === 0) throw new Error(`No master is running (their logs: ${this.members.map((m) => m.logFile).join(', ')})`);
      const [only] = leaders;
      if (answered === running && leaders.size === 1 && only !== 0 && this.isRunning(only)) return only;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`No agreed leader within ${timeoutMs} ms${last ? `: ${last}` : ''}`);
  }

  async stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.all(this.members.map((m) => this.kill(m.id, signal)));
  }
}
