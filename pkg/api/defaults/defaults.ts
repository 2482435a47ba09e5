// Kubernetes defaulting (the SetDefaults_* functions of k8s.io/kubernetes/pkg/apis/*/v1):
// fills what a manifest left out, never overwrites what it set, and is idempotent. The API server
// applies it after decoding and before validation, on create and on update.

import type {
  DaemonSet,
  Deployment,
  ReplicaSet,
  StatefulSet,
} from "../../../gen/navarch/api/v1/apps.js";
import type { HorizontalPodAutoscaler } from "../../../gen/navarch/api/v1/autoscaling.js";
import type { CronJob, Job, JobSpec } from "../../../gen/navarch/api/v1/batch.js";
import type {
  Container,
  Endpoints,
  LifecycleHandler,
  Namespace,
  PersistentVolume,
  PersistentVolumeClaim,
  PersistentVolumeClaimSpec,
  Pod,
  PodSpec,
  PodTemplateSpec,
  Probe,
  Secret,
  Service,
} from "../../../gen/navarch/api/v1/core.js";
import type { PriorityClass } from "../../../gen/navarch/api/v1/scheduling.js";
import { emptyMessage } from "../convert/json.js";
import { intOrString } from "../int_or_string.js";
import type { KubeObject } from "../registry.js";
import { messageSchema } from "../schema.js";

/** A new, fully shaped message (every list and map present), as the codecs expect. */
function make<T>(messageName: string, fields: Partial<T> = {}): T {
  return { ...emptyMessage(messageSchema(messageName)), ...fields } as T;
}

/** obj[key], created as an empty `messageName` first if absent. */
function ensure<O, K extends keyof O>(obj: O, key: K, messageName: string): NonNullable<O[K]> {
  if (obj[key] === undefined || obj[key] === null) obj[key] = make<O[K]>(messageName);
  return obj[key] as NonNullable<O[K]>;
}

export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;
export const DEFAULT_SCHEDULER_NAME = "default-scheduler";

/** Always for ":latest" or no tag, IfNotPresent otherwise (a digest counts as pinned). */
export function defaultImagePullPolicy(image: string | undefined): "Always" | "IfNotPresent" {
  if (!image) return "Always";
  if (image.includes("@")) return "IfNotPresent";
  const lastSlash = image.lastIndexOf("/");
  const colon = image.indexOf(":", lastSlash + 1);
  const tag = colon < 0 ? "" : image.slice(colon + 1);
  return tag === "" || tag === "latest" ? "Always" : "IfNotPresent";
}

function defaultHandler(h: LifecycleHandler | Probe | undefined): void {
  if (!h?.httpGet) return;
  h.httpGet.path ??= "/";
  h.httpGet.scheme ??= "HTTP";
}

function defaultProbe(p: Probe | undefined): void {
  if (!p) return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  defaultHandler(p);
}

