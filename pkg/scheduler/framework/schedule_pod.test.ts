import assert from "node:assert/strict";
import { test } from "node:test";
import { SeededRandom } from "../../../raft/core/random.js";
import type { Node, Pod } from "../../api/registry.js";
import { defaultProfile, newDefaultFramework } from "../default_profile.js";
import { NodeResourcesFit } from "../plugins/node_resources_fit.js";
import { NodeResourcesLeastAllocated } from "../plugins/node_resources_least_allocated.js";
import { makeNode, makePod, makeSnapshot } from "../testing/wrappers.js";
import { Framework } from "./framework.js";
import { PreFilterResult } from "./interface.js";
import { Status } from "./status.js";
import { numFeasibleNodesToFind, schedulePod, type ScheduleResult } from "./schedule_pod.js";

const nodeCases: { percentage: number; nodes: number; want: number }[] = [
  { percentage: 0, nodes: 50, want: 50 },
  { percentage: 0, nodes: 100, want: 100 },
  { percentage: 0, nodes: 250, want: 120 },
  { percentage: 0, nodes: 1000, want: 420 },
  { percentage: 0, nodes: 5000, want: 500 },
  { percentage: 0, nodes: 6000, want: 300 },
  { percentage: 0, nodes: 20000, want: 1000 },
  { percentage: 1, nodes: 5000, want: 100 },
  { percentage: 30, nodes: 5000, want: 1500 },
  { percentage: 100, nodes: 5000, want: 5000 },
];

for (const c of nodeCases) {
  test(`numFeasibleNodesToFind(${c.percentage}, ${c.nodes}) is ${c.want}`, () => {
    assert.equal(numFeasibleNodesToFind(c.percentage, c.nodes), c.want);
  });
}

function unschedulableMessage(r: ScheduleResult): string {
  assert.equal(r.kind, "unschedulable");
  return r.kind === "unschedulable" ? r.error.message : "";
}

function nodesInZones(spec: Record<string, number>, cpu = "4"): Node[] {
  const out: Node[] = [];
  for (const [zone, n] of Object.entries(spec)) {
    for (let i = 0; i < n; i++) out.push(makeNode({ name: `${zone}-${i}`, cpu, labels: { zone } }));
  }
  return out;
}

test("schedulePod() counts each reason over the nodes in Kubernetes' words and order", () => {
  const nodes = nodesInZones({ z1: 3, z2: 4997 });
  const fillers: Pod[] = [0, 1, 2].map((i) => makePod({ name: `f${i}`, nodeName: `z1-${i}`, cpu: "3500m" }));
  const snap = makeSnapshot(nodes, fillers);
  const pod = makePod({ name: "p", cpu: "1", nodeSelector: { zone: "z1" }, preemptionPolicy: "Never" });
  const msg = unschedulableMessage(schedulePod(pod, snap, newDefaultFramework(), new SeededRandom(1)));
  assert.equal(
    msg,
    "0/5000 nodes are available: 3 Insufficient cpu, 4997 node(s) didn't match Pod's node affinity/selector. " +
      "preemption: not eligible due to preemptionPolicy=Never.",
  );
});

test("schedulePod() sorts reasons as strings, so 10 comes before 2", () => {
  const nodes = nodesInZones({ z1: 2, z2: 10 });
  const snap = makeSnapshot(nodes, [makePod({ name: "a", nodeName: "z1-0", cpu: "4" }), makePod({ name: "b", nodeName: "z1-1", cpu: "4" })]);
  const fwk = new Framework({ ...defaultProfile(), plugins: defaultProfile().plugins.filter((p) => p.plugin.name !== "DefaultPreemption") });
  const msg = unschedulableMessage(schedulePod(makePod({ name: "p", cpu: "1", nodeSelector: { zone: "z1" } }), snap, fwk, new SeededRandom(1)));
  assert.equal(msg, "0/12 nodes are available: 10 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu.");
});

