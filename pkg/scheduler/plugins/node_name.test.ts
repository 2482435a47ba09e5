import assert from "node:assert/strict";
import { test } from "node:test";
import { makeNode, makePod, makeSnapshot } from "../testing/wrappers.js";
import { CycleState } from "../framework/cycle_state.js";
import { PodInfo } from "../framework/pod_info.js";
import { passing, runFilter } from "../testing/run_plugins.js";
import { ERR_REASON_NODE_NAME, NodeName } from "./node_name.js";

const cases: { name: string; nodeName?: string; want: string[] }[] = [
  { name: "a pod without spec.nodeName fits every node", want: ["a", "b"] },
  { name: "a pod naming a node fits only that node", nodeName: "b", want: ["b"] },
  { name: "a pod naming a missing node fits none", nodeName: "zz", want: [] },
];

for (const c of cases) {
  test(`NodeName: ${c.name}`, () => {
    const snap = makeSnapshot([makeNode({ name: "a" }), makeNode({ name: "b" })]);
    const out = runFilter(new NodeName(), makePod({ name: "p", nodeName: c.nodeName }), snap);
    assert.deepEqual(passing(out), c.want);
  });
}

test("NodeName: the rejection is unresolvable and says the node name did not match", () => {
  const snap = makeSnapshot([makeNode({ name: "a" })]);
  const s = runFilter(new NodeName(), makePod({ name: "p", nodeName: "b" }), snap).nodes.get("a");
  assert.equal(s?.code, "UnschedulableAndUnresolvable");
  assert.deepEqual(s?.reasons, [ERR_REASON_NODE_NAME]);
  assert.equal(s?.plugin, "NodeName");
});

test("NodeName: a pod without spec.nodeName skips the filter on every node; one naming a node does not", () => {
  const snap = makeSnapshot([makeNode({ name: "a" })]);
  const state = new CycleState(snap);
  assert.equal(new NodeName().preFilter(state, new PodInfo(makePod({ name: "p" })))?.code, "Skip");
  assert.equal(new NodeName().preFilter(state, new PodInfo(makePod({ name: "p", nodeName: "a" }))), null);
});
