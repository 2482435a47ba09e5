import assert from "node:assert/strict";
import { test } from "node:test";
import type { ContainerPort } from "../../../gen/navarch/api/v1/core.js";
import { makeNode, makePod, makeSnapshot } from "../testing/wrappers.js";
import { runFilter } from "../testing/run_plugins.js";
import { ERR_REASON_PORTS, NodePorts } from "./node_ports.js";

const withPorts = (name: string, ports: Partial<ContainerPort>[], nodeName?: string) =>
  makePod({ name, nodeName, containers: [{ name: "c", image: "nginx", ports: ports.map((p) => ({ containerPort: 80, ...p })) }] });

const cases: { name: string; existing: Partial<ContainerPort>[]; wanted: Partial<ContainerPort>[]; fits: boolean }[] = [
  { name: "a pod without host ports fits anywhere", existing: [{ hostPort: 8080 }], wanted: [{ containerPort: 8080 }], fits: true },
  { name: "the same host port (TCP, every address) conflicts", existing: [{ hostPort: 8080 }], wanted: [{ hostPort: 8080 }], fits: false },
  { name: "another protocol does not conflict", existing: [{ hostPort: 53, protocol: "UDP" }], wanted: [{ hostPort: 53, protocol: "TCP" }], fits: true },
  { name: "different specific addresses do not conflict", existing: [{ hostPort: 8080, hostIP: "198.18.0.1" }], wanted: [{ hostPort: 8080, hostIP: "198.18.0.2" }], fits: true },
  { name: "every address conflicts with a specific one", existing: [{ hostPort: 8080, hostIP: "198.18.0.1" }], wanted: [{ hostPort: 8080 }], fits: false },
  { name: "a specific address conflicts with every address", existing: [{ hostPort: 8080, hostIP: "0.0.0.0" }], wanted: [{ hostPort: 8080, hostIP: "198.18.0.2" }], fits: false },
  { name: "another port is free", existing: [{ hostPort: 8080 }], wanted: [{ hostPort: 8081 }], fits: true },
];

for (const c of cases) {
  test(`NodePorts: ${c.name}`, () => {
    const snap = makeSnapshot([makeNode({ name: "n" })], [withPorts("old", c.existing, "n")]);
    const s = runFilter(new NodePorts(), withPorts("new", c.wanted), snap).nodes.get("n");
    if (c.fits) assert.equal(s ?? null, null);
    else {
      assert.equal(s?.code, "Unschedulable");
      assert.deepEqual(s?.reasons, [ERR_REASON_PORTS]);
    }
  });
}

test("NodePorts: a port frees up when the pod holding it leaves the node", () => {
  const snap = makeSnapshot([makeNode({ name: "n" })], [withPorts("old", [{ hostPort: 8080 }], "n")]);
  assert.notEqual(runFilter(new NodePorts(), withPorts("new", [{ hostPort: 8080 }]), snap).nodes.get("n") ?? null, null);
  assert.ok(snap.removePod("uid-default-old"));
  assert.equal(runFilter(new NodePorts(), withPorts("new", [{ hostPort: 8080 }]), snap).nodes.get("n") ?? null, null);
});
