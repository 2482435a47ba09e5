// Starts Raft KV members as separate processes on 127.0.0.1: `navarch up`,
// the e2e tests and the benchmarks all use this one launcher.

import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { freePort } from '../../raft/transport/free_port.js';
import { join } from 'node:path';
import { ROOT, isAlive, killAndWait, spawnLogged } from './process.js';
import { RaftKvClient, type Endpoint } from '../raftkv/client.js';

const ENTRY = join(ROOT, 'cmd/navarch.ts');

export interface MemberProcess {
  id: number;
  peerAddress: string;
  clientAddress: string;
  dataDir: string;
  logFile: string;
  pid: number | undefined;
  child: ChildProcess | undefined;
}

export interface KvClusterOptions {
  dir: string;
  members?: number;
  /** Detached members outlive this process (navarch up). */
  detached?: boolean;
  tickMs?: number;
  snapshotEntries?: number;
  /** Extra node flags for the member processes (e.g. --cpu-prof when profiling). */
  nodeArgs?: string[];
}

export { freePort };

export class LocalKvCluster {
  readonly members: MemberProcess[] = [];

  private constructor(private readonly o: KvClusterOptions) {}

  static async create(o: KvClusterOptions): Promise<LocalKvCluster> {
    const c = new LocalKvCluster(o);
    const n = o.members ?? 3;
    for (let id = 1; id <= n; id++) {
      const dataDir = join(o.dir, `member-${id}`);
      c.members.push({
        id,
        peerAddress: `127.0.0.1:${await freePort()}`,
        clientAddress: `127.0.0.1:${await freePort()}`,
        dataDir,
        logFile: join(o.dir, `member-${id}.log`),
        pid: undefined,
        child: undefined,
      });
    }
    return c;
  }

  get endpoints(): Endpoint[] {
    return this.members.map((m) => ({ id: m.id, address: m.clientAddress }));
  }

  member(id: number): MemberProcess {
    const m = this.members.find((x) => x.id === id);
    if (!m) throw new RangeError(`No member ${id}`);
    return m;
  }

  startAll(): void {
    for (const m of this.members) this.start(m.id);
  }

  start(id: number): void {
    const m = this.member(id);
    mkdirSync(m.dataDir, { recursive: true });
    const peers = this.members.map((x) => `${x.id}=${x.peerAddress}`).join(',');
    const args = [...(this.o.nodeArgs ?? []), '--import', 'tsx', ENTRY, 'kv-member', '--id', String(id), '--data-dir', m.dataDir, '--peers', peers, '--client-listen', m.clientAddress];
    if (this.o.tickMs) args.push('--tick-ms', String(this.o.tickMs));
    if (this.o.snapshotEntries) args.push('--snapshot-entries', String(this.o.snapshotEntries));
    const child = spawnLogged(args, m.logFile, this.o.detached ?? false);
    m.child = child;
    m.pid = child.pid;
    child.once('exit', () => {
      if (m.child === child) m.child = undefined;
    });
  }

  /** Sends a signal and waits until the process is gone. */
  async kill(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const m = this.member(id);
    await killAndWait(m.child, signal);
    m.child = undefined;
  }

  isRunning(id: number): boolean {
    return isAlive(this.member(id).child);
  }

  /** Waits until a running member reports a leader that every running member agrees on. */
  async waitForLeader(client: RaftKvClient, timeoutMs = 20000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const leaders = new Set<number>();
      let answered = 0;
      for (const m of this.members) {
        if (!this.isRunning(m.id)) continue;
        try {
          const s = await client.status(m.id, 500);
          answered++;
          leaders.add(s.leader);
        } catch (e) {
          last = (e as Error).message;
        }
      }
      const [only] = leaders;
      if (answered > 0 && leaders.size === 1 && only !== 0 && this.isRunning(only)) return only;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`No agreed leader within ${timeoutMs} ms${last ? `: ${last}` : ''}`);
  }

  async stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.all(this.members.map((m) => this.kill(m.id, signal)));
  }
}
