import assert from "node:assert/strict";
import { test } from "node:test";
import { SeededRandom } from "../../../raft/core/random.js";
import type { LabelSelector } from "../../../gen/navarch/api/v1/meta.js";
import type { Node, Pod, PodDisruptionBudget } from "../../api/registry.js";
import { defaultProfile, newDefaultFramework } from "../default_profile.js";
import { Framework } from "../framework/framework.js";
import { PodInfo } from "../framework/pod_info.js";
import { schedulePod, type UnschedulableResult } from "../framework/schedule_pod.js";
import { HOSTNAME_LABEL, makeNode, makePod, makeSnapshot } from "../testing/wrappers.js";
import { type Candidate, DefaultPreemption, filterPodsWithPDBViolation, type PdbLister, pickOneNodeForPreemption } from "./default_preemption.js";

function listerOf(pdbs: readonly PodDisruptionBudget[]): PdbLister {
  return (ns) => pdbs.filter((b) => (b.metadata?.namespace ?? "") === ns);
}

function preempt(nodes: Node[], existing: Pod[], pod: Pod, pdbs: readonly PodDisruptionBudget[] = []): UnschedulableResult {
  const r = schedulePod(pod, makeSnapshot(nodes, existing), newDefaultFramework({ pdbLister: listerOf(pdbs) }), new SeededRandom(1));
  assert.equal(r.kind, "unschedulable");
  return r as UnschedulableResult;
}

/** A budget as the disruption controller leaves it: `allowed` more disruptions, `disrupted` pods already granted. */
function pdb(
  name: string,
  o: { namespace?: string; selector?: LabelSelector | null; allowed: number; disrupted?: string[] },
): PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name, namespace: o.namespace ?? "default" } as PodDisruptionBudget["metadata"],
    spec: { minAvailable: { intVal: 1 }, selector: o.selector === null ? undefined : (o.selector ?? { matchLabels: { app: "db" }, matchExpressions: [] }) },
    status: {
      disruptionsAllowed: o.allowed,
      disruptedPods: Object.fromEntries((o.disrupted ?? []).map((p) => [p, "2026-01-01T00:00:00Z"])),
      conditions: [],
    },
  };
}

const DB = { labels: { app: "db" } };

const on = (node: string, name: string, cpu: string, priority: number, extra: object = {}): Pod =>
  makePod({ name, nodeName: node, cpu, priority, ...extra });

interface Case {
  name: string;
  nodes: Node[];
  existing: Pod[];
  pod: Pod;
  pdbs?: PodDisruptionBudget[];
  /** Nominated node and victims, or the preemption message when it fails. */
  /** message: refused; clears: no room anywhere, so a nomination the pod had is cleared (not eligible: left alone). */
  want: { node: string; victims: string[] } | { message: RegExp; clears: boolean };
}

