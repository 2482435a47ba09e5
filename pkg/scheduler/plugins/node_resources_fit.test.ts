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

const gpuPod = (name: string, requests: Record<string, string>, nodeName?: string) =>
  makePod({ name, nodeName, containers: [{ name: "c", image: "cuda", resources: { requests } }] });

test("NodeResourcesFit: extended resources and ephemeral-storage must fit too, each named in the reason", () => {
  const none = makeSnapshot([makeNode({ name: "n" })]);
  const s = runFilter(new NodeResourcesFit(), gpuPod("p", { "nvidia.com/gpu": "1", "ephemeral-storage": "100Ti" }), none).nodes.get("n");
  assert.equal(s?.code, "UnschedulableAndUnresolvable", "the node has none at all");
  assert.deepEqual(s?.reasons, ["Insufficient ephemeral-storage", "Insufficient nvidia.com/gpu"]);

  const one = makeSnapshot([makeNode({ name: "n", extra: { "nvidia.com/gpu": "1", "ephemeral-storage": "100Gi" } })], [gpuPod("first", { "nvidia.com/gpu": "1" }, "n")]);
  const taken = runFilter(new NodeResourcesFit(), gpuPod("p", { "nvidia.com/gpu": "1", cpu: "1" }), one).nodes.get("n");
  assert.equal(taken?.code, "Unschedulable", "the node has one, taken");
  assert.deepEqual(taken?.reasons, ["Insufficient nvidia.com/gpu"]);
  assert.equal(runFilter(new NodeResourcesFit(), gpuPod("p", { "ephemeral-storage": "50Gi" }), one).nodes.get("n") ?? null, null);
  assert.ok(one.removePod("uid-default-first"));
  assert.equal(runFilter(new NodeResourcesFit(), gpuPod("p", { "nvidia.com/gpu": "1" }), one).nodes.get("n") ?? null, null, "freed when the pod leaves");
});

test("podRequests() sums other resources as it does cpu: containers add up, the largest init container wins, overhead adds", () => {
  const r = podRequests(
    makePod({
      name: "p",
      containers: [
        { name: "a", resources: { requests: { "nvidia.com/gpu": "1", "ephemeral-storage": "1Gi" } } },
        { name: "b", resources: { requests: { "nvidia.com/gpu": "1" } } },
      ],
      initContainers: [{ name: "i", resources: { requests: { "ephemeral-storage": "5Gi" } } }],
      overhead: { "ephemeral-storage": "1Gi" },
    }).spec,
  );
  assert.deepEqual(Object.fromEntries(r.scalar ?? []), { "nvidia.com/gpu": 2, "ephemeral-storage": 6 * 2 ** 30 });
  assert.equal(podRequests(makePod({ name: "q", cpu: "1" }).spec).scalar, undefined, "none asked for: no map");
});
