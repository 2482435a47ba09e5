// make bench-scheduler: scheduler_perf-like cases on a 3-master cluster (each master runs its
// scheduler and controller manager, one of each active) with hollow nodes in one process:
// SchedulingBasic at the given sizes, required pod anti-affinity, topology spread; then a fill to
// 150,000 pods with each master's RSS and the time to list them all; then kill -9 of the
// scheduler's lease holder several times during a run, with the gap in bindings each time.
// Usage: npx tsx bench/scheduler/main.ts [--help]

import { NavarchClient } from '../../pkg/client/mod.js';
import { sleep, until } from '../store/stats.js';
import { BenchCluster } from './cluster.js';
import { failover } from './failover.js';
import { parseConfig, USAGE, type BenchConfig } from './config.js';
import { podAddresses, runCase, type CaseResult, type PodKind } from './load.js';
import { anomalies, formatReport, type FillResult, type Results } from './report.js';
import { pageFaultCostUs } from './proc_stat.js';
import { diff, quantileMs, scrape } from './scheduler_metrics.js';

const log = (line: string): void => void process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** Three clients, each starting on a different master, so creates spread over the API servers. */
function spreadClients(endpoints: string[]): NavarchClient[] {
  return endpoints.map((_, i) => new NavarchClient({ endpoints: [...endpoints.slice(i), ...endpoints.slice(0, i)], retryDeadlineMs: 30_000, callTimeoutMs: 30_000 }));
}

/** User plus system CPU ms between two process.cpuUsage() readings. */
function cpuMs(after: NodeJS.CpuUsage, before: NodeJS.CpuUsage): number {
  return (after.user - before.user + after.system - before.system) / 1000;
}

