import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { formatFieldError } from "../field_errors.js";
import { decodeBinary, decodeStored, encodeBinary, peekTypeMeta } from "./binary.js";
import { fromJson, toJson } from "./json.js";
import type { KubeObject } from "../registry.js";
import { DecodeError, decodeObject, decodeObjectJson, encodeObject, encodeObjectJson, infoOf } from "./object.js";
import { decodeManifests, decodeManifestsStrict, encodeObjectYaml, parseYamlDocuments } from "./yaml.js";

const TESTDATA = fileURLToPath(new URL("../testdata/", import.meta.url));
const manifests = readdirSync(TESTDATA)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => ({ file: f, text: readFileSync(TESTDATA + f, "utf8") }));

function decodeErrors(json: unknown): string[] {
  try {
    decodeObject(json);
  } catch (e) {
    assert.ok(e instanceof DecodeError, String(e));
    return e.errors.length ? e.errors.map(formatFieldError) : [e.message];
  }
  assert.fail("expected a decode error");
}

describe("manifest round trips", () => {
  it("covers every kind the issue names", () => {
    const kinds = new Set(manifests.flatMap((m) => decodeManifestsStrict(m.text).map((d) => d.info.kind)));
    for (const k of [
      "Deployment", "Service", "Pod", "Job", "CronJob", "StatefulSet", "DaemonSet", "ConfigMap", "Secret",
      "Ingress", "HorizontalPodAutoscaler", "PersistentVolumeClaim", "PriorityClass", "Lease", "Namespace",
      "PersistentVolume", "Node", "Event", "ReplicaSet", "Endpoints",
    ]) {
      assert.ok(kinds.has(k as never), `no testdata manifest for ${k}`);
    }
  });

  for (const { file, text } of manifests) {
    it(`${file}: YAML → object → JSON gives back the manifest, and JSON → object is equal`, () => {
      const [doc] = decodeManifestsStrict(text);
      const json = encodeObject(doc.object);
      const original = parseYamlDocuments(text)[0].value as Record<string, unknown>;
      if (file === "deployment.yaml") {
        // A bare number is accepted for a quantity and written back as Kubernetes writes it: a string.
        const c = (original as any).spec.template.spec.containers[0];
        assert.equal(c.resources.limits.cpu, 1);
        c.resources.limits.cpu = "1";
      }
      assert.deepEqual(json, original);
      const again = decodeObjectJson(JSON.stringify(json));
      assert.deepStrictEqual(again.object, doc.object);
    });

    it(`${file}: YAML → protobuf bytes → object is equal`, () => {
      const [doc] = decodeManifestsStrict(text);
      const bytes = encodeBinary(doc.object);
      assert.deepEqual(peekTypeMeta(bytes), { apiVersion: doc.info.apiVersion, kind: doc.info.kind });
      assert.deepStrictEqual(decodeStored(bytes), doc.object);
      assert.deepStrictEqual(decodeBinary(doc.info, bytes), doc.object);
    });
  }

  it("YAML output decodes to the same object", () => {
    for (const { text } of manifests) {
      const [doc] = decodeManifestsStrict(text);
      const [back] = decodeManifestsStrict(encodeObjectYaml(doc.object));
      assert.deepStrictEqual(back.object, doc.object);
    }
  });
});

