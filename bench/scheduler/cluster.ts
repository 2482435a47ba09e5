// The system under test: 3 masters (each with its scheduler and controller manager, one of each
// active) and one `navarch hollow` process with the nodes; which master holds the scheduler's
// lease; each master's RSS.

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject, Lease, Node } from '../../pkg/api/registry.js';
import { decodeObject } from '../../pkg/api/convert/object.js';
import { isApiError, NavarchClient } from '../../pkg/client/mod.js';
import { LocalMasterCluster } from '../../pkg/localcluster/master_cluster.js';
import { ROOT, killAndWait, spawnLogged } from '../../pkg/localcluster/process.js';
import { rssMiB } from '../store/rss.js';
import { until } from '../store/stats.js';
import type { LoopDelay } from './load.js';
import { procStat, type ProcStat } from './proc_stat.js';

/** A master's event-loop delay over the window its scrape ended, and its Raft and GC counters at the scrape. */
export interface MasterSample extends LoopDelay {
  applied: number;
  syncs: number;
  leadsRaft: boolean;
  /** Time its main thread spent collecting garbage so far (every kind, incremental marking steps included). */
  gcSeconds: number;
}

export const SCHEDULER_LEASE = 'kube-scheduler';
const LEASES = [SCHEDULER_LEASE, 'kube-controller-manager'];

