// The scheduler end to end against an in-process API server: its informers list and watch the
// server, it binds through the server, writes through a RecordingClient; time is a FakeClock.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { Registry } from "prom-client";
import { SeededRandom } from "../../raft/core/random.js";
import type { Node, Pod } from "../api/registry.js";
import { isApiError } from "../apiserver/api_error.js";
import { obj, testServer, type TestServer } from "../apiserver/test_util.js";
import { RecordingEventRecorder } from "../client/events/recorder.js";
import { InformerFactory } from "../client/informer/informer_factory.js";
import { FakeClock } from "../client/testing/fake_clock.js";
import { eventually } from "../client/testing/settle.js";
import { RecordingClient } from "../controllers/testing/recording_client.js";
import type { Binder } from "./binder.js";
import { Scheduler, type SchedulerOptions } from "./scheduler.js";
import { serverBinder, serverListWatcher } from "./testing/in_process.js";
import { makeNode, makePod, type NodeOptions, type PodOptions } from "./testing/wrappers.js";

interface Env {
  t: TestServer;
  clock: FakeClock;
  client: RecordingClient;
  recorder: RecordingEventRecorder;
  registry: Registry;
  scheduler: Scheduler;
  informers: InformerFactory;
  binds: string[];
}

let env: Env | undefined;

afterEach(async () => {
  if (env === undefined) return;
  await env.scheduler.stop();
  env.informers.stop();
  env.t.server.closeWatches();
  env = undefined;
});

async function start(o: { binder?: (real: Binder, t: TestServer) => Binder; options?: SchedulerOptions; before?: (t: TestServer) => Promise<void>; standby?: boolean } = {}): Promise<Env> {
  const t = await testServer();
  await o.before?.(t);
  const clock = new FakeClock();
  const client = new RecordingClient(t.server);
  const recorder = new RecordingEventRecorder();
  const registry = new Registry();
  const informers = new InformerFactory((r) => serverListWatcher(t.server, r), { clock, logger: { warn: () => {} } });
  const binds: string[] = [];
  const real = serverBinder(t.server);
  const inner = o.binder?.(real, t) ?? real;
  const binder: Binder = {
    bind: (ns, name, node, opts) => {
      binds.push(`${ns}/${name} -> ${node}`);
      return inner.bind(ns, name, node, opts);
    },
  };
  const scheduler = new Scheduler({ client, binder, informers, clock, random: new SeededRandom(7), recorder, registry }, { logger: { warn: () => {} }, ...o.options });
  env = { t, clock, client, recorder, registry, scheduler, informers, binds };
  if (o.standby) await scheduler.prepare();
  else await scheduler.start();
  return env;
}

async function addNode(e: Env, o: NodeOptions): Promise<void> {
  await e.t.server.create({ object: makeNode(o) });
}

async function addPod(e: Env, o: PodOptions & { schedulerName?: string }): Promise<void> {
  const p = await podForServer(e.t, o);
  if (o.schedulerName !== undefined) p.spec!.schedulerName = o.schedulerName;
  await e.t.server.create({ object: p });
}

/** A pod to create through the API: a priority comes from a PriorityClass, as the API admits only that. */
async function podForServer(t: TestServer, o: PodOptions): Promise<Pod> {
  const p = makePod(o);
  p.metadata!.uid = undefined;
  if (o.priority) {
    const name = `priority-${o.priority}`;
    try {
      await t.server.create({ object: obj({ apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name }, value: o.priority }) });
    } catch (err) {
      if (!isApiError(err, "AlreadyExists")) throw err;
    }
    p.spec!.priority = undefined;
    p.spec!.priorityClassName = name;
  }
  return p;
}

async function getPod(e: Env, name: string): Promise<Pod> {
  return (await e.t.server.get({ resource: "pods", namespace: "default", name })) as Pod;
}

async function nodeOf(e: Env, name: string): Promise<string> {
  return (await getPod(e, name)).spec?.nodeName ?? "";
}

async function boundWithin(e: Env, names: string[]): Promise<void> {
  const bound = new Set<string>();
  await eventually(`pods ${names.join(", ")} bound`, () => {
    void Promise.all(names.map(async (n) => ((await nodeOf(e, n)) ? bound.add(n) : undefined)));
    return bound.size === names.length;
  }, 20_000);
}

