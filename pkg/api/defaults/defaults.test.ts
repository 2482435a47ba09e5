import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeStored, encodeBinary } from "../convert/binary.js";
import { decodeObject, encodeObject } from "../convert/object.js";
import type { KubeObject } from "../registry.js";
import { applyDefaults, defaultImagePullPolicy } from "./defaults.js";

function defaulted(json: Record<string, unknown>): any {
  const obj = applyDefaults(decodeObject(json).object);
  // Defaulted objects must stay fully shaped: the codec encodes and decodes them unchanged.
  assert.deepStrictEqual(decodeStored(encodeBinary(obj)), obj);
  return encodeObject(obj);
}

describe("applyDefaults", () => {
  it("chooses imagePullPolicy by tag", () => {
    const table: Array<[string, string]> = [
      ["nginx", "Always"],
      ["nginx:latest", "Always"],
      ["nginx:1.25", "IfNotPresent"],
      ["registry.local:5000/app", "Always"],
      ["registry.local:5000/app:v2", "IfNotPresent"],
      ["app@sha256:abcd", "IfNotPresent"],
    ];
    for (const [image, want] of table) assert.equal(defaultImagePullPolicy(image), want, image);
  });

  it("fills a Deployment the way kubectl create deployment needs", () => {
    const d = defaulted({
      kind: "Deployment",
      apiVersion: "apps/v1",
      metadata: { name: "web", labels: { app: "web" } },
      spec: {
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            containers: [
              {
                name: "busybox",
                image: "busybox:local",
                resources: { limits: { cpu: "1" } },
                ports: [{ containerPort: 80 }],
                livenessProbe: { httpGet: { port: 80 } },
                env: [{ name: "N", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
              },
            ],
          },
        },
        strategy: {},
      },
    });
    assert.equal(d.spec.replicas, 1);
    assert.deepEqual(d.spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } });
    assert.equal(d.spec.revisionHistoryLimit, 10);
    assert.equal(d.spec.progressDeadlineSeconds, 600);
    const ps = d.spec.template.spec;
    assert.equal(ps.restartPolicy, "Always");
    assert.equal(ps.terminationGracePeriodSeconds, 30);
    assert.equal(ps.dnsPolicy, "ClusterFirst");
    assert.equal(ps.schedulerName, "default-scheduler");
    const c = ps.containers[0];
    assert.equal(c.imagePullPolicy, "IfNotPresent");
    assert.equal(c.terminationMessagePath, "/dev/termination-log");
    assert.equal(c.ports[0].protocol, "TCP");
    assert.deepEqual(c.resources.requests, { cpu: "1" });
    assert.deepEqual(c.livenessProbe, {
      httpGet: { path: "/", port: 80, scheme: "HTTP" },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    assert.equal(c.env[0].valueFrom.fieldRef.apiVersion, "v1");
  });

  it("never overwrites what the manifest set, and is idempotent", () => {
    const json = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: { replicas: 0, strategy: { type: "Recreate" }, revisionHistoryLimit: 2 },
    };
    const once = defaulted(json);
    assert.equal(once.spec.replicas, 0);
    assert.deepEqual(once.spec.strategy, { type: "Recreate" });
    assert.equal(once.spec.revisionHistoryLimit, 2);
    assert.deepEqual(defaulted(once), once);
  });

  it("fills Service type, affinity, protocol and targetPort", () => {
    const s = defaulted({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web" },
      spec: { type: "NodePort", sessionAffinity: "ClientIP", ports: [{ port: 80 }, { port: 81, targetPort: "http" }] },
    });
    assert.deepEqual(s.spec.ports, [
      { protocol: "TCP", port: 80, targetPort: 80 },
      { protocol: "TCP", port: 81, targetPort: "http" },
    ]);
    assert.deepEqual(s.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
    assert.equal(s.spec.externalTrafficPolicy, "Cluster");
    const plain = defaulted({ apiVersion: "v1", kind: "Service", metadata: { name: "a" }, spec: { ports: [{ port: 1 }] } });
    assert.equal(plain.spec.type, "ClusterIP");
    assert.equal(plain.spec.sessionAffinity, "None");
  });

  it("fills Job completions and parallelism together, backoffLimit 6", () => {
    const template = { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } };
    const j = defaulted({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "j" }, spec: { template } });
    assert.equal(j.spec.completions, 1);
    assert.equal(j.spec.parallelism, 1);
    assert.equal(j.spec.backoffLimit, 6);
    assert.equal(j.spec.completionMode, "NonIndexed");
    const p = defaulted({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "j" }, spec: { parallelism: 3, template } });
    assert.equal(p.spec.completions, undefined);
    assert.equal(p.spec.parallelism, 3);
    const cj = defaulted({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "c" },
      spec: { schedule: "* * * * *", jobTemplate: { spec: { template } } },
    });
    assert.equal(cj.spec.concurrencyPolicy, "Allow");
    assert.equal(cj.spec.successfulJobsHistoryLimit, 3);
    assert.equal(cj.spec.failedJobsHistoryLimit, 1);
    assert.equal(cj.spec.jobTemplate.spec.backoffLimit, 6);
  });

  it("fills DaemonSet, StatefulSet and ReplicaSet strategies", () => {
    const template = { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "x" }] } };
    const ds = defaulted({ apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "d" }, spec: { template } });
    assert.deepEqual(ds.spec.updateStrategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    const sts = defaulted({ apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "s" }, spec: { template } });
    assert.equal(sts.spec.replicas, 1);
    assert.equal(sts.spec.podManagementPolicy, "OrderedReady");
    assert.deepEqual(sts.spec.updateStrategy, { type: "RollingUpdate", rollingUpdate: { partition: 0 } });
    const rs = defaulted({ apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "r" }, spec: { template } });
    assert.equal(rs.spec.replicas, 1);
  });

  it("folds Secret stringData into data and defaults the type", () => {
    const s = defaulted({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s" },
      data: { a: Buffer.from("old").toString("base64") },
      stringData: { a: "new", b: "two" },
    });
    assert.equal(s.type, "Opaque");
    assert.equal(s.stringData, undefined);
    assert.deepEqual(s.data, { a: Buffer.from("new").toString("base64"), b: Buffer.from("two").toString("base64") });
  });

  it("fills pod volume modes, HPA metrics, PVC volumeMode, PriorityClass preemption", () => {
    const pod = defaulted({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p" },
      spec: { hostNetwork: true, containers: [{ name: "c", image: "x:1", ports: [{ containerPort: 8080 }] }], volumes: [{ name: "v", configMap: { name: "cm" } }] },
    });
    assert.equal(pod.spec.volumes[0].configMap.defaultMode, 420);
    assert.equal(pod.spec.containers[0].ports[0].hostPort, 8080);
    const hpa = defaulted({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "h" },
      spec: { scaleTargetRef: { kind: "Deployment", name: "web" }, maxReplicas: 5 },
    });
    assert.equal(hpa.spec.minReplicas, 1);
    assert.deepEqual(hpa.spec.metrics, [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }]);
    const pvc = defaulted({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "c" }, spec: {} });
    assert.equal(pvc.spec.volumeMode, "Filesystem");
    assert.equal(pvc.status.phase, "Pending");
    const pc = defaulted({ apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "x" }, value: 5 });
    assert.equal(pc.preemptionPolicy, "PreemptLowerPriority");
  });

  it("creates missing parts for hand-built objects", () => {
    const bare = { apiVersion: "apps/v1", kind: "Deployment", metadata: undefined, spec: undefined, status: undefined } as unknown as KubeObject;
    const d = applyDefaults(bare) as any;
    assert.equal(d.spec.replicas, 1);
    assert.deepEqual(d.spec.strategy.rollingUpdate.maxSurge, { intVal: undefined, strVal: "25%" });
    assert.deepStrictEqual(decodeStored(encodeBinary(d)), d);
  });
});
