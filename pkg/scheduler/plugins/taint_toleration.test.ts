import assert from "node:assert/strict";
import { test } from "node:test";
import type { Taint, Toleration } from "../../../gen/navarch/api/v1/core.js";
import { toleratesTaint } from "../framework/tolerations.js";
import { makeNode, makePod, makeSnapshot } from "../testing/wrappers.js";
import { runFilter, runScore } from "../testing/run_plugins.js";
import { TaintToleration } from "./taint_toleration.js";
import { CycleState } from "../framework/cycle_state.js";
import { PodInfo } from "../framework/pod_info.js";

const taint: Taint = { key: "dedicated", value: "gpu", effect: "NoSchedule" };

const tolerationCases: { name: string; t: Toleration; want: boolean }[] = [
  { name: "Equal with the same key, value and effect", t: { key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }, want: true },
  { name: "an empty operator means Equal", t: { key: "dedicated", value: "gpu" }, want: true },
  { name: "Equal with another value", t: { key: "dedicated", operator: "Equal", value: "cpu" }, want: false },
  { name: "Exists with the key and any value", t: { key: "dedicated", operator: "Exists" }, want: true },
  { name: "Exists with another key", t: { key: "other", operator: "Exists" }, want: false },
  { name: "Exists with an empty key matches every taint", t: { operator: "Exists" }, want: true },
  { name: "Exists with an empty key but another effect", t: { operator: "Exists", effect: "NoExecute" }, want: false },
  { name: "an unknown operator tolerates nothing", t: { key: "dedicated", operator: "Like", value: "gpu" }, want: false },
];

for (const c of tolerationCases) {
  test(`toleratesTaint(): ${c.name}`, () => {
    assert.equal(toleratesTaint(c.t, taint), c.want);
  });
}

test("TaintToleration filters on NoSchedule and NoExecute taints but not PreferNoSchedule", () => {
  const snap = makeSnapshot([
    makeNode({ name: "clean" }),
    makeNode({ name: "noschedule", taints: [{ key: "a", value: "1", effect: "NoSchedule" }] }),
    makeNode({ name: "noexecute", taints: [{ key: "b", value: "2", effect: "NoExecute" }] }),
    makeNode({ name: "prefer", taints: [{ key: "c", value: "3", effect: "PreferNoSchedule" }] }),
  ]);
  const out = runFilter(new TaintToleration(), makePod({ name: "p" }), snap);
  assert.equal(out.nodes.get("clean"), null);
  assert.equal(out.nodes.get("prefer"), null);
  assert.deepEqual(out.nodes.get("noschedule")?.reasons, ["node(s) had untolerated taint {a: 1}"]);
  assert.equal(out.nodes.get("noschedule")?.code, "UnschedulableAndUnresolvable");
  assert.deepEqual(out.nodes.get("noexecute")?.reasons, ["node(s) had untolerated taint {b: 2}"]);
  const tolerant = runFilter(new TaintToleration(), makePod({ name: "p", tolerations: [{ operator: "Exists" }] }), snap);
  assert.equal([...tolerant.nodes.values()].every((s) => s === null), true);
});

test("TaintToleration scores nodes with fewer untolerated PreferNoSchedule taints higher", () => {
  const prefer = (key: string): Partial<Taint> => ({ key, value: "x", effect: "PreferNoSchedule" });
  const snap = makeSnapshot([
    makeNode({ name: "none" }),
    makeNode({ name: "one", taints: [prefer("a")] }),
    makeNode({ name: "two", taints: [prefer("a"), prefer("b")] }),
  ]);
  assert.deepEqual(Object.fromEntries(runScore(new TaintToleration(), makePod({ name: "p" }), snap)), { none: 100, one: 50, two: 0 });
  const tolerating = makePod({ name: "p", tolerations: [{ key: "a", operator: "Exists", effect: "PreferNoSchedule" }] });
  assert.deepEqual(Object.fromEntries(runScore(new TaintToleration(), tolerating, snap)), { none: 100, one: 100, two: 0 });
});

test("TaintToleration skips scoring while no node has a PreferNoSchedule taint, and scores again once one has", () => {
  const snap = makeSnapshot([makeNode({ name: "a", taints: [taint] }), makeNode({ name: "b" })]);
  const state = new CycleState(snap);
  const pod = new PodInfo(makePod({ name: "p" }));
  assert.equal(new TaintToleration().preScore(state, pod)?.code, "Skip");
  snap.setNode(makeNode({ name: "b", taints: [{ key: "a", value: "x", effect: "PreferNoSchedule" }] }));
  assert.equal(new TaintToleration().preScore(state, pod), null);
  assert.deepEqual(Object.fromEntries(runScore(new TaintToleration(), pod, snap)), { a: 100, b: 0 });
  snap.setNode(makeNode({ name: "b" }));
  assert.equal(new TaintToleration().preScore(state, pod)?.code, "Skip", "the taint removed");
  snap.setNode(makeNode({ name: "b", taints: [{ key: "a", value: "x", effect: "PreferNoSchedule" }] }));
  snap.removeNode("b");
  assert.equal(new TaintToleration().preScore(state, pod)?.code, "Skip", "the node removed");
});

test("TaintToleration: its Filter is skipped while no node has a NoSchedule or NoExecute taint, and runs once one has", () => {
  const snap = makeSnapshot([makeNode({ name: "a", taints: [{ key: "k", value: "v", effect: "PreferNoSchedule" }] })]);
  const state = new CycleState(snap);
  assert.equal(new TaintToleration().preFilter(state)?.code, "Skip");
  snap.setNode(makeNode({ name: "b", taints: [{ key: "k", value: "v", effect: "NoExecute" }] }));
  assert.equal(new TaintToleration().preFilter(state), null);
  assert.deepEqual([...runFilter(new TaintToleration(), makePod({ name: "p" }), snap).nodes].filter(([, s]) => s === null).map(([n]) => n), ["a"]);
  snap.removeNode("b");
  assert.equal(new TaintToleration().preFilter(state)?.code, "Skip", "the node removed");
});