async function throughputCase(cluster: BenchCluster, clients: NavarchClient[], cfg: BenchConfig, name: string, kind: PodKind, pods: number): Promise<CaseResult> {
  const runningTarget = await runningTargetNow(cluster, cfg);
  const holder = await cluster.schedulerHolder();
  const metricsAddress = holder && cluster.masters.member(holder.id).metricsAddress;
  const before = metricsAddress ? await scrape(metricsAddress) : undefined;
  const mastersBefore = await cluster.masterSamples(); // also starts each master's event-loop delay window
  log(`${name}: ${pods} pods on ${cfg.nodes} nodes (scheduler on master-${holder?.id})`);
  const statsBefore = cluster.procStatsEach();
  const cpuEachBefore = statsBefore.map((s) => s.cpuSeconds);
  const faultsEachBefore = statsBefore.map((s) => s.minorFaults);
  let faultsEachAtLastBound = faultsEachBefore;
  const benchCpuBefore = process.cpuUsage();
  let benchCpuAtLastBound = benchCpuBefore;
  const cpuBefore = cpuEachBefore.reduce((a, b) => a + b, 0);
  let cpuAtLastRunning = cpuBefore;
  let cpuEachAtLastBound = cpuEachBefore;
  const r = await runCase({
    name,
    client: cluster.client,
    clients,
    ensureNamespace: (ns) => cluster.ensureNamespace(ns),
    kind,
    pods,
    inflight: cfg.inflight,
    log,
    runningTarget,
    onRunning: () => (cpuAtLastRunning = cluster.cpuSeconds()),
    onBound: (b) => {
      const stats = cluster.procStatsEach();
      cpuEachAtLastBound = stats.map((s) => s.cpuSeconds);
      faultsEachAtLastBound = stats.map((s) => s.minorFaults);
      benchCpuAtLastBound = process.cpuUsage();
      cpuAtLastRunning = cpuEachAtLastBound.reduce((a, c) => a + c, 0);
      if (b.bound > 0) b.cpuMsPerPod = ((cpuAtLastRunning - cpuBefore) * 1000) / b.bound;
      log(`${name}: ${b.bound}/${pods} bound in ${b.elapsedS.toFixed(1)} s; waiting for them to be Running`);
    },
  });
  // Up to the last pod seen Running: a wait that ends in a stall would add the idle cluster's CPU.
  if (r.running && r.bound > 0) r.running.cpuMsPerPod = ((cpuAtLastRunning - cpuBefore) * 1000) / r.bound;
  // The scheduler's histogram does not change after the last binding: the wait for Running does not skew it.
  const mastersAfter = await cluster.masterSamples(); // before the holder's scrape below, which would reset its window
  r.loopDelay = mastersAfter.map((a) => ({ maxMs: a.maxMs, p99Ms: a.p99Ms }));
  r.raftWrites = mastersAfter.map((a, i) => ({ entries: a.applied - mastersBefore[i].applied, syncs: a.syncs - mastersBefore[i].syncs }));
  const after = metricsAddress ? await scrape(metricsAddress) : undefined;
  const still = await cluster.schedulerHolder();
  if (holder && still) r.leaseChanges = still.transitions - holder.transitions;
  // Another holder's histogram and counters would not diff against these.
  if (after && r.leaseChanges === 0) {
    if (after.sli) {
      const h = diff(after.sli, before?.sli);
      r.schedulerSli = { p50Ms: quantileMs(h, 0.5), p99Ms: quantileMs(h, 0.99), count: h.count };
    }
    r.schedulerEvents = { written: after.events.written - (before?.events.written ?? 0), dropped: after.events.dropped - (before?.events.dropped ?? 0) };
  }
  if (r.bound > 0) {
    // GC on each master's main thread as Node reports it (pauses and incremental marking steps).
    const gcMsPerPod = mastersAfter.map((a, i) => (((a.gcSeconds - mastersBefore[i].gcSeconds) * 1000) / r.bound).toFixed(3)).join(' / ');
    const faultsEach = faultsEachAtLastBound.map((f, i) => (f - faultsEachBefore[i]) / r.bound);
    r.faultsPerPod = faultsEach.reduce((a, b) => a + b, 0);
    log(`${name}: CPU ms per pod bound by process (masters, then hollow; Raft leader master-${mastersAfter.findIndex((m) => m.leadsRaft) + 1}): ${cpuEachAtLastBound.map((c, i) => (((c - cpuEachBefore[i]) * 1000) / r.bound).toFixed(2)).join(' / ')}; this bench's own process (creates, watch) ${(cpuMs(benchCpuAtLastBound, benchCpuBefore) / r.bound).toFixed(2)}, on the same cores; the masters' main threads in GC (to the end of the case) ${gcMsPerPod} ms per pod; minor page faults per pod ${faultsEach.map((f) => f.toFixed(1)).join(' / ')}`);
  }
  log(`${name}: ${r.bound}/${pods} bound in ${r.elapsedS.toFixed(1)} s = ${r.podsPerSecond.toFixed(0)} pods/s (creates ${r.createsPerSecond.toFixed(0)}/s; cluster CPU ${r.cpuMsPerPod?.toFixed(2)} ms per pod); create→bound p50 ${r.sli.p50Ms.toFixed(0)} ms p99 ${r.sli.p99Ms.toFixed(0)} ms; ${runningText(r)}${r.schedulerEvents ? `; scheduler Events ${r.schedulerEvents.written} written, ${r.schedulerEvents.dropped} dropped` : ''}; event-loop delay max / p99 ${loopDelayText(r)}; Raft entries / synced writes ${raftWritesText(r)}${r.leaseChanges ? `; the scheduler's lease changed hands ${r.leaseChanges} times` : ''}${r.errors ? `; ${r.errors} errors, first: ${r.firstError}` : ''}`);
  return r;
}

/**
 * scheduler_perf's initPods: pods created and bound (and here also Running) before the measured ones,
 * not measured. Its SchedulingBasic 5000Nodes cases create 1,000 before 10,000 and 5,000 before
 * 50,000; the masters' code is warm and their caches hold pods when the measured pods come.
 */
async function initPods(cluster: BenchCluster, clients: NavarchClient[], cfg: BenchConfig, name: string, pods: number): Promise<void> {
  if (pods === 0) return;
  const runningTarget = await runningTargetNow(cluster, cfg);
  const r = await runCase({ name: `${name} init`, client: cluster.client, clients, ensureNamespace: (ns) => cluster.ensureNamespace(ns), kind: 'basic', pods, inflight: cfg.inflight, log, runningTarget });
  log(`${name}: ${r.bound}/${pods} init pods bound in ${r.elapsedS.toFixed(1)} s (${r.podsPerSecond.toFixed(0)} pods/s, not measured)`);
  if (r.bound < pods) throw new Error(`only ${r.bound} of ${pods} init pods were bound${r.firstError ? `: ${r.firstError}` : ''}`);
}

function loopDelayText(r: CaseResult): string {
  return (r.loopDelay ?? []).map((d, i) => `master-${i + 1} ${d.maxMs.toFixed(0)} / ${d.p99Ms.toFixed(0)} ms`).join(', ');
}

function raftWritesText(r: CaseResult): string {
  return (r.raftWrites ?? []).map((w, i) => `master-${i + 1} ${w.entries} / ${w.syncs}`).join(', ');
}

function runningText(r: CaseResult): string {
  const run = r.running;
  if (!run) return 'Running not followed';
  const of = run.target < r.bound ? ` (${run.target} had pod addresses left)` : '';
  const all = run.count === r.bound ? `all ${run.count} Running` : `${run.count}/${r.bound} Running${of}${run.failure ? ` (${run.failure})` : ''}`;
  return `${run.atLastBinding} Running at the last binding, ${all} ${run.elapsedS.toFixed(1)} s after the first create (cluster CPU ${run.cpuMsPerPod?.toFixed(2)} ms per pod), create→Running p50 ${run.latency.p50Ms.toFixed(0)} ms p99 ${run.latency.p99Ms.toFixed(0)} ms`;
}

/** How many more pods can turn Running: pods already there hold addresses first; pods past the last address stay Pending (waiting for one). */
async function runningTargetNow(cluster: BenchCluster, cfg: BenchConfig): Promise<number> {
  return Math.max(0, podAddresses(cfg.nodes) - (await totalPods(cluster.client)));
}

async function totalPods(client: NavarchClient): Promise<number> {
  const page = await client.list('pods', { limit: 1 });
  return page.items.length + (page.remainingItemCount ?? 0);
}

const SETTLE_MS = 60_000;
const SETTLE_SAMPLE_MS = 5_000;

function heapText(heap: Awaited<ReturnType<BenchCluster['heapMiB']>>): string {
  return heap.map((h, i) => `master-${i + 1} ${h.heapUsed.toFixed(0)} / ${h.heapTotal.toFixed(0)} (${h.external.toFixed(0)}) MiB`).join(', ');
}

async function fill(cluster: BenchCluster, clients: NavarchClient[], cfg: BenchConfig, results: Results): Promise<FillResult> {
  const existing = await totalPods(cluster.client);
  const more = Math.max(0, cfg.fillPods - existing);
  log(`fill: ${existing} pods exist; creating ${more} more`);
  const c = more > 0 ? await throughputCase(cluster, clients, cfg, `Fill to ${cfg.fillPods}`, 'basic', more) : undefined;
  if (c) results.cases.push(c);
  await sleep(2000);
  const rssMiB = cluster.rssMiB();
  log(`fill: RSS ${rssMiB.map((r, i) => `master-${i + 1} ${r.toFixed(0)} MiB`).join(', ')}`);
  const heap = await cluster.heapMiB();
  log(`fill: V8 heap used / committed (outside the heap) ${heapText(heap)}`);
  // The hollow nodes' status reports and the masters' snapshots go on after the last binding:
  // the steady state of a cluster at this many pods comes a minute later.
  const peakMiB = [...rssMiB];
  for (let k = 0; k < SETTLE_MS / SETTLE_SAMPLE_MS; k++) {
    await sleep(SETTLE_SAMPLE_MS);
    cluster.rssMiB().forEach((r, i) => (peakMiB[i] = Math.max(peakMiB[i], r)));
  }
  const settledMiB = cluster.rssMiB();
  const settledHeap = await cluster.heapMiB();
  log(`fill: ${SETTLE_MS / 1000} s later RSS ${settledMiB.map((r, i) => `master-${i + 1} ${r.toFixed(0)} MiB (peak ${peakMiB[i].toFixed(0)})`).join(', ')}`);
  log(`fill: ${SETTLE_MS / 1000} s later V8 heap used / committed (outside the heap) ${heapText(settledHeap)}`);
  const lists: FillResult['lists'] = [];
  for (const m of cluster.masters.members) {
    const one = new NavarchClient({ endpoints: [m.clientAddress], callTimeoutMs: 120_000, retryDeadlineMs: 120_000 });
    try {
      const t0 = performance.now();
      const page = await one.listAll('pods', { pageSize: 500 });
      lists.push({ master: m.id, items: page.items.length, seconds: (performance.now() - t0) / 1000 });
      log(`fill: master-${m.id} listed ${page.items.length} pods in ${lists.at(-1)!.seconds.toFixed(2)} s (pages of 500)`);
    } catch (e) {
      lists.push({ master: m.id, items: 0, seconds: NaN, error: (e as Error).message });
    } finally {
      one.close();
    }
  }
  return { totalPods: await totalPods(cluster.client), rssMiB, rssSettledMiB: settledMiB, rssPeakMiB: peakMiB, rssAfterListMiB: cluster.rssMiB(), lists };
}

async function main(): Promise<void> {
  const cfg = parseConfig(process.argv.slice(2));
  if (cfg === 'help') {
    console.log(USAGE);
    return;
  }
  // Before anything else runs: what the host charges for a fresh page (see proc_stat.ts).
  const results: Results = { nodes: cfg.nodes, cases: [], rssAfterCasesMiB: [], pageFaultUs: pageFaultCostUs() };
  log(`this machine takes ${results.pageFaultUs!.toFixed(1)} µs per minor page fault (a fresh 64 MiB buffer touched page by page)`);
  log(`starting 3 masters and ${cfg.nodes} hollow nodes`);
  const cluster = await BenchCluster.start({ nodes: cfg.nodes, masterArgs: cfg.masterArgs, hollowArgs: cfg.hollowArgs, nodeArgs: cfg.nodeArgs, cpuProfDir: cfg.cpuProfDir, log });
  // Interrupted: stop the masters and the hollow process rather than leave them behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping the cluster`);
      void cluster.stop(cfg.keep ? 'all' : 'nothing').finally(() => process.exit(130));
    });
  }
  const clients = spreadClients(cluster.masters.members.map((m) => m.clientAddress));
  // The fixed cost every case pays: what the cluster burns with nothing to schedule. Each node's
  // first lease write (a get, then a create) comes up to a renew interval after it registers:
  // measured before all exist, the figure would include that set-up.
  try {
    await until(`${cfg.nodes} node leases`, async () => (await cluster.nodeLeases()) >= cfg.nodes, 30_000, 1000);
  } catch (e) {
    log(`${(e as Error).message}: the idle figure includes lease creations`);
  }
  const idleCpuBefore = cluster.cpuSecondsEach();
  const idleRaftBefore = await cluster.masterSamples();
  await sleep(10_000);
  const idleCpu = cluster.cpuSecondsEach().map((c, i) => (c - idleCpuBefore[i]) / 10);
  const idleRaft = (await cluster.masterSamples()).map((m, i) => ({ entries: (m.applied - idleRaftBefore[i].applied) / 10, syncs: (m.syncs - idleRaftBefore[i].syncs) / 10 }));
  results.idleCpuCores = idleCpu.reduce((a, b) => a + b, 0);
  log(
    `idle cluster: ${results.idleCpuCores.toFixed(2)} CPU-s per second (by process, masters then hollow: ${idleCpu.map((c) => c.toFixed(2)).join(' / ')}); ` +
      `each master's Raft entries / synced writes per second: ${idleRaft.map((r) => `${r.entries.toFixed(0)} / ${r.syncs.toFixed(0)}`).join(', ')}`,
  );
  const attempt = async (what: string, f: () => Promise<void>): Promise<void> => {
    try {
      await f();
    } catch (e) {
      results.failures = [...(results.failures ?? []), `${what}: ${(e as Error).message}`];
      log(`${what} failed: ${(e as Error).message}`);
    }
  };
  try {
    if (cfg.only.has('basic')) {
      for (const [i, pods] of cfg.pods.entries()) {
        await attempt(`SchedulingBasic ${pods}`, async () => {
          await initPods(cluster, clients, cfg, `SchedulingBasic ${pods}`, cfg.initPods[i]);
          const c = await throughputCase(cluster, clients, cfg, `SchedulingBasic ${pods}`, 'basic', pods);
          results.cases.push({ ...c, initPods: cfg.initPods[i] });
        });
      }
    }
    if (cfg.only.has('antiaffinity')) {
      await attempt('anti-affinity', async () => void results.cases.push(await throughputCase(cluster, clients, cfg, `PodAntiAffinity ${cfg.antiAffinityPods}`, 'antiaffinity', cfg.antiAffinityPods)));
    }
    if (cfg.only.has('spread')) {
      await attempt('topology spread', async () => void results.cases.push(await throughputCase(cluster, clients, cfg, `TopologySpread ${cfg.spreadPods}`, 'spread', cfg.spreadPods)));
    }
    results.rssAfterCasesMiB = cluster.rssMiB();
    if (cfg.only.has('fill')) await attempt('fill', async () => void (results.fill = await fill(cluster, clients, cfg, results)));
    if (cfg.only.has('failover')) await attempt('failover', async () => void (results.failover = await failover(cluster, clients, cfg, log)));
  } finally {
    for (const c of clients) c.close();
    // A failover slower than the target, or a lease lost without a kill: the logs say why (which
    // master took over, whether it started from its standby), so they stay even without --keep.
    const odd = !cfg.keep && anomalies(results);
    await cluster.stop(cfg.keep ? 'all' : odd ? 'logs' : 'nothing');
    if (cfg.keep) log(`kept ${cluster.dir}`);
    if (odd) log(`${odd}: kept the processes' logs in ${cluster.dir}`);
  }
  console.log(formatReport(results));
  if (cfg.json) console.log(JSON.stringify(results, null, 2));
}

main().catch((e: Error) => {
  process.stderr.write(`bench-scheduler: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
