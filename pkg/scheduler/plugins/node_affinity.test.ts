import assert from "node:assert/strict";
import { test } from "node:test";
import type { DeepPartial, NodeSelectorTerm, PreferredSchedulingTerm } from "../../../gen/navarch/api/v1/core.js";
import { makeNode, makePod, makeSnapshot } from "../testing/wrappers.js";
import { passing, runFilter, runScore } from "../testing/run_plugins.js";
import { ERR_REASON_POD, NodeAffinity } from "./node_affinity.js";

// Three nodes: a (zone=z1, gen=3, gpu), b (zone=z2, gen=5), c (no labels but the hostname).
function snapshot() {
  return makeSnapshot([
    makeNode({ name: "a", labels: { zone: "z1", gen: "3", gpu: "" } }),
    makeNode({ name: "b", labels: { zone: "z2", gen: "5" } }),
    makeNode({ name: "c" }),
  ]);
}

type Term = Partial<NodeSelectorTerm>;
const expr = (key: string, operator: string, values: string[] = []): Term => ({ matchExpressions: [{ key, operator, values }], matchFields: [] });

const cases: { name: string; nodeSelector?: Record<string, string>; terms?: Term[]; want: string[] }[] = [
  { name: "no selector and no affinity: every node", want: ["a", "b", "c"] },
  { name: "nodeSelector matches labels exactly", nodeSelector: { zone: "z1" }, want: ["a"] },
  { name: "nodeSelector with two labels needs both", nodeSelector: { zone: "z2", gen: "3" }, want: [] },
  { name: "In", terms: [expr("zone", "In", ["z1", "z2"])], want: ["a", "b"] },
  { name: "NotIn also matches nodes without the label", terms: [expr("zone", "NotIn", ["z1"])], want: ["b", "c"] },
  { name: "Exists", terms: [expr("gpu", "Exists")], want: ["a"] },
  { name: "DoesNotExist", terms: [expr("zone", "DoesNotExist")], want: ["c"] },
  { name: "Gt compares as integers", terms: [expr("gen", "Gt", ["4"])], want: ["b"] },
  { name: "Lt compares as integers", terms: [expr("gen", "Lt", ["4"])], want: ["a"] },
  { name: "Gt with a non-integer value makes the term match nothing", terms: [expr("gen", "Gt", ["four"])], want: [] },
  { name: "In without values makes the term match nothing", terms: [expr("zone", "In", [])], want: [] },
  {
    name: "expressions in a term are ANDed",
    terms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["z1", "z2"] }, { key: "gen", operator: "Gt", values: ["4"] }], matchFields: [] }],
    want: ["b"],
  },
  { name: "terms are ORed", terms: [expr("zone", "In", ["z1"]), expr("zone", "DoesNotExist")], want: ["a", "c"] },
  { name: "a malformed term is skipped but the others still count", terms: [expr("zone", "Bogus", ["z1"]), expr("gen", "In", ["5"])], want: ["b"] },
  { name: "an empty term matches nothing", terms: [{ matchExpressions: [], matchFields: [] }], want: [] },
  { name: "required affinity with no terms matches nothing", terms: [], want: [] },
  {
    name: "matchFields on metadata.name",
    terms: [{ matchExpressions: [], matchFields: [{ key: "metadata.name", operator: "In", values: ["c"] }] }],
    want: ["c"],
  },
  {
    name: "matchFields NotIn",
    terms: [{ matchExpressions: [], matchFields: [{ key: "metadata.name", operator: "NotIn", values: ["c"] }] }],
    want: ["a", "b"],
  },
  { name: "nodeSelector and affinity must both match", nodeSelector: { gen: "5" }, terms: [expr("zone", "In", ["z1", "z2"])], want: ["b"] },
];

for (const c of cases) {
  test(`NodeAffinity: ${c.name}`, () => {
    const pod = makePod({
      name: "p",
      nodeSelector: c.nodeSelector,
      affinity: c.terms === undefined ? undefined : { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: c.terms } } },
    });
    const out = runFilter(new NodeAffinity(), pod, snapshot());
    const names = out.narrowedTo === undefined ? passing(out) : passing(out).filter((n) => out.narrowedTo!.has(n));
    assert.deepEqual(names, c.want);
  });
}

test("NodeAffinity: a rejection is unresolvable with Kubernetes' reason", () => {
  const out = runFilter(new NodeAffinity(), makePod({ name: "p", nodeSelector: { zone: "nowhere" } }), snapshot());
  const s = out.nodes.get("a");
  assert.equal(s?.code, "UnschedulableAndUnresolvable");
  assert.deepEqual(s?.reasons, [ERR_REASON_POD]);
});

test("NodeAffinity: affinity to node names narrows the search in PreFilter", () => {
  const pod = makePod({
    name: "p",
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchFields: [{ key: "metadata.name", operator: "In", values: ["a"] }] },
            { matchFields: [{ key: "metadata.name", operator: "In", values: ["b"] }] },
          ],
        },
      },
    },
  });
  assert.deepEqual([...(runFilter(new NodeAffinity(), pod, snapshot()).narrowedTo ?? [])].sort(), ["a", "b"]);
});

test("NodeAffinity: preferred terms score the sum of matching weights, normalized to 100", () => {
  const preferred: DeepPartial<PreferredSchedulingTerm>[] = [
    { weight: 10, preference: { matchExpressions: [{ key: "zone", operator: "In", values: ["z1"] }] } },
    { weight: 30, preference: { matchExpressions: [{ key: "gen", operator: "Exists" }] } },
  ];
  const pod = makePod({ name: "p", affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: preferred } } });
  // a: 40, b: 30, c: 0 → 100, 75, 0.
  assert.deepEqual(Object.fromEntries(runScore(new NodeAffinity(), pod, snapshot())), { a: 100, b: 75, c: 0 });
});
