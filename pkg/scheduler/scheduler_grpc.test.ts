// The scheduler as a master runs it: informers and bindings through a NavarchClient over gRPC to an
// API server (the in-process ApiServer served by the Objects service), writes fenced by nothing here.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { Registry } from "prom-client";
import { SeededRandom } from "../../raft/core/random.js";
import type { Pod } from "../api/registry.js";
import { addObjectsService } from "../apiserver/grpc_adapter.js";
import { testServer, type TestServer } from "../apiserver/test_util.js";
import { NavarchClient } from "../client/client.js";
import { RecordingEventRecorder } from "../client/events/recorder.js";
import { InformerFactory } from "../client/informer/informer_factory.js";
import { FakeClock } from "../client/testing/fake_clock.js";
import { until } from "../etcdserver/test_util.js";
import { clientBinder } from "./binder.js";
import { Scheduler } from "./scheduler.js";
import { makeNode, makePod } from "./testing/wrappers.js";

let t: TestServer;
let grpc: Server;
let client: NavarchClient;
let informers: InformerFactory;
let scheduler: Scheduler;
const recorder = new RecordingEventRecorder();

before(async () => {
  t = await testServer();
  grpc = new Server();
  addObjectsService(grpc, t.server);
  const port = await new Promise<number>((resolve, reject) => grpc.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  client = new NavarchClient({ endpoints: [`127.0.0.1:${port}`], retryDeadlineMs: 10_000 });
  const clock = new FakeClock();
  informers = InformerFactory.forClient(client, { clock, logger: { warn: () => {} } });
  scheduler = new Scheduler(
    { client, binder: clientBinder(client), informers, clock, random: new SeededRandom(3), recorder, registry: new Registry() },
    { logger: { warn: () => {} } },
  );
  for (let i = 0; i < 4; i++) await client.create(makeNode({ name: `n${i}`, cpu: "2" }));
  await scheduler.start();
});

after(async () => {
  await scheduler.stop();
  informers.stop();
  client.close();
  t.server.closeWatches();
  grpc.forceShutdown();
});

async function create(name: string, cpu: string): Promise<void> {
  const p = makePod({ name, cpu });
  p.metadata!.uid = undefined;
  await client.create(p);
}

test("pods created through the client are bound through the Binding subresource, PodScheduled True", async () => {
  const names = Array.from({ length: 12 }, (_, i) => `p${i}`);
  for (const n of names) await create(n, "500m");
  await until("every pod bound", async () => {
    const list = await client.list<Pod>("pods", { namespace: "default" });
    return names.every((n) => list.items.find((p) => p.metadata?.name === n)?.spec?.nodeName);
  });
  const p0 = await client.get<Pod>("pods", "default", "p0");
  assert.equal(p0.status?.conditions?.find((c) => c.type === "PodScheduled")?.status, "True");
  const perNode = new Map<string, number>();
  for (const p of (await client.list<Pod>("pods", { namespace: "default" })).items) perNode.set(p.spec!.nodeName!, (perNode.get(p.spec!.nodeName!) ?? 0) + 1);
  assert.deepEqual([...perNode.values()], [3, 3, 3, 3]);
});

test("a pod no node can hold gets the event and PodScheduled False through the client", async () => {
  recorder.take();
  await create("huge", "8");
  await until("the condition", async () => (await client.get<Pod>("pods", "default", "huge")).status?.conditions?.some((c) => c.reason === "Unschedulable") ?? false);
  const huge = await client.get<Pod>("pods", "default", "huge");
  const cond = huge.status!.conditions!.find((c) => c.type === "PodScheduled")!;
  assert.equal(cond.status, "False");
  assert.equal(cond.message, "0/4 nodes are available: 4 Insufficient cpu. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.");
  assert.deepEqual(recorder.take(), [`Warning FailedScheduling ${cond.message}`]);
});