async function metricValue(e: Env, name: string, labels: Record<string, string>): Promise<number> {
  const m = await e.registry.getSingleMetric(name)!.get();
  const v = m.values.find((x) => Object.entries(labels).every(([k, want]) => String(x.labels[k]) === want));
  return v?.value ?? 0;
}

test("pending pods get bound, spread over the nodes, each with a Scheduled event", async () => {
  const e = await start();
  for (let i = 0; i < 3; i++) await addNode(e, { name: `n${i}`, cpu: "4" });
  const names = Array.from({ length: 6 }, (_, i) => `p${i}`);
  for (const n of names) await addPod(e, { name: n, cpu: "1" });
  await boundWithin(e, names);
  const perNode = new Map<string, number>();
  for (const n of names) {
    const node = await nodeOf(e, n);
    perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  assert.deepEqual([...perNode.values()], [2, 2, 2], `least-allocated spreads 6 pods over 3 nodes: ${JSON.stringify([...perNode])}`);
  await eventually("six Scheduled events", () => e.recorder.events.length === 6);
  const p0 = await nodeOf(e, "p0");
  assert.ok(e.recorder.events.includes(`Normal Scheduled Successfully assigned default/p0 to ${p0}`), e.recorder.events.join("\n"));
  assert.equal(await metricValue(e, "scheduler_schedule_attempts_total", { result: "scheduled" }), 6);
  const sli = await e.registry.getSingleMetric("scheduler_pod_scheduling_sli_duration_seconds")!.get();
  assert.equal(sli.values.find((v) => (v as { metricName?: string }).metricName?.endsWith("_count"))?.value, 6);
});

test("a standby scheduler queues nothing; once it runs, it binds the pods that came while it waited, in their order", async () => {
  const e = await start({ standby: true });
  await addNode(e, { name: "n0", cpu: "4" });
  for (const name of ["a", "b", "c"]) await addPod(e, { name, cpu: "1" });
  await addPod(e, { name: "gone", cpu: "1" });
  await e.t.server.delete({ resource: "pods", namespace: "default", name: "gone", gracePeriodSeconds: 0 });
  const pods = e.informers.informer<Pod>("pods");
  await eventually("the informer has the pods", () => pods.store.size === 3 && pods.store.get("default", "gone") === undefined);
  assert.deepEqual(e.scheduler.queue.pendingCounts(), { active: 0, backoff: 0, unschedulable: 0, gated: 0 });
  assert.equal(await metricValue(e, "scheduler_pending_pods", { queue: "active" }), 0);
  assert.deepEqual(e.binds, []);
  e.scheduler.run();
  await boundWithin(e, ["a", "b", "c"]);
  assert.deepEqual(e.binds, ["default/a -> n0", "default/b -> n0", "default/c -> n0"]);
  assert.equal(await nodeOf(e, "gone").catch(() => "deleted"), "deleted");
});

test("pods for another scheduler, and pods already on a node, are left alone", async () => {
  const e = await start();
  await addNode(e, { name: "n0" });
  await addPod(e, { name: "other", schedulerName: "my-scheduler" });
  await addPod(e, { name: "mine", schedulerName: "default-scheduler" });
  await boundWithin(e, ["mine"]);
  await e.clock.advance(60_000);
  assert.equal(await nodeOf(e, "other"), "");
  assert.deepEqual(e.binds, ["default/mine -> n0"]);
});

test("an unschedulable pod gets FailedScheduling and PodScheduled=False, waits without retrying, and is bound when a fitting node appears", async () => {
  const e = await start();
  for (let i = 0; i < 5; i++) await addNode(e, { name: `n${i}`, cpu: "4" });
  await addPod(e, { name: "big", cpu: "16" });
  // Kubernetes' wording, preemption's verdict included.
  const message = "0/5 nodes are available: 5 Insufficient cpu. preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.";
  await eventually("the FailedScheduling event", () => e.recorder.events.length > 0);
  assert.deepEqual(e.recorder.take(), [`Warning FailedScheduling ${message}`]);
  let cond: { status?: string; reason?: string; message?: string } | undefined;
  await eventually("the PodScheduled condition", () => {
    void getPod(e, "big").then((p) => (cond = p.status?.conditions?.find((c) => c.type === "PodScheduled")));
    return cond !== undefined;
  });
  assert.deepEqual({ status: cond!.status, reason: cond!.reason, message: cond!.message }, { status: "False", reason: "Unschedulable", message });
  assert.equal(e.scheduler.queue.placeOf((await getPod(e, "big")).metadata!.uid!), "unschedulable");
  assert.equal(await metricValue(e, "scheduler_pending_pods", { queue: "unschedulable" }), 1);

  // Parked: minutes pass (under the 5-minute flush) and unrelated pods come and go; no new attempt.
  await addPod(e, { name: "small", cpu: "1" });
  await boundWithin(e, ["small"]);
  await e.clock.advance(4 * 60_000);
  assert.equal(await metricValue(e, "scheduler_schedule_attempts_total", { result: "unschedulable" }), 1);

  await addNode(e, { name: "huge", cpu: "32" });
  await boundWithin(e, ["big"]);
  assert.equal(await nodeOf(e, "big"), "huge");
});

test("a parked pod is tried again after 5 minutes, and the same failure writes no new status", async () => {
  const e = await start();
  await addNode(e, { name: "n0", cpu: "1" });
  await addPod(e, { name: "big", cpu: "2" });
  await eventually("the first attempt", () => e.recorder.events.length === 1);
  await eventually("the status write", () => e.client.takeSummary().includes("patch pods default/big status"));
  await e.clock.advance(5 * 60_000 + 30_000);
  await eventually("the second attempt", () => e.recorder.events.length === 2);
  assert.equal(await metricValue(e, "scheduler_schedule_attempts_total", { result: "unschedulable" }), 2);
  assert.deepEqual(e.client.takeSummary(), [], "the condition already says this");
});

test("a bind that conflicts (someone else bound the pod first) is forgotten, not retried", async () => {
  const e = await start({
    binder: (real, t) => ({
      async bind(ns, name, node, o) {
        if (name === "raced") await t.server.bind({ namespace: ns, name, target: { name: "n1" } });
        return real.bind(ns, name, node, o);
      },
    }),
  });
  await addNode(e, { name: "n0", cpu: "4" });
  await addNode(e, { name: "n1", cpu: "4", labels: { other: "yes" } });
  await addPod(e, { name: "raced", cpu: "1", nodeSelector: { "kubernetes.io/hostname": "n0" } });
  await boundWithin(e, ["raced"]);
  await e.clock.advance(60_000);
  assert.equal(await nodeOf(e, "raced"), "n1");
  assert.deepEqual(e.binds, ["default/raced -> n0"], "one attempt only");
  const uid = (await getPod(e, "raced")).metadata!.uid!;
  await eventually("the cache shows the pod where it really is", () => e.scheduler.cache.snapshot.nodeOf(uid) === "n1");
  assert.equal(e.scheduler.cache.snapshot.get("n0")!.requestedMilliCpu, 0);
  assert.equal(e.scheduler.queue.placeOf(uid), undefined);
});

test("a bind that fails for a transient reason is retried after its backoff", async () => {
  let failures = 1;
  const e = await start({
    binder: (real) => ({
      async bind(ns, name, node, o) {
        if (failures-- > 0) throw new Error("connection reset");
        return real.bind(ns, name, node, o);
      },
    }),
  });
  await addNode(e, { name: "n0" });
  await addPod(e, { name: "p" });
  await eventually("the failed bind", () => e.recorder.events.length === 1);
  assert.deepEqual(e.recorder.take(), ["Warning FailedScheduling Binding rejected: connection reset"]);
  assert.equal(e.scheduler.cache.snapshot.get("n0")!.pods.length, 0, "forgotten");
  // As kube-scheduler: the failure shows on the pod as PodScheduled=False, reason SchedulerError.
  let cond: { status?: string; reason?: string; message?: string } | undefined;
  await eventually("the PodScheduled condition", () => {
    void getPod(e, "p").then((p) => (cond = p.status?.conditions?.find((c) => c.type === "PodScheduled")));
    return cond !== undefined;
  });
  assert.deepEqual({ ...cond }, { ...cond, status: "False", reason: "SchedulerError", message: "Binding rejected: connection reset" });
  await e.clock.advance(1000);
  await boundWithin(e, ["p"]);
  assert.deepEqual(e.binds, ["default/p -> n0", "default/p -> n0"]);
  assert.equal((await getPod(e, "p")).status?.conditions?.find((c) => c.type === "PodScheduled")?.status, "True", "the binding sets it True");
  await eventually("the Scheduled event", () => e.recorder.events.length === 1);
  assert.equal(await metricValue(e, "scheduler_schedule_attempts_total", { result: "error" }), 1);
  assert.equal(await metricValue(e, "scheduler_schedule_attempts_total", { result: "scheduled" }), 1);
  // The SLI runs from the pod's first entry into the queue, over both attempts (backoff included).
  const sli = await e.registry.getSingleMetric("scheduler_pod_scheduling_sli_duration_seconds")!.get();
  const sum = sli.values.find((v) => (v as { metricName?: string }).metricName?.endsWith("_sum") && v.labels.attempts === "2");
  assert.ok(sum !== undefined && sum.value >= 1, `SLI sum for 2 attempts: ${JSON.stringify(sli.values.filter((v) => (v as { metricName?: string }).metricName?.endsWith("_sum")))}`);
});

test("a high-priority pod preempts a lower-priority one: victim evicted, nomination written, then bound", async () => {
  const e = await start();
  await addNode(e, { name: "n0", cpu: "4" });
  await addPod(e, { name: "low", cpu: "3", priority: 0 });
  await boundWithin(e, ["low"]);
  await addPod(e, { name: "high", cpu: "3", priority: 1000 });
  let high: Pod | undefined;
  await eventually("the nomination", () => {
    void getPod(e, "high").then((p) => (high = p));
    return high?.status?.nominatedNodeName === "n0";
  });
  const low = await getPod(e, "low");
  assert.ok(low.metadata?.deletionTimestamp, "the victim is being deleted");
  const disruption = low.status?.conditions?.find((c) => c.type === "DisruptionTarget");
  assert.deepEqual([disruption?.status, disruption?.reason, disruption?.message], ["True", "PreemptionByScheduler", "default-scheduler: preempting to accommodate a higher priority pod"]);
  assert.deepEqual(e.client.takeSummary().filter((a) => a.startsWith("delete")), ["delete pods default/low"]);
  assert.deepEqual(e.recorder.take(), [
    "Normal Scheduled Successfully assigned default/low to n0",
    "Warning FailedScheduling 0/1 nodes are available: 1 Insufficient cpu.",
    `Normal Preempted Preempted by pod ${high!.metadata!.uid} on node n0`,
  ]);
  // A lower-priority pod must not take the room being made for "high" (1 cpu is free beside the
  // terminating victim, but not beside the victim and the nominated pod).
  await addPod(e, { name: "sneaky", cpu: "1", priority: 0 });
  await eventually("sneaky's attempt", () => e.recorder.events.length === 1);
  assert.match(e.recorder.events[0], /^Warning FailedScheduling 0\/1 nodes are available: 1 Insufficient cpu\./);
  assert.equal(await nodeOf(e, "sneaky"), "");
  // The agent finishes the victim: the pod is gone, and "high" fits.
  await e.t.server.delete({ resource: "pods", namespace: "default", name: "low", gracePeriodSeconds: 0 });
  await e.clock.advance(2000);
  await boundWithin(e, ["high"]);
  assert.equal(await nodeOf(e, "high"), "n0");
});

test("preemption spares the pods a PodDisruptionBudget protects, read through the scheduler's informer", async () => {
  const e = await start({
    before: async (t) => {
      for (const name of ["n0", "n1"]) await t.server.create({ object: makeNode({ name, cpu: "1" }) });
      // Without the budget, "guarded" would go: it is the less important victim.
      for (const o of [{ name: "guarded", nodeName: "n0", priority: 1, labels: { app: "db" } }, { name: "free", nodeName: "n1", priority: 5 }]) {
        await t.server.create({ object: await podForServer(t, { ...o, cpu: "1" }) });
      }
    },
  });
  // Created while the scheduler runs; no disruption controller has written a status: it allows nothing.
  await e.t.server.create({
    object: obj({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "db", namespace: "default" }, spec: { minAvailable: 1, selector: { matchLabels: { app: "db" } } } }),
  });
  await eventually("the budget in the scheduler's informer", () => e.informers.informer("poddisruptionbudgets").store.size === 1);
  await addPod(e, { name: "high", cpu: "1", priority: 1000 });
  let high: Pod | undefined;
  await eventually("the nomination", () => {
    void getPod(e, "high").then((p) => (high = p));
    return high?.status?.nominatedNodeName !== undefined;
  });
  assert.equal(high!.status!.nominatedNodeName, "n1");
  assert.deepEqual(e.client.takeSummary().filter((a) => a.startsWith("delete")), ["delete pods default/free"]);
  assert.equal((await getPod(e, "guarded")).metadata?.deletionTimestamp, undefined);
});