function defaultContainer(c: Container, hostNetwork: boolean): void {
  c.imagePullPolicy ??= defaultImagePullPolicy(c.image);
  c.terminationMessagePath ??= "/dev/termination-log";
  c.terminationMessagePolicy ??= "File";
  for (const port of c.ports ?? []) {
    port.protocol ??= "TCP";
    if (hostNetwork && port.hostPort === undefined) port.hostPort = port.containerPort;
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ??= "v1";
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  defaultHandler(c.lifecycle?.postStart);
  defaultHandler(c.lifecycle?.preStop);
  // Kubernetes: a limit with no request requests the limit.
  const r = c.resources;
  if (r) {
    r.requests ??= {};
    for (const [name, q] of Object.entries(r.limits ?? {})) if (!(name in r.requests)) r.requests[name] = q;
  }
}

export function defaultPodSpec(spec: PodSpec): void {
  spec.restartPolicy ??= "Always";
  spec.terminationGracePeriodSeconds ??= DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
  spec.dnsPolicy ??= "ClusterFirst";
  spec.schedulerName ??= DEFAULT_SCHEDULER_NAME;
  spec.enableServiceLinks ??= true;
  ensure(spec, "securityContext", "PodSecurityContext");
  const hostNetwork = spec.hostNetwork === true;
  for (const c of spec.initContainers ?? []) defaultContainer(c, hostNetwork);
  for (const c of spec.containers ?? []) defaultContainer(c, hostNetwork);
  for (const v of spec.volumes ?? []) {
    if (v.secret) v.secret.defaultMode ??= 0o644;
    if (v.configMap) v.configMap.defaultMode ??= 0o644;
    if (v.downwardAPI) {
      v.downwardAPI.defaultMode ??= 0o644;
      for (const item of v.downwardAPI.items ?? []) if (item.fieldRef) item.fieldRef.apiVersion ??= "v1";
    }
    if (v.hostPath) v.hostPath.type ??= "";
  }
}

function defaultTemplate(t: PodTemplateSpec | undefined): void {
  if (t?.spec) defaultPodSpec(t.spec);
}

export function defaultPod(pod: Pod): void {
  defaultPodSpec(ensure(pod, "spec", "PodSpec"));
}

export function defaultDeployment(d: Deployment): void {
  const s = ensure(d, "spec", "DeploymentSpec");
  s.replicas ??= 1;
  const strategy = ensure(s, "strategy", "DeploymentStrategy");
  strategy.type ??= "RollingUpdate";
  if (strategy.type === "RollingUpdate") {
    const ru = ensure(strategy, "rollingUpdate", "RollingUpdateDeployment");
    ru.maxUnavailable ??= intOrString("25%");
    ru.maxSurge ??= intOrString("25%");
  }
  s.revisionHistoryLimit ??= 10;
  s.progressDeadlineSeconds ??= 600;
  defaultTemplate(s.template);
}

export function defaultReplicaSet(rs: ReplicaSet): void {
  const s = ensure(rs, "spec", "ReplicaSetSpec");
  s.replicas ??= 1;
  defaultTemplate(s.template);
}

export function defaultDaemonSet(ds: DaemonSet): void {
  const s = ensure(ds, "spec", "DaemonSetSpec");
  const strategy = ensure(s, "updateStrategy", "DaemonSetUpdateStrategy");
  strategy.type ??= "RollingUpdate";
  if (strategy.type === "RollingUpdate") {
    const ru = ensure(strategy, "rollingUpdate", "RollingUpdateDaemonSet");
    ru.maxUnavailable ??= intOrString(1);
    ru.maxSurge ??= intOrString(0);
  }
  s.revisionHistoryLimit ??= 10;
  defaultTemplate(s.template);
}

function defaultPvcSpec(spec: PersistentVolumeClaimSpec | undefined): void {
  if (spec) spec.volumeMode ??= "Filesystem";
}

export function defaultStatefulSet(sts: StatefulSet): void {
  const s = ensure(sts, "spec", "StatefulSetSpec");
  s.replicas ??= 1;
  s.podManagementPolicy ??= "OrderedReady";
  const strategy = ensure(s, "updateStrategy", "StatefulSetUpdateStrategy");
  strategy.type ??= "RollingUpdate";
  if (strategy.type === "RollingUpdate") {
    ensure(strategy, "rollingUpdate", "RollingUpdateStatefulSetStrategy").partition ??= 0;
  }
  s.revisionHistoryLimit ??= 10;
  const retention = ensure(s, "persistentVolumeClaimRetentionPolicy", "StatefulSetPersistentVolumeClaimRetentionPolicy");
  retention.whenDeleted ??= "Retain";
  retention.whenScaled ??= "Retain";
  for (const pvc of s.volumeClaimTemplates ?? []) defaultPvcSpec(pvc.spec);
  defaultTemplate(s.template);
}

export function defaultJobSpec(s: JobSpec): void {
  if (s.completions === undefined && s.parallelism === undefined) {
    s.completions = 1;
    s.parallelism = 1;
  }
  s.parallelism ??= 1;
  s.backoffLimit ??= 6;
  s.completionMode ??= "NonIndexed";
  s.suspend ??= false;
  s.podReplacementPolicy ??= "TerminatingOrFailed";
  defaultTemplate(s.template);
}

export function defaultJob(job: Job): void {
  defaultJobSpec(ensure(job, "spec", "JobSpec"));
}

export function defaultCronJob(cj: CronJob): void {
  const s = ensure(cj, "spec", "CronJobSpec");
  s.concurrencyPolicy ??= "Allow";
  s.suspend ??= false;
  s.successfulJobsHistoryLimit ??= 3;
  s.failedJobsHistoryLimit ??= 1;
  if (s.jobTemplate?.spec) defaultJobSpec(s.jobTemplate.spec);
}

export function defaultService(svc: Service): void {
  const s = ensure(svc, "spec", "ServiceSpec");
  s.type ??= "ClusterIP";
  s.sessionAffinity ??= "None";
  if (s.sessionAffinity === "ClientIP") {
    const cfg = ensure(s, "sessionAffinityConfig", "SessionAffinityConfig");
    ensure(cfg, "clientIP", "ClientIPConfig").timeoutSeconds ??= 10800;
  }
  if (s.type !== "ExternalName") {
    for (const p of s.ports ?? []) {
      p.protocol ??= "TCP";
      p.targetPort ??= intOrString(p.port ?? 0);
    }
    s.internalTrafficPolicy ??= "Cluster";
  }
  if (s.type === "NodePort" || s.type === "LoadBalancer") s.externalTrafficPolicy ??= "Cluster";
}

export function defaultEndpoints(ep: Endpoints): void {
  for (const sub of ep.subsets ?? []) for (const p of sub.ports ?? []) p.protocol ??= "TCP";
}

export function defaultSecret(s: Secret): void {
  s.type ??= "Opaque";
  // stringData is write-only: Kubernetes folds it into data, where it wins over the same key.
  const stringData = s.stringData ?? {};
  if (Object.keys(stringData).length > 0) {
    s.data ??= {};
    for (const [k, v] of Object.entries(stringData)) s.data[k] = Buffer.from(v, "utf8");
    s.stringData = {};
  }
}

export function defaultNamespace(ns: Namespace): void {
  ensure(ns, "status", "NamespaceStatus").phase ??= "Active";
  // As Kubernetes (SetDefaults_Namespace): the name as a label, for namespaceSelectors.
  const name = ns.metadata?.name;
  if (name) ns.metadata!.labels = { ...ns.metadata!.labels, "kubernetes.io/metadata.name": name };
}

export function defaultPersistentVolume(pv: PersistentVolume): void {
  const spec = ensure(pv, "spec", "PersistentVolumeSpec");
  spec.persistentVolumeReclaimPolicy ??= "Retain";
  spec.volumeMode ??= "Filesystem";
  ensure(pv, "status", "PersistentVolumeStatus").phase ??= "Pending";
}

export function defaultPersistentVolumeClaim(pvc: PersistentVolumeClaim): void {
  defaultPvcSpec(ensure(pvc, "spec", "PersistentVolumeClaimSpec"));
  ensure(pvc, "status", "PersistentVolumeClaimStatus").phase ??= "Pending";
}

export function defaultHorizontalPodAutoscaler(hpa: HorizontalPodAutoscaler): void {
  const spec = ensure(hpa, "spec", "HorizontalPodAutoscalerSpec");
  spec.minReplicas ??= 1;
  if ((spec.metrics ?? []).length === 0) {
    spec.metrics = [
      make("MetricSpec", {
        type: "Resource",
        resource: make("ResourceMetricSource", {
          name: "cpu",
          target: make("MetricTarget", { type: "Utilization", averageUtilization: 80 }),
        }),
      }),
    ];
  }
  for (const rules of [spec.behavior?.scaleUp, spec.behavior?.scaleDown]) {
    if (rules) rules.selectPolicy ??= "Max";
  }
}

export function defaultPriorityClass(pc: PriorityClass): void {
  pc.preemptionPolicy ??= "PreemptLowerPriority";
}

/** Applies the defaults of the object's kind, in place, and returns the object. */
export function applyDefaults<T extends KubeObject>(object: T): T {
  const o = object as KubeObject;
  switch (o.kind) {
    case "Pod":
      defaultPod(o as Pod);
      break;
    case "Deployment":
      defaultDeployment(o as Deployment);
      break;
    case "ReplicaSet":
      defaultReplicaSet(o as ReplicaSet);
      break;
    case "DaemonSet":
      defaultDaemonSet(o as DaemonSet);
      break;
    case "StatefulSet":
      defaultStatefulSet(o as StatefulSet);
      break;
    case "Job":
      defaultJob(o as Job);
      break;
    case "CronJob":
      defaultCronJob(o as CronJob);
      break;
    case "Service":
      defaultService(o as Service);
      break;
    case "Endpoints":
      defaultEndpoints(o as Endpoints);
      break;
    case "Secret":
      defaultSecret(o as Secret);
      break;
    case "Namespace":
      defaultNamespace(o as Namespace);
      break;
    case "PersistentVolume":
      defaultPersistentVolume(o as PersistentVolume);
      break;
    case "PersistentVolumeClaim":
      defaultPersistentVolumeClaim(o as PersistentVolumeClaim);
      break;
    case "HorizontalPodAutoscaler":
      defaultHorizontalPodAutoscaler(o as HorizontalPodAutoscaler);
      break;
    case "PriorityClass":
      defaultPriorityClass(o as PriorityClass);
      break;
  }
  return object;
}
