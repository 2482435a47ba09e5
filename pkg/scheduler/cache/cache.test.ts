import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../../client/testing/fake_clock.js";
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
