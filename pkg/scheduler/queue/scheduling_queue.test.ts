import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../../client/testing/fake_clock.js";
import { newDefaultFramework } from "../default_profile.js";
import { makePod } from "../testing/wrappers.js";
import { type QueuedPodInfo, SchedulingQueue, type SchedulingQueueOptions } from "./scheduling_queue.js";

function setup(o: Partial<SchedulingQueueOptions> = {}) {
  const clock = new FakeClock();
  const q = new SchedulingQueue(newDefaultFramework(), { clock, ...o });
  return { clock, q };
}

function names(q: SchedulingQueue): string[] {
  const out: string[] = [];
  for (let p = q.tryPop(); p !== undefined; p = q.tryPop()) out.push(p.podInfo.name);
  return out;
}

/** Pops the pod and fails its attempt as rejected by these plugins. */
function fail(q: SchedulingQueue, name: string, plugins: string[]): QueuedPodInfo {
  const p = q.tryPop();
  assert.equal(p?.podInfo.name, name);
  q.addUnschedulableIfNotPresent(p!, new Set(plugins), q.currentCycle);
  return p!;
}

test("activeQ pops higher priority first, then the pod that waited longest", async () => {
  const { clock, q } = setup();
  q.add(makePod({ name: "low-old", priority: 0 }));
  await clock.advance(10);
  q.add(makePod({ name: "high", priority: 100 }));
  await clock.advance(10);
  q.add(makePod({ name: "low-new", priority: 0 }));
  q.add(makePod({ name: "mid", priority: 50 }));
  assert.deepEqual(names(q), ["high", "mid", "low-old", "low-new"]);
});

test("pods of one priority that enter in the same millisecond pop in the order they entered", () => {
  const { q } = setup();
  const order = Array.from({ length: 40 }, (_, i) => `p${i}`);
  for (const name of order) q.add(makePod({ name }));
  assert.deepEqual(names(q), order);
});

test("a priority raised while queued changes the order", async () => {
  const { clock, q } = setup();
  q.add(makePod({ name: "a" }));
  await clock.advance(1);
  const b = makePod({ name: "b" });
  q.add(b);
  q.update(b, makePod({ name: "b", priority: 10 }));
  assert.deepEqual(names(q), ["b", "a"]);
});

test("a pod that failed with an error backs off 1 s, doubling per attempt up to 10 s", async () => {
  const { clock, q } = setup();
  q.run();
  q.add(makePod({ name: "p" }));
  const expected = [1000, 2000, 4000, 8000, 10_000, 10_000];
  for (const backoffMs of expected) {
    const p = q.tryPop()!;
    q.addUnschedulableIfNotPresent(p, new Set(), q.currentCycle);
    assert.equal(q.placeOf(p.podInfo.key), "backoff");
    await clock.advance(backoffMs - 1);
    assert.equal(q.tryPop(), undefined, `still backing off after ${backoffMs - 1} ms`);
    // The flush runs every second: the pod is back within one more flush interval.
    await clock.advance(1000);
    assert.equal(q.placeOf(p.podInfo.key), "active", `back after ${backoffMs} ms`);
  }
  q.close();
});

test("a rejected pod is parked until an event its plugins registered for", async () => {
  const { clock, q } = setup();
  q.add(makePod({ name: "big", cpu: "64" }));
  const p = fail(q, "big", ["NodeResourcesFit"]);
  assert.deepEqual(q.pendingCounts(), { active: 0, backoff: 0, unschedulable: 1, gated: 0 });
  // A new pod takes room rather than making it; a relabelled node does not add cpu.
  q.moveAllToActiveOrBackoffQueue("Pod", ["Add"]);
  q.moveAllToActiveOrBackoffQueue("Node", ["UpdateNodeLabel"]);
  assert.equal(q.placeOf(p.podInfo.key), "unschedulable");
  await clock.advance(60_000);
  // A deleted pod may free cpu; its backoff (1 s) is over, so it goes straight to activeQ.
  q.moveAllToActiveOrBackoffQueue("Pod", ["Delete"]);
  assert.equal(q.placeOf(p.podInfo.key), "active");
});