const cases: Case[] = [
  {
    name: "evicts only what is needed, keeping the more important pods",
    nodes: [makeNode({ name: "a", cpu: "2" })],
    existing: [on("a", "p1", "500m", 1), on("a", "p2", "500m", 2), on("a", "p3", "1", 3)],
    pod: makePod({ name: "in", cpu: "1", priority: 10 }),
    // Without p1..p3, p3 (1) fits back; then p2 (500m) does not: 1 + 1 + 0.5 > 2. p1 neither.
    want: { node: "a", victims: ["p2", "p1"] },
  },
  {
    name: "prefers the node whose most important victim is least important",
    nodes: [makeNode({ name: "a", cpu: "1" }), makeNode({ name: "b", cpu: "1" })],
    existing: [on("a", "mid", "1", 5), on("b", "low", "1", 1)],
    pod: makePod({ name: "in", cpu: "1", priority: 10 }),
    want: { node: "b", victims: ["low"] },
  },
  {
    name: "prefers fewer victims when their priorities are the same",
    nodes: [makeNode({ name: "a", cpu: "1" }), makeNode({ name: "b", cpu: "1" })],
    existing: [on("a", "x1", "500m", 1), on("a", "x2", "500m", 1), on("b", "y1", "1", 1)],
    pod: makePod({ name: "in", cpu: "1", priority: 10 }),
    want: { node: "b", victims: ["y1"] },
  },
  {
    name: "pods of equal or higher priority are never victims",
    nodes: [makeNode({ name: "a", cpu: "1" })],
    existing: [on("a", "same", "1", 10)],
    pod: makePod({ name: "in", cpu: "1", priority: 10 }),
    want: { message: /preemption: 0\/1 nodes are available: 1 No preemption victims found for incoming pod\.$/, clears: true },
  },
  {
    name: "nodes that fail for reasons eviction cannot fix are left alone",
    nodes: [makeNode({ name: "a", cpu: "1", taints: [{ key: "k", value: "v", effect: "NoSchedule" }] })],
    existing: [on("a", "low", "1", 1)],
    pod: makePod({ name: "in", cpu: "1", priority: 10 }),
    want: { message: /preemption: 0\/1 nodes are available: 1 Preemption is not helpful for scheduling\.$/, clears: true },
  },
  {
    name: "a pod with preemptionPolicy Never does not preempt",
    nodes: [makeNode({ name: "a", cpu: "1" })],
    existing: [on("a", "low", "1", 1)],
    pod: makePod({ name: "in", cpu: "1", priority: 10, preemptionPolicy: "Never" }),
    want: { message: /preemption: not eligible due to preemptionPolicy=Never\.$/, clears: false },
  },
  {
    name: "evicting lower-priority pods that the incoming pod's anti-affinity rejects",
    nodes: [makeNode({ name: "a" })],
    existing: [on("a", "web-low", "100m", 1, { labels: { app: "web" } })],
    pod: makePod({
      name: "in",
      priority: 10,
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "web" } }, topologyKey: HOSTNAME_LABEL }],
        },
      },
    }),
    want: { node: "a", victims: ["web-low"] },
  },
  {
    name: "a pod waiting for its victims to leave does not evict more",
    nodes: [makeNode({ name: "a", cpu: "1" })],
    existing: [on("a", "leaving", "1", 1, { deletionTimestamp: "2026-01-01T00:00:00Z" })],
    pod: makePod({ name: "in", cpu: "1", priority: 10, nominatedNodeName: "a" }),
    want: { message: /preemption: not eligible due to a terminating pod on the nominated node\.$/, clears: false },
  },
  {
    name: "a node whose victims break a PodDisruptionBudget loses to one whose victims do not",
    nodes: [makeNode({ name: "a", cpu: "1" }), makeNode({ name: "b", cpu: "1" })],
    // Without the budget "a" wins: its victim is the less important one.
    existing: [on("a", "guarded", "1", 1, DB), on("b", "free", "1", 5)],
    pod: makePod({ name: "in", cpu: "1", priority: 10 }),
    pdbs: [pdb("db", { allowed: 0 })],
    want: { node: "b", victims: ["free"] },
  },
  {
    name: "without budgets the same nodes compare by their victims' priorities",
    nodes: [makeNode({ name: "a", cpu: "1" }), makeNode({ name: "b", cpu: "1" })],
    existing: [on("a", "guarded", "1", 1, DB), on("b", "free", "1", 5)],
    pod: makePod({ name: "in", cpu: "1", priority: 10 }),
    want: { node: "a", victims: ["guarded"] },
  },
  {
    name: "a victim whose budget still allows a disruption breaks nothing",
    nodes: [makeNode({ name: "a", cpu: "1" }), makeNode({ name: "b", cpu: "1" })],
    existing: [on("a", "guarded", "1", 1, DB), on("b", "free", "1", 5)],
    pod: makePod({ name: "in", cpu: "1", priority: 10 }),
    pdbs: [pdb("db", { allowed: 1 })],
    want: { node: "a", victims: ["guarded"] },
  },
  {
    name: "the pods a budget selects share the disruptions it allows",
    nodes: [makeNode({ name: "a", cpu: "1" }), makeNode({ name: "b", cpu: "1" })],
    // Both of a's pods must go, and the budget allows one: a breaks it once, b not at all.
    existing: [on("a", "db-1", "500m", 1, DB), on("a", "db-2", "500m", 1, DB), on("b", "free", "1", 5)],
    pod: makePod({ name: "in", cpu: "1", priority: 10 }),
    pdbs: [pdb("db", { allowed: 1 })],
    want: { node: "b", victims: ["free"] },
  },
  {
    name: "the victims whose eviction breaks a budget are reprieved first",
    nodes: [makeNode({ name: "a", cpu: "2" })],
    // By importance "free" would be put back first and "guarded" evicted; the budget turns that round.
    existing: [on("a", "guarded", "1", 1, DB), on("a", "free", "1", 5)],
    pod: makePod({ name: "in", cpu: "1", priority: 10 }),
    pdbs: [pdb("db", { allowed: 0 })],
    want: { node: "a", victims: ["free"] },
  },
  {
    name: "the victims are listed most important first, whichever broke a budget",
    nodes: [makeNode({ name: "a", cpu: "3" })],
    existing: [on("a", "guarded", "1", 1, DB), on("a", "free-5", "1", 5), on("a", "free-3", "1", 3)],
    pod: makePod({ name: "in", cpu: "3", priority: 10 }),
    pdbs: [pdb("db", { allowed: 0 })],
    want: { node: "a", victims: ["free-5", "free-3", "guarded"] },
  },
  {
    // Kubernetes 1.30 read the first victim as listed (a budget-breaking one) and chose b; #128307 fixed that.
    name: "with as many budget violations on each node, the node whose most important victim is least important wins",
    nodes: [makeNode({ name: "a", cpu: "2" }), makeNode({ name: "b", cpu: "2" })],
    existing: [on("a", "a-db", "1", 6, DB), on("a", "a-free", "1", 1), on("b", "b-db", "1", 1, DB), on("b", "b-free", "1", 7)],
    pod: makePod({ name: "in", cpu: "2", priority: 10 }),
    pdbs: [pdb("db", { allowed: 0 })],
    want: { node: "a", victims: ["a-db", "a-free"] },
  },
  {
    name: "a pod already in the budget's disruptedPods does not count against it",
    nodes: [makeNode({ name: "a", cpu: "1" }), makeNode({ name: "b", cpu: "1" })],
    existing: [on("a", "guarded", "1", 1, DB), on("b", "free", "1", 5)],
    pod: makePod({ name: "in", cpu: "1", priority: 10 }),
    pdbs: [pdb("db", { allowed: 0, disrupted: ["guarded"] })],
    want: { node: "a", victims: ["guarded"] },
  },
  {
    name: "a budget in another namespace is ignored",
    nodes: [makeNode({ name: "a", cpu: "1" }), makeNode({ name: "b", cpu: "1" })],
    existing: [on("a", "guarded", "1", 1, DB), on("b", "free", "1", 5)],
    pod: makePod({ name: "in", cpu: "1", priority: 10 }),
    pdbs: [pdb("db", { namespace: "other", allowed: 0 })],
    want: { node: "a", victims: ["guarded"] },
  },
  {
    name: "a budget whose selector does not match the pod is ignored",
    nodes: [makeNode({ name: "a", cpu: "1" }), makeNode({ name: "b", cpu: "1" })],
    existing: [on("a", "guarded", "1", 1, DB), on("b", "free", "1", 5)],
    pod: makePod({ name: "in", cpu: "1", priority: 10 }),
    pdbs: [pdb("cache", { allowed: 0, selector: { matchLabels: { app: "cache" }, matchExpressions: [] } })],
    want: { node: "a", victims: ["guarded"] },
  },
  {
    name: "a budget with an empty or missing selector selects no pod",
    nodes: [makeNode({ name: "a", cpu: "1" }), makeNode({ name: "b", cpu: "1" })],
    existing: [on("a", "guarded", "1", 1, DB), on("b", "free", "1", 5)],
    pod: makePod({ name: "in", cpu: "1", priority: 10 }),
    pdbs: [pdb("all", { allowed: 0, selector: { matchLabels: {}, matchExpressions: [] } }), pdb("none", { allowed: 0, selector: null })],
    want: { node: "a", victims: ["guarded"] },
  },
  {
    name: "when every candidate breaks a budget, the pod still preempts where it breaks the fewest",
    nodes: [makeNode({ name: "a", cpu: "1" }), makeNode({ name: "b", cpu: "1" })],
    // b's victim is the more important one, but a breaks the budget twice, b once.
    existing: [on("a", "db-1", "500m", 1, DB), on("a", "db-2", "500m", 1, DB), on("b", "db-3", "1", 3, DB)],
    pod: makePod({ name: "in", cpu: "1", priority: 10 }),
    pdbs: [pdb("db", { allowed: 0 })],
    want: { node: "b", victims: ["db-3"] },
  },
];

