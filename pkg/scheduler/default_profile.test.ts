import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultProfile, newDefaultFramework } from "./default_profile.js";

test("defaultProfile() filters in Kubernetes' order", () => {
  assert.deepEqual(
    newDefaultFramework().filterPlugins.map((p) => p.name),
    ["NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts", "NodeResourcesFit", "PodTopologySpread", "InterPodAffinity"],
  );
});

test("defaultProfile() scores with Kubernetes' default weights", () => {
  const weights = Object.fromEntries(newDefaultFramework().scorePlugins.map((s) => [s.plugin.name, s.weight]));
  assert.deepEqual(weights, {
    TaintToleration: 3,
    NodeAffinity: 2,
    PodTopologySpread: 2,
    InterPodAffinity: 2,
    NodeResourcesLeastAllocated: 1,
    NodeResourcesBalancedAllocation: 1,
  });
});

test("defaultProfile() preempts with DefaultPreemption and uses the adaptive percentage", () => {
  const fwk = newDefaultFramework();
  assert.deepEqual(fwk.postFilterPlugins.map((p) => p.name), ["DefaultPreemption"]);
  assert.equal(fwk.percentageOfNodesToScore, 0);
  assert.equal(fwk.schedulerName, "default-scheduler");
  assert.equal(defaultProfile({ schedulerName: "other", percentageOfNodesToScore: 30 }).percentageOfNodesToScore, 30);
});
