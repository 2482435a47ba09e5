import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as apps from "../../gen/navarch/api/v1/apps.js";
import * as autoscaling from "../../gen/navarch/api/v1/autoscaling.js";
import * as batch from "../../gen/navarch/api/v1/batch.js";
import * as coordination from "../../gen/navarch/api/v1/coordination.js";
import * as core from "../../gen/navarch/api/v1/core.js";
import * as meta from "../../gen/navarch/api/v1/meta.js";
import * as networking from "../../gen/navarch/api/v1/networking.js";
import * as policy from "../../gen/navarch/api/v1/policy.js";
import * as scheduling from "../../gen/navarch/api/v1/scheduling.js";
import { emptyMessage } from "./convert/json.js";
import { KINDS, kindByName, kindFor, kindForResource, resolveResource, servedApiVersions } from "./registry.js";
import { allMessages, fieldAt, messageSchema, parseProtoFiles, SchemaError } from "./schema.js";

const generated: Record<string, unknown> = { ...meta, ...core, ...apps, ...batch, ...autoscaling, ...networking, ...coordination, ...scheduling, ...policy };

describe("schema", () => {
  it("agrees with the generated code on every message's fields", () => {
    let n = 0;
    for (const m of allMessages()) {
      const fns = generated[m.name] as { create(): Record<string, unknown> } | undefined;
      assert.ok(fns && typeof fns.create === "function", `no generated codec for ${m.name}`);
      assert.deepStrictEqual(emptyMessage(m), fns.create(), m.name);
      n++;
    }
    assert.ok(n > 150, `only ${n} messages`);
  });

  it("reads the comment tags", () => {
    assert.equal(fieldAt("Pod", ["spec", "containers"])?.mergeKey, "name");
    assert.equal(fieldAt("Pod", ["spec", "containers", "ports"])?.mergeKey, "containerPort");
    assert.equal(fieldAt("Pod", ["spec", "containers", "resources", "limits"])?.quantity, true);
    assert.equal(fieldAt("Pod", ["metadata", "creationTimestamp"])?.time, true);
    assert.equal(fieldAt("Pod", ["spec", "nope"]), undefined);
    assert.equal(messageSchema("Service").byJsonName.get("spec")?.type, "ServiceSpec");
  });

  it("refuses proto constructs it does not understand", () => {
    assert.throws(() => parseProtoFiles([{ name: "x.proto", text: "message A {\n  oneof x {\n" }]), (e: unknown) => e instanceof SchemaError && /x\.proto:2: unsupported line/.test((e as Error).message));
    assert.throws(() => parseProtoFiles([{ name: "x.proto", text: "message A {\n  B b = 1;\n}\n" }]), /field A\.b has unknown type B/);
    assert.throws(() => parseProtoFiles([{ name: "x.proto", text: "message A {\n  map<int32, string> m = 1;\n}\n" }]), /map keys must be string/);
  });
});

describe("registry", () => {
  it("gives every kind apiVersion and kind as fields 1 and 2, so stored bytes name their type", () => {
    for (const k of KINDS) {
      const fields = messageSchema(k.messageName).fields;
      assert.deepEqual(
        fields.slice(0, 2).map((f) => [f.name, f.number]),
        [["apiVersion", 1], ["kind", 2]],
        k.kind,
      );
      assert.equal(fields[2].name, "metadata", k.kind);
    }
  });

  it("looks kinds up by apiVersion+kind, resource and what users type", () => {
    assert.equal(kindFor("apps/v1", "Deployment")?.resource, "deployments");
    assert.equal(kindFor("v1", "Deployment"), undefined);
    assert.equal(kindForResource("", "v1", "pods")?.kind, "Pod");
    assert.equal(kindForResource("autoscaling", "v2", "horizontalpodautoscalers")?.kind, "HorizontalPodAutoscaler");
    assert.equal(kindForResource("autoscaling", "v1", "horizontalpodautoscalers"), undefined);
    for (const [text, kind] of [
      ["po", "Pod"], ["pods", "Pod"], ["pod", "Pod"], ["Pod", "Pod"], ["deploy", "Deployment"], ["deployments.apps", "Deployment"],
      ["svc", "Service"], ["hpa", "HorizontalPodAutoscaler"], ["ing", "Ingress"], ["pvc", "PersistentVolumeClaim"], ["pc", "PriorityClass"],
      ["ns", "Namespace"], ["cj", "CronJob"], ["leases", "Lease"], ["ep", "Endpoints"],
    ] as const) {
      assert.equal(resolveResource(text)?.kind, kind, text);
    }
    assert.equal(resolveResource("deployments.batch"), undefined);
    assert.equal(kindByName("Node").namespaced, false);
    assert.equal(kindByName("Deployment").hasScale, true);
    assert.deepEqual(servedApiVersions(), ["v1", "apps/v1", "autoscaling/v2", "batch/v1", "coordination.k8s.io/v1", "networking.k8s.io/v1", "policy/v1", "scheduling.k8s.io/v1"]);
  });
});