test("a pod moved by an event while still in its backoff goes to backoffQ, then activeQ", async () => {
  const { clock, q } = setup();
  q.run();
  q.add(makePod({ name: "p" }));
  fail(q, "p", ["NodeAffinity"]);
  q.moveAllToActiveOrBackoffQueue("Node", ["Add"]);
  assert.equal(q.placeOf("uid-default-p"), "backoff");
  await clock.advance(1000);
  assert.deepEqual(names(q), ["p"]);
  q.close();
});

test("an event during an attempt that may help the pod sends it to backoff instead of parking it", async () => {
  const { q } = setup();
  q.add(makePod({ name: "p" }));
  const p = q.tryPop()!;
  const cycle = q.currentCycle;
  q.moveAllToActiveOrBackoffQueue("Node", ["Add"]);
  q.addUnschedulableIfNotPresent(p, new Set(["NodeResourcesFit"]), cycle);
  assert.equal(q.placeOf(p.podInfo.key), "backoff");
});

test("an event during an attempt that cannot help the pod leaves it parked", async () => {
  const { q } = setup();
  q.add(makePod({ name: "p" }));
  const p = q.tryPop()!;
  const cycle = q.currentCycle;
  // Pods being bound and relabelled elsewhere do not free cpu.
  q.moveAllToActiveOrBackoffQueue("Pod", ["Add"]);
  q.moveAllToActiveOrBackoffQueue("Pod", ["UpdatePodLabel"]);
  q.addUnschedulableIfNotPresent(p, new Set(["NodeResourcesFit"]), cycle);
  assert.equal(q.placeOf(p.podInfo.key), "unschedulable");
});

test("an event before the attempt began does not count for it", async () => {
  const { q } = setup();
  q.add(makePod({ name: "a" }));
  q.add(makePod({ name: "b" }));
  const a = q.tryPop()!;
  q.moveAllToActiveOrBackoffQueue("Pod", ["Delete"]);
  q.addUnschedulableIfNotPresent(a, new Set(["NodeResourcesFit"]), q.currentCycle);
  assert.equal(q.placeOf(a.podInfo.key), "backoff", "a was in flight during the delete");
  const b = q.tryPop()!;
  q.addUnschedulableIfNotPresent(b, new Set(["NodeResourcesFit"]), q.currentCycle);
  assert.equal(q.placeOf(b.podInfo.key), "unschedulable", "b was popped after it");
});

test("parked pods older than 5 minutes are flushed back by the 30 s timer", async () => {
  const { clock, q } = setup();
  q.run();
  q.add(makePod({ name: "p" }));
  fail(q, "p", ["NodeResourcesFit"]);
  await clock.advance(300_000);
  assert.equal(q.pendingCounts().unschedulable, 1, "not yet: exactly 5 minutes");
  await clock.advance(30_000);
  assert.deepEqual(q.pendingCounts(), { active: 1, backoff: 0, unschedulable: 0, gated: 0 });
  q.close();
});