test("a nomination that no longer holds is cleared when preemption finds no room anywhere, and frees the room for others", async () => {
  const e = await start({
    before: async (t) => {
      await t.server.create({ object: makeNode({ name: "n0", cpu: "2" }) });
      // Nominated to n0 by an earlier attempt, but now too big for any node, with nothing to evict.
      const high = await podForServer(t, { name: "high", cpu: "4", priority: 1000 });
      const created = (await t.server.create({ object: high })) as Pod;
      created.status = { ...created.status!, nominatedNodeName: "n0" };
      await t.server.updateStatus({ object: created });
    },
  });
  await eventually("high's attempt", () => e.recorder.events.length === 1);
  let high: Pod | undefined;
  await eventually("the nomination cleared", () => {
    void getPod(e, "high").then((p) => (high = p));
    return high !== undefined && high.status?.nominatedNodeName === undefined && high.status?.conditions?.some((c) => c.type === "PodScheduled") === true;
  });
  const firstSince = high!.status!.conditions!.find((c) => c.type === "PodScheduled")!.lastTransitionTime;
  // The room it held goes to a pod that fits.
  await addPod(e, { name: "small", cpu: "2" });
  await boundWithin(e, ["small"]);
  // Later, another failure with another message: the condition keeps when it became False.
  await e.clock.advance(10_000);
  await addNode(e, { name: "n1", cpu: "2", taints: [{ key: "k", value: "v", effect: "NoSchedule" }] });
  let again: { message?: string; lastTransitionTime?: string } | undefined;
  await eventually("the new message written", () => {
    void getPod(e, "high").then((p) => (again = p.status?.conditions?.find((c) => c.type === "PodScheduled")));
    return again?.message?.startsWith("0/2 nodes") === true;
  });
  assert.equal(again!.lastTransitionTime, firstSince);
});

