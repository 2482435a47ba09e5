import assert from "node:assert/strict";
import { test } from "node:test";
import type { DeepPartial, PodAffinityTerm } from "../../../gen/navarch/api/v1/core.js";
import type { Pod } from "../../api/registry.js";
import { makeNode, makePod, makeSnapshot, HOSTNAME_LABEL } from "../testing/wrappers.js";
import { runFilter, runScore } from "../testing/run_plugins.js";
import {
  ERR_REASON_AFFINITY_RULES_NOT_MATCH as AFFINITY,
  ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH as ANTI,
  ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH as EXISTING,
  InterPodAffinity,
} from "./inter_pod_affinity.js";

const ZONE = "zone";
// a and b in z1, c in z2, d has no zone.
const nodes = () => [
  makeNode({ name: "a", labels: { [ZONE]: "z1" } }),
  makeNode({ name: "b", labels: { [ZONE]: "z1" } }),
  makeNode({ name: "c", labels: { [ZONE]: "z2" } }),
  makeNode({ name: "d" }),
];

type Term = DeepPartial<PodAffinityTerm>;
const term = (app: string, topologyKey: string, extra: Term = {}): Term => ({ labelSelector: { matchLabels: { app } }, topologyKey, ...extra });
const affinity = (...t: Term[]) => ({ podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: t } });
const anti = (...t: Term[]) => ({ podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: t } });

interface Case {
  name: string;
  existing: Pod[];
  pod: Pod;
  /** Node → expected reason, or null when the node passes. */
  want: Record<string, string | null>;
  namespaces?: Record<string, Record<string, string>>;
}

const cases: Case[] = [
  {
    name: "required affinity places the pod in the zone of a matching pod",
    existing: [makePod({ name: "db", labels: { app: "db" }, nodeName: "a" })],
    pod: makePod({ name: "p", affinity: affinity(term("db", ZONE)) }),
    want: { a: null, b: null, c: AFFINITY, d: AFFINITY },
  },
  {
    name: "the first pod of a group with affinity to itself may go to any node with the key",
    existing: [],
    pod: makePod({ name: "p", labels: { app: "web" }, affinity: affinity(term("web", ZONE)) }),
    want: { a: null, b: null, c: null, d: AFFINITY },
  },
  {
    name: "required affinity to pods that do not exist fits nowhere",
    existing: [],
    pod: makePod({ name: "p", labels: { app: "web" }, affinity: affinity(term("db", ZONE)) }),
    want: { a: AFFINITY, b: AFFINITY, c: AFFINITY, d: AFFINITY },
  },
  {
    name: "required anti-affinity on hostname keeps off the node with a matching pod",
    existing: [makePod({ name: "w", labels: { app: "web" }, nodeName: "a" })],
    pod: makePod({ name: "p", affinity: anti(term("web", HOSTNAME_LABEL)) }),
    want: { a: ANTI, b: null, c: null, d: null },
  },
  {
    name: "required anti-affinity on zone keeps off the whole zone; a node without the key is fine",
    existing: [makePod({ name: "w", labels: { app: "web" }, nodeName: "a" })],
    pod: makePod({ name: "p", affinity: anti(term("web", ZONE)) }),
    want: { a: ANTI, b: ANTI, c: null, d: null },
  },
  {
    name: "an existing pod's anti-affinity keeps the incoming pod off its node",
    existing: [makePod({ name: "loner", nodeName: "c", affinity: anti(term("web", HOSTNAME_LABEL)) })],
    pod: makePod({ name: "p", labels: { app: "web" } }),
    want: { a: null, b: null, c: EXISTING, d: null },
  },
  {
    name: "an existing pod's anti-affinity that does not match the incoming pod is no obstacle",
    existing: [makePod({ name: "loner", nodeName: "c", affinity: anti(term("db", HOSTNAME_LABEL)) })],
    pod: makePod({ name: "p", labels: { app: "web" } }),
    want: { a: null, b: null, c: null, d: null },
  },
  {
    name: "a term without namespaces looks at the pod's own namespace only",
    existing: [makePod({ name: "w", namespace: "other", labels: { app: "web" }, nodeName: "a" })],
    pod: makePod({ name: "p", affinity: anti(term("web", HOSTNAME_LABEL)) }),
    want: { a: null, b: null, c: null, d: null },
  },
  {
    name: "a term naming namespaces looks there",
    existing: [makePod({ name: "w", namespace: "other", labels: { app: "web" }, nodeName: "a" })],
    pod: makePod({ name: "p", affinity: anti(term("web", HOSTNAME_LABEL, { namespaces: ["other"] })) }),
    want: { a: ANTI, b: null, c: null, d: null },
  },
  {
    name: "a namespaceSelector selects namespaces by their labels",
    namespaces: { other: { team: "x" }, third: { team: "y" } },
    existing: [
      makePod({ name: "w", namespace: "other", labels: { app: "web" }, nodeName: "a" }),
      makePod({ name: "v", namespace: "third", labels: { app: "web" }, nodeName: "c" }),
    ],
    pod: makePod({ name: "p", affinity: anti(term("web", HOSTNAME_LABEL, { namespaceSelector: { matchLabels: { team: "x" } } })) }),
    want: { a: ANTI, b: null, c: null, d: null },
  },
  {
    name: "affinity and anti-affinity together",
    existing: [makePod({ name: "db", labels: { app: "db" }, nodeName: "a" }), makePod({ name: "w", labels: { app: "web" }, nodeName: "b" })],
    pod: makePod({ name: "p", affinity: { ...affinity(term("db", ZONE)), ...anti(term("web", HOSTNAME_LABEL)) } }),
    want: { a: null, b: ANTI, c: AFFINITY, d: AFFINITY },
  },
];

