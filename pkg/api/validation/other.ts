// Validation of the remaining kinds: Namespace, Node, ConfigMap, Secret, Event, PersistentVolume,
// PersistentVolumeClaim, HorizontalPodAutoscaler, Lease, PriorityClass.

import type { HorizontalPodAutoscaler, MetricTarget } from "../../../gen/navarch/api/v1/autoscaling.js";
import type { Lease } from "../../../gen/navarch/api/v1/coordination.js";
import type {
  ConfigMap,
  Event,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Secret,
} from "../../../gen/navarch/api/v1/core.js";
import type { PriorityClass } from "../../../gen/navarch/api/v1/scheduling.js";
import { type FieldError, type FieldPath, fieldErrors, path } from "../field_errors.js";
import { validateLabelSelector } from "../labels.js";
import { Quantity } from "../quantity.js";
import { nonNegative, oneOf, positive, validateObjectMeta } from "./common.js";
import { isConfigMapKey, isDNS1123Label, isQualifiedName } from "./names.js";
import { validateNodeSelector } from "./pod.js";

export const CONFIG_MAP_MAX_BYTES = 1024 * 1024;
export const SECRET_MAX_BYTES = 1024 * 1024;
export const HIGHEST_USER_PRIORITY = 1_000_000_000;
const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];

export function validateNamespace(ns: Namespace): FieldError[] {
  return validateObjectMeta(ns.metadata, { namespaced: false, nameFn: isDNS1123Label });
}

export function validateNode(node: Node): FieldError[] {
  const errs = validateObjectMeta(node.metadata, { namespaced: false });
  (node.spec?.taints ?? []).forEach((t, i) => {
    const tp = path("spec", "taints").index(i);
    if (!t.key) errs.push(fieldErrors.required(tp.child("key")));
    else for (const m of isQualifiedName(t.key)) errs.push(fieldErrors.invalid(tp.child("key"), t.key, m));
    errs.push(...oneOf(t.effect, ["NoExecute", "NoSchedule", "PreferNoSchedule"], tp.child("effect"), true));
  });
  for (const list of ["capacity", "allocatable"] as const) {
    for (const [name, q] of Object.entries(node.status?.[list] ?? {})) {
      if (Quantity.tryParse(q)?.sign() === -1) {
        errs.push(fieldErrors.invalid(path("status", list).key(name), q, "must be greater than or equal to 0"));
      }
    }
  }
  return errs;
}

function validateDataKeys(keys: string[], p: FieldPath): FieldError[] {
  return keys.flatMap((k) => isConfigMapKey(k).map((m) => fieldErrors.invalid(p.key(k), k, m)));
}

export function validateConfigMap(cm: ConfigMap): FieldError[] {
  const errs = validateObjectMeta(cm.metadata, { namespaced: true });
  const data = cm.data ?? {};
  const binary = cm.binaryData ?? {};
  errs.push(...validateDataKeys(Object.keys(data), path("data")));
  errs.push(...validateDataKeys(Object.keys(binary), path("binaryData")));
  let total = 0;
  for (const [k, v] of Object.entries(data)) total += Buffer.byteLength(k) + Buffer.byteLength(v);
  for (const [k, v] of Object.entries(binary)) {
    total += Buffer.byteLength(k) + v.length;
    if (k in data) errs.push(fieldErrors.invalid(path("binaryData").key(k), k, "duplicate of key present in data"));
  }
  if (total > CONFIG_MAP_MAX_BYTES) errs.push(fieldErrors.tooLong(path(""), CONFIG_MAP_MAX_BYTES));
  return errs;
}

const SECRET_REQUIRED_KEYS: Record<string, string[]> = {
  "kubernetes.io/tls": ["tls.crt", "tls.key"],
  "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
  "kubernetes.io/dockercfg": [".dockercfg"],
  "kubernetes.io/ssh-auth": ["ssh-privatekey"],
};

