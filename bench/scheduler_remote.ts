// The scheduler as a process of its own (`navarch scheduler` against remote masters): the API
// server runs in a worker thread behind the Objects gRPC service on 127.0.0.1; the main thread runs
// only the Scheduler with a NavarchClient (informers over gRPC watches, NavarchClient.bind). The
// worker creates 5,000 nodes, then 10,000 pods as fast as it can; the main thread reports pods/s
// from the first pod created to the last bound, the scheduling SLI, and the CPU time of the
// scheduler's thread (from /proc, Linux), which is what the scheduler itself needs.
//
//   npx tsx bench/scheduler_remote.ts
//   BENCH_NODES=1000 BENCH_PODS=5000 BENCH_INFLIGHT=64 npx tsx bench/scheduler_remote.ts

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import type { KubeObject } from '../pkg/api/registry.js';
import { addObjectsService } from '../pkg/apiserver/grpc_adapter.js';
import { testServer } from '../pkg/apiserver/test_util.js';
import { NavarchClient } from '../pkg/client/client.js';
import type { EventRecorder } from '../pkg/client/events/recorder.js';
import { InformerFactory } from '../pkg/client/informer/informer_factory.js';
import { clientBinder } from '../pkg/scheduler/binder.js';
import { Scheduler } from '../pkg/scheduler/scheduler.js';
import { makeNode, makePod, ZONE_LABEL } from '../pkg/scheduler/testing/wrappers.js';
import { SeededRandom } from '../raft/core/random.js';
import { realClock } from '../raft/node/ports.js';

const NODES = Number(process.env.BENCH_NODES ?? 5_000);
const PODS = Number(process.env.BENCH_PODS ?? 10_000);
const ZONES = 10;
const CREATE_CONCURRENCY = 64;
/** The scheduler's maxInflightBindings. */
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 256);

type FromWorker = { port: number } | { nodesCreated: true } | { podsStartedMs: number; podsCreatedMs: number } | { workerCpuMs: number };

async function apiServerWorker(): Promise<void> {
  const t = await testServer();
  const grpc = new Server();
  addObjectsService(grpc, t.server);
  const port = await new Promise<number>((resolve, reject) => grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const createAll = async (n: number, object: (i: number) => KubeObject) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: CREATE_CONCURRENCY }, async () => {
        while (next < n) await t.server.create({ object: object(next++) });
      }),
    );
  };
  await createAll(NODES, (i) => makeNode({ name: `node-${i}`, labels: { [ZONE_LABEL]: `zone-${i % ZONES}` } }));
  let cpu0 = 0;
  parentPort!.postMessage({ port } satisfies FromWorker);
  parentPort!.postMessage({ nodesCreated: true } satisfies FromWorker);
  parentPort!.on('message', async (m: string) => {
    if (m === 'cpu') {
      parentPort!.postMessage({ workerCpuMs: threadCpuMs() - cpu0 } satisfies FromWorker);
      return;
    }
    cpu0 = threadCpuMs();
    const start = performance.timeOrigin + performance.now();
    await createAll(PODS, (i) => {
      const p = makePod({ name: `pod-${i}`, cpu: '100m', memory: '500Mi' });
      p.metadata!.uid = undefined;
      return p;
    });
    parentPort!.postMessage({ podsStartedMs: start, podsCreatedMs: performance.timeOrigin + performance.now() } satisfies FromWorker);
  });
}

/** CPU ms of the calling thread (utime + stime of /proc/thread-self/stat, in 100 Hz ticks). */
function threadCpuMs(): number {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5), counted from the state field (3).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

class CountingRecorder implements EventRecorder {
  scheduled = 0;
  private waiter: (() => void) | undefined;
  event(_r: KubeObject, _type: string, reason: string): void {
    if (reason === 'Scheduled' && ++this.scheduled >= PODS) this.waiter?.();
  }
  all(): Promise<void> {
    return this.scheduled >= PODS ? Promise.resolve() : new Promise((r) => (this.waiter = r));
  }
}

