import assert from "node:assert/strict";
import { test } from "node:test";
import { makeNode, makePod, makeSnapshot } from "../testing/wrappers.js";
import { runScore } from "../testing/run_plugins.js";
import { leastRequestedScore, NodeResourcesLeastAllocated } from "./node_resources_least_allocated.js";

const scoreCases: { requested: number; capacity: number; want: number }[] = [
  { requested: 0, capacity: 4000, want: 100 },
  { requested: 1000, capacity: 4000, want: 75 },
  { requested: 1, capacity: 3, want: 66 },
  { requested: 4000, capacity: 4000, want: 0 },
  { requested: 5000, capacity: 4000, want: 0 },
  { requested: 10, capacity: 0, want: 0 },
];

for (const c of scoreCases) {
  test(`leastRequestedScore(${c.requested}, ${c.capacity}) is ${c.want}`, () => {
    assert.equal(leastRequestedScore(c.requested, c.capacity), c.want);
  });
}

const nodeCases: { name: string; existing: { cpu?: string; memory?: string }[]; pod: { cpu?: string; memory?: string }; node?: { cpu?: string; memory?: string }; want: number }[] = [
  { name: "an empty node, a pod using a quarter", existing: [], pod: { cpu: "1", memory: "8Gi" }, want: 75 },
  { name: "a node half used after the pod", existing: [{ cpu: "1", memory: "8Gi" }], pod: { cpu: "1", memory: "8Gi" }, want: 50 },
  { name: "cpu and memory weigh the same", existing: [], pod: { cpu: "4", memory: "0" }, want: 50 },
  // (1000-100)*100/1000 = 90 for cpu; (2000Mi-200Mi)*100/2000Mi = 90 for memory.
  { name: "a pod without requests counts as 100m and 200Mi", existing: [], pod: {}, node: { cpu: "1", memory: "2000Mi" }, want: 90 },
  { name: "an over-committed node scores 0 for that resource", existing: [{ cpu: "5", memory: "0" }], pod: { cpu: "1", memory: "0" }, want: 50 },
];

for (const c of nodeCases) {
  test(`NodeResourcesLeastAllocated: ${c.name}`, () => {
    const existing = c.existing.map((r, i) => makePod({ name: `e${i}`, nodeName: "n", ...r }));
    const snap = makeSnapshot([makeNode({ name: "n", cpu: "4", memory: "32Gi", ...c.node })], existing);
    assert.equal(runScore(new NodeResourcesLeastAllocated(), makePod({ name: "p", ...c.pod }), snap).get("n"), c.want);
  });
}