for (const c of cases) {
  test(`DefaultPreemption: ${c.name}`, () => {
    const r = preempt(c.nodes, c.existing, c.pod, c.pdbs);
    if ("message" in c.want) {
      if (c.want.clears) assert.deepEqual(r.preemption, { nominatedNodeName: "", victims: [], lowerPriorityNominatedPods: [] });
      else assert.equal(r.preemption, undefined);
      assert.match(r.error.message, c.want.message);
    } else {
      assert.equal(r.preemption?.nominatedNodeName, c.want.node, r.error.message);
      assert.deepEqual(r.preemption?.victims.map((v) => v.name), c.want.victims);
    }
  });
}

test("pickOneNodeForPreemption() applies Kubernetes' rules in order", () => {
  const v = (priority: number, startTime?: string) =>
    new PodInfo(makePod({ name: `v${priority}-${startTime ?? ""}`, priority, startTime }));
  const c = (node: string, victims: PodInfo[], numPDBViolations = 0): Candidate => ({ node, victims, numPDBViolations });
  const pick = (cs: Candidate[]) => pickOneNodeForPreemption(cs)?.node;
  // Fewest PodDisruptionBudget violations, before anything else.
  assert.equal(pick([c("a", [v(1)], 1), c("b", [v(5), v(4), v(3)], 0)]), "b");
  assert.equal(pick([c("a", [v(1)], 2), c("b", [v(5), v(4)], 1)]), "b");
  // Then the lowest most-important victim.
  assert.equal(pick([c("a", [v(5)]), c("b", [v(3), v(1)])]), "b");
  // Then the lowest sum of priorities.
  assert.equal(pick([c("a", [v(3), v(2)]), c("b", [v(3), v(1)])]), "b");
  // Then the fewest victims.
  assert.equal(pick([c("a", [v(3), v(-1), v(1)]), c("b", [v(3)])]), "b");
  // Then the node whose most important victims started last.
  assert.equal(pick([c("a", [v(3, "2026-01-01T00:00:00Z")]), c("b", [v(3, "2026-06-01T00:00:00Z")])]), "b");
  // ...the most important ones even when a budget put a less important victim first in the list.
  assert.equal(
    pick([
      c("a", [v(2, "2026-09-01T00:00:00Z"), v(3, "2026-01-01T00:00:00Z")], 1),
      c("b", [v(2, "2026-01-01T00:00:00Z"), v(3, "2026-06-01T00:00:00Z")], 1),
    ]),
    "b",
  );
  // Then the first.
  assert.equal(pick([c("a", [v(3)]), c("b", [v(3)])]), "a");
  assert.equal(pick([]), undefined);
});

