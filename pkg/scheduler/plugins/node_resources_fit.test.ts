import assert from "node:assert/strict";
import { test } from "node:test";
import { PodInfo } from "../framework/pod_info.js";
import { podRequests } from "../framework/resources.js";
import { makeNode, makePod, makeSnapshot } from "../testing/wrappers.js";
import { runFilter } from "../testing/run_plugins.js";
import { NodeResourcesFit } from "./node_resources_fit.js";

const requestCases: { name: string; pod: Parameters<typeof makePod>[0]; milliCpu: number; memoryBytes: number }[] = [
  { name: "one container", pod: { name: "p", cpu: "250m", memory: "64Mi" }, milliCpu: 250, memoryBytes: 64 * 2 ** 20 },
  {
    name: "containers add up",
    pod: {
      name: "p",
      containers: [
        { name: "a", resources: { requests: { cpu: "1", memory: "1Gi" } } },
        { name: "b", resources: { requests: { cpu: "500m" } } },
      ],
    },
    milliCpu: 1500,
    memoryBytes: 2 ** 30,
  },
  {
    name: "a larger init container wins over the containers' sum",
    pod: {
      name: "p",
      containers: [{ name: "a", resources: { requests: { cpu: "1", memory: "1Gi" } } }],
      initContainers: [{ name: "i", resources: { requests: { cpu: "2", memory: "512Mi" } } }],
    },
    milliCpu: 2000,
    memoryBytes: 2 ** 30,
  },
  {
    name: "a sidecar (init container with restartPolicy Always) adds to the containers and to later init containers",
    pod: {
      name: "p",
      containers: [{ name: "a", resources: { requests: { cpu: "1" } } }],
      initContainers: [
        { name: "side", restartPolicy: "Always", resources: { requests: { cpu: "500m" } } },
        { name: "i", resources: { requests: { cpu: "2" } } },
      ],
    },
    milliCpu: 2500,
    memoryBytes: 0,
  },
  { name: "overhead is added", pod: { name: "p", cpu: "1", overhead: { cpu: "250m", memory: "10Mi" } }, milliCpu: 1250, memoryBytes: 10 * 2 ** 20 },
];

for (const c of requestCases) {
  test(`podRequests(): ${c.name}`, () => {
    assert.deepEqual(podRequests(makePod(c.pod).spec), { milliCpu: c.milliCpu, memoryBytes: c.memoryBytes });
  });
}

test("podRequests() counts Kubernetes' defaults for a container without requests only when asked", () => {
  const spec = makePod({ name: "p" }).spec;
  assert.deepEqual(podRequests(spec), { milliCpu: 0, memoryBytes: 0 });
  assert.deepEqual(podRequests(spec, true), { milliCpu: 100, memoryBytes: 200 * 2 ** 20 });
});

test("a pod with a malformed or negative request names the field in its parse error", () => {
  const info = new PodInfo(makePod({ name: "p", cpu: "lots" }));
  assert.match(info.parseError ?? "", /Cannot parse quantity "lots" at spec\.containers\[0\]\.resources\.requests\.cpu/);
  const negative = new PodInfo(makePod({ name: "p", memory: "-1Gi" }));
  assert.equal(negative.parseError, 'Cannot use quantity "-1Gi" at spec.containers[0].resources.requests.memory: a request may not be negative');
});

const fitCases: { name: string; node: { cpu?: string; memory?: string; pods?: string }; existing: { cpu?: string; memory?: string }[]; pod: { cpu?: string; memory?: string }; code: string | null; reasons?: string[] }[] = [
  { name: "fits on an empty node", node: {}, existing: [], pod: { cpu: "1", memory: "1Gi" }, code: null },
  { name: "fits exactly into what is left", node: { cpu: "2" }, existing: [{ cpu: "1" }], pod: { cpu: "1" }, code: null },
  { name: "not enough cpu left", node: { cpu: "2" }, existing: [{ cpu: "1500m" }], pod: { cpu: "1" }, code: "Unschedulable", reasons: ["Insufficient cpu"] },
  {
    name: "not enough cpu nor memory: both reasons",
    node: { cpu: "2", memory: "2Gi" },
    existing: [{ cpu: "2", memory: "2Gi" }],
    pod: { cpu: "1", memory: "1Gi" },
    code: "Unschedulable",
    reasons: ["Insufficient cpu", "Insufficient memory"],
  },
  { name: "too many pods", node: { pods: "1" }, existing: [{}], pod: {}, code: "Unschedulable", reasons: ["Too many pods"] },
  { name: "a pod without requests fits a full node", node: { cpu: "1" }, existing: [{ cpu: "1" }], pod: {}, code: null },
  {
    name: "more than the node has at all is unresolvable",
    node: { memory: "1Gi" },
    existing: [],
    pod: { memory: "2Gi" },
    code: "UnschedulableAndUnresolvable",
    reasons: ["Insufficient memory"],
  },
];

for (const c of fitCases) {
  test(`NodeResourcesFit: ${c.name}`, () => {
    const existing = c.existing.map((r, i) => makePod({ name: `e${i}`, nodeName: "n", ...r }));
    const snap = makeSnapshot([makeNode({ name: "n", ...c.node })], existing);
    const s = runFilter(new NodeResourcesFit(), makePod({ name: "p", ...c.pod }), snap).nodes.get("n");
    assert.equal(s?.code ?? null, c.code);
    if (c.reasons) assert.deepEqual(s?.reasons, c.reasons);
  });
}