test("a parked pod whose spec changes is retried; a status-only change leaves it parked", () => {
  const { q } = setup();
  const pod = makePod({ name: "p", cpu: "64" });
  q.add(pod);
  fail(q, "p", ["NodeResourcesFit"]);
  const withStatus = structuredClone(pod);
  withStatus.status = { ...withStatus.status, conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable" }] } as typeof withStatus.status;
  q.update(pod, withStatus);
  assert.equal(q.placeOf("uid-default-p"), "unschedulable");
  q.update(withStatus, makePod({ name: "p", cpu: "64", labels: { fixed: "yes" } }));
  assert.equal(q.placeOf("uid-default-p"), "backoff");
});

test("a pod deleted or bound during its attempt is not requeued", () => {
  const { q } = setup();
  const pod = makePod({ name: "p" });
  q.add(pod);
  const p = q.tryPop()!;
  q.delete(pod);
  q.addUnschedulableIfNotPresent(p, new Set(["NodeResourcesFit"]), q.currentCycle);
  assert.equal(q.size, 0);
});

test("pop() waits for a pod and resolves undefined once closed", async () => {
  const { clock, q } = setup();
  const first = q.pop();
  await clock.advance(0);
  q.add(makePod({ name: "p" }));
  assert.equal((await first)?.podInfo.name, "p");
  const second = q.pop();
  q.close();
  assert.equal(await second, undefined);
});

test("the queue is bounded: add() refuses pods beyond maxPendingPods", () => {
  const { q } = setup({ maxPendingPods: 2 });
  assert.equal(q.add(makePod({ name: "a" })), true);
  assert.equal(q.add(makePod({ name: "b" })), true);
  assert.equal(q.add(makePod({ name: "c" })), false);
  // An update of a known pod is not a new entry.
  assert.equal(q.add(makePod({ name: "a", priority: 5 })), true);
  assert.equal(q.size, 2);
});

test("bad options are refused with the option's name", () => {
  assert.throws(() => setup({ podInitialBackoffMs: 0 }), /podInitialBackoffMs must be a number > 0, got 0/);
  assert.throws(() => setup({ podInitialBackoffMs: 5000, podMaxBackoffMs: 1000 }), /podMaxBackoffMs \(1000\) is below podInitialBackoffMs \(5000\)/);
});

test("an event moves only the parked pods whose rejecting plugins registered for it", () => {
  const { q } = setup();
  q.add(makePod({ name: "needs-cpu", priority: 2 }));
  q.add(makePod({ name: "needs-label", priority: 1 }));
  q.add(makePod({ name: "needs-either" }));
  fail(q, "needs-cpu", ["NodeResourcesFit"]);
  fail(q, "needs-label", ["NodeAffinity"]);
  fail(q, "needs-either", ["NodeAffinity", "NodeResourcesFit"]);
  q.moveAllToActiveOrBackoffQueue("Node", ["UpdateNodeLabel"]);
  assert.equal(q.placeOf("uid-default-needs-cpu"), "unschedulable");
  assert.equal(q.placeOf("uid-default-needs-label"), "backoff");
  assert.equal(q.placeOf("uid-default-needs-either"), "backoff");
  q.moveAllToActiveOrBackoffQueue("Pod", ["Delete"]);
  assert.equal(q.placeOf("uid-default-needs-cpu"), "backoff");
  assert.deepEqual(q.pendingCounts(), { active: 0, backoff: 3, unschedulable: 0, gated: 0 });
});

test("a bound pod moves back only the parked pods it may help: required affinity to it, or spread in its namespace", async () => {
  const { clock, q } = setup();
  q.add(makePod({ name: "anti", labels: { app: "web" }, affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "web" } }, topologyKey: "kubernetes.io/hostname" }] } } }));
  fail(q, "anti", ["InterPodAffinity"]);
  q.add(makePod({ name: "wants-db", affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "db" } }, topologyKey: "kubernetes.io/hostname" }] } } }));
  fail(q, "wants-db", ["InterPodAffinity"]);
  q.add(makePod({ name: "spread", namespace: "team" }));
  fail(q, "spread", ["PodTopologySpread"]);
  q.add(makePod({ name: "big" }));
  fail(q, "big", ["NodeResourcesFit"]);
  await clock.advance(60_000);
  // An unrelated pod bound in another namespace: nothing it could help.
  q.assignedPodChanged({ namespace: "default", labels: { app: "cache" } }, ["Add"], {});
  assert.deepEqual(["anti", "wants-db", "spread", "big"].map((n) => q.placeOf(`uid-${n === "spread" ? "team" : "default"}-${n}`)), ["unschedulable", "unschedulable", "unschedulable", "unschedulable"]);
  // A db pod: the pod that requires affinity to it goes back; anti-affinity is never helped by an addition.
  q.assignedPodChanged({ namespace: "default", labels: { app: "db" } }, ["Add"], {});
  assert.equal(q.placeOf("uid-default-wants-db"), "active");
  assert.equal(q.placeOf("uid-default-anti"), "unschedulable");
  // A pod bound in the spread pod's namespace may change its domains' counts.
  q.assignedPodChanged({ namespace: "team", labels: {} }, ["Add"], {});
  assert.equal(q.placeOf("uid-team-spread"), "active");
  assert.equal(q.placeOf("uid-default-big"), "unschedulable", "a bind frees no cpu");
  // A deletion may help them all.
  q.moveAllToActiveOrBackoffQueue("Pod", ["Delete"]);
  assert.equal(q.placeOf("uid-default-anti"), "active");
  assert.equal(q.placeOf("uid-default-big"), "active");
});
