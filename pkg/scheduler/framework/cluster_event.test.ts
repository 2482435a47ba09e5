import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pod } from "../../api/registry.js";
import { newDefaultFramework } from "../default_profile.js";
import { makeNode, makePod } from "../testing/wrappers.js";
import { type ActionType, type ClusterResource, eventMayHelp, nodeUpdateActions, podUpdateActions } from "./cluster_event.js";

const cases: { name: string; rejectedBy: string[]; resource: ClusterResource; actions: ActionType[]; want: boolean }[] = [
  { name: "a deleted pod may free cpu", rejectedBy: ["NodeResourcesFit"], resource: "Pod", actions: ["Delete"], want: true },
  { name: "a new pod takes room rather than making it", rejectedBy: ["NodeResourcesFit"], resource: "Pod", actions: ["Add"], want: false },
  { name: "a relabelled node may now match a nodeSelector", rejectedBy: ["NodeAffinity"], resource: "Node", actions: ["UpdateNodeLabel"], want: true },
  { name: "a node's new capacity does not change its labels", rejectedBy: ["NodeAffinity"], resource: "Node", actions: ["UpdateNodeAllocatable"], want: false },
  { name: "an uncordoned node", rejectedBy: ["NodeUnschedulable"], resource: "Node", actions: ["UpdateNodeTaint"], want: true },
  { name: "any plugin of several may be helped", rejectedBy: ["NodeAffinity", "InterPodAffinity"], resource: "Pod", actions: ["Delete"], want: true },
  { name: "a new node helps every filter", rejectedBy: ["TaintToleration", "NodeResourcesFit", "PodTopologySpread"], resource: "Node", actions: ["Add"], want: true },
  { name: "no plugin named: retry on anything", rejectedBy: [], resource: "Pod", actions: ["UpdatePodLabel"], want: true },
  { name: "an unknown plugin: retry on anything", rejectedBy: ["Mystery"], resource: "Pod", actions: ["UpdatePodLabel"], want: true },
];

for (const c of cases) {
  test(`eventMayHelp(): ${c.name}`, () => {
    assert.equal(eventMayHelp(newDefaultFramework(), new Set(c.rejectedBy), c.resource, c.actions), c.want);
  });
}

test("nodeUpdateActions() names what changed", () => {
  const base = makeNode({ name: "n", labels: { zone: "a" } });
  assert.deepEqual(nodeUpdateActions(base, makeNode({ name: "n", labels: { zone: "b" } })), ["UpdateNodeLabel"]);
  assert.deepEqual(nodeUpdateActions(base, makeNode({ name: "n", labels: { zone: "a" }, unschedulable: true })), ["UpdateNodeTaint"]);
  assert.deepEqual(nodeUpdateActions(base, makeNode({ name: "n", labels: { zone: "a" }, cpu: "8" })), ["UpdateNodeAllocatable"]);
  assert.deepEqual(nodeUpdateActions(base, makeNode({ name: "n", labels: { zone: "a" } })), []);
});

test("podUpdateActions() names what changed", () => {
  const base = makePod({ name: "p", cpu: "2", labels: { app: "a" } });
  assert.deepEqual(podUpdateActions(base, makePod({ name: "p", cpu: "1", labels: { app: "a" } })), ["UpdatePodScaleDown"]);
  assert.deepEqual(podUpdateActions(base, makePod({ name: "p", cpu: "3", labels: { app: "b" } })), ["UpdatePodLabel"]);
  assert.deepEqual(podUpdateActions(base, makePod({ name: "p", cpu: "2", labels: { app: "a" }, tolerations: [{ operator: "Exists" }] })), [
    "UpdatePodTolerations",
  ]);
  // A status write keeps the spec object: only the labels are compared.
  const running: Pod = { ...base, status: { ...base.status!, phase: "Running" } };
  assert.deepEqual(podUpdateActions(base, running), []);
  assert.deepEqual(podUpdateActions(base, { ...running, metadata: { ...base.metadata!, labels: { app: "b" } } }), ["UpdatePodLabel"]);
  // A quantity that does not parse counts as no request, as the scheduler's PodInfo counts it.
  assert.deepEqual(podUpdateActions(makePod({ name: "p", cpu: "lots", labels: { app: "a" } }), base), []);
  assert.deepEqual(podUpdateActions(base, makePod({ name: "p", cpu: "lots", labels: { app: "a" } })), ["UpdatePodScaleDown"]);
});
