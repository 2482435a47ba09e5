// bench-scheduler's failover case: kill -9 of the scheduler's lease holder several times during a
// run, with the gap in bindings each time and where it went: the Raft election (when the killed
// master also led Raft), the lease's takeover (from its acquireTime, the new holder's own record),
// and the new holder's first binding.

import type { Lease } from '../../pkg/api/registry.js';
import { NavarchClient } from '../../pkg/client/mod.js';
import { until } from '../store/stats.js';
import type { BenchCluster } from './cluster.js';
import { SCHEDULER_LEASE } from './cluster.js';
import type { BenchConfig } from './config.js';
import { BindingWatch, createPods, summarizeCase } from './load.js';
import type { FailoverKill, FailoverResult } from './report.js';

/** Pods bound between the restart of one killed master and the next kill. */
const KILL_SPACING_PODS = 200;

/**
 * Bindings seen through one watch per master, each pod at the first time any of them showed it
 * bound: a watch on the killed master would otherwise show the new holder's bindings only after it
 * reconnected elsewhere, and the gap would include the benchmark's own failover.
 */
class BindingWatches {
  private constructor(
    private readonly watches: BindingWatch[],
    private readonly clients: NavarchClient[],
  ) {}

  static async open(endpoints: string[], namespace: string): Promise<BindingWatches> {
    const clients = endpoints.map((_, i) => new NavarchClient({ endpoints: [...endpoints.slice(i), ...endpoints.slice(0, i)], retryDeadlineMs: 60_000, callTimeoutMs: 30_000 }));
    const watches = await Promise.all(clients.map((c) => BindingWatch.open(c, namespace)));
    return new BindingWatches(watches, clients);
  }

  get bound(): number {
    return Math.max(...this.watches.map((w) => w.bound));
  }

  /** The earliest time each pod was seen bound (performance.now()). */
  boundAtMs(): Map<string, number> {
    const first = new Map<string, number>();
    for (const w of this.watches) {
      for (const [pod, t] of w.boundAtMs) first.set(pod, Math.min(t, first.get(pod) ?? Infinity));
    }
    return first;
  }

  anyAfter(ms: number): boolean {
    return this.watches.some((w) => w.times.some((t) => t > ms));
  }

  /** The watch that saw the most (for the run's summary and the final wait). */
  get best(): BindingWatch {
    return this.watches.reduce((a, b) => (b.bound > a.bound ? b : a));
  }

  close(): void {
    for (const w of this.watches) w.close();
    for (const c of this.clients) c.close();
  }
}

/** metav1.MicroTime text (6 fractional digits) to epoch ms. */
function microTimeMs(text: string | undefined): number {
  const m = /^(.*\.\d{3})\d*Z$/.exec(text ?? '');
  return m ? Date.parse(`${m[1]}Z`) : NaN;
}

/**
 * The pause in bindings a kill caused: from the last binding seen before the kill to the first one
 * after the new holder acquired the lease (bindings seen in between are the dead one's, committed
 * before the kill and delivered late).
 */
function gapAround(times: Iterable<number>, killAtMs: number, acquiredAtMs: number): { gapMs: number; killToBindMs: number; acquireToBindMs: number } {
  let lastBefore = -Infinity;
  let firstAfter = Infinity;
  for (const t of times) {
    if (t <= killAtMs) lastBefore = Math.max(lastBefore, t);
    if (t > acquiredAtMs) firstAfter = Math.min(firstAfter, t);
  }
  return { gapMs: firstAfter - lastBefore, killToBindMs: firstAfter - killAtMs, acquireToBindMs: firstAfter - acquiredAtMs };
}

