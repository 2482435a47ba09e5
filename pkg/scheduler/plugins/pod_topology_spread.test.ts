import assert from "node:assert/strict";
import { test } from "node:test";
import type { DeepPartial, TopologySpreadConstraint } from "../../../gen/navarch/api/v1/core.js";
import type { Pod } from "../../api/registry.js";
import { selectorFromSet } from "../../api/labels.js";
import { makeNode, makePod, makeSnapshot } from "../testing/wrappers.js";
import { runFilter, runScore } from "../testing/run_plugins.js";
import { CycleState } from "../framework/cycle_state.js";
import { PodInfo } from "../framework/pod_info.js";
import { ERR_REASON_CONSTRAINTS_NOT_MATCH as SKEW, ERR_REASON_NODE_LABEL_NOT_MATCH as NO_LABEL, PodTopologySpread } from "./pod_topology_spread.js";

const ZONE = "zone";
// a, b in z1; c in z2; d in z3 (only selected by some cases); e has no zone.
const nodes = () => [
  makeNode({ name: "a", labels: { [ZONE]: "z1", pool: "x" } }),
  makeNode({ name: "b", labels: { [ZONE]: "z1", pool: "x" } }),
  makeNode({ name: "c", labels: { [ZONE]: "z2", pool: "x" } }),
  makeNode({ name: "d", labels: { [ZONE]: "z3", pool: "y" } }),
  makeNode({ name: "e" }),
];

const web = (name: string, nodeName: string, extra: Parameters<typeof makePod>[0] | object = {}) =>
  makePod({ name, labels: { app: "web" }, nodeName, ...extra });

type Constraint = DeepPartial<TopologySpreadConstraint>;
const spread = (c: Constraint = {}): Constraint => ({
  maxSkew: 1,
  topologyKey: ZONE,
  whenUnsatisfiable: "DoNotSchedule",
  labelSelector: { matchLabels: { app: "web" } },
  ...c,
});

interface Case {
  name: string;
  existing: Pod[];
  constraints: Constraint[];
  labels?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  want: Record<string, string | null>;
}

const cases: Case[] = [
  {
    name: "an empty cluster allows every zone; a node without the key never fits",
    existing: [],
    constraints: [spread()],
    want: { a: null, b: null, c: null, d: null, e: NO_LABEL },
  },
  {
    name: "a zone already ahead by maxSkew is refused",
    existing: [web("w1", "a"), web("w2", "c")],
    constraints: [spread()],
    // z1: 1, z2: 1, z3: 0 → min 0; placing in z1 or z2 makes 2 - 0 > 1.
    want: { a: SKEW, b: SKEW, c: SKEW, d: null, e: NO_LABEL },
  },
  {
    name: "maxSkew 2 allows one more",
    existing: [web("w1", "a"), web("w2", "c")],
    constraints: [spread({ maxSkew: 2 })],
    want: { a: null, b: null, c: null, d: null, e: NO_LABEL },
  },
  {
    name: "nodes the pod's nodeSelector excludes do not count as domains",
    existing: [web("w1", "a"), web("w2", "c")],
    constraints: [spread()],
    nodeSelector: { pool: "x" },
    // Only z1 (1) and z2 (1) count: min 1, so both zones are allowed.
    want: { a: null, b: null, c: null, d: null, e: NO_LABEL },
  },
  {
    name: "with fewer domains than minDomains the global minimum is 0",
    existing: [web("w1", "a"), web("w2", "c")],
    constraints: [spread({ minDomains: 3 })],
    nodeSelector: { pool: "x" },
    want: { a: SKEW, b: SKEW, c: SKEW, d: null, e: NO_LABEL },
  },
  {
    name: "pods in other namespaces, terminating pods and non-matching pods are not counted",
    existing: [
      web("w1", "a", { namespace: "other" }),
      web("w2", "a", { deletionTimestamp: "2026-01-01T00:00:00Z" }),
      makePod({ name: "db", labels: { app: "db" }, nodeName: "a" }),
      web("w3", "d"),
      web("w4", "c"),
    ],
    constraints: [spread()],
    want: { a: null, b: null, c: SKEW, d: SKEW, e: NO_LABEL },
  },
  {
    name: "a pod its own selector does not match adds nothing to the skew",
    existing: [web("w1", "a"), web("w2", "c")],
    constraints: [spread()],
    labels: { app: "other" },
    want: { a: null, b: null, c: null, d: null, e: NO_LABEL },
  },
  {
    name: "ScheduleAnyway constraints do not filter",
    existing: [web("w1", "a"), web("w2", "a"), web("w3", "a")],
    constraints: [spread({ whenUnsatisfiable: "ScheduleAnyway" })],
    want: { a: null, b: null, c: null, d: null, e: null },
  },
  {
    name: "every DoNotSchedule constraint must hold",
    existing: [web("w1", "a"), web("w2", "c"), web("w3", "d")],
    constraints: [spread(), spread({ topologyKey: "kubernetes.io/hostname" })],
    // Zones 1/1/1 allow all; by hostname a, c, d have 1 and b, e 0.
    want: { a: SKEW, b: null, c: SKEW, d: SKEW, e: NO_LABEL },
  },
];