test("a parked pod that is deleted leaves the queue", async () => {
  const e = await start();
  await addNode(e, { name: "n0", cpu: "1" });
  await addPod(e, { name: "big", cpu: "2" });
  await eventually("parked", () => e.scheduler.queue.pendingCounts().unschedulable === 1);
  await e.t.server.delete({ resource: "pods", namespace: "default", name: "big" });
  await eventually("gone from the queue", () => e.scheduler.queue.size === 0);
  assert.equal(await metricValue(e, "scheduler_pending_pods", { queue: "unschedulable" }), 0);
});

test("a nomination written before a failover still holds the room on its node", async () => {
  const e = await start({
    before: async (t) => {
      await t.server.create({ object: makeNode({ name: "n0", cpu: "4" }) });
      const victim = makePod({ name: "victim", cpu: "3", nodeName: "n0" });
      victim.metadata!.uid = undefined;
      await t.server.create({ object: victim });
      // Being evicted: it still holds its cpu until the agent reports it gone.
      await t.server.delete({ resource: "pods", namespace: "default", name: "victim" });
      const high = await podForServer(t, { name: "high", cpu: "3", priority: 1000 });
      const created = (await t.server.create({ object: high })) as Pod;
      created.status = { ...created.status!, nominatedNodeName: "n0" };
      await t.server.updateStatus({ object: created });
    },
  });
  await eventually("high's attempt", () => e.recorder.events.length === 1);
  // 1 cpu is free beside the terminating victim, but it is high's once the victim goes.
  await addPod(e, { name: "sneaky", cpu: "1" });
  await eventually("sneaky's attempt", () => e.recorder.events.length === 2);
  assert.match(e.recorder.events[1], /^Warning FailedScheduling 0\/1 nodes are available: 1 Insufficient cpu\./);
  assert.equal(await nodeOf(e, "sneaky"), "");
  await e.t.server.delete({ resource: "pods", namespace: "default", name: "victim", gracePeriodSeconds: 0 });
  await e.clock.advance(2000);
  await boundWithin(e, ["high"]);
  assert.equal(await nodeOf(e, "high"), "n0");
});

