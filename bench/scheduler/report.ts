// The tables make bench-scheduler prints, with the anchors beside the figures.

import { formatCidr } from '../../pkg/hollow/address_plan.js';
import { hollowPlan, type CaseResult } from './load.js';

export interface FillResult {
  totalPods: number;
  /** Right after the last pod was seen Running. */
  rssMiB: number[];
  /** A minute later (the hollow nodes' status reports and snapshots done), and the highest seen meanwhile. */
  rssSettledMiB: number[];
  rssPeakMiB: number[];
  rssAfterListMiB: number[];
  lists: Array<{ master: number; items: number; seconds: number; error?: string }>;
}

export interface FailoverKill {
  kill: number;
  master: number;
  killAtMs: number;
  newHolder: string;
  /** Whether the new holder's master led Raft when the lease was seen taken (it then kept no standby). */
  newHolderLedRaft: boolean;
  /** Kill → the new holder's acquireTime (its own record of when it wrote the lease). */
  takeoverMs: number;
  /** Whether the killed master was also the Raft leader; then raftElectedMs is kill → the others agreeing on a new one. */
  raftLeaderKilled: boolean;
  raftElectedMs: number;
  gapMs: number;
  killToBindMs: number;
  /** The lease acquired → the new holder's first binding seen. */
  acquireToBindMs: number;
  /** The killed master's restart → it competes for the leases again (its caches filled); NaN if it did not within the run. */
  restartToReadyMs: number;
}

export interface FailoverResult {
  run: CaseResult;
  kills: FailoverKill[];
  medianGapMs: number;
  /** Times the scheduler's lease changed hands during the run besides the kills (lost under load). */
  otherTransitions?: number;
}

export interface Results {
  nodes: number;
  cases: CaseResult[];
  rssAfterCasesMiB: number[];
  /** CPU-seconds per second the whole cluster uses with no pods coming (node lease renewals, controllers' resyncs). */
  idleCpuCores?: number;
  /** What one minor page fault costs on this machine (µs), measured before the cluster starts. */
  pageFaultUs?: number;
  fill?: FillResult;
  failover?: FailoverResult;
  failures?: string[];
}

/** kube-scheduler's scheduler_perf CI floors (SchedulingBasic, 5000 nodes). */
const CI_FLOOR: Record<number, number> = { 10000: 680, 50000: 810 };
const TARGET_PODS_PER_S = 2000;
const RSS_LIMIT_MIB = 2048;
const GAP_TARGET_MS = 3000;

