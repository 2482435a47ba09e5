// In-process benchmark of the scheduler loop (pkg/scheduler/scheduler.ts): the whole path a pod
// takes in the scheduler process — informer → queue → scheduling cycle → assume → binding through
// the API → the watch confirming the binding — against an in-process API server (a real ApiServer
// over a real Store; no network, no Raft). 5,000 nodes in 10 zones, 10,000 pods of 100m / 500Mi.
//
// Everything shares one thread here, the API server's work included (creates, bindings: decoding,
// validation, the store, the watch). So each phase also reports the scheduler's own time: its
// scheduling cycles (scheduleOne: schedulePod and assume) plus its informer handlers (queue and
// cache updates), per pod, and the rate that time alone allows. Times are CPU time
// (process.cpuUsage), not wall time, so a machine shared with other work skews them less.
//
// Two phases, reported separately:
//   backlog:  the pods exist before the scheduler starts; pods/s from the informers' first lists
//             (every pod queued) to the last bound.
//             This is the loop's own throughput.
//   arriving: the pods are created while the scheduler runs (creates in the same process compete
//             for the CPU); pods/s from the first create to the last bound, and the scheduling SLI.
//
//   npx tsx bench/scheduler_loop.ts
//   BENCH_NODES=1000 BENCH_PODS=5000 npx tsx bench/scheduler_loop.ts
//   BENCH_WORKLOAD=anti-affinity npx tsx bench/scheduler_loop.ts   (required anti-affinity per app on hostname)
//   BENCH_WORKLOAD=spread npx tsx bench/scheduler_loop.ts          (topology spread per app over zones, maxSkew 1)

import { Registry } from 'prom-client';
import type { KubeObject } from '../pkg/api/registry.js';
import type { ResourceEventHandler } from '../pkg/client/informer/shared_informer.js';
import { testServer, type TestServer } from '../pkg/apiserver/test_util.js';
import type { EventRecorder } from '../pkg/client/events/recorder.js';
import { InformerFactory } from '../pkg/client/informer/informer_factory.js';
import { RecordingClient } from '../pkg/controllers/testing/recording_client.js';
import { Scheduler } from '../pkg/scheduler/scheduler.js';
import { serverBinder, serverListWatcher } from '../pkg/scheduler/testing/in_process.js';
import { HOSTNAME_LABEL, makeNode, makePod, type PodOptions, ZONE_LABEL } from '../pkg/scheduler/testing/wrappers.js';
import { SeededRandom } from '../raft/core/random.js';
import { realClock } from '../raft/node/ports.js';

const NODES = Number(process.env.BENCH_NODES ?? 5_000);
const PODS = Number(process.env.BENCH_PODS ?? 10_000);
const ZONES = 10;
const WORKLOAD = process.env.BENCH_WORKLOAD ?? 'basic';
if (!['basic', 'anti-affinity', 'spread'].includes(WORKLOAD)) throw new RangeError(`Unknown BENCH_WORKLOAD ${JSON.stringify(WORKLOAD)}: expected basic, anti-affinity or spread`);
/** Creates in flight while filling the server. */
const CREATE_CONCURRENCY = 64;

/** Counts Scheduled events: one per pod whose binding the API accepted. */
class CountingRecorder implements EventRecorder {
  scheduled = 0;
  other: string[] = [];
  private waiter: { n: number; resolve: () => void } | undefined;

  event(_regarding: KubeObject, type: string, reason: string, message: string): void {
    if (reason === 'Scheduled') {
      this.scheduled++;
      if (this.waiter && this.scheduled >= this.waiter.n) this.waiter.resolve();
    } else if (this.other.length < 5) {
      this.other.push(`${type} ${reason} ${message}`);
    }
  }

  until(n: number): Promise<void> {
    if (this.scheduled >= n) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = { n, resolve }));
  }
}

async function createAll(t: TestServer, objects: (i: number) => KubeObject, n: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CREATE_CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        await t.server.create({ object: objects(i) });
      }
    }),
  );
}

/** Apps per workload: required anti-affinity needs at most NODES pods per app. */
const APPS = 20;

/** kube-scheduler's scheduler_perf workloads: SchedulingBasic, RequiredPodAntiAffinity, TopologySpreading. */
function podOptions(prefix: string, i: number): PodOptions {
  const name = `${prefix}-${i}`;
  const app = `app-${i % APPS}`;
  const selector = { matchLabels: { app } };
  switch (WORKLOAD) {
    case 'anti-affinity':
      return { name, labels: { app }, cpu: '100m', memory: '500Mi', affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: selector, topologyKey: HOSTNAME_LABEL }] } } };
    case 'spread':
      return { name, labels: { app }, cpu: '100m', memory: '500Mi', topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE_LABEL, whenUnsatisfiable: 'DoNotSchedule', labelSelector: selector }] };
    default:
      return { name, cpu: '100m', memory: '500Mi' };
  }
}

