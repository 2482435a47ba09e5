import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../../client/testing/fake_clock.js";
import type { Pod } from "../../api/registry.js";
import { PodInfo } from "../framework/pod_info.js";
import { makeNode, makePod } from "../testing/wrappers.js";
import { SchedulerCache } from "./cache.js";

function setup() {
  const clock = new FakeClock();
  const expired: string[] = [];
  const cache = new SchedulerCache({ clock, assumedPodTtlMs: 30_000, onExpired: (p, n) => expired.push(`${p.name} on ${n}`) });
  cache.setNode(makeNode({ name: "n1", cpu: "4" }));
  cache.setNode(makeNode({ name: "n2", cpu: "4" }));
  return { clock, cache, expired };
}

const cpuOn = (cache: SchedulerCache, node: string) => cache.snapshot.get(node)!.requestedMilliCpu;

test("an assumed pod counts on its node at once, and the watch's copy confirms it", () => {
  const { cache } = setup();
  const pod = makePod({ name: "p", cpu: "3" });
  cache.assumePod(new PodInfo(pod), "n1");
  assert.equal(cpuOn(cache, "n1"), 3000);
  assert.equal(cache.isAssumed("uid-default-p"), true);
  cache.finishBinding("uid-default-p");
  cache.addPod(makePod({ name: "p", cpu: "3", nodeName: "n1" }));
  assert.equal(cache.isAssumed("uid-default-p"), false);
  assert.equal(cpuOn(cache, "n1"), 3000, "counted once");
  assert.equal(cache.snapshot.numPods, 1);
});

test("the watch showing the pod on another node moves it there", () => {
  const { cache } = setup();
  cache.assumePod(new PodInfo(makePod({ name: "p", cpu: "3" })), "n1");
  cache.addPod(makePod({ name: "p", cpu: "3", nodeName: "n2" }));
  assert.equal(cpuOn(cache, "n1"), 0);
  assert.equal(cpuOn(cache, "n2"), 3000);
});

test("a pod whose binding failed is forgotten", () => {
  const { cache } = setup();
  cache.assumePod(new PodInfo(makePod({ name: "p", cpu: "3" })), "n1");
  assert.equal(cache.forgetPod("uid-default-p"), true);
  assert.equal(cpuOn(cache, "n1"), 0);
  assert.equal(cache.isPlaced("uid-default-p"), false);
  assert.equal(cache.forgetPod("uid-default-p"), false);
});

test("an assumed pod the watch never shows expires a TTL after its binding finished", async () => {
  const { clock, cache, expired } = setup();
  cache.run();
  cache.assumePod(new PodInfo(makePod({ name: "slow", cpu: "1" })), "n1");
  cache.assumePod(new PodInfo(makePod({ name: "binding", cpu: "1" })), "n2");
  cache.finishBinding("uid-default-slow");
  await clock.advance(29_000);
  assert.equal(cpuOn(cache, "n1"), 1000);
  await clock.advance(2000);
  assert.deepEqual(expired, ["slow on n1"]);
  assert.equal(cpuOn(cache, "n1"), 0);
  // A binding still in flight never expires.
  await clock.advance(120_000);
  assert.equal(cpuOn(cache, "n2"), 1000);
  cache.stop();
});

test("a pod that finished stops counting; a deleted one is removed", () => {
  const { cache } = setup();
  cache.addPod(makePod({ name: "a", cpu: "1", nodeName: "n1" }));
  cache.addPod(makePod({ name: "b", cpu: "1", nodeName: "n1" }));
  const done = makePod({ name: "a", cpu: "1", nodeName: "n1" });
  done.status = { ...done.status!, phase: "Succeeded" };
  cache.updatePod(done);
  assert.equal(cpuOn(cache, "n1"), 1000);
  cache.removePod(makePod({ name: "b", nodeName: "n1" }));
  assert.equal(cpuOn(cache, "n1"), 0);
});

test("assuming a pod that is already placed is refused with its node", () => {
  const { cache } = setup();
  cache.addPod(makePod({ name: "p", nodeName: "n1" }));
  assert.throws(() => cache.assumePod(new PodInfo(makePod({ name: "p" })), "n2"), /Cannot assume pod "default\/p" on "n2": it is already on "n1"/);
});

test("node changes keep the pods placed on the node", () => {
  const { cache } = setup();
  cache.addPod(makePod({ name: "p", cpu: "1", nodeName: "n1" }));
  cache.setNode(makeNode({ name: "n1", cpu: "8", labels: { zone: "a" } }));
  assert.equal(cpuOn(cache, "n1"), 1000);
  assert.equal(cache.snapshot.get("n1")!.allocatable.milliCpu, 8000);
  cache.removeNode(makeNode({ name: "n2" }));
  assert.equal(cache.snapshot.numNodes, 1);
});

test("a status write keeps what was parsed from the pod's spec, and the snapshot holds the new version", () => {
  const { cache } = setup();
  const bound = makePod({ name: "p", cpu: "1", nodeName: "n1", labels: { app: "web" } });
  cache.addPod(bound);
  const before = cache.snapshot.placedPod("uid-default-p")!;
  // As shared decoding gives it: the same spec object, a new status and a copy of the labels.
  const running: Pod = { ...bound, metadata: { ...bound.metadata!, labels: { app: "web" } }, status: { ...bound.status!, phase: "Running", startTime: "2026-12-06T08:00:00Z" } };
  cache.updatePod(running);
  const after = cache.snapshot.placedPod("uid-default-p")!;
  assert.equal(after.pod, running);
  assert.equal(after.requests, before.requests, "not parsed again");
  assert.equal(after.startTimeMs, Date.parse("2026-12-06T08:00:00Z"));
  assert.equal(cpuOn(cache, "n1"), 1000);
  assert.equal(cache.snapshot.numPods, 1);
  // Finished with the same spec: it stops counting all the same.
  cache.updatePod({ ...running, status: { ...running.status!, phase: "Succeeded" } });
  assert.equal(cpuOn(cache, "n1"), 0);
  assert.equal(cache.snapshot.placedPod("uid-default-p"), undefined);
});

test("an update that changes the spec or the labels is parsed again", () => {
  const { cache } = setup();
  const bound = makePod({ name: "p", cpu: "1", nodeName: "n1", labels: { app: "web" } });
  cache.addPod(bound);
  const resized = makePod({ name: "p", cpu: "2", nodeName: "n1", labels: { app: "web" } });
  cache.updatePod(resized);
  assert.equal(cpuOn(cache, "n1"), 2000);
  const relabelled: Pod = { ...resized, metadata: { ...resized.metadata!, labels: { app: "db" } } };
  cache.updatePod(relabelled);
  assert.deepEqual(cache.snapshot.placedPod("uid-default-p")!.labels, { app: "db" });
  assert.equal(cpuOn(cache, "n1"), 2000);
});