const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : '-');
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  return [line(head), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function anchor(c: CaseResult): string {
  const m = /^SchedulingBasic (\d+)$/.exec(c.name);
  const floor = m ? CI_FLOOR[Number(m[1])] : undefined;
  const parts = [];
  if (floor) parts.push(`CI floor ${floor} (x${(c.podsPerSecond / floor).toFixed(2)})`);
  if (m) parts.push(`target ${TARGET_PODS_PER_S} (${c.podsPerSecond >= TARGET_PODS_PER_S ? 'met' : 'not met'})`);
  if (/AntiAffinity/.test(c.name)) parts.push('k8s affinity-heavy at 5000 nodes: 35-90');
  return parts.join('; ');
}

export function formatReport(r: Results): string {
  const out: string[] = [`\n## bench-scheduler: 3 masters (scheduler and controllers inside, one active of each), ${r.nodes} hollow nodes, this machine\n`];
  if (r.cases.length) {
    out.push(
      table(
        ['case', 'pods', 'bound', 'pods/s', 'creates/s', 'create→bound p50 ms', 'p99 ms', 'scheduler SLI p50 ms', 'p99 ms', 'anchor'],
        r.cases.map((c) => [c.name, String(c.pods), String(c.bound), f0(c.podsPerSecond), f0(c.createsPerSecond), f0(c.sli.p50Ms), f0(c.sli.p99Ms), f0(c.schedulerSli?.p50Ms ?? NaN), f0(c.schedulerSli?.p99Ms ?? NaN), anchor(c)]),
      ),
    );
    out.push('pods/s: from the first create sent to the last binding seen in a watch. Scheduler SLI: scheduler_pod_scheduling_sli_duration_seconds of the lease holder over the case (bucket-interpolated).');
    const inited = r.cases.filter((c) => c.initPods);
    if (inited.length) out.push(`Created, bound and Running just before the case, not measured (scheduler_perf's initPods): ${inited.map((c) => `${c.name} ${c.initPods}`).join(', ')}. Pods of earlier cases stay in the cluster.`);
    out.push(`Cluster CPU (3 masters + the hollow process) per pod bound: ${r.cases.map((c) => `${c.name} ${c.cpuMsPerPod?.toFixed(2) ?? '?'} ms`).join(', ')}${r.idleCpuCores !== undefined ? `; with no pods coming the cluster uses ${r.idleCpuCores.toFixed(2)} CPU-s per second (the nodes' lease renewals, resyncs) of this machine's 2` : ''}.`);
    const faulted = r.cases.filter((c) => c.faultsPerPod !== undefined);
    const faultUs = r.pageFaultUs !== undefined && Number.isFinite(r.pageFaultUs) ? r.pageFaultUs : undefined;
    if (faulted.length) out.push(`Minor page faults (masters + the hollow process) per pod bound: ${faulted.map((c) => `${c.name} ${c.faultsPerPod!.toFixed(1)}${faultUs !== undefined ? ` (${((c.faultsPerPod! * faultUs) / 1000).toFixed(2)} ms of CPU)` : ''}`).join(', ')}${faultUs !== undefined ? `; a fault on a fresh page took ${faultUs.toFixed(1)} µs on this machine, measured before the cluster started` : ''}.`);
    const withEvents = r.cases.filter((c) => c.schedulerEvents !== undefined);
    if (withEvents.length) out.push(`The scheduler's Events (one Scheduled per pod bound, as kube-scheduler writes them) written / dropped: ${withEvents.map((c) => `${c.name} ${c.schedulerEvents!.written} / ${c.schedulerEvents!.dropped}`).join(', ')}.`);
    const delayed = r.cases.filter((c) => c.loopDelay !== undefined);
    if (delayed.length) out.push(`Each master's longest event-loop delay / p99 over the case, to the last pod Running (timers, heartbeats and requests wait this long): ${delayed.map((c) => `${c.name} ${c.loopDelay!.map((d) => `${f0(d.maxMs)} / ${f0(d.p99Ms)}`).join(', ')} ms`).join('; ')}.`);
    const written = r.cases.filter((c) => c.raftWrites !== undefined);
    if (written.length) out.push(`Each master's Raft entries applied / synced storage writes over the case (entries per fsync: how well writes are batched): ${written.map((c) => `${c.name} ${c.raftWrites!.map((w) => `${w.entries} / ${w.syncs}`).join(', ')}`).join('; ')}.`);
    out.push(`The scheduler's lease changed hands without a kill (renewals too late under load; the scheduler SLI and Events are left out for such a case): ${r.cases.map((c) => `${c.name} ${c.leaseChanges ?? '?'}`).join(', ')}.`);
    const followed = r.cases.filter((c) => c.running !== undefined);
    if (followed.length) {
      out.push('');
      out.push(
        table(
          ['case', 'Running at the last binding', 'Running', 'first create → last Running s', 'pods/s to Running', 'create→Running p50 ms', 'p99 ms', 'cluster CPU per pod ms (to Running)'],
          followed.map((c) => {
            const run = c.running!;
            return [c.name, String(run.atLastBinding), `${run.count}/${c.bound}${run.target < c.bound ? ` (${run.target} with an address)` : ''}${run.failure ? ` (${run.failure})` : ''}`, f1(run.elapsedS), f0(run.count / run.elapsedS), f0(run.latency.p50Ms), f0(run.latency.p99Ms), f2(run.cpuMsPerPod ?? NaN)];
          }),
        ),
      );
      const plan = hollowPlan(r.nodes);
      out.push(
        "Running: the hollow nodes' status reports (phase Running, with a pod IP) seen in the watch; the CPU figure counts from the first create to the last Running, the status writes included. " +
          `Hollow pod IPs come from ${formatCidr(plan.pods)}, ${plan.podsPerNode} per node: past ${plan.podsPerNode * r.nodes} pods in the cluster (${r.nodes} nodes), pods wait for an address (Pending).`,
      );
    }
    if (r.rssAfterCasesMiB.length) out.push(`RSS after these cases: ${r.rssAfterCasesMiB.map((x, i) => `master-${i + 1} ${f0(x)} MiB`).join(', ')}`);
  }
  if (r.fill) {
    out.push(`\n### Filled to ${r.fill.totalPods} pods (target: each master under ${RSS_LIMIT_MIB} MiB RSS)\n`);
    out.push(
      table(
        ['master', 'RSS once all Running MiB', 'RSS a minute later MiB', 'peak in that minute MiB', 'RSS after lists MiB', 'list all pods (pages of 500) s', 'items'],
        r.fill.lists.map((l, i) => {
          const f = r.fill!;
          return [`master-${l.master}`, f0(f.rssMiB[i]), f0(f.rssSettledMiB[i]), f0(f.rssPeakMiB[i]), f0(f.rssAfterListMiB[i]), l.error ? `failed: ${l.error}` : f1(l.seconds), String(l.items)];
        }),
      ),
    );
  }
  if (r.failover) {
    const fo = r.failover;
    out.push(`\n### Failover: kill -9 of the scheduler's lease holder during a ${fo.run.pods}-pod run (target: median gap under ${GAP_TARGET_MS / 1000} s; Kubernetes' defaults give about 15 s)\n`);
    out.push(
      table(
        ['kill', 'master killed', 'binding gap s', 'kill → Raft leader s', 'kill → lease acquired s', 'acquired → first binding s', 'kill → first new binding s', 'new holder', 'restarted master ready to lead after s'],
        fo.kills.map((k) => [
          String(k.kill),
          `master-${k.master}`,
          f2(k.gapMs / 1000),
          k.raftLeaderKilled ? f2(k.raftElectedMs / 1000) : '(not leader)',
          f2(k.takeoverMs / 1000),
          f2(k.acquireToBindMs / 1000),
          f2(k.killToBindMs / 1000),
          k.newHolder,
          f2(k.restartToReadyMs / 1000),
        ]),
      ),
    );
    out.push(
      'Binding gap: from the last binding seen before the kill to the first one after another scheduler acquired the lease (bindings seen through a watch on each master, earliest). ' +
        "Lease acquired: the new holder's acquireTime. Raft leader: when the killed master led Raft too, until the others agreed on a new leader. " +
        'Each kill waits until every master competes for both leases (its caches filled after its own restart), so a warm standby is there, as when an operator kills one master of a healthy cluster; the last column is how long the killed master took to get there after its restart.',
    );
    if (fo.otherTransitions !== undefined) out.push(`The scheduler's lease also changed hands ${f0(fo.otherTransitions)} times during the run without a kill (renewals late under load).`);
    out.push(`median gap ${f2(fo.medianGapMs / 1000)} s (${fo.medianGapMs < GAP_TARGET_MS ? 'met' : 'not met'}); run: ${fo.run.bound}/${fo.run.pods} bound${fo.run.errors ? `, ${fo.run.errors} create errors (first: ${fo.run.firstError})` : ''}`);
  }
  if (r.failures?.length) out.push(`\nFailures:\n${r.failures.map((f) => `- ${f}`).join('\n')}`);
  return out.join('\n');
}

/** What in these results calls for the processes' logs (a case that failed, a binding gap over the target, a lease lost without a kill), or undefined. */
export function anomalies(r: Results): string | undefined {
  const found: string[] = [];
  if (r.failures?.length) found.push(`${r.failures.length} failed (${r.failures.join('; ')})`);
  const slow = r.failover?.kills.filter((k) => k.gapMs > GAP_TARGET_MS) ?? [];
  if (slow.length > 0) found.push(`a binding gap over ${GAP_TARGET_MS / 1000} s after kill ${slow.map((k) => k.kill).join(', ')}`);
  const lost = r.cases.filter((c) => (c.leaseChanges ?? 0) > 0).map((c) => c.name);
  if ((r.failover?.otherTransitions ?? 0) > 0) lost.push('the failover run');
  if (lost.length > 0) found.push(`the scheduler's lease changed hands without a kill in ${lost.join(', ')}`);
  return found.length > 0 ? found.join('; ') : undefined;
}
