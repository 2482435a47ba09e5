import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { decodeObject } from "../convert/object.js";
import { decodeManifestsStrict } from "../convert/yaml.js";
import { applyDefaults } from "../defaults/defaults.js";
import { formatFieldError, formatInvalid } from "../field_errors.js";
import type { KubeObject, Pod } from "../registry.js";
import { cronScheduleError } from "./workloads.js";
import { validateObject, validateObjectUpdate } from "./validate.js";

const TESTDATA = fileURLToPath(new URL("../testdata/", import.meta.url));

function obj(json: Record<string, unknown>): KubeObject {
  return applyDefaults(decodeObject(json).object);
}

function errors(json: Record<string, unknown>): string[] {
  return validateObject(obj(json)).map(formatFieldError);
}

const container = (extra: Record<string, unknown> = {}) => ({ name: "web", image: "nginx:1.25", ...extra });
const pod = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "default", ...metadata },
  spec: { containers: [container()], ...spec },
});
const deployment = (spec: Record<string, unknown>, templateSpec: Record<string, unknown> = {}) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "default" },
  spec: {
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [container()], ...templateSpec } },
    ...spec,
  },
});

const SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

describe("validateObject", () => {
  it("accepts every testdata manifest once defaulted", () => {
    for (const f of readdirSync(TESTDATA).filter((n) => n.endsWith(".yaml"))) {
      for (const { object } of decodeManifestsStrict(readFileSync(TESTDATA + f, "utf8"))) {
        const o = applyDefaults(object);
        if (o.metadata && !o.metadata.namespace && decodeObject({ apiVersion: o.apiVersion, kind: o.kind }).info.namespaced) {
          o.metadata.namespace = "default";
        }
        assert.deepEqual(validateObject(o).map(formatFieldError), [], f);
      }
    }
  });

  it("checks metadata on every kind", () => {
    assert.deepEqual(errors(pod({}, { name: "Foo_" })), [`metadata.name: Invalid value: "Foo_": ${SUBDOMAIN}`]);
    assert.deepEqual(errors(pod({}, { name: undefined })), ["metadata.name: Required value: name or generateName is required"]);
    assert.deepEqual(errors(pod({}, { name: undefined, generateName: "web-" })), []);
    assert.deepEqual(errors(pod({}, { namespace: undefined })), ["metadata.namespace: Required value"]);
    assert.deepEqual(errors({ apiVersion: "v1", kind: "Namespace", metadata: { name: "a", namespace: "b" } }), [
      "metadata.namespace: Forbidden: not allowed on this type",
    ]);
    assert.deepEqual(errors({ apiVersion: "v1", kind: "Namespace", metadata: { name: "a.b" } }), [
      `metadata.name: Invalid value: "a.b": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    ]);
    assert.deepEqual(errors({ apiVersion: "v1", kind: "Service", metadata: { name: "1web", namespace: "d" }, spec: { ports: [{ port: 80 }] } }), [
      `metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
    ]);
    assert.deepEqual(errors(pod({}, { labels: { app: "-x" } })), [
      `metadata.labels: Invalid value: "-x": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
    ]);
    assert.deepEqual(
      errors(pod({}, { ownerReferences: [{ apiVersion: "v1", kind: "A", name: "a", uid: "1", controller: true }, { apiVersion: "v1", kind: "B", name: "b", uid: "2", controller: true }] })),
      ['metadata.ownerReferences: Invalid value: ["a","b"]: Only one reference can have Controller set to true'],
    );
    assert.deepEqual(errors({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } }), ["metadata.namespace: Required value"]);
  });

  it("checks pods thoroughly", () => {
    const table: Array<[Record<string, unknown>, string[]]> = [
      [{ containers: [] }, ["spec.containers: Required value"]],
      [{ containers: [container({ image: undefined })] }, ["spec.containers[0].image: Required value"]],
      [{ containers: [container(), container()] }, ['spec.containers[1].name: Duplicate value: "web"']],
      [{ restartPolicy: "Sometimes" }, ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']],
      [{ containers: [container({ imagePullPolicy: "Often" })] }, ['spec.containers[0].imagePullPolicy: Unsupported value: "Often": supported values: "Always", "IfNotPresent", "Never"']],
      [{ containers: [container({ ports: [{ containerPort: 0 }] })] }, ["spec.containers[0].ports[0].containerPort: Invalid value: 0: must be between 1 and 65535, inclusive"]],
      [{ containers: [container({ ports: [{ containerPort: 80, name: "http" }, { containerPort: 81, name: "http" }] })] }, ['spec.containers[0].ports[1].name: Duplicate value: "http"']],
      [{ containers: [container({ volumeMounts: [{ name: "data", mountPath: "/data" }] })] }, ['spec.containers[0].volumeMounts[0].name: Not found: "data"']],
      [
        { containers: [container({ resources: { requests: { cpu: "2" }, limits: { cpu: "1" } } })] },
        ['spec.containers[0].resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1'],
      ],
      [
        { containers: [container({ resources: { limits: { gpus: "1" } } })] },
        [
          'spec.containers[0].resources.limits[gpus]: Invalid value: "gpus": must be a standard resource type or fully qualified',
          // Defaulting requests the limit, so the request is reported too (as in Kubernetes).
          'spec.containers[0].resources.requests[gpus]: Invalid value: "gpus": must be a standard resource type or fully qualified',
        ],
      ],
      [{ containers: [container({ livenessProbe: { periodSeconds: 5 } })] }, ["spec.containers[0].livenessProbe: Required value: must specify a handler type"]],
      [
        { containers: [container({ livenessProbe: { exec: { command: ["true"] }, tcpSocket: { port: 80 }, successThreshold: 2 } })] },
        ["spec.containers[0].livenessProbe: Forbidden: may not specify more than 1 handler type", "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"],
      ],
      [{ containers: [container({ readinessProbe: { httpGet: { port: 70000 }, initialDelaySeconds: -1 } })] }, [
        "spec.containers[0].readinessProbe.httpGet.port: Invalid value: 70000: must be between 1 and 65535, inclusive",
        "spec.containers[0].readinessProbe.initialDelaySeconds: Invalid value: -1: must be greater than or equal to 0",
      ]],
      [
        { containers: [container({ env: [{ name: "A", value: "x", valueFrom: { configMapKeyRef: { name: "c" } } }] })] },
        [
          'spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty',
          "spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Required value",
        ],
      ],
      [
        { containers: [container({ env: [{ name: "A", valueFrom: { fieldRef: { fieldPath: "spec.foo" } } }] })] },
        [
          'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.foo": supported values: "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"',
        ],
      ],
      [{ volumes: [{ name: "v" }] }, ["spec.volumes[0]: Required value: must specify a volume type"]],
      [{ volumes: [{ name: "v", emptyDir: {}, hostPath: { path: "/x" } }] }, ["spec.volumes[0]: Forbidden: may not specify more than 1 volume type"]],
      [{ volumes: [{ name: "v", configMap: { name: "c", defaultMode: 0o1777 } }] }, ["spec.volumes[0].configMap.defaultMode: Invalid value: 1023: must be a number between 0 and 0777 (octal), both inclusive"]],
      [{ volumes: [{ name: "v", emptyDir: {} }, { name: "v", emptyDir: {} }] }, ['spec.volumes[1].name: Duplicate value: "v"']],
      [{ tolerations: [{ key: "k", operator: "Exists", value: "v" }] }, ["spec.tolerations[0].operator: Invalid value: \"Exists\": value must be empty when `operator` is 'Exists'"]],
      [{ tolerations: [{ key: "k", value: "v", effect: "NoSchedule", tolerationSeconds: 5 }] }, ["spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set"]],
      [{ tolerations: [{ value: "v" }] }, ['spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"']],
      [
        { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } },
        ["spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term"],
      ],
      [
        { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, podAffinityTerm: { labelSelector: { matchLabels: { a: "b" } } } }] } } },
        [
          "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100",
          "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey: Required value: can not be empty",
        ],
      ],
      [{ hostNetwork: true, containers: [container({ ports: [{ containerPort: 80, hostPort: 8080 }] })] }, ["spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true"]],
      [{ nodeName: "Bad_Node" }, [`spec.nodeName: Invalid value: "Bad_Node": ${SUBDOMAIN}`]],
    ];
    for (const [spec, want] of table) assert.deepEqual(errors(pod(spec)), want, JSON.stringify(spec));
  });

  it("checks Deployments thoroughly", () => {
    const table: Array<[Record<string, unknown>, string[], Record<string, unknown>?]> = [
      [{ replicas: -1 }, ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]],
      [{ selector: undefined }, ["spec.selector: Required value"]],
      [{ selector: {} }, ["spec.selector: Invalid value: {}: empty selector is invalid for deployment"]],
      [
        { selector: { matchLabels: { app: "other" } } },
        ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`'],
      ],
      [{}, ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'], { restartPolicy: "Never" }],
      [{}, ["spec.template.spec.containers[0].image: Required value"], { containers: [container({ image: "" })] }],
      [{}, ["spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported"], { activeDeadlineSeconds: 5 }],
      [{ strategy: { type: "BlueGreen" } }, ['spec.strategy.type: Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate"']],
      [{ strategy: { type: "Recreate", rollingUpdate: { maxSurge: 1 } } }, ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]],
      [{ strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }, ["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"]],
      [{ strategy: { rollingUpdate: { maxUnavailable: "110%" } } }, ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "110%": must not be greater than 100%']],
      [
        { strategy: { rollingUpdate: { maxSurge: "lots" } } },
        [`spec.strategy.rollingUpdate.maxSurge: Invalid value: "lots": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')`],
      ],
      [{ minReadySeconds: 10, progressDeadlineSeconds: 5 }, ["spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds"]],
      [{ revisionHistoryLimit: -2 }, ["spec.revisionHistoryLimit: Invalid value: -2: must be greater than or equal to 0"]],
    ];
    for (const [spec, want, templateSpec] of table) {
      assert.deepEqual(errors(deployment(spec, templateSpec)), want, JSON.stringify(spec));
    }
    assert.deepEqual(errors(deployment({})), []);
  });

  it("checks ReplicaSets, DaemonSets and StatefulSets", () => {
    const rs = { ...deployment({}), kind: "ReplicaSet" } as Record<string, any>;
    delete rs.spec.strategy;
    assert.deepEqual(errors({ ...rs, spec: { ...rs.spec, replicas: -1, selector: { matchLabels: { app: "x" } } } }), [
      "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    ]);
    const ds = { ...deployment({}), kind: "DaemonSet" } as Record<string, any>;
    assert.deepEqual(errors({ ...ds, spec: { selector: ds.spec.selector, template: ds.spec.template, updateStrategy: { type: "Sometimes" } } }), [
      'spec.updateStrategy.type: Unsupported value: "Sometimes": supported values: "OnDelete", "RollingUpdate"',
    ]);
    const sts = { ...deployment({}), kind: "StatefulSet" } as Record<string, any>;
    assert.deepEqual(errors({ ...sts, spec: { selector: sts.spec.selector, template: sts.spec.template, podManagementPolicy: "Random" } }), [
      'spec.podManagementPolicy: Unsupported value: "Random": supported values: "OrderedReady", "Parallel"',
    ]);
  });

  it("checks Services thoroughly", () => {
    const svc = (spec: Record<string, unknown>) => ({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "d" }, spec });
    const table: Array<[Record<string, unknown>, string[]]> = [
      [{}, ["spec.ports: Required value"]],
      [{ clusterIP: "None" }, []],
      [{ type: "Balanced", ports: [{ port: 80 }] }, ['spec.type: Unsupported value: "Balanced": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']],
      [{ ports: [{ port: 0, targetPort: 80 }] }, ["spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"]],
      [{ ports: [{ port: 80 }, { port: 81 }] }, ["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"]],
      [{ ports: [{ port: 80, name: "a" }, { port: 81, name: "a" }] }, ['spec.ports[1].name: Duplicate value: "a"']],
      [{ ports: [{ port: 80, nodePort: 30000 }] }, ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]],
      [{ type: "NodePort", ports: [{ port: 80, nodePort: 30000 }] }, []],
      [{ ports: [{ port: 80, protocol: "ICMP" }] }, ['spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"']],
      [{ ports: [{ port: 80, targetPort: "Not_A_Name" }] }, ['spec.ports[0].targetPort: Invalid value: "Not_A_Name": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)']],
      [{ type: "ExternalName" }, ["spec.externalName: Required value"]],
      [{ sessionAffinity: "Sticky", ports: [{ port: 80 }] }, ['spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"']],
      [{ clusterIP: "10.0.0.300", ports: [{ port: 80 }] }, ['spec.clusterIP: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']],
    ];
    for (const [spec, want] of table) assert.deepEqual(errors(svc(spec)), want, JSON.stringify(spec));
  });

  it("checks Jobs and CronJobs thoroughly", () => {
    const job = (spec: Record<string, unknown>, restartPolicy: string | null = "Never") => ({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "j", namespace: "d" },
      spec: { template: { spec: { restartPolicy, containers: [container()] } }, ...spec },
    });
    assert.deepEqual(errors(job({})), []);
    assert.deepEqual(errors(job({}, "Always")), ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']);
    assert.deepEqual(errors(job({}, null)), ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']);
    assert.deepEqual(errors(job({ parallelism: -1, backoffLimit: -1, activeDeadlineSeconds: 0 })), [
      "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
      "spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0",
      "spec.activeDeadlineSeconds: Invalid value: 0: must be greater than or equal to 1",
    ]);
    assert.deepEqual(errors(job({ completionMode: "Indexed" })).length, 0);
    assert.deepEqual(errors(job({ completionMode: "Indexed", completions: undefined, parallelism: 2 })), ["spec.completions: Required value: when completion mode is Indexed"]);
    assert.deepEqual(errors(job({ selector: { matchLabels: { a: "b" } } })), [
      'spec.template.metadata.labels: Invalid value: map[string]string{}: `selector` does not match template `labels`',
    ]);
    const cron = (spec: Record<string, unknown>) => ({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "c", namespace: "d" },
      spec: { schedule: "*/5 * * * *", jobTemplate: job({}).spec === undefined ? {} : { spec: job({}).spec }, ...spec },
    });
    assert.deepEqual(errors(cron({})), []);
    assert.deepEqual(errors(cron({ schedule: undefined })), ["spec.schedule: Required value"]);
    assert.deepEqual(errors(cron({ schedule: "61 * * * *" })), ['spec.schedule: Invalid value: "61 * * * *": minute "61" is out of range (0-59)']);
    assert.deepEqual(errors(cron({ timeZone: "Mars/Olympus" })), ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus']);
    assert.deepEqual(errors(cron({ concurrencyPolicy: "Sometimes" })), ['spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"']);
    assert.equal(cronScheduleError("@hourly"), undefined);
    assert.equal(cronScheduleError("0 9 * JAN-MAR MON-FRI"), undefined);
    assert.equal(cronScheduleError("* * *"), 'expected exactly 5 fields, found 3: "* * *"');
  });

  it("checks the other kinds' main required fields", () => {
    const table: Array<[Record<string, unknown>, string[]]> = [
      [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "d" }, data: { "bad key": "x" } }, [
        `data[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
      ]],
      [{ apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "d" }, type: "kubernetes.io/tls", data: { "tls.crt": "eA==" } }, ["data[tls.key]: Required value"]],
      [{ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "c", namespace: "d" }, spec: {} }, [
        "spec.accessModes: Required value: at least 1 access mode is required",
        "spec.resources[storage]: Required value",
      ]],
      [{ apiVersion: "v1", kind: "PersistentVolume", metadata: { name: "v" }, spec: { accessModes: ["ReadWriteSometimes"], capacity: { storage: "1Gi" }, hostPath: { path: "/x" } } }, [
        'spec.accessModes[0]: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
      ]],
      [{ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "h", namespace: "d" }, spec: { minReplicas: 5, maxReplicas: 2, scaleTargetRef: { name: "x" } } }, [
        "spec.scaleTargetRef.kind: Required value",
        "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`",
      ]],
      [{ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "h", namespace: "d" }, spec: { maxReplicas: 2, scaleTargetRef: { kind: "Deployment", name: "x" }, metrics: [{ type: "Resource" }] } }, [
        "spec.metrics[0].resource: Required value: must populate information for the given metric source",
      ]],
      [{ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "l", namespace: "d" }, spec: { leaseDurationSeconds: 0 } }, [
        "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
      ]],
      [{ apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "p" }, value: 2000000000 }, [
        "value: Forbidden: maximum allowed value of a user defined priority is 1000000000",
      ]],
      [{ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "b", namespace: "d" }, spec: { minAvailable: 1, maxUnavailable: "10%" } }, [
        'spec: Invalid value: "…": minAvailable and maxUnavailable cannot be both set',
      ]],
      [{ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "b", namespace: "d" }, spec: { minAvailable: -1, selector: { matchExpressions: [{ key: "app", operator: "Maybe" }] }, unhealthyPodEvictionPolicy: "Never" } }, [
        "spec.minAvailable: Invalid value: -1: must be greater than or equal to 0",
        'spec.selector.matchExpressions[0].operator: Invalid value: "Maybe": not a valid selector operator',
        'spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"',
      ]],
      [{ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "b", namespace: "d" }, spec: { maxUnavailable: "150%" }, status: { disruptionsAllowed: -1 } }, [
        'spec.maxUnavailable: Invalid value: "150%": must not be greater than 100%',
        "status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0",
      ]],
      [{ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "b", namespace: "d" }, spec: { maxUnavailable: 1 }, status: { disruptedPods: { p: "soon" }, conditions: [{ type: "", status: "Maybe", lastTransitionTime: "2026-01-01T00:00:00Z", reason: "x y" }] } }, [
        'status.disruptedPods[p]: Invalid value: "soon": expected an RFC 3339 timestamp',
        "status.conditions[0].type: Required value: must not be empty",
        'status.conditions[0].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown"',
        `status.conditions[0].reason: Invalid value: "x y": a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')`,
      ]],
      [{ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "d", annotations: { "controller.kubernetes.io/pod-deletion-cost": "+10" } }, spec: { containers: [{ name: "c", image: "x" }] } }, [
        'metadata.annotations[controller.kubernetes.io/pod-deletion-cost]: Invalid value: "+10": must be a 32bit integer',
      ]],
      [{ apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "i", namespace: "d" }, spec: {} }, [
        'spec: Invalid value: "": either `defaultBackend` or `rules` must be specified',
      ]],
      [{ apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "i", namespace: "d" }, spec: { rules: [{ http: { paths: [{ path: "api", backend: { service: { name: "api", port: { number: 80, name: "http" } } } }] } }] } }, [
        "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
        "spec.rules[0].http.paths[0].backend.service.port: Invalid value: \"\": cannot set both port name & port number",
      ]],
      [{ apiVersion: "v1", kind: "Node", metadata: { name: "n" }, spec: { taints: [{ key: "k", effect: "Sometimes" }] } }, [
        'spec.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"',
      ]],
      [{ apiVersion: "v1", kind: "Event", metadata: { name: "e", namespace: "d" }, involvedObject: { kind: "Pod", name: "p", namespace: "other" } }, [
        'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
      ]],
    ];
    for (const [json, want] of table) assert.deepEqual(errors(json), want, JSON.stringify(json));
  });

  it("formats the Invalid message the API server returns", () => {
    const errs = validateObject(obj(deployment({ replicas: -1 }, { containers: [container({ image: "" })] })));
    assert.equal(
      formatInvalid("Deployment", "apps", "web", errs),
      'Deployment.apps "web" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.template.spec.containers[0].image: Required value]',
    );
    assert.equal(
      formatInvalid("Pod", "", "p", validateObject(obj(pod({ containers: [] })))),
      'Pod "p" is invalid: spec.containers: Required value',
    );
  });
});