describe("decoding details", () => {
  it("reads YAML as Kubernetes does: octal modes, timestamps kept as text", () => {
    const pod = decodeManifestsStrict(readFileSync(TESTDATA + "pod.yaml", "utf8"))[0].object as any;
    assert.equal(pod.spec.volumes[1].configMap.defaultMode, 0o644);
    assert.equal(pod.spec.volumes[2].secret.defaultMode, 0o400);
    assert.equal(pod.status.startTime, "2024-05-01T10:00:00Z");
  });

  it("gives IntOrString as a typed pair and writes it back bare", () => {
    const svc = decodeManifestsStrict(readFileSync(TESTDATA + "service.yaml", "utf8"))[0].object as any;
    assert.deepEqual(svc.spec.ports[0].targetPort, { intVal: undefined, strVal: "http" });
    assert.deepEqual(svc.spec.ports[1].targetPort, { intVal: 9090, strVal: undefined });
    const json = encodeObject(svc) as any;
    assert.equal(json.spec.ports[0].targetPort, "http");
    assert.equal(json.spec.ports[1].targetPort, 9090);
  });

  it("decodes secret data from base64 and writes base64 back", () => {
    const s = decodeManifestsStrict(readFileSync(TESTDATA + "secret.yaml", "utf8"))[0].object as any;
    assert.equal(Buffer.from(s.data.password).toString(), "s3cr3t");
    assert.equal((encodeObject(s) as any).data.password, "czNjcjN0");
  });

  it("keeps empty objects kubectl sends (resources: {}, strategy: {}, status: {})", () => {
    const body = {
      kind: "Deployment",
      apiVersion: "apps/v1",
      metadata: { name: "web", creationTimestamp: null, labels: { app: "web" } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "busybox", image: "busybox:local", resources: {} }] },
        },
        strategy: {},
      },
      status: {},
    };
    const { object } = decodeObject(body);
    const { creationTimestamp: _drop, ...meta } = body.metadata;
    assert.deepEqual(encodeObject(object), { ...body, metadata: meta });
  });

  it("distinguishes replicas: 0 from replicas unset", () => {
    const base = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "a" } };
    const zero = decodeObject({ ...base, spec: { replicas: 0 } }).object as any;
    const unset = decodeObject({ ...base, spec: {} }).object as any;
    assert.equal(zero.spec.replicas, 0);
    assert.equal(unset.spec.replicas, undefined);
    assert.equal((decodeStored(encodeBinary(zero)) as any).spec.replicas, 0);
    assert.equal((decodeStored(encodeBinary(unset)) as any).spec.replicas, undefined);
  });

  it("expands a v1 List into its items", () => {
    const docs = decodeManifests(
      "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n",
    );
    assert.deepEqual(docs.map((d) => d.decoded?.object.metadata?.name), ["a", "b"]);
  });

  it("decodes every document of a stream on its own and skips empty ones", () => {
    const docs = decodeManifests(
      "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b, bogus: 1}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: c}\n",
    );
    assert.equal(docs.length, 3);
    assert.equal(docs[0].decoded?.object.metadata?.name, "a");
    assert.equal(docs[1].error?.errors.map(formatFieldError)[0], "metadata.bogus: unknown field");
    assert.equal(docs[1].line, 7);
    assert.equal(docs[2].decoded?.object.metadata?.name, "c");
  });

  it("reports malformed YAML with its line", () => {
    const [doc] = decodeManifests("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [a\n");
    assert.equal(doc.error?.reason, "Malformed");
    assert.match(doc.error?.message ?? "", /^Cannot parse YAML at line \d+: /);
  });

  it("reports duplicate keys as malformed YAML", () => {
    const [doc] = decodeManifests("apiVersion: v1\nkind: Namespace\nkind: Pod\n");
    assert.equal(doc.error?.reason, "Malformed");
  });
});