async function quantile(registry: Registry, name: string, q: number): Promise<string> {
  const m = await registry.getSingleMetric(name)!.get();
  const buckets = m.values.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_bucket'));
  const want = (buckets.find((b) => b.labels.le === '+Inf')?.value ?? 0) * q;
  return `<= ${buckets.find((b) => b.value >= want)?.labels.le ?? '?'} s`;
}

async function main(): Promise<void> {
  // The worker loads TypeScript through tsx, as this file was.
  const worker = new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`, { eval: true });
  const messages: FromWorker[] = [];
  let wake: (() => void) | undefined;
  worker.on('message', (m: FromWorker) => {
    messages.push(m);
    wake?.();
  });
  worker.on('error', (e) => {
    console.error(e);
    process.exit(1);
  });
  const next = async <K extends string>(key: K): Promise<Extract<FromWorker, Record<K, unknown>>> => {
    for (;;) {
      const i = messages.findIndex((m) => key in m);
      if (i >= 0) return messages.splice(i, 1)[0] as Extract<FromWorker, Record<K, unknown>>;
      await new Promise<void>((r) => (wake = r));
    }
  };
  const { port } = await next('port');
  await next('nodesCreated');

  const client = new NavarchClient({ endpoints: [`127.0.0.1:${port}`] });
  const informers = InformerFactory.forClient(client, { clock: realClock, logger: { warn: (m) => console.error(m) } });
  const registry = new Registry();
  const recorder = new CountingRecorder();
  const scheduler = new Scheduler(
    { client, binder: clientBinder(client), informers, clock: realClock, random: new SeededRandom(1), recorder, registry },
    { logger: { warn: (m) => console.error(m) }, maxInflightBindings: INFLIGHT },
  );
  // When the scheduler's watch delivered the pods (the bound can be no earlier).
  let seen = 0;
  let lastSeenMs = 0;
  informers.informer('pods').addEventHandler({
    onAdd: () => {
      if (++seen === PODS) lastSeenMs = performance.timeOrigin + performance.now();
    },
  });
  await scheduler.start();
  const cpu0 = threadCpuMs();
  worker.postMessage('create pods');
  await recorder.all();
  const boundMs = performance.timeOrigin + performance.now();
  const busyMs = threadCpuMs() - cpu0;
  const { podsStartedMs, podsCreatedMs } = await next('podsStartedMs');
  worker.postMessage('cpu');
  const { workerCpuMs } = await next('workerCpuMs');
  const seconds = (boundMs - podsStartedMs) / 1000;
  console.log(`scheduler over gRPC, API server in a worker thread: ${NODES.toLocaleString('en-US')} nodes, ${PODS.toLocaleString('en-US')} pods (100m, 500Mi)`);
  console.log(
    `${Math.round(PODS / seconds).toLocaleString('en-US')} pods/s from first create to last bound (${seconds.toFixed(2)} s; creates done at ${((podsCreatedMs - podsStartedMs) / 1000).toFixed(2)} s, ` +
      `the watch delivered the last at ${((lastSeenMs - podsStartedMs) / 1000).toFixed(2)} s)   ` +
      `SLI p50 ${await quantile(registry, 'scheduler_pod_scheduling_sli_duration_seconds', 0.5)}, p99 ${await quantile(registry, 'scheduler_pod_scheduling_sli_duration_seconds', 0.99)}`,
  );
  console.log(
    `scheduler thread CPU ${(busyMs / 1000).toFixed(2)} s of ${seconds.toFixed(2)} s: ` +
      `${(busyMs / PODS).toFixed(3)} ms per pod, ${Math.round((PODS / busyMs) * 1000).toLocaleString('en-US')} pods/s if it had a core to itself; ` +
      `API server thread CPU ${(workerCpuMs / 1000).toFixed(2)} s (${(workerCpuMs / PODS).toFixed(3)} ms per pod: create, bind, watches)`,
  );
  await scheduler.stop();
  informers.stop();
  client.close();
  await worker.terminate();
}

if (isMainThread) await main();
else await apiServerWorker();