/** A master's /metrics exposition text. */
async function metricsText(metricsAddress: string): Promise<string> {
  return (await fetch(`http://${metricsAddress}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
}

/** An unlabelled sample's value in exposition text; NaN when absent. */
function metricValue(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
}

/** The sum of a metric's samples over all its label sets; NaN when it has none. */
function metricSum(text: string, name: string): number {
  let sum = NaN;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'gm'))) sum = (Number.isNaN(sum) ? 0 : sum) + Number(m[1]);
  return sum;
}

export class BenchCluster {
  private hollow: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly masters: LocalMasterCluster,
    readonly client: NavarchClient,
    private readonly masterArgs: string[],
    private readonly profiling: boolean,
  ) {}

  static async start(o: { nodes: number; masterArgs: string[]; hollowArgs?: string[]; nodeArgs?: string[]; cpuProfDir?: string; log: (l: string) => void }): Promise<BenchCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'navarch-bench-scheduler-'));
    const nodeArgs = [...(o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : []), ...(o.nodeArgs ?? [])];
    const masters = await LocalMasterCluster.create({ dir, masters: 3, nodeArgs });
    for (const m of masters.members) masters.start(m.id, o.masterArgs);
    await masters.waitForLeader(120_000);
    const client = new NavarchClient({ endpoints: masters.members.map((m) => m.clientAddress), retryDeadlineMs: 60_000, callTimeoutMs: 60_000 });
    const c = new BenchCluster(dir, masters, client, o.masterArgs, o.cpuProfDir !== undefined);
    for (const ns of ['default', 'kube-system', 'kube-node-lease']) await c.ensureNamespace(ns);
    try {
      const t0 = performance.now();
      c.hollow = spawnLogged([...nodeArgs, '--import', 'tsx', join(ROOT, 'cmd/navarch.ts'), 'hollow', '--server', masters.endpoints, '--nodes', String(o.nodes), ...(o.hollowArgs ?? [])], join(dir, 'hollow.log'), false);
      const hollow = c.hollow;
      // A hollow process that exits (a bad --hollow-args, a crash) fails the start now, not after the wait.
      const hollowAlive = async (): Promise<boolean> => {
        if (hollow.exitCode !== null || hollow.signalCode !== null) throw new Error(`the hollow process exited (${hollow.exitCode ?? hollow.signalCode}) before its nodes were Ready: see ${join(dir, 'hollow.log')}`);
        return (await c.readyNodes()) >= o.nodes;
      };
      await until(`${o.nodes} hollow nodes Ready`, hollowAlive, 600_000, 2000);
      o.log(`${o.nodes} hollow nodes Ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (logs in ${dir})`);
      await until('a scheduler lease holder', async () => (await c.schedulerHolder()) !== undefined, 60_000, 200);
      return c;
    } catch (e) {
      // Nothing started here may outlive a failed start (the caller has no cluster to stop).
      await c.stop('all');
      throw new Error(`${(e as Error).message} (logs in ${dir})`);
    }
  }

  async ensureNamespace(name: string): Promise<void> {
    try {
      await this.client.create(decodeObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).object as KubeObject);
    } catch (e) {
      if (!isApiError(e, 'AlreadyExists')) throw e;
    }
  }

  async readyNodes(): Promise<number> {
    const nodes = (await this.client.listAll<Node>('nodes', { pageSize: 1000 })).items;
    return nodes.filter((n) => n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')).length;
  }

  async nodeLeases(): Promise<number> {
    return (await this.client.listAll('leases', { namespace: 'kube-node-lease', pageSize: 1000 })).items.length;
  }

  /** The id of the master whose scheduler holds the lease (identities are "master-<id>_<random>"). */
  async schedulerHolder(): Promise<{ id: number; identity: string; transitions: number } | undefined> {
    try {
      const l = await this.client.get<Lease>('leases', 'kube-system', SCHEDULER_LEASE);
      const identity = l.spec?.holderIdentity ?? '';
      const m = /^master-(\d+)_/.exec(identity);
      return m ? { id: Number(m[1]), identity, transitions: l.spec?.leaseTransitions ?? 0 } : undefined;
    } catch (e) {
      if (isApiError(e, 'NotFound')) return undefined;
      throw e;
    }
  }

  /**
   * Whether each master competes for both leases now (navarch_leader_election_ready: its caches are
   * filled), so that it could take over at once, or leads Raft (it then keeps no standby, by
   * design, and lets the others take over first); false when unreachable.
   */
  async readyToLead(): Promise<boolean[]> {
    return Promise.all(
      this.masters.members.map(async (m) => {
        try {
          const text = await metricsText(m.metricsAddress);
          if (metricValue(text, 'navarch_raft_is_leader') === 1) return true;
          return LEASES.every((name) => new RegExp(`^navarch_leader_election_ready\\{name="${name}"\\} 1$`, 'm').test(text));
        } catch {
          return false;
        }
      }),
    );
  }

  /**
   * Each master's event-loop delay since the last scrape of its /metrics (prom-client resets its
   * monitor on every scrape: call once to start a window, again to read it), with its Raft counters.
   */
  async masterSamples(): Promise<MasterSample[]> {
    return Promise.all(
      this.masters.members.map(async (m) => {
        try {
          const text = await metricsText(m.metricsAddress);
          return {
            maxMs: metricValue(text, 'nodejs_eventloop_lag_max_seconds') * 1000,
            p99Ms: metricValue(text, 'nodejs_eventloop_lag_p99_seconds') * 1000,
            applied: metricValue(text, 'navarch_raft_applied_index'),
            syncs: metricValue(text, 'navarch_raft_syncs'),
            leadsRaft: metricValue(text, 'navarch_raft_is_leader') === 1,
            gcSeconds: metricSum(text, 'nodejs_gc_duration_seconds_sum'),
          };
        } catch {
          return { maxMs: NaN, p99Ms: NaN, applied: NaN, syncs: NaN, leadsRaft: false, gcSeconds: NaN };
        }
      }),
    );
  }

  rssMiB(): number[] {
    return this.masters.members.map((m) => rssMiB(m.pid));
  }

  /** Each master's V8 heap in use and committed, and its memory outside the heap (buffers), in MiB, from its /metrics; NaN when unreachable. */
  async heapMiB(): Promise<Array<{ heapUsed: number; heapTotal: number; external: number }>> {
    return Promise.all(
      this.masters.members.map(async (m) => {
        try {
          const text = await metricsText(m.metricsAddress);
          const gauge = (name: string) => metricValue(text, name) / 2 ** 20;
          return { heapUsed: gauge('nodejs_heap_size_used_bytes'), heapTotal: gauge('nodejs_heap_size_total_bytes'), external: gauge('nodejs_external_memory_bytes') };
        } catch {
          return { heapUsed: NaN, heapTotal: NaN, external: NaN };
        }
      }),
    );
  }

  /**
   * CPU seconds (user + system) the masters and the hollow process have used so far: the cost of
   * a case, which the load of other programs on the machine changes far less than its duration.
   */
  cpuSeconds(): number {
    return this.cpuSecondsEach().reduce((sum, s) => sum + s, 0);
  }

  /** cpuSeconds by process: each master in order, then the hollow process. */
  cpuSecondsEach(): number[] {
    return this.procStatsEach().map((s) => s.cpuSeconds);
  }

  /** CPU time and minor page faults so far by process (one read of each): the masters in order, then the hollow process. */
  procStatsEach(): ProcStat[] {
    return [...this.pids(), this.hollow?.pid].map(procStat);
  }

  pids(): Array<number | undefined> {
    return this.masters.members.map((m) => m.pid);
  }

  restart(id: number): void {
    this.masters.start(id, this.masterArgs);
  }

  /** keep: 'all' (--keep), 'logs' (the processes' logs only: the data dirs hold a GiB or more), or nothing. */
  async stop(keep: 'all' | 'logs' | 'nothing'): Promise<void> {
    this.client.close();
    await killAndWait(this.hollow, 'SIGTERM');
    // A profile is written only when the process exits on its own.
    await this.masters.stopAll(this.profiling ? 'SIGTERM' : 'SIGKILL');
    if (keep === 'nothing') rmSync(this.dir, { recursive: true, force: true });
    if (keep === 'logs') for (const m of this.masters.members) rmSync(m.dataDir, { recursive: true, force: true });
  }
}