describe("unknown fields and wrong types", () => {
  const deployment = (container: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: { selector: { matchLabels: { a: "b" } }, template: { spec: { containers: [container] } }, ...extra },
  });

  it("names each unknown field with its path", () => {
    assert.deepEqual(decodeErrors(deployment({ name: "c", image: "x", imagePullPolicyy: "Always" }, { replica: 2 })), [
      "spec.template.spec.containers[0].imagePullPolicyy: unknown field",
      "spec.replica: unknown field",
    ]);
  });

  it("names wrong types with path and expected form", () => {
    assert.deepEqual(
      decodeErrors(
        deployment(
          { name: "c", image: 5, ports: { containerPort: 80 }, stdin: "yes" },
          { replicas: "three", paused: 1 },
        ),
      ),
      [
        'spec.template.spec.containers[0].image: Invalid value: 5: expected a string, got a number',
        'spec.template.spec.containers[0].ports: Invalid value: {"containerPort":80}: expected a list, got an object',
        'spec.template.spec.containers[0].stdin: Invalid value: "yes": expected a boolean (true or false), got a string',
        'spec.replicas: Invalid value: "three": expected a 32-bit integer, got a string',
        "spec.paused: Invalid value: 1: expected a boolean (true or false), got a number",
      ],
    );
  });

  it("rejects label values that are not strings, as Kubernetes does", () => {
    assert.deepEqual(decodeErrors({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", labels: { v: 1 } } }), [
      "metadata.labels[v]: Invalid value: 1: expected a string, got a number",
    ]);
  });

  it("checks quantities, timestamps, IntOrString and base64 where they are typed", () => {
    const errs = decodeErrors({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", creationTimestamp: "yesterday" },
      spec: {
        containers: [
          { name: "c", resources: { limits: { cpu: "2kk", memory: true } }, livenessProbe: { httpGet: { port: 1.5 } } },
        ],
      },
    });
    assert.deepEqual(errs, [
      `metadata.creationTimestamp: Invalid value: "yesterday": must be an RFC 3339 timestamp (e.g. '2006-01-02T15:04:05Z')`,
      `spec.containers[0].resources.limits[cpu]: Invalid value: "2kk": unable to parse quantity's suffix`,
      "spec.containers[0].resources.limits[memory]: Invalid value: true: expected a quantity string, got a boolean",
      "spec.containers[0].livenessProbe.httpGet.port: Invalid value: 1.5: expected a 32-bit integer or a string",
    ]);
    assert.deepEqual(decodeErrors({ apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { k: "not base64!" } }), [
      'data[k]: Invalid value: "not base64!": expected a base64-encoded string',
    ]);
  });

  it("stops collecting at maxErrors", () => {
    const metadata: Record<string, unknown> = { name: "x" };
    for (let i = 0; i < 500; i++) metadata[`f${i}`] = i;
    try {
      decodeObject({ apiVersion: "v1", kind: "ConfigMap", metadata }, { maxErrors: 10 });
      assert.fail("expected an error");
    } catch (e) {
      assert.equal((e as DecodeError).errors.length, 10);
    }
  });

  it("names unknown kinds and versions the way kubectl prints them", () => {
    assert.deepEqual(decodeErrors({ apiVersion: "extensions/v1beta1", kind: "Deployment" }), [
      'no matches for kind "Deployment" in version "extensions/v1beta1"; Navarch serves Deployment as "apps/v1"',
    ]);
    assert.deepEqual(decodeErrors({ apiVersion: "v1", kind: "Gizmo" }), ['no matches for kind "Gizmo" in version "v1"']);
    assert.deepEqual(decodeErrors({ metadata: {} }), ["apiVersion: Required value", "kind: Required value"]);
    assert.deepEqual(decodeErrors([1, 2]), ["Cannot decode object: expected a JSON object, got a list"]);
  });

  it("rejects malformed JSON text and malformed bytes with DecodeError", () => {
    assert.throws(() => decodeObjectJson("{"), (e) => e instanceof DecodeError && e.reason === "Malformed");
    assert.throws(() => decodeStored(new Uint8Array([0x0a, 0xff, 0xff, 0xff])), DecodeError);
  });
});

describe("messages that are not kinds", () => {
  it("converts the autoscaling/v1 Scale body", () => {
    const body = { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: "web" }, spec: { replicas: 3 } };
    const { value, errors } = fromJson("Scale", body);
    assert.deepEqual(errors, []);
    assert.deepEqual(toJson("Scale", value), body);
  });

  it("encodes compact JSON text", () => {
    const { object } = decodeObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: "a" } });
    assert.equal(encodeObjectJson(object), '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}');
  });
});

describe("binary encoding with one writer", () => {
  const fresh = (o: KubeObject): Buffer => Buffer.from((infoOf(o).codec as unknown as { encode(m: KubeObject): { finish(): Uint8Array } }).encode(o).finish());
  const pod = (name: string, priority: unknown) =>
    decodeObject({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" }, spec: { containers: [{ name: "a", image: "nginx" }] } }).object as KubeObject & { spec: { priority: unknown } };

  it("gives each object its own exact bytes, after a large object and after an encode that failed halfway", () => {
    const big = decodeObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "big" }, data: { blob: "x".repeat(600_000) } }).object;
    const small = pod("small", 0);
    const first = Buffer.from(encodeBinary(small));
    assert.deepEqual(Buffer.from(encodeBinary(big)), fresh(big));
    const broken = pod("broken", 0);
    broken.spec.priority = "high";
    assert.throws(() => encodeBinary(broken));
    const again = Buffer.from(encodeBinary(small));
    assert.deepEqual(again, fresh(small));
    assert.deepEqual(again, first);
  });

  it("gives results that later encodes do not change, and that do not hold the writer's buffer", () => {
    const a = encodeBinary(pod("a", 0));
    const kept = Buffer.from(a);
    const big = encodeBinary(decodeObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "big" }, data: { blob: "y".repeat(100_000) } }).object);
    for (let i = 0; i < 100; i++) encodeBinary(pod(`p${i}`, 0));
    assert.deepEqual(Buffer.from(a), kept, "an earlier result is not overwritten");
    // Small results share Buffer's pool (8 KB slabs); a large one has its own bytes, exactly.
    assert.ok(a.buffer.byteLength <= Math.max(Buffer.poolSize, a.byteLength), `a ${a.byteLength}-byte result holds ${a.buffer.byteLength} bytes`);
    assert.equal(big.buffer.byteLength, big.byteLength);
  });
});