export function validateSecret(s: Secret): FieldError[] {
  const errs = validateObjectMeta(s.metadata, { namespaced: true });
  const data = s.data ?? {};
  errs.push(...validateDataKeys(Object.keys(data), path("data")));
  errs.push(...validateDataKeys(Object.keys(s.stringData ?? {}), path("stringData")));
  let total = 0;
  for (const [k, v] of Object.entries(data)) total += Buffer.byteLength(k) + v.length;
  if (total > SECRET_MAX_BYTES) errs.push(fieldErrors.tooLong(path("data"), SECRET_MAX_BYTES));
  for (const key of SECRET_REQUIRED_KEYS[s.type ?? ""] ?? []) {
    if (!(key in data) && !(key in (s.stringData ?? {}))) errs.push(fieldErrors.required(path("data").key(key)));
  }
  if (s.type === "kubernetes.io/basic-auth" && !("username" in data) && !("password" in data)) {
    errs.push(fieldErrors.required(path("data").key("username")));
  }
  return errs;
}

export function validateEvent(ev: Event): FieldError[] {
  const errs = validateObjectMeta(ev.metadata, { namespaced: true });
  const io = ev.involvedObject;
  if (!io) errs.push(fieldErrors.required(path("involvedObject")));
  else {
    if (!io.kind) errs.push(fieldErrors.required(path("involvedObject", "kind")));
    if (!io.name) errs.push(fieldErrors.required(path("involvedObject", "name")));
    if (io.namespace && ev.metadata?.namespace && io.namespace !== ev.metadata.namespace) {
      errs.push(fieldErrors.invalid(path("involvedObject", "namespace"), io.namespace, "does not match event.namespace"));
    }
  }
  errs.push(...oneOf(ev.type, ["Normal", "Warning"], path("type")));
  errs.push(...nonNegative(ev.count, path("count")));
  return errs;
}

function validateAccessModes(modes: string[], p: FieldPath): FieldError[] {
  if (modes.length === 0) return [fieldErrors.required(p, "at least 1 access mode is required")];
  return modes.flatMap((m, i) => oneOf(m, ACCESS_MODES, p.index(i)));
}

export function validatePersistentVolume(pv: PersistentVolume): FieldError[] {
  const errs = validateObjectMeta(pv.metadata, { namespaced: false });
  const p = path("spec");
  const s = pv.spec;
  if (!s) return [...errs, fieldErrors.required(p)];
  errs.push(...validateAccessModes(s.accessModes ?? [], p.child("accessModes")));
  const storage = s.capacity?.storage;
  if (!storage) errs.push(fieldErrors.required(p.child("capacity"), "must specify a storage capacity"));
  else if (Quantity.tryParse(storage)?.sign() !== 1) errs.push(fieldErrors.invalid(p.child("capacity").key("storage"), storage, "must be greater than zero"));
  const sources = [s.hostPath, s.local, s.nfs].filter((x) => x !== undefined).length;
  if (sources === 0) errs.push(fieldErrors.required(p, "must specify a volume type"));
  if (sources > 1) errs.push(fieldErrors.forbidden(p, "may not specify more than 1 volume type"));
  if (s.hostPath && !s.hostPath.path) errs.push(fieldErrors.required(p.child("hostPath", "path")));
  if (s.local) {
    if (!s.local.path) errs.push(fieldErrors.required(p.child("local", "path")));
    if (!s.nodeAffinity) errs.push(fieldErrors.required(p.child("nodeAffinity"), "Local volume requires node affinity"));
  }
  if (s.nodeAffinity) errs.push(...validateNodeSelector(s.nodeAffinity.required, p.child("nodeAffinity", "required")));
  errs.push(...oneOf(s.persistentVolumeReclaimPolicy, ["Delete", "Recycle", "Retain"], p.child("persistentVolumeReclaimPolicy")));
  errs.push(...oneOf(s.volumeMode, ["Block", "Filesystem"], p.child("volumeMode")));
  return errs;
}

