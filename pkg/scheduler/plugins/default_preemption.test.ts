import assert from "node:assert/strict";
import { test } from "node:test";
import { SeededRandom } from "../../../raft/core/random.js";
import type { Node, Pod } from "../../api/registry.js";
import { newDefaultFramework } from "../default_profile.js";
import { PodInfo } from "../framework/pod_info.js";
import { schedulePod, type UnschedulableResult } from "../framework/schedule_pod.js";
import { HOSTNAME_LABEL, makeNode, makePod, makeSnapshot } from "../testing/wrappers.js";
import { type Candidate, pickOneNodeForPreemption } from "./default_preemption.js";

function preempt(nodes: Node[], existing: Pod[], pod: Pod): UnschedulableResult {
  const r = schedulePod(pod, makeSnapshot(nodes, existing), newDefaultFramework(), new SeededRandom(1));
  assert.equal(r.kind, "unschedulable");
  return r as UnschedulableResult;
}

const on = (node: string, name: string, cpu: string, priority: number, extra: object = {}): Pod =>
  makePod({ name, nodeName: node, cpu, priority, ...extra });

interface Case {
  name: string;
  nodes: Node[];
  existing: Pod[];
  pod: Pod;
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
];

for (const c of cases) {
  test(`DefaultPreemption: ${c.name}`, () => {
    const r = preempt(c.nodes, c.existing, c.pod);
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
  const pick = (cs: Candidate[]) => pickOneNodeForPreemption(cs)?.node;
  // Lowest most-important victim.
  assert.equal(pick([{ node: "a", victims: [v(5)] }, { node: "b", victims: [v(3), v(1)] }]), "b");
  // Then the lowest sum of priorities.
  assert.equal(pick([{ node: "a", victims: [v(3), v(2)] }, { node: "b", victims: [v(3), v(1)] }]), "b");
  // Then the fewest victims.
  assert.equal(pick([{ node: "a", victims: [v(3), v(-1), v(1)] }, { node: "b", victims: [v(3)] }]), "b");
  // Then the node whose most important victims started last.
  assert.equal(
    pick([
      { node: "a", victims: [v(3, "2026-01-01T00:00:00Z")] },
      { node: "b", victims: [v(3, "2026-06-01T00:00:00Z")] },
    ]),
    "b",
  );
  // Then the first.
  assert.equal(pick([{ node: "a", victims: [v(3)] }, { node: "b", victims: [v(3)] }]), "a");
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