for (const c of cases) {
  test(`PodTopologySpread: ${c.name}`, () => {
    const pod = makePod({ name: "p", labels: c.labels ?? { app: "web" }, nodeSelector: c.nodeSelector, topologySpreadConstraints: c.constraints });
    const out = runFilter(new PodTopologySpread(), pod, makeSnapshot(nodes(), c.existing));
    assert.equal(out.preFilter, null);
    assert.deepEqual(Object.fromEntries([...out.nodes].map(([n, s]) => [n, s === null ? null : s.reasons[0]])), c.want);
  });
}

test("PodTopologySpread: a skew rejection is Unschedulable, a missing label is unresolvable", () => {
  const pod = makePod({ name: "p", labels: { app: "web" }, topologySpreadConstraints: [spread()] });
  const out = runFilter(new PodTopologySpread(), pod, makeSnapshot(nodes(), [web("w1", "a")]));
  assert.equal(out.nodes.get("a")?.code, "Unschedulable");
  assert.equal(out.nodes.get("e")?.code, "UnschedulableAndUnresolvable");
});

test("PodTopologySpread: ScheduleAnyway scores the emptier zone higher and ignores nodes without the key", () => {
  const pod = makePod({ name: "p", labels: { app: "web" }, topologySpreadConstraints: [spread({ whenUnsatisfiable: "ScheduleAnyway" })] });
  const snap = makeSnapshot(nodes(), [web("w1", "a"), web("w2", "a"), web("w3", "c")]);
  const scores = Object.fromEntries(runScore(new PodTopologySpread(), pod, snap));
  assert.equal(scores.e, 0);
  assert.equal(scores.d, 100);
  assert.ok(scores.c > scores.a && scores.a === scores.b, JSON.stringify(scores));
});

test("PodTopologySpread: a malformed selector is reported with its field path", () => {
  const pod = makePod({
    name: "p",
    topologySpreadConstraints: [spread({ labelSelector: { matchExpressions: [{ key: "app", operator: "Like", values: ["x"] }] } })],
  });
  const out = runFilter(new PodTopologySpread(), pod, makeSnapshot(nodes()));
  assert.equal(out.preFilter?.code, "UnschedulableAndUnresolvable");
  assert.match(out.preFilter?.message() ?? "", /spec\.topologySpreadConstraints\[0\]\.labelSelector/);
});

const badConstraints: { name: string; c: Constraint; message: RegExp }[] = [
  { name: "maxSkew 0", c: spread({ maxSkew: 0 }), message: /spec\.topologySpreadConstraints\[0\]\.maxSkew 0: expected an integer greater than 0/ },
  { name: "an empty topologyKey", c: spread({ topologyKey: "" }), message: /spec\.topologySpreadConstraints\[0\]\.topologyKey: it is empty/ },
  { name: "minDomains 0", c: spread({ minDomains: 0 }), message: /spec\.topologySpreadConstraints\[0\]\.minDomains 0/ },
  { name: "an unknown whenUnsatisfiable", c: spread({ whenUnsatisfiable: "Maybe" }), message: /whenUnsatisfiable "Maybe": expected "DoNotSchedule" or "ScheduleAnyway"/ },
];

for (const b of badConstraints) {
  test(`PodTopologySpread: a constraint with ${b.name} is refused with its field path`, () => {
    const out = runFilter(new PodTopologySpread(), makePod({ name: "p", topologySpreadConstraints: [b.c] }), makeSnapshot(nodes()));
    assert.equal(out.preFilter?.code, "UnschedulableAndUnresolvable");
    assert.match(out.preFilter?.message() ?? "", b.message);
  });
}

test("PodTopologySpread: with a sibling selector, a pod without constraints is spread by Kubernetes' system defaults", () => {
  const snap = makeSnapshot(nodes(), [web("w1", "a"), web("w2", "a"), web("w3", "b")]);
  const pod = makePod({ name: "p", labels: { app: "web" } });
  const plain = Object.fromEntries(runScore(new PodTopologySpread(), pod, snap));
  assert.deepEqual(Object.values(plain), [0, 0, 0, 0, 0], "without a sibling selector there is nothing to spread");
  const spreading = new PodTopologySpread({ defaultSelector: (p) => (p.labels.app === "web" ? selectorFromSet({ app: "web" }) : undefined) });
  const scores = Object.fromEntries(runScore(spreading, pod, snap));
  // Fewer siblings on the node scores higher; e has no zone but is still scored by hostname.
  assert.ok(scores.a < scores.b && scores.b < scores.c, JSON.stringify(scores));
  assert.ok(scores.e > scores.a, JSON.stringify(scores));
});