export function validatePersistentVolumeClaim(pvc: PersistentVolumeClaim): FieldError[] {
  const errs = validateObjectMeta(pvc.metadata, { namespaced: true });
  const p = path("spec");
  const s = pvc.spec;
  if (!s) return [...errs, fieldErrors.required(p)];
  errs.push(...validateAccessModes(s.accessModes ?? [], p.child("accessModes")));
  errs.push(...validateLabelSelector(s.selector, p.child("selector")));
  const storage = s.resources?.requests?.storage;
  if (!storage) errs.push(fieldErrors.required(p.child("resources").key("storage")));
  else if (Quantity.tryParse(storage)?.sign() !== 1) {
    errs.push(fieldErrors.invalid(p.child("resources", "requests").key("storage"), storage, "must be greater than zero"));
  }
  errs.push(...oneOf(s.volumeMode, ["Block", "Filesystem"], p.child("volumeMode")));
  return errs;
}

function validateMetricTarget(t: MetricTarget | undefined, p: FieldPath): FieldError[] {
  if (!t) return [fieldErrors.required(p)];
  const errs = oneOf(t.type, ["AverageValue", "Utilization", "Value"], p.child("type"), true);
  if (t.type === "Utilization" && t.averageUtilization === undefined) {
    errs.push(fieldErrors.required(p.child("averageUtilization"), "must set either a target raw value or a target utilization"));
  }
  if (t.type === "Value" && t.value === undefined) errs.push(fieldErrors.required(p.child("value"), "must set either a target value for metric or a per-pod target"));
  if (t.type === "AverageValue" && t.averageValue === undefined) errs.push(fieldErrors.required(p.child("averageValue"), "must set either a target value for metric or a per-pod target"));
  errs.push(...positive(t.averageUtilization, p.child("averageUtilization")));
  for (const f of ["value", "averageValue"] as const) {
    const q = t[f] === undefined ? undefined : Quantity.tryParse(t[f]!);
    if (q && q.sign() <= 0) errs.push(fieldErrors.invalid(p.child(f), t[f], "must be positive"));
  }
  return errs;
}

const METRIC_SOURCES: Record<string, "object" | "pods" | "resource" | "containerResource" | "external"> = {
  Object: "object",
  Pods: "pods",
  Resource: "resource",
  ContainerResource: "containerResource",
  External: "external",
};