test("schedulePod() reports why preemption did not help either", () => {
  const nodes = nodesInZones({ z1: 2, z2: 3 });
  const snap = makeSnapshot(nodes, [makePod({ name: "a", nodeName: "z1-0", cpu: "4" }), makePod({ name: "b", nodeName: "z1-1", cpu: "4" })]);
  const msg = unschedulableMessage(schedulePod(makePod({ name: "p", cpu: "1", nodeSelector: { zone: "z1" } }), snap, newDefaultFramework(), new SeededRandom(1)));
  assert.equal(
    msg,
    "0/5 nodes are available: 2 Insufficient cpu, 3 node(s) didn't match Pod's node affinity/selector. " +
      "preemption: 0/5 nodes are available: 2 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling.",
  );
});

test("schedulePod() with no nodes says so", () => {
  const msg = unschedulableMessage(schedulePod(makePod({ name: "p" }), makeSnapshot([]), newDefaultFramework(), new SeededRandom(1)));
  assert.equal(msg, "no nodes available to schedule pods");
});

test("schedulePod() refuses a pod with a malformed request, naming the field", () => {
  const snap = makeSnapshot(nodesInZones({ z1: 2 }));
  const r = schedulePod(makePod({ name: "p", memory: "12XB" }), snap, newDefaultFramework(), new SeededRandom(1));
  assert.equal(
    unschedulableMessage(r),
    '0/2 nodes are available: Cannot parse quantity "12XB" at spec.containers[0].resources.requests.memory: expected a quantity such as "500m" or "1Gi".',
  );
});

test("schedulePod() filters only until percentageOfNodesToScore have been found, starting where the last search stopped", () => {
  const snap = makeSnapshot(nodesInZones({ z1: 1000 }));
  const fwk = newDefaultFramework();
  const starts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = schedulePod(makePod({ name: `p${i}` }), snap, fwk, new SeededRandom(i));
    assert.equal(r.kind, "scheduled");
    if (r.kind === "scheduled") {
      assert.equal(r.feasibleNodes, 420);
      assert.equal(r.evaluatedNodes, 420);
    }
    starts.push(fwk.nextStartNodeIndex);
  }
  assert.deepEqual(starts, [420, 840, 260]);
});

test("schedulePod() counts the infeasible nodes it passed in evaluatedNodes", () => {
  const nodes = nodesInZones({ z1: 200, z2: 200 });
  const snap = makeSnapshot(nodes);
  const r = schedulePod(makePod({ name: "p", nodeSelector: { zone: "z2" } }), snap, newDefaultFramework(), new SeededRandom(1));
  assert.equal(r.kind, "scheduled");
  // 400 nodes: find 188 (50% - 400/125 = 47%); the first 200 nodes walked are z1.
  if (r.kind === "scheduled") assert.deepEqual([r.feasibleNodes, r.evaluatedNodes], [188, 388]);
});

test("schedulePod() picks the best scored node", () => {
  const snap = makeSnapshot(nodesInZones({ z1: 3 }), [
    makePod({ name: "a", nodeName: "z1-0", cpu: "2" }),
    makePod({ name: "b", nodeName: "z1-2", cpu: "1" }),
  ]);
  const r = schedulePod(makePod({ name: "p", cpu: "1" }), snap, newDefaultFramework(), new SeededRandom(1));
  assert.equal(r.kind === "scheduled" && r.nodeName, "z1-1");
});

test("schedulePod() breaks ties with the injected Random: reproducible per seed, and fair", () => {
  const fwk = () => new Framework({ schedulerName: "t", plugins: [{ plugin: new NodeResourcesFit() }, { plugin: new NodeResourcesLeastAllocated() }] });
  const snap = makeSnapshot(nodesInZones({ z1: 4 }));
  const pick = (seed: number, n: number): string[] => {
    const f = fwk();
    const random = new SeededRandom(seed);
    return Array.from({ length: n }, (_, i) => {
      const r = schedulePod(makePod({ name: `p${i}` }), snap, f, random);
      return r.kind === "scheduled" ? r.nodeName : "";
    });
  };
  assert.deepEqual(pick(7, 20), pick(7, 20));
  const counts = new Map<string, number>();
  for (const n of pick(3, 400)) counts.set(n, (counts.get(n) ?? 0) + 1);
  assert.equal(counts.size, 4);
  for (const c of counts.values()) assert.ok(c > 60, `uneven tie-breaks: ${JSON.stringify([...counts])}`);
});