describe("validateObjectUpdate", () => {
  it("keeps selectors, names and Job templates immutable", () => {
    const before = obj(deployment({}));
    const after = obj(deployment({ selector: { matchLabels: { app: "web", v: "2" } } }));
    (after as any).spec.template.metadata.labels.v = "2";
    assert.deepEqual(validateObjectUpdate(after, before).map(formatFieldError), [
      'spec.selector: Invalid value: {"matchLabels":{"app":"web","v":"2"}}: field is immutable',
    ]);
    const renamed = obj({ ...deployment({}), metadata: { name: "other", namespace: "default" } });
    assert.deepEqual(validateObjectUpdate(renamed, before).map(formatFieldError), ['metadata.name: Invalid value: "other": field is immutable']);
    const scaled = obj(deployment({ replicas: 5 }));
    assert.deepEqual(validateObjectUpdate(scaled, before), []);
    const job = (image: string) =>
      obj({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "j", namespace: "d" }, spec: { template: { spec: { restartPolicy: "Never", containers: [container({ image })] } } } });
    assert.deepEqual(validateObjectUpdate(job("b"), job("a")).map(formatFieldError), ['spec.template: Invalid value: "…": field is immutable']);
  });

  it("lets a pod change only its images and a few other fields", () => {
    const before = obj(pod({}));
    const newImage = obj(pod({ containers: [container({ image: "nginx:1.26" })] }));
    assert.deepEqual(validateObjectUpdate(newImage, before), []);
    const newPort = obj(pod({ containers: [container({ ports: [{ containerPort: 80 }] })] }));
    const errs = validateObjectUpdate(newPort, before).map(formatFieldError);
    assert.equal(errs.length, 1);
    assert.match(errs[0], /^spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/);
    // An unbound pod is placed through the binding subresource only, as in Kubernetes.
    const placed = obj(pod({}));
    (placed as Pod).spec!.nodeName = "n1";
    assert.match(validateObjectUpdate(placed, before).map(formatFieldError)[0] ?? "", /^spec: Forbidden: pod updates may not change fields/);
  });

  it("keeps immutable ConfigMaps and Secrets fixed", () => {
    const cm = (v: string, immutable?: boolean) => obj({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "d" }, data: { k: v }, immutable });
    assert.deepEqual(validateObjectUpdate(cm("b"), cm("a")), []);
    assert.deepEqual(validateObjectUpdate(cm("b", true), cm("a", true)).map(formatFieldError), ["data: Forbidden: field is immutable when `immutable` is set"]);
    assert.deepEqual(validateObjectUpdate(cm("a", false), cm("a", true)).map(formatFieldError), ["immutable: Forbidden: field is immutable when `immutable` is set"]);
  });
});
