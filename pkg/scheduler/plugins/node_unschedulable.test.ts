import assert from "node:assert/strict";
import { test } from "node:test";
import type { Toleration } from "../../../gen/navarch/api/v1/core.js";
import { makeNode, makePod, makeSnapshot } from "../testing/wrappers.js";
import { passing, runFilter } from "../testing/run_plugins.js";
import { CycleState } from "../framework/cycle_state.js";
import { ERR_REASON_UNSCHEDULABLE, NodeUnschedulable } from "./node_unschedulable.js";

const cases: { name: string; unschedulable: boolean; tolerations?: Partial<Toleration>[]; fits: boolean }[] = [
  { name: "a schedulable node takes any pod", unschedulable: false, fits: true },
  { name: "a cordoned node refuses a pod without tolerations", unschedulable: true, fits: false },
  {
    name: "a cordoned node takes a pod tolerating the unschedulable taint",
    unschedulable: true,
    tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }],
    fits: true,
  },
  { name: "a cordoned node takes a pod tolerating everything", unschedulable: true, tolerations: [{ operator: "Exists" }], fits: true },
  {
    name: "a toleration for another effect does not help",
    unschedulable: true,
    tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoExecute" }],
    fits: false,
  },
];

for (const c of cases) {
  test(`NodeUnschedulable: ${c.name}`, () => {
    const snap = makeSnapshot([makeNode({ name: "n", unschedulable: c.unschedulable })]);
    const s = runFilter(new NodeUnschedulable(), makePod({ name: "p", tolerations: c.tolerations }), snap).nodes.get("n");
    if (c.fits) assert.equal(s, null);
    else {
      assert.equal(s?.code, "UnschedulableAndUnresolvable");
      assert.deepEqual(s?.reasons, [ERR_REASON_UNSCHEDULABLE]);
    }
  });
}

test("NodeUnschedulable: its Filter is skipped while no node is cordoned, and runs once one is", () => {
  const snap = makeSnapshot([makeNode({ name: "a" })]);
  const state = new CycleState(snap);
  assert.equal(new NodeUnschedulable().preFilter(state)?.code, "Skip");
  snap.setNode(makeNode({ name: "b", unschedulable: true }));
  assert.equal(new NodeUnschedulable().preFilter(state), null);
  assert.deepEqual(passing(runFilter(new NodeUnschedulable(), makePod({ name: "p" }), snap)), ["a"]);
  snap.setNode(makeNode({ name: "b" }));
  assert.equal(new NodeUnschedulable().preFilter(state)?.code, "Skip", "uncordoned");
});