function pod(prefix: string, i: number): KubeObject {
  const p = makePod(podOptions(prefix, i));
  p.metadata!.uid = undefined;
  return p;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function timed(h: ResourceEventHandler<KubeObject>, own: { handlerMs: number }): ResourceEventHandler<KubeObject> {
  const wrap = <A extends unknown[]>(f: ((...a: A) => void) | undefined) =>
    f &&
    ((...a: A) => {
      const s = cpuMs();
      f(...a);
      own.handlerMs += cpuMs() - s;
    });
  return { onAdd: wrap(h.onAdd?.bind(h)), onUpdate: wrap(h.onUpdate?.bind(h)), onDelete: wrap(h.onDelete?.bind(h)) };
}

async function histogramQuantile(registry: Registry, name: string, q: number): Promise<string> {
  const m = await registry.getSingleMetric(name)!.get();
  const buckets = m.values.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_bucket'));
  const total = buckets.find((b) => b.labels.le === '+Inf')?.value ?? 0;
  const want = total * q;
  for (const b of buckets) if (b.value >= want) return `<= ${b.labels.le} s`;
  return '?';
}

async function phase(name: string, createBefore: boolean): Promise<void> {
  const t = await testServer();
  await createAll(t, (i) => makeNode({ name: `node-${i}`, labels: { [ZONE_LABEL]: `zone-${i % ZONES}` } }), NODES);
  if (createBefore) await createAll(t, (i) => pod(name, i), PODS);

  const registry = new Registry();
  const recorder = new CountingRecorder();
  const informers = new InformerFactory((r) => serverListWatcher(t.server, r), { clock: realClock, logger: { warn: (m) => console.error(m) } });
  const scheduler = new Scheduler(
    { client: new RecordingClient(t.server), binder: serverBinder(t.server), informers, clock: realClock, random: new SeededRandom(1), recorder, registry },
    { logger: { warn: (m) => console.error(m) } },
  );

  // The scheduler's own synchronous work, timed around its two entry points.
  const own = { cycleMs: 0, handlerMs: 0 };
  const scheduleOne = scheduler.scheduleOne.bind(scheduler);
  scheduler.scheduleOne = (q) => {
    const s = cpuMs();
    scheduleOne(q);
    own.cycleMs += cpuMs() - s;
  };
  for (const r of ['pods', 'nodes', 'namespaces']) {
    const inf = informers.informer(r);
    const add = inf.addEventHandler.bind(inf);
    inf.addEventHandler = (h: ResourceEventHandler<KubeObject>) => add(timed(h, own));
  }

  const t0 = performance.now();
  const cpu0 = cpuMs();
  await scheduler.start();
  const synced = performance.now();
  if (!createBefore) await createAll(t, (i) => pod(name, i), PODS);
  const created = performance.now();
  await recorder.until(PODS);
  const bound = performance.now();
  const cpuBound = cpuMs();
  // The watch confirming every binding: nothing left assumed.
  while (scheduler.cache.assumedCount > 0) await new Promise((r) => setImmediate(r));
  const confirmed = performance.now();
  await scheduler.stop();
  informers.stop();
  t.server.closeWatches();

  // From the end of the first lists: for the backlog, every pod is in the queue by then.
  const from = synced;
  const rate = (PODS / (bound - from)) * 1000;
  console.log(
    `${name.padEnd(9)} ${Math.round(rate).toLocaleString('en-US').padStart(7)} pods/s bound   ` +
      `(${PODS.toLocaleString('en-US')} pods in ${((bound - from) / 1000).toFixed(2)} s; start+sync ${((synced - t0) / 1000).toFixed(2)} s; ` +
      `${createBefore ? '' : `creates done at ${((created - from) / 1000).toFixed(2)} s; `}watch confirmed all ${((confirmed - bound) / 1000).toFixed(2)} s later)   ` +
      `SLI p50 ${await histogramQuantile(registry, 'scheduler_pod_scheduling_sli_duration_seconds', 0.5)}, p99 ${await histogramQuantile(registry, 'scheduler_pod_scheduling_sli_duration_seconds', 0.99)}`,
  );
  const perPodMs = (own.cycleMs + own.handlerMs) / PODS;
  console.log(
    `          scheduler's own time ${perPodMs.toFixed(3)} ms/pod (cycles ${(own.cycleMs / PODS).toFixed(3)}, informer handlers ${(own.handlerMs / PODS).toFixed(3)}): ` +
      `${Math.round(1000 / perPodMs).toLocaleString('en-US')} pods/s on a core of its own; whole process ${((cpuBound - cpu0) / 1000).toFixed(2)} CPU s ` +
      `(${Math.round((PODS / (cpuBound - cpu0)) * 1000).toLocaleString('en-US')} pods per CPU second, API server and GC included)`,
  );
  if (recorder.other.length > 0) console.log(`  other events: ${recorder.other.join(' | ')}`);
}

console.log(`scheduler loop, in-process API server: ${NODES.toLocaleString('en-US')} nodes in ${ZONES} zones, ${PODS.toLocaleString('en-US')} pods (100m, 500Mi), workload ${WORKLOAD}`);
await phase('backlog', true);
await phase('arriving', false);
console.log(`rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`);
