import assert from "node:assert/strict";
import { test } from "node:test";
import { makeNode, makePod, makeSnapshot } from "../testing/wrappers.js";
import { runScore } from "../testing/run_plugins.js";
import { balancedScore, NodeResourcesBalancedAllocation } from "./node_resources_balanced_allocation.js";

const scoreCases: { name: string; args: [number, number, number, number]; want: number }[] = [
  { name: "equal fractions", args: [2000, 4000, 16, 32], want: 100 },
  { name: "a quarter apart: std 0.125", args: [2000, 4000, 8, 32], want: 87 },
  { name: "all cpu, no memory: std 0.5", args: [4000, 4000, 0, 32], want: 50 },
  { name: "fractions above 1 count as 1", args: [8000, 4000, 0, 32], want: 50 },
  { name: "a node without memory is judged on cpu alone", args: [1000, 4000, 5, 0], want: 100 },
];

for (const c of scoreCases) {
  test(`balancedScore(): ${c.name}`, () => {
    assert.equal(balancedScore(...c.args), c.want);
  });
}

test("NodeResourcesBalancedAllocation prefers the node whose cpu and memory use stay even", () => {
  const snap = makeSnapshot(
    [makeNode({ name: "cpu-heavy", cpu: "4", memory: "32Gi" }), makeNode({ name: "even", cpu: "4", memory: "32Gi" })],
    [makePod({ name: "e", nodeName: "cpu-heavy", cpu: "1" }), makePod({ name: "f", nodeName: "even", cpu: "1", memory: "8Gi" })],
  );
  const scores = runScore(new NodeResourcesBalancedAllocation(), makePod({ name: "p", cpu: "1", memory: "8Gi" }), snap);
  assert.deepEqual(Object.fromEntries(scores), { "cpu-heavy": 87, even: 100 });
});

test("NodeResourcesBalancedAllocation skips a pod that requests nothing", () => {
  const snap = makeSnapshot([makeNode({ name: "n" })], [makePod({ name: "e", nodeName: "n", cpu: "3" })]);
  assert.equal(runScore(new NodeResourcesBalancedAllocation(), makePod({ name: "p" }), snap).get("n"), 0);
});