test("DefaultPreemption: lower-priority pods nominated to the chosen node lose their claim", () => {
  const snap = makeSnapshot([makeNode({ name: "a", cpu: "1" })], [on("a", "low", "1", 1)]);
  snap.nominatePod(makePod({ name: "earlier", cpu: "1", priority: 5 }), "a");
  const r = schedulePod(makePod({ name: "in", cpu: "1", priority: 10 }), snap, newDefaultFramework(), new SeededRandom(1));
  assert.equal(r.kind, "unschedulable");
  if (r.kind !== "unschedulable") return;
  assert.deepEqual(r.preemption?.victims.map((v) => v.name), ["low"]);
  assert.deepEqual(r.preemption?.lowerPriorityNominatedPods.map((v) => v.name), ["earlier"]);
});

test("filterPodsWithPDBViolation() splits the pods in their order, each selected pod taking one allowed disruption", () => {
  const p = (name: string, labels: Record<string, string>, namespace = "default") => new PodInfo(makePod({ name, namespace, labels }));
  const pods = [p("db-1", { app: "db" }), p("bare", {}), p("db-2", { app: "db" }), p("web", { app: "web" }), p("db-3", { app: "db" }), p("db-x", { app: "db" }, "other")];
  const names = (ps: PodInfo[]) => ps.map((x) => x.name);
  const split = (pdbs: PodDisruptionBudget[]) => {
    const r = filterPodsWithPDBViolation(pods, listerOf(pdbs));
    return [names(r.violating), names(r.nonViolating)];
  };
  const all = ["db-1", "bare", "db-2", "web", "db-3", "db-x"];
  assert.deepEqual(split([]), [[], all]);
  assert.deepEqual(split([pdb("db", { allowed: 1 })]), [["db-2", "db-3"], ["db-1", "bare", "web", "db-x"]]);
  // Pods the budget already let go take nothing from it.
  assert.deepEqual(split([pdb("db", { allowed: 1, disrupted: ["db-1", "db-2"] })]), [[], all]);
  // A pod breaks a budget if it breaks any of those that select it; every one of them counts it.
  const any = { matchLabels: {}, matchExpressions: [{ key: "app", operator: "Exists", values: [] }] };
  assert.deepEqual(split([pdb("db", { allowed: 3 }), pdb("any", { allowed: 1, selector: any })]), [["db-2", "web", "db-3"], ["db-1", "bare", "db-x"]]);
  // Pods without labels are never selected, even by a selector that would match them.
  const noApp = { matchLabels: {}, matchExpressions: [{ key: "app", operator: "DoesNotExist", values: [] }] };
  assert.deepEqual(split([pdb("no-app", { allowed: 0, selector: noApp })]), [[], all]);
  // A selector that cannot be compiled selects nothing.
  const bad = { matchLabels: {}, matchExpressions: [{ key: "app", operator: "Near", values: ["db"] }] };
  assert.deepEqual(split([pdb("bad", { allowed: 0, selector: bad })]), [[], all]);
  // A budget without a status yet allows nothing.
  const fresh = pdb("db", { allowed: 0 });
  delete fresh.status;
  assert.deepEqual(split([fresh]), [["db-1", "db-2", "db-3"], ["bare", "web", "db-x"]]);
});

