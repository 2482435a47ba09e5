import assert from "node:assert/strict";
import { test } from "node:test";
import { SeededRandom } from "../../../raft/core/random.js";
import type { Node, Pod } from "../../api/registry.js";
import { newDefaultFramework } from "../default_profile.js";
import { makeNode, makePod } from "../testing/wrappers.js";
import { schedulePod } from "./schedule_pod.js";
import { Snapshot } from "./snapshot.js";

// Objects as a careless client or a partial decode might produce them: missing fields, wrong
// shapes, malformed values. The scheduler must answer for each, never throw.
const oddPods: [string, unknown][] = [
  ["no spec", { metadata: { name: "a", namespace: "default" } }],
  ["no metadata", { spec: { containers: [] } }],
  ["empty object", {}],
  ["containers without resources", { metadata: { name: "b" }, spec: { containers: [{ name: "c" }] } }],
  ["a negative request", { metadata: { name: "c" }, spec: { containers: [{ resources: { requests: { cpu: "-1" } } }] } }],
  ["an empty affinity", { metadata: { name: "d" }, spec: { affinity: {} } }],
  ["empty pod affinity lists", { metadata: { name: "e" }, spec: { affinity: { podAffinity: {}, podAntiAffinity: {} } } }],
  ["a term without selector or key", { metadata: { name: "f" }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{}] } } } }],
  ["a node affinity without terms", { metadata: { name: "g" }, spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: {} } } } }],
  ["a toleration with an unknown operator", { metadata: { name: "h" }, spec: { tolerations: [{ key: "k", operator: "Maybe" }] } }],
  ["a spread constraint with nothing set", { metadata: { name: "i" }, spec: { topologySpreadConstraints: [{}] } }],
  ["a preferred term without a term", { metadata: { name: "j" }, spec: { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 3 }] } } } }],
  ["a huge priority", { metadata: { name: "k" }, spec: { priority: 2 ** 40, containers: [{ resources: { requests: { cpu: "100" } } }] } }],
];

const oddNodes: unknown[] = [
  { metadata: { name: "bare" } },
  { metadata: { name: "bad-quantity" }, status: { allocatable: { cpu: "many", memory: "lots" } } },
  { metadata: { name: "capacity-only" }, status: { capacity: { cpu: "2", memory: "1Gi", pods: "10" } } },
  { metadata: { name: "weird-taint" }, spec: { taints: [{}] } },
];

test("schedulePod() answers every odd pod on odd nodes without throwing", () => {
  const snap = new Snapshot();
  for (const n of oddNodes) snap.setNode(n as Node);
  snap.setNode(makeNode({ name: "normal", cpu: "4" }));
  snap.addPod(makePod({ name: "low", nodeName: "normal", cpu: "4", priority: -5 }));
  const fwk = newDefaultFramework();
  for (const [name, pod] of oddPods) {
    const r = schedulePod(pod as Pod, snap, fwk, new SeededRandom(1));
    assert.ok(r.kind === "scheduled" || r.error.message.length > 0, name);
  }
});

test("Snapshot accepts odd pods placed on nodes and still schedules around them", () => {
  const snap = new Snapshot();
  snap.setNode(makeNode({ name: "n" }));
  oddPods.forEach(([, pod], i) => {
    const p = pod as Pod;
    snap.addPod({ ...p, metadata: { ...(p.metadata ?? {}), name: `odd-${i}`, uid: `odd-${i}` } } as Pod, "n");
  });
  const r = schedulePod(makePod({ name: "p", labels: { app: "x" } }), snap, newDefaultFramework(), new SeededRandom(1));
  assert.ok(r.kind === "scheduled" || r.error.message.length > 0);
});