for (const c of cases) {
  test(`InterPodAffinity: ${c.name}`, () => {
    const snap = makeSnapshot(nodes(), c.existing);
    for (const [ns, labels] of Object.entries(c.namespaces ?? {})) snap.setNamespaceLabels(ns, labels);
    const out = runFilter(new InterPodAffinity(), c.pod, snap);
    assert.equal(out.preFilter, null);
    const got = Object.fromEntries([...out.nodes].map(([n, s]) => [n, s === null ? null : s.reasons[0]]));
    assert.deepEqual(got, c.want);
  });
}

test("InterPodAffinity: anti-affinity rejections are Unschedulable (preemption may help), affinity ones are not", () => {
  const snap = makeSnapshot(nodes(), [makePod({ name: "w", labels: { app: "web" }, nodeName: "a" })]);
  const a = runFilter(new InterPodAffinity(), makePod({ name: "p", affinity: anti(term("web", HOSTNAME_LABEL)) }), snap);
  assert.equal(a.nodes.get("a")?.code, "Unschedulable");
  const b = runFilter(new InterPodAffinity(), makePod({ name: "p", affinity: affinity(term("db", ZONE)) }), snap);
  assert.equal(b.nodes.get("a")?.code, "UnschedulableAndUnresolvable");
});

test("InterPodAffinity: preferred affinity scores the zone of matching pods highest", () => {
  const snap = makeSnapshot(nodes(), [makePod({ name: "db", labels: { app: "db" }, nodeName: "c" })]);
  const pod = makePod({
    name: "p",
    affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: term("db", ZONE) }] } },
  });
  assert.deepEqual(Object.fromEntries(runScore(new InterPodAffinity(), pod, snap)), { a: 0, b: 0, c: 100, d: 0 });
});

test("InterPodAffinity: preferred anti-affinity scores the zone of matching pods lowest", () => {
  const snap = makeSnapshot(nodes(), [makePod({ name: "w", labels: { app: "web" }, nodeName: "a" })]);
  const pod = makePod({
    name: "p",
    affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 20, podAffinityTerm: term("web", ZONE) }] } },
  });
  assert.deepEqual(Object.fromEntries(runScore(new InterPodAffinity(), pod, snap)), { a: 0, b: 0, c: 100, d: 100 });
});

test("InterPodAffinity: an existing pod's preferred anti-affinity against the incoming pod lowers its zone", () => {
  const existing = makePod({
    name: "shy",
    nodeName: "c",
    affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: term("web", ZONE) }] } },
  });
  const snap = makeSnapshot(nodes(), [existing]);
  assert.deepEqual(Object.fromEntries(runScore(new InterPodAffinity(), makePod({ name: "p", labels: { app: "web" } }), snap)), {
    a: 100,
    b: 100,
    c: 0,
    d: 100,
  });
});

test("InterPodAffinity: with no affinity anywhere it skips both filtering and scoring", () => {
  const snap = makeSnapshot(nodes(), [makePod({ name: "w", labels: { app: "web" }, nodeName: "a" })]);
  const out = runFilter(new InterPodAffinity(), makePod({ name: "p" }), snap);
  assert.equal([...out.nodes.values()].every((s) => s === null), true);
  assert.deepEqual([...runScore(new InterPodAffinity(), makePod({ name: "p" }), snap).values()], [0, 0, 0, 0]);
});