test("DefaultPreemption: a dry run goes on past enough candidates until one breaks no budget", () => {
  const nodes = [makeNode({ name: "a", cpu: "1" }), makeNode({ name: "b", cpu: "1" }), makeNode({ name: "c", cpu: "1" })];
  // "a" and "b" would win on priority; only "c" breaks no budget.
  const existing = [on("a", "db-a", "1", 1, DB), on("b", "db-b", "1", 1, DB), on("c", "free", "1", 5)];
  const pdbLister = listerOf([pdb("db", { allowed: 0 })]);
  const profile = defaultProfile();
  // One candidate is enough, as on a big cluster where 10% of the nodes is fewer than the ones tried.
  profile.plugins = profile.plugins.map((e) =>
    e.plugin instanceof DefaultPreemption ? { plugin: new DefaultPreemption({ minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 1, pdbLister }) } : e,
  );
  const framework = new Framework(profile);
  for (let seed = 1; seed <= 12; seed++) {
    const r = schedulePod(makePod({ name: "in", cpu: "1", priority: 10 }), makeSnapshot(nodes, existing), framework, new SeededRandom(seed));
    assert.equal(r.kind, "unschedulable");
    if (r.kind !== "unschedulable") return;
    assert.equal(r.preemption?.nominatedNodeName, "c", `seed ${seed}`);
  }
});
