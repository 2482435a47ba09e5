import assert from "node:assert/strict";
import { test } from "node:test";
import { deepFreeze } from "./deep_freeze.js";

test("freezes an object, its nested objects and the objects in its arrays", () => {
  const pod = { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", ports: [{ containerPort: 80 }] }] } };
  assert.equal(deepFreeze(pod), pod);
  for (const part of [pod, pod.metadata, pod.metadata.labels, pod.spec, pod.spec.containers, pod.spec.containers[0], pod.spec.containers[0].ports[0]]) {
    assert.ok(Object.isFrozen(part));
  }
  assert.throws(() => {
    "use strict";
    (pod.metadata.labels as Record<string, string>).app = "db";
  }, TypeError);
});

test("leaves byte arrays writable, and parts already frozen as they are", () => {
  const inner = { n: 1 };
  const shared = Object.freeze({ inner });
  const bytes = new Uint8Array([1, 2]);
  const o = deepFreeze({ shared, bytes, list: [null, 3, "s", undefined] });
  assert.ok(Object.isFrozen(o) && Object.isFrozen(o.list));
  bytes[0] = 9;
  assert.equal(o.bytes[0], 9);
  // Frozen parts are taken as frozen all through: not walked again.
  assert.equal(Object.isFrozen(inner), false);
});

test("passes through values that are not objects", () => {
  assert.equal(deepFreeze(null), null);
  assert.equal(deepFreeze(3), 3);
  assert.equal(deepFreeze("s"), "s");
});
