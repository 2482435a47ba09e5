import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Pod } from "../registry.js";
import { kindByName } from "../registry.js";
import { decodeBinary, encodeBinary } from "./binary.js";
import { decodeObject } from "./object.js";
import { decodeShared, decodeStoredShared, MAX_SHARED_PARTS, sharedPartStats } from "./shared_decode.js";

const POD = kindByName("Pod")!;

function podBytes(name: string, nodeName: string, image = "registry.k8s.io/pause:3.10", since = "2026-12-04T06:00:00Z"): Uint8Array {
  const pod = decodeObject({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}`, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-1", uid: "rs-uid", controller: true }] },
    spec: { nodeName, containers: [{ name: "app", image, resources: { requests: { cpu: "10m" } } }], tolerations: [{ key: "k", operator: "Exists" }] },
    status: {
      phase: "Running",
      podIP: `198.18.0.${name.length}`,
      conditions: [{ type: "Ready", status: "True", lastTransitionTime: since }],
      containerStatuses: [{ name: "app", containerID: `hollow://${name}/app`, ready: true, state: { running: { startedAt: since } } }],
    },
  }).object as Pod;
  return encodeBinary(pod);
}

describe("decodeShared", () => {
  it("gives pods made alike the same frozen parts, and each its own metadata and status", () => {
    const a = decodeShared(POD, podBytes("a", "node-1")) as Pod;
    const b = decodeShared(POD, podBytes("b", "node-1")) as Pod;
    const c = decodeShared(POD, podBytes("c", "node-2")) as Pod;
    assert.equal(a.spec, b.spec, "same spec on the same node");
    assert.notEqual(a.spec, c.spec, "another node: another spec");
    assert.equal(a.spec!.containers[0], c.spec!.containers[0], "the same container in both specs");
    assert.equal(a.spec!.tolerations[0], c.spec!.tolerations[0]);
    assert.equal(a.status!.conditions[0], c.status!.conditions[0]);
    assert.equal(a.status!.containerStatuses[0].state, c.status!.containerStatuses[0].state);
    assert.equal(a.metadata!.ownerReferences[0], c.metadata!.ownerReferences[0]);
    assert.notEqual(a.metadata, b.metadata);
    assert.notEqual(a.status, b.status);
    assert.equal(b.metadata!.name, "b");
    assert.ok(Object.isFrozen(a.spec) && Object.isFrozen(a.spec!.containers[0].resources!.requests));
    assert.throws(() => {
      (a.spec as { nodeName?: string }).nodeName = "elsewhere";
    }, TypeError);
    assert.equal(b.spec!.nodeName, "node-1");
  });

  it("decodes to what decodeBinary gives, and leaves decodeBinary's objects unshared and writable", () => {
    const bytes = podBytes("d", "node-3", "nginx:1.27", "2026-12-04T06:00:01Z");
    const shared = decodeShared(POD, bytes);
    const plain = decodeBinary(POD, bytes) as Pod;
    assert.deepEqual(shared, plain);
    assert.deepEqual(decodeStoredShared(bytes), plain);
    const again = decodeBinary(POD, bytes) as Pod;
    assert.notEqual(plain.spec!.containers[0], again.spec!.containers[0]);
    plain.spec!.containers[0].image = "nginx:1.28";
    assert.equal((decodeShared(POD, bytes) as Pod).spec!.containers[0].image, "nginx:1.27");
  });

  it("stops sharing once a decode fails", () => {
    const bytes = podBytes("e", "node-4");
    assert.throws(() => decodeShared(POD, bytes.subarray(0, bytes.length - 3)));
    const x = decodeBinary(POD, bytes) as Pod;
    const y = decodeBinary(POD, bytes) as Pod;
    assert.notEqual(x.spec, y.spec);
    assert.ok(!Object.isFrozen(x.spec));
  });

  it("keeps a bounded number of parts of each type", () => {
    for (let i = 0; i <= MAX_SHARED_PARTS; i++) decodeShared(POD, podBytes(`f${i}`, "node-5", `image-${i}`));
    const held = sharedPartStats().Container.held;
    assert.ok(held > 0 && held <= MAX_SHARED_PARTS, `held ${held}`);
  });
});