export async function failover(cluster: BenchCluster, clients: NavarchClient[], cfg: BenchConfig, log: (line: string) => void): Promise<FailoverResult> {
  const namespace = 'bench-failover';
  await cluster.ensureNamespace(namespace);
  const watch = await BindingWatches.open(cluster.masters.members.map((m) => m.clientAddress), namespace);
  const kills: FailoverKill[] = [];
  const restarts: Promise<void>[] = [];
  const transitionsAtStart = (await cluster.schedulerHolder())?.transitions ?? 0;
  try {
    log(`failover: ${cfg.failoverPods} pods at ${cfg.failoverRate}/s, ${cfg.kills} kills of the scheduler's lease holder`);
    const creating = createPods({ clients, kind: 'basic', namespace, prefix: 'f', pods: cfg.failoverPods, inflight: 256, ratePerSecond: cfg.failoverRate, log });
    // Each kill once bindings flow again after the previous restart, while pods remain to bind.
    for (let k = 1; k <= cfg.kills; k++) {
      const from = watch.bound;
      await until(`bindings to flow before kill ${k}`, () => watch.bound >= Math.min(from + KILL_SPACING_PODS, cfg.failoverPods), 600_000, 20);
      if (watch.bound >= cfg.failoverPods - KILL_SPACING_PODS) {
        log(`failover: the pods ran out before kill ${k}; raise --failover-pods or lower --failover-rate`);
        break;
      }
      // A healthy cluster first: a master restarted by the last kill stands aside until its caches are filled.
      await until(`every master to compete for the leases before kill ${k}`, async () => (await cluster.readyToLead()).every(Boolean), 600_000, 500);
      const holder = await cluster.schedulerHolder();
      if (!holder) throw new Error('no scheduler lease holder');
      const raftLeader = await cluster.masters.waitForLeader(30_000).catch(() => 0);
      const killWallMs = Date.now();
      const killAtMs = performance.now();
      await cluster.masters.kill(holder.id, 'SIGKILL');
      // When Raft lost its leader too: how long until the others agree on a new one.
      const raftElected =
        raftLeader === holder.id
          ? cluster.masters.waitForLeader(60_000).then(
              () => performance.now() - killAtMs,
              () => NaN,
            )
          : Promise.resolve(NaN);
      let next: { id: number; identity: string } | undefined;
      await until(`another scheduler to take over after kill ${k}`, async () => {
        const h = await cluster.schedulerHolder().catch(() => undefined);
        if (h && h.identity !== holder.identity) next = h;
        return next !== undefined;
      }, 120_000, 20);
      const seenMs = performance.now();
      // A holder on the Raft leader kept no standby (ControlPlane's suspendStandbyWhile): its term lists everything first.
      const newHolderLedRaft = (await cluster.masters.waitForLeader(30_000).catch(() => 0)) === next!.id;
      const lease = await cluster.client.get<Lease>('leases', 'kube-system', SCHEDULER_LEASE);
      const acquireMs = lease.spec?.holderIdentity === next!.identity ? microTimeMs(lease.spec?.acquireTime) - killWallMs : seenMs - killAtMs;
      await until(`bindings to resume after kill ${k}`, () => watch.anyAfter(killAtMs + acquireMs), 120_000, 10);
      const raftElectedMs = await raftElected;
      log(
        `failover: kill ${k} of master-${holder.id}${raftLeader === holder.id ? ` (the Raft leader; a new one in ${(raftElectedMs / 1000).toFixed(2)} s)` : ''}; ` +
          `lease acquired by ${next!.identity}${newHolderLedRaft ? ' (the Raft leader)' : ''} ${(acquireMs / 1000).toFixed(2)} s after the kill; bindings resumed ${((performance.now() - killAtMs) / 1000).toFixed(1)} s after the kill`,
      );
      const kill: FailoverKill = { kill: k, master: holder.id, killAtMs, newHolder: next!.identity, newHolderLedRaft, takeoverMs: acquireMs, raftLeaderKilled: raftLeader === holder.id, raftElectedMs, gapMs: NaN, killToBindMs: NaN, acquireToBindMs: NaN, restartToReadyMs: NaN };
      kills.push(kill);
      cluster.restart(holder.id);
      const restartedAtMs = performance.now();
      restarts.push(
        until(`master-${holder.id} to compete for the leases after its restart`, async () => (await cluster.readyToLead())[cluster.masters.members.findIndex((m) => m.id === holder.id)], 600_000, 500).then(
          () => {
            kill.restartToReadyMs = performance.now() - restartedAtMs;
            log(`failover: master-${holder.id} competes for the leases ${(kill.restartToReadyMs / 1000).toFixed(1)} s after its restart`);
          },
          () => {},
        ),
      );
      await cluster.masters.waitForLeader(180_000);
    }
    const created = await creating;
    await Promise.all(restarts);
    let failure: string | undefined;
    await watch.best.waitFor(created.createdAtMs.size, 60_000).catch((e: Error) => (failure = e.message));
    const times = [...watch.boundAtMs().values()];
    for (const k of kills) Object.assign(k, gapAround(times, k.killAtMs, k.killAtMs + k.takeoverMs));
    const gaps = kills.map((k) => k.gapMs).sort((a, b) => a - b);
    const run = summarizeCase('Failover run', cfg.failoverPods, created, watch.best, failure);
    // Changes of hands the kills did not cause: leases lost under load (each one a pause in bindings too).
    const transitions = ((await cluster.schedulerHolder().catch(() => undefined))?.transitions ?? NaN) - transitionsAtStart;
    return { run, kills, medianGapMs: gaps.length ? gaps[Math.floor((gaps.length - 1) / 2)] : NaN, otherTransitions: transitions - kills.length };
  } finally {
    watch.close();
  }
}
