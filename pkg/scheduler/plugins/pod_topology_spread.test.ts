import assert from "node:assert/strict";
import { test } from "node:test";
import type { DeepPartial, TopologySpreadConstraint } from "../../../gen/navarch/api/v1/core.js";
import type { Pod } from "../../api/registry.js";
import { selectorFromSet } from "../../api/labels.js";
import { makeNode, makePod, makeSnapshot } from "../testing/wrappers.js";
import { runFilter, runScore } from "../testing/run_plugins.js";
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