test("a pod waiting for a node label is bound when a node is relabelled, not on heartbeats", async () => {
  const e = await start();
  await addNode(e, { name: "n0" });
  await addPod(e, { name: "ssd", nodeSelector: { disk: "ssd" } });
  await eventually("parked", () => e.scheduler.queue.pendingCounts().unschedulable === 1);
  assert.match(e.recorder.events[0], /^Warning FailedScheduling 0\/1 nodes are available: 1 node\(s\) didn't match Pod's node affinity\/selector\./);
  // A status-only update (a heartbeat) changes nothing the pod waits for.
  const n0 = (await e.t.server.get({ resource: "nodes", name: "n0" })) as Node;
  n0.status = { ...n0.status!, conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "ok", lastHeartbeatTime: undefined, lastTransitionTime: undefined }] };
  await e.t.server.updateStatus({ object: n0 });
  await e.clock.advance(10_000);
  assert.equal(e.scheduler.queue.pendingCounts().unschedulable, 1);
  const fresh = (await e.t.server.get({ resource: "nodes", name: "n0" })) as Node;
  fresh.metadata!.labels = { ...fresh.metadata!.labels, disk: "ssd" };
  await e.t.server.update({ object: fresh });
  await boundWithin(e, ["ssd"]);
});

test("a ReplicaSet's pods are spread over the nodes by Kubernetes' system default constraints, where free room alone would stack them", async () => {
  const e = await start();
  await addNode(e, { name: "n0", cpu: "4" });
  await addNode(e, { name: "n1", cpu: "4" });
  // n1 is half full: by free room alone (LeastAllocated, BalancedAllocation) n0 wins every time.
  await addPod(e, { name: "filler", cpu: "2", nodeName: "n1" });
  await e.t.server.create({
    object: obj({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "web", namespace: "default" },
      spec: { selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx" }] } } },
    }),
  });
  const rs = await e.t.server.get({ resource: "replicasets", namespace: "default", name: "web" });
  const placed = async (prefix: string, owned: boolean): Promise<string[]> => {
    const nodes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const p = await podForServer(e.t, { name: `${prefix}-${i}`, cpu: "100m", labels: { app: prefix } });
      if (owned) p.metadata!.ownerReferences = [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: rs.metadata!.uid!, controller: true }];
      await e.t.server.create({ object: p });
      await boundWithin(e, [`${prefix}-${i}`]);
      nodes.push(await nodeOf(e, `${prefix}-${i}`));
    }
    return nodes.sort();
  };
  assert.deepEqual(await placed("loose", false), ["n0", "n0", "n0", "n0"], "pods no controller or Service groups: free room decides");
  assert.deepEqual(await placed("web", true), ["n0", "n0", "n1", "n1"], "the ReplicaSet's pods spread");
});

test("stop() waits for a hung binding at most stopWaitMs", async () => {
  const e = await start({ binder: () => ({ bind: () => new Promise<void>(() => {}) }) });
  await addNode(e, { name: "n0" });
  await addPod(e, { name: "p" });
  await eventually("the binding in flight", () => e.scheduler.inflight === 1);
  let stopped = false;
  const stopping = e.scheduler.stop().then(() => (stopped = true));
  await e.clock.advance(4999);
  assert.equal(stopped, false);
  await e.clock.advance(1);
  await stopping;
  assert.equal(stopped, true);
});
