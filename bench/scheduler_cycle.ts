// In-process micro benchmark of the scheduling cycle (pkg/scheduler): no API server, no network.
// Builds 5,000 nodes in 10 zones and schedules 10,000 pods one at a time through schedulePod with
// the default profile, assuming each placed pod into the in-memory snapshot before the next, as
// the scheduler's cache does. Prints pods/s and the per-pod latency for three workloads, after
// kube-scheduler's scheduler_perf: SchedulingBasic, required and preferred pod anti-affinity (per
// app, on hostname) and topology spread (per app, zones, maxSkew 1, DoNotSchedule; and one app on
// hostname, as the cluster benchmark's TopologySpread case).
//
//   npx tsx bench/scheduler_cycle.ts
//   BENCH_NODES=1000 BENCH_PODS=5000 npx tsx bench/scheduler_cycle.ts
//   npx tsx bench/scheduler_cycle.ts TopologySpreading     (one workload)

import type { Pod } from '../pkg/api/registry.js';
import { newDefaultFramework } from '../pkg/scheduler/default_profile.js';
import { PodInfo } from '../pkg/scheduler/framework/pod_info.js';
import { schedulePod } from '../pkg/scheduler/framework/schedule_pod.js';
import { HOSTNAME_LABEL, makeNode, makePod, makeSnapshot, ZONE_LABEL } from '../pkg/scheduler/testing/wrappers.js';
import { SeededRandom } from '../raft/core/random.js';

const NODES = Number(process.env.BENCH_NODES ?? 5_000);
const PODS = Number(process.env.BENCH_PODS ?? 10_000);
const ZONES = 10;
/** Pods per app label: anti-affinity needs at most NODES pods per app. */
const APPS = 20;

type Workload = { name: string; pod: (i: number) => Pod };

const workloads: Workload[] = [
  {
    name: 'SchedulingBasic',
    pod: (i) => makePod({ name: `basic-${i}`, cpu: '100m', memory: '500Mi' }),
  },
  {
    name: 'RequiredPodAntiAffinity',
    pod: (i) => {
      const app = `app-${i % APPS}`;
      return makePod({
        name: `anti-${i}`,
        labels: { app },
        cpu: '100m',
        memory: '500Mi',
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app } }, topologyKey: HOSTNAME_LABEL }],
          },
        },
      });
    },
  },
  {
    name: 'PreferredPodAntiAffinity',
    pod: (i) => {
      const app = `app-${i % APPS}`;
      return makePod({
        name: `prefer-${i}`,
        labels: { app },
        cpu: '100m',
        memory: '500Mi',
        affinity: {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 1, podAffinityTerm: { labelSelector: { matchLabels: { app } }, topologyKey: HOSTNAME_LABEL } },
            ],
          },
        },
      });
    },
  },
  {
    name: 'TopologySpreading',
    pod: (i) => {
      const app = `app-${i % APPS}`;
      return makePod({
        name: `spread-${i}`,
        labels: { app },
        cpu: '100m',
        memory: '500Mi',
        topologySpreadConstraints: [
          { maxSkew: 1, topologyKey: ZONE_LABEL, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app } } },
        ],
      });
    },
  },
  {
    // The cluster benchmark's TopologySpread case: one app, one pod per node before any node gets a second.
    name: 'TopologySpreadingHostname',
    pod: (i) =>
      makePod({
        name: `spread-host-${i}`,
        labels: { app: 'spread' },
        cpu: '100m',
        memory: '500Mi',
        topologySpreadConstraints: [
          { maxSkew: 1, topologyKey: HOSTNAME_LABEL, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } },
        ],
      }),
  },
];

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function run(w: Workload): void {
  const nodes = Array.from({ length: NODES }, (_, i) => makeNode({ name: `node-${i}`, labels: { [ZONE_LABEL]: `zone-${i % ZONES}` } }));
  const snapshot = makeSnapshot(nodes);
  const fwk = newDefaultFramework();
  const random = new SeededRandom(1);
  // Pod objects come decoded from the informer in the real scheduler: not timed. Parsing them
  // (PodInfo: requests, selectors) is the scheduler's work, and is timed.
  const pods = Array.from({ length: PODS }, (_, i) => w.pod(i));
  const latencies = new Float64Array(PODS);
  let unschedulable = 0;
  let firstError = '';
  const start = performance.now();
  for (let i = 0; i < PODS; i++) {
    const t0 = performance.now();
    const r = schedulePod(new PodInfo(pods[i]), snapshot, fwk, random);
    if (r.kind === 'scheduled') {
      snapshot.addPod(r.pod, r.nodeName);
    } else {
      unschedulable++;
      firstError ||= r.error.message;
    }
    latencies[i] = performance.now() - t0;
  }
  const ms = performance.now() - start;
  latencies.sort();
  const rate = Math.round((PODS / ms) * 1000).toLocaleString('en-US');
  console.log(
    `${w.name.padEnd(24)} ${rate.padStart(8)} pods/s   p50 ${percentile(latencies, 0.5).toFixed(3)} ms   p99 ${percentile(latencies, 0.99).toFixed(3)} ms   ` +
      `unschedulable ${unschedulable}${firstError ? ` (${firstError})` : ''}`,
  );
}

/**
 * The cost of a failing attempt (every node filtered, the FitError message, preemption finding no
 * victims): what an unschedulable pod costs each time the queue retries it.
 */
function runUnschedulable(attempts: number): void {
  const nodes = Array.from({ length: NODES }, (_, i) => makeNode({ name: `node-${i}`, labels: { [ZONE_LABEL]: `zone-${i % ZONES}` } }));
  const snapshot = makeSnapshot(nodes);
  for (let i = 0; i < NODES; i++) snapshot.addPod(makePod({ name: `filler-${i}`, cpu: '100m', memory: '500Mi', nodeName: `node-${i}` }));
  const fwk = newDefaultFramework();
  const random = new SeededRandom(1);
  const pod = makePod({ name: 'too-big', cpu: '64', priority: 1000 });
  let message = '';
  const start = performance.now();
  for (let i = 0; i < attempts; i++) {
    const r = schedulePod(new PodInfo(pod), snapshot, fwk, random);
    if (r.kind === 'unschedulable') message = r.error.message;
  }
  const ms = performance.now() - start;
  console.log(`${'UnschedulableAttempt'.padEnd(24)} ${Math.round((attempts / ms) * 1000).toLocaleString('en-US').padStart(8)} attempts/s   ${(ms / attempts).toFixed(3)} ms each   (${message})`);
}

console.log(`schedulePod, default profile: ${NODES.toLocaleString('en-US')} nodes, ${PODS.toLocaleString('en-US')} pods per workload`);
const only = process.argv[2];
for (const w of workloads) if (!only || w.name === only) run(w);
if (!only || only === 'UnschedulableAttempt') runUnschedulable(200);