test("schedulePod() tries the nominated node first", () => {
  const snap = makeSnapshot(nodesInZones({ z1: 3 }), [makePod({ name: "a", nodeName: "z1-1", cpu: "3" })]);
  const r = schedulePod(makePod({ name: "p", cpu: "1", nominatedNodeName: "z1-1" }), snap, newDefaultFramework(), new SeededRandom(1));
  assert.deepEqual(r.kind === "scheduled" && [r.nodeName, r.evaluatedNodes], ["z1-1", 1]);
});

test("schedulePod() preempts lower-priority pods when nothing fits", () => {
  const snap = makeSnapshot(nodesInZones({ z1: 2 }, "1"), [
    makePod({ name: "low", nodeName: "z1-0", cpu: "1", priority: 1 }),
    makePod({ name: "high", nodeName: "z1-1", cpu: "1", priority: 100 }),
  ]);
  const r = schedulePod(makePod({ name: "p", cpu: "1", priority: 10 }), snap, newDefaultFramework(), new SeededRandom(1));
  assert.equal(r.kind, "unschedulable");
  if (r.kind !== "unschedulable") return;
  assert.equal(r.error.message, "0/2 nodes are available: 2 Insufficient cpu.");
  assert.equal(r.preemption?.nominatedNodeName, "z1-0");
  assert.deepEqual(r.preemption?.victims.map((v) => v.name), ["low"]);
  assert.deepEqual([...r.error.diagnosis.unschedulablePlugins], ["NodeResourcesFit"]);
});

test("schedulePod() rejects a profile with a duplicate plugin or a bad weight, naming it", () => {
  assert.throws(
    () => new Framework({ schedulerName: "t", plugins: [{ plugin: new NodeResourcesFit() }, { plugin: new NodeResourcesFit() }] }),
    /plugins\[1\]: plugin "NodeResourcesFit" is listed twice/,
  );
  assert.throws(() => new Framework({ schedulerName: "t", plugins: [{ plugin: new NodeResourcesFit(), weight: 0 }] }), /plugins\[0\]\.weight 0/);
  assert.throws(() => new Framework({ schedulerName: "t", plugins: [], percentageOfNodesToScore: 101 }), /percentageOfNodesToScore 101/);
});

test("schedulePod() keeps the room a nominated pod of equal or higher priority waits for", () => {
  const snap = makeSnapshot([makeNode({ name: "a", cpu: "1" })]);
  const waiting = snap.nominatePod(makePod({ name: "preemptor", cpu: "1", priority: 10 }), "a");
  const fwk = newDefaultFramework();
  const lower = schedulePod(makePod({ name: "lower", cpu: "1", priority: 5, preemptionPolicy: "Never" }), snap, fwk, new SeededRandom(1));
  assert.match(unschedulableMessage(lower), /^0\/1 nodes are available: 1 Insufficient cpu\./);
  const higher = schedulePod(makePod({ name: "higher", cpu: "1", priority: 20 }), snap, fwk, new SeededRandom(1));
  assert.equal(higher.kind, "scheduled");
  const itself = schedulePod(waiting, snap, fwk, new SeededRandom(1));
  assert.equal(itself.kind, "scheduled");
  snap.addPod(waiting, "a");
  assert.equal(snap.nominatedPods("a"), undefined);
});

