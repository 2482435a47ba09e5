import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { KubeObject, Node, Pod } from "../registry.js";
import { kindByName } from "../registry.js";
import { deepCopy } from "../deep_copy.js";
import { decodeBinary, encodeBinary } from "./binary.js";
import { DecodeError, decodeObject } from "./object.js";
import { decodeManifestsStrict } from "./yaml.js";
import { decodeShared, decodeSharedAfter, decodeStoredShared, MAX_SHARED_PARTS, sharedPartStats } from "./shared_decode.js";

const TESTDATA = fileURLToPath(new URL("../testdata/", import.meta.url));

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

/** The object of a testdata manifest. */
function manifest<T extends KubeObject>(file: string): T {
  return decodeManifestsStrict(readFileSync(TESTDATA + file, "utf8"))[0].object as T;
}

/** decodeSharedAfter of `next` after `prev`, checked against a full decodeShared of `next`. */
function after<T extends KubeObject>(kind: string, prev: T, next: T): { before: T; got: T } {
  const info = kindByName(kind)!;
  const prevBytes = encodeBinary(prev);
  const before = decodeShared(info, prevBytes) as T;
  const got = decodeSharedAfter(info, encodeBinary(next), prevBytes, before) as T;
  assert.deepEqual(got, decodeShared(info, encodeBinary(next)));
  // As the store holds values: latin1 strings, one char per byte. The same parts are taken over.
  const latin1 = (b: Uint8Array) => Buffer.from(b).toString("latin1");
  const fromStrings = decodeSharedAfter(info, latin1(encodeBinary(next)), latin1(prevBytes), before) as T;
  assert.deepEqual(fromStrings, got);
  const part = (o: T, k: string) => (o as unknown as Record<string, unknown>)[k];
  for (const k of ["spec", "status"]) assert.equal(part(fromStrings, k) === part(before, k), part(got, k) === part(before, k), `${k} taken over alike`);
  const mixed = decodeSharedAfter(info, encodeBinary(next), latin1(prevBytes), before) as T;
  assert.deepEqual(mixed, got);
  return { before, got };
}

describe("decodeSharedAfter", () => {
  it("takes a pod's unchanged metadata and spec from the previous version after a status write", () => {
    const pod = manifest<Pod>("pod.yaml");
    const next = deepCopy(pod);
    next.status = { ...next.status!, phase: "Running", podIP: "198.18.0.7" };
    const { before, got } = after("Pod", pod, next);
    assert.equal(got.spec, before.spec);
    // A copy: the caller writes the new resourceVersion into it.
    assert.notEqual(got.metadata, before.metadata);
    assert.equal(got.metadata!.labels, before.metadata!.labels);
    assert.notEqual(got.status, before.status);
    assert.equal(got.status!.podIP, "198.18.0.7");
  });

  it("decodes what a binding changed (spec and status) and keeps the metadata", () => {
    const pod = manifest<Pod>("pod.yaml");
    pod.spec!.nodeName = undefined;
    const next = deepCopy(pod);
    next.spec!.nodeName = "node-9";
    next.status = { ...next.status!, conditions: [{ type: "PodScheduled", status: "True" }] };
    const { before, got } = after("Pod", pod, next);
    assert.notEqual(got.spec, before.spec);
    assert.equal(got.spec!.nodeName, "node-9");
    assert.equal(got.status!.conditions[0].type, "PodScheduled");
  });

  it("decodes changed metadata, and a part the new version no longer has is gone", () => {
    const pod = manifest<Pod>("pod.yaml");
    const next = deepCopy(pod);
    next.metadata!.labels = { ...next.metadata!.labels, tier: "db" };
    next.status = undefined;
    const { before, got } = after("Pod", pod, next);
    assert.equal(got.metadata!.labels.tier, "db");
    assert.equal(got.spec, before.spec);
    assert.equal(got.status, undefined);
  });

  it("does the same for nodes", () => {
    const node = manifest<Node>("node.yaml");
    const next = deepCopy(node);
    next.spec = { ...next.spec!, unschedulable: true };
    const { before, got } = after("Node", node, next);
    assert.equal(got.status, before.status);
    assert.equal(got.spec!.unschedulable, true);
  });

  it("decodes other kinds, and bytes laid out otherwise, in full", () => {
    const cm = manifest<KubeObject>("configmap.yaml");
    const info = kindByName("ConfigMap")!;
    const bytes = encodeBinary(cm);
    assert.deepEqual(decodeSharedAfter(info, bytes, bytes, decodeShared(info, bytes)), decodeShared(info, bytes));
    // A pod's bytes with an unknown field 7 after the status: decoded as a whole (the field skipped).
    const pod = manifest<Pod>("pod.yaml");
    const podBytes = encodeBinary(pod);
    const extended = Buffer.concat([podBytes, Buffer.from([7 << 3 | 2, 1, 0x41])]);
    const prev = decodeShared(POD, podBytes);
    const got = decodeSharedAfter(POD, extended, podBytes, prev) as Pod;
    assert.deepEqual(got, decodeShared(POD, extended));
    assert.notEqual(got.spec, undefined);
  });

  it("refuses a malformed changed part with DecodeError", () => {
    const pod = manifest<Pod>("pod.yaml");
    pod.status = undefined;
    const bytes = Buffer.from(encodeBinary(pod));
    const prev = decodeShared(POD, bytes);
    // The same layout plus a status of two bytes: its first field claims five.
    const broken = Buffer.concat([bytes, Buffer.from([5 << 3 | 2, 2, 0x0a, 0x05])]);
    assert.throws(() => decodeSharedAfter(POD, broken, bytes, prev), DecodeError);
  });
});

describe("decoded lists", () => {
  it("are as long as their items: a pod a cache holds costs about 1,070 bytes of heap, not 1,460", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const N = 5000;
    const bytes = Array.from({ length: N }, (_, i) => podBytes(`pod-${i}`, `node-${i % 50}`, undefined, `2026-12-04T06:${String(Math.floor(i / 60) % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}Z`));
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    const held = bytes.map((b) => decodeStoredShared(b));
    gc();
    gc();
    const perPod = (process.memoryUsage().heapUsed - before) / held.length;
    const pod = held[0] as Pod;
    assert.equal(pod.status?.conditions.length, 1);
    // A list grown by push from empty keeps room for 17 items (152 bytes): this pod has three.
    assert.ok(perPod < 1250, `${perPod.toFixed(0)} bytes of heap per decoded pod`);
  });
});