export function validateHorizontalPodAutoscaler(hpa: HorizontalPodAutoscaler): FieldError[] {
  const errs = validateObjectMeta(hpa.metadata, { namespaced: true });
  const p = path("spec");
  const s = hpa.spec;
  if (!s) return [...errs, fieldErrors.required(p)];
  const ref = s.scaleTargetRef;
  if (!ref?.kind) errs.push(fieldErrors.required(p.child("scaleTargetRef", "kind")));
  if (!ref?.name) errs.push(fieldErrors.required(p.child("scaleTargetRef", "name")));
  const min = s.minReplicas ?? 1;
  if (min < 1) errs.push(fieldErrors.invalid(p.child("minReplicas"), min, "must be greater than or equal to 1"));
  if (s.maxReplicas === undefined || s.maxReplicas < 1) {
    errs.push(fieldErrors.invalid(p.child("maxReplicas"), s.maxReplicas ?? 0, "must be greater than 0"));
  } else if (s.maxReplicas < min) {
    errs.push(fieldErrors.invalid(p.child("maxReplicas"), s.maxReplicas, "must be greater than or equal to `minReplicas`"));
  }
  (s.metrics ?? []).forEach((m, i) => {
    const mp = p.child("metrics").index(i);
    const type = m.type ?? "";
    const key = METRIC_SOURCES[type];
    if (!key) {
      errs.push(type ? fieldErrors.notSupported(mp.child("type"), type, Object.keys(METRIC_SOURCES).sort()) : fieldErrors.required(mp.child("type"), "must specify a metric source type"));
      return;
    }
    for (const other of Object.values(METRIC_SOURCES)) {
      if (other !== key && m[other]) errs.push(fieldErrors.forbidden(mp.child(other), "must populate the given metric source only"));
    }
    const src = m[key];
    if (!src) {
      errs.push(fieldErrors.required(mp.child(key), "must populate information for the given metric source"));
      return;
    }
    if ("name" in src && (key === "resource" || key === "containerResource") && !src.name) {
      errs.push(fieldErrors.required(mp.child(key, "name"), "must specify a resource name"));
    }
    if ("metric" in src && !src.metric?.name) errs.push(fieldErrors.required(mp.child(key, "metric", "name"), "must specify a metric name"));
    errs.push(...validateMetricTarget(src.target, mp.child(key, "target")));
  });
  for (const dir of ["scaleUp", "scaleDown"] as const) {
    const rules = s.behavior?.[dir];
    if (!rules) continue;
    const rp = p.child("behavior", dir);
    const w = rules.stabilizationWindowSeconds;
    if (w !== undefined && (w < 0 || w > 3600)) errs.push(fieldErrors.invalid(rp.child("stabilizationWindowSeconds"), w, "must be less than or equal to 3600"));
    errs.push(...oneOf(rules.selectPolicy, ["Disabled", "Max", "Min"], rp.child("selectPolicy")));
    (rules.policies ?? []).forEach((pol, i) => {
      const pp = rp.child("policies").index(i);
      errs.push(...oneOf(pol.type, ["Percent", "Pods"], pp.child("type"), true));
      if (pol.value === undefined || pol.value <= 0) errs.push(fieldErrors.invalid(pp.child("value"), pol.value ?? 0, "must be greater than zero"));
      if (pol.periodSeconds === undefined || pol.periodSeconds <= 0 || pol.periodSeconds > 1800) {
        errs.push(fieldErrors.invalid(pp.child("periodSeconds"), pol.periodSeconds ?? 0, "must be greater than zero and less than or equal to 1800"));
      }
    });
  }
  return errs;
}

export function validateLease(lease: Lease): FieldError[] {
  const errs = validateObjectMeta(lease.metadata, { namespaced: true });
  const s = lease.spec;
  if (!s) return errs;
  errs.push(...positive(s.leaseDurationSeconds, path("spec", "leaseDurationSeconds")));
  errs.push(...nonNegative(s.leaseTransitions, path("spec", "leaseTransitions")));
  return errs;
}

/** Kubernetes' built-in classes and their values. */
export const SYSTEM_PRIORITY_CLASSES: ReadonlyMap<string, number> = new Map([
  ["system-node-critical", 2_000_001_000],
  ["system-cluster-critical", 2_000_000_000],
]);

export function validatePriorityClass(pc: PriorityClass): FieldError[] {
  const errs = validateObjectMeta(pc.metadata, { namespaced: false });
  const name = pc.metadata?.name ?? "";
  if (name.startsWith("system-")) {
    // Only the built-in classes, exactly as built in (the API server resolves them by name).
    const known = SYSTEM_PRIORITY_CLASSES.get(name);
    const why = !known
      ? `${name} is not a known system priority class`
      : pc.value !== known
        ? `value of ${name} PriorityClass must be ${known}`
        : pc.globalDefault
          ? `globalDefault of ${name} PriorityClass must be false`
          : undefined;
    if (why) errs.push(fieldErrors.forbidden(path("metadata", "name"), `priority class names with 'system-' prefix are reserved for system use only. error: ${why}`));
  }
  if (pc.value === undefined) errs.push(fieldErrors.required(path("value")));
  else if (pc.value > HIGHEST_USER_PRIORITY && !name.startsWith("system-")) {
    errs.push(fieldErrors.forbidden(path("value"), `maximum allowed value of a user defined priority is ${HIGHEST_USER_PRIORITY}`));
  }
  errs.push(...oneOf(pc.preemptionPolicy, ["Never", "PreemptLowerPriority"], path("preemptionPolicy")));
  return errs;
}