test("PodTopologySpread: the filter follows pods placed, nodes removed and a new node taking a removed one's id", () => {
  const byHost = spread({ topologyKey: "kubernetes.io/hostname" });
  const pod = makePod({ name: "p", labels: { app: "web" }, topologySpreadConstraints: [byHost] });
  const reasons = (snap: ReturnType<typeof makeSnapshot>) =>
    Object.fromEntries([...runFilter(new PodTopologySpread(), pod, snap).nodes].map(([n, s]) => [n, s === null ? null : s.reasons[0]]));
  const snap = makeSnapshot(nodes(), [web("w1", "a")]);
  assert.deepEqual(reasons(snap), { a: SKEW, b: null, c: null, d: null, e: null });
  snap.addPod(web("w2", "b"));
  assert.deepEqual(reasons(snap), { a: SKEW, b: SKEW, c: null, d: null, e: null });
  const removedId = snap.get("c")!.id;
  snap.removeNode("c");
  snap.setNode(makeNode({ name: "f", labels: { [ZONE]: "z9" } }));
  assert.equal(snap.get("f")!.id, removedId, "the new node takes the removed one's id");
  assert.deepEqual(reasons(snap), { a: SKEW, b: SKEW, d: null, e: null, f: null });
  snap.addPod(web("w3", "f"));
  snap.addPod(web("w4", "d"));
  snap.addPod(web("w5", "e"));
  // Every node has one: all allowed again (the minimum is 1).
  assert.deepEqual(reasons(snap), { a: null, b: null, d: null, e: null, f: null });
  // A node object replaced with the same labels keeps its id and its pods' count.
  const aId = snap.get("a")!.id;
  snap.setNode(makeNode({ name: "a", labels: { [ZONE]: "z1", pool: "x" }, cpu: "8" }));
  assert.equal(snap.get("a")!.id, aId);
  snap.addPod(web("w6", "a"));
  assert.deepEqual(reasons(snap), { a: SKEW, b: null, d: null, e: null, f: null });
});

test("PodTopologySpread: pods added to the cycle's state (nominated, or preemption's what-ifs) count in the filter", () => {
  const pod = new PodInfo(makePod({ name: "p", labels: { app: "web" }, topologySpreadConstraints: [spread()] }));
  const snap = makeSnapshot(nodes(), [web("w1", "a"), web("w2", "c")]);
  const plugin = new PodTopologySpread();
  const state = new CycleState(snap);
  assert.equal(plugin.preFilter(state, pod), null);
  const d = snap.get("d")!;
  const reason = (node: string) => plugin.filter(state, pod, snap.get(node)!)?.reasons[0] ?? null;
  assert.deepEqual([reason("b"), reason("c"), reason("d")], [SKEW, SKEW, null]);
  // A nominated pod in z3 evens the zones (1 each): every zone allows one more.
  plugin.addPod(state, pod, new PodInfo(web("n1", "d")), d);
  assert.deepEqual([reason("b"), reason("c"), reason("d")], [null, null, null]);
  plugin.addPod(state, pod, new PodInfo(web("n2", "d")), d);
  assert.deepEqual([reason("b"), reason("c"), reason("d")], [null, null, SKEW]);
  // A victim taken from z1 makes it the least populated (0): z2 is now ahead by one.
  plugin.removePod(state, pod, snap.placedPod(new PodInfo(web("w1", "a")).key)!, snap.get("a")!);
  assert.deepEqual([reason("b"), reason("c"), reason("d")], [null, SKEW, SKEW]);
  assert.equal(plugin.filter(state, pod, snap.get("e")!)?.reasons[0], NO_LABEL);
});

test("PodTopologySpread: a node relabelled into another zone counts there, with its pods", () => {
  const pod = makePod({ name: "p", labels: { app: "web" }, topologySpreadConstraints: [spread()] });
  const reasons = (snap: ReturnType<typeof makeSnapshot>) =>
    Object.fromEntries([...runFilter(new PodTopologySpread(), pod, snap).nodes].map(([n, s]) => [n, s === null ? null : s.reasons[0]]));
  const snap = makeSnapshot(nodes(), [web("w1", "a"), web("w2", "c"), web("w3", "d")]);
  assert.deepEqual(reasons(snap), { a: null, b: null, c: null, d: null, e: NO_LABEL });
  const id = snap.get("d")!.id;
  snap.setNode(makeNode({ name: "d", labels: { [ZONE]: "z1", pool: "y" } }));
  assert.equal(snap.get("d")!.id, id);
  // z1 now holds 2 (a and d), z2 1: z1's nodes are ahead.
  assert.deepEqual(reasons(snap), { a: SKEW, b: SKEW, c: null, d: SKEW, e: NO_LABEL });
});