test("schedulePod() filters only the nodes a PreFilter narrowed the search to and says why the others were left out", () => {
  const snap = makeSnapshot(nodesInZones({ z1: 5 }), [makePod({ name: "big", nodeName: "z1-1", cpu: "4" })]);
  const pod = makePod({
    name: "p",
    cpu: "1",
    preemptionPolicy: "Never",
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["z1-1"] }] }] },
      },
    },
  });
  const msg = unschedulableMessage(schedulePod(pod, snap, newDefaultFramework(), new SeededRandom(1)));
  assert.equal(
    msg,
    "0/5 nodes are available: 1 Insufficient cpu, 4 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: not eligible due to preemptionPolicy=Never.",
  );
  const r = schedulePod(pod, snap, newDefaultFramework(), new SeededRandom(1));
  assert.ok(r.kind === "unschedulable");
  assert.deepEqual([...r.error.diagnosis.unschedulablePlugins].sort(), ["NodeAffinity", "NodeResourcesFit"], "a new node of that name could help too, as kube-scheduler 1.31 records it");
});

/** A PreFilter plugin of a test's own: a fixed answer, and how often it was asked. */
function fakePreFilter(name: string, answer: () => PreFilterResult | Status | null) {
  const plugin = { name, calls: 0, preFilter: () => (plugin.calls++, answer()) };
  return plugin;
}

test("schedulePod() says when PreFilters narrowed the nodes to none at all, naming them", () => {
  const snap = makeSnapshot(nodesInZones({ z1: 3 }));
  const a = fakePreFilter("A", () => new PreFilterResult(new Set(["z1-0"])));
  const b = fakePreFilter("B", () => new PreFilterResult(new Set(["z1-1"])));
  // C would answer Unschedulable, but no node is left once B has narrowed: C is never asked, and preemption does not run.
  const c = fakePreFilter("C", () => Status.unschedulable("not now"));
  const fwk = new Framework({ schedulerName: "t", plugins: [{ plugin: a }, { plugin: b }, { plugin: c }, { plugin: new NodeResourcesFit() }] });
  const r = schedulePod(makePod({ name: "p", cpu: "1" }), snap, fwk, new SeededRandom(1));
  assert.ok(r.kind === "unschedulable");
  assert.equal(r.error.message, "0/3 nodes are available: node(s) didn't satisfy plugin(s) [A B] simultaneously.");
  assert.deepEqual([...r.error.diagnosis.unschedulablePlugins].sort(), ["A", "B"]);
  assert.equal(c.calls, 0);
});

test("schedulePod() runs every PreFilter after one answers Unschedulable (preemption needs their state), but none after UnschedulableAndUnresolvable", () => {
  const snap = makeSnapshot(nodesInZones({ z1: 2 }));
  const first = fakePreFilter("First", () => Status.unschedulable("not now"));
  const second = fakePreFilter("Second", () => null);
  const fwk = new Framework({ schedulerName: "t", plugins: [{ plugin: first }, { plugin: second }] });
  const r = schedulePod(makePod({ name: "p" }), snap, fwk, new SeededRandom(1));
  assert.ok(r.kind === "unschedulable");
  assert.equal(r.error.message, "0/2 nodes are available: not now.");
  assert.deepEqual([...r.error.diagnosis.unschedulablePlugins], ["First"]);
  assert.equal(second.calls, 1);
  const never = fakePreFilter("Never", () => Status.unresolvable("never"));
  const after = fakePreFilter("After", () => null);
  const r2 = schedulePod(makePod({ name: "p" }), snap, new Framework({ schedulerName: "t", plugins: [{ plugin: never }, { plugin: after }] }), new SeededRandom(1));
  assert.ok(r2.kind === "unschedulable");
  assert.equal(after.calls, 0);
});

test("schedulePod() refuses a pod with a malformed affinity term, naming the term", () => {
  const snap = makeSnapshot(nodesInZones({ z1: 2 }));
  const pod = makePod({
    name: "p",
    affinity: {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: { app: "a" } }, topologyKey: "zone" },
          { labelSelector: { matchExpressions: [{ key: "app", operator: "Like", values: ["a"] }] }, topologyKey: "zone" },
        ],
      },
    },
  });
  const msg = unschedulableMessage(schedulePod(pod, snap, newDefaultFramework(), new SeededRandom(1)));
  assert.match(
    msg,
    /^0\/2 nodes are available: Cannot use spec\.affinity\.podAntiAffinity\.requiredDuringSchedulingIgnoredDuringExecution\[1\]\.labelSelector: Cannot use label selector operator "Like"/,
  );
});
