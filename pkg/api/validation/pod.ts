// Pod and pod template validation (Kubernetes' ValidatePodSpec and friends), Kubernetes' wording.

import { parseDeletionCost, POD_DELETION_COST_ANNOTATION } from "../pod_deletion_cost.js";
import { deepCopy } from '../deep_copy.js';
import { deepEqual } from '../deep_equal.js';
import type {
  Affinity,
  Container,
  EnvFromSource,
  EnvVar,
  LifecycleHandler,
  NodeSelector,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  Pod,
  PodAffinityTerm,
  PodSpec,
  PodTemplateSpec,
  Probe,
  ResourceRequirements,
  Toleration,
  Volume,
  WeightedPodAffinityTerm,
} from "../../../gen/navarch/api/v1/core.js";
import { type FieldError, type FieldPath, fieldErrors, path } from "../field_errors.js";
import { validateLabelSelector } from "../labels.js";
import { Quantity } from "../quantity.js";
import {
  nonNegative,
  oneOf,
  positive,
  validateLabels,
  validateObjectMeta,
  validateObjectMetaUpdate,
  validatePort,
  validatePortNumOrName,
} from "./common.js";
import {
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
} from "./names.js";

export const RESTART_POLICIES = ["Always", "OnFailure", "Never"];
export const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];
export const PROTOCOLS = ["SCTP", "TCP", "UDP"];
export const DNS_POLICIES = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"];
const TERMINATION_MESSAGE_POLICIES = ["FallbackToLogsOnError", "File"];
const HOST_PATH_TYPES = ["", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"];
const STORAGE_MEDIA = ["", "HugePages", "Memory"];
const TAINT_EFFECTS = ["NoExecute", "NoSchedule", "PreferNoSchedule"];
const NODE_SELECTOR_OPERATORS = ["DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"];
const URI_SCHEMES = ["HTTP", "HTTPS"];
const FIELD_REF_PATHS = [
  "metadata.annotations",
  "metadata.labels",
  "metadata.name",
  "metadata.namespace",
  "metadata.uid",
  "spec.nodeName",
  "spec.serviceAccountName",
  "status.hostIP",
  "status.hostIPs",
  "status.podIP",
  "status.podIPs",
];
const RESOURCE_FIELD_REFS = [
  "limits.cpu",
  "limits.ephemeral-storage",
  "limits.memory",
  "requests.cpu",
  "requests.ephemeral-storage",
  "requests.memory",
];
const STANDARD_RESOURCES = new Set(["cpu", "memory", "ephemeral-storage", "storage", "pods"]);

function countSet(...xs: unknown[]): number {
  return xs.filter((x) => x !== undefined && x !== null).length;
}

function validateResourceName(name: string, p: FieldPath): FieldError[] {
  if (STANDARD_RESOURCES.has(name) || name.startsWith("hugepages-")) return [];
  if (name.includes("/") && isQualifiedName(name).length === 0) return [];
  return [fieldErrors.invalid(p, name, "must be a standard resource type or fully qualified")];
}

export function validateResources(r: ResourceRequirements | undefined, p: FieldPath): FieldError[] {
  if (!r) return [];
  const errs: FieldError[] = [];
  const limits = new Map<string, Quantity>();
  for (const [kind, list] of [["limits", r.limits], ["requests", r.requests]] as const) {
    for (const [name, text] of Object.entries(list ?? {})) {
      const kp = p.child(kind).key(name);
      errs.push(...validateResourceName(name, kp));
      const q = Quantity.tryParse(text);
      if (!q) {
        errs.push(fieldErrors.invalid(kp, text, "must be a valid quantity"));
        continue;
      }
      if (q.sign() < 0) errs.push(fieldErrors.invalid(kp, text, "must be greater than or equal to 0"));
      if (kind === "limits") limits.set(name, q);
      else {
        const limit = limits.get(name);
        if (limit && q.cmp(limit) > 0) {
          errs.push(fieldErrors.invalid(kp, text, `must be less than or equal to ${name} limit of ${limit.toString()}`));
        }
      }
    }
  }
  return errs;
}

function validateHandler(h: LifecycleHandler | Probe, p: FieldPath, probe: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const grpc = probe ? (h as Probe).grpc : undefined;
  const sleep = probe ? undefined : (h as LifecycleHandler).sleep;
  const n = countSet(h.exec, h.httpGet, h.tcpSocket, grpc, sleep);
  if (n === 0) return [fieldErrors.required(p, "must specify a handler type")];
  if (n > 1) errs.push(fieldErrors.forbidden(p, "may not specify more than 1 handler type"));
  if (h.exec && (h.exec.command ?? []).length === 0) errs.push(fieldErrors.required(p.child("exec", "command")));
  if (h.httpGet) {
    const hp = p.child("httpGet");
    errs.push(...validatePortNumOrName(h.httpGet.port, hp.child("port")));
    errs.push(...oneOf(h.httpGet.scheme, URI_SCHEMES, hp.child("scheme")));
    (h.httpGet.httpHeaders ?? []).forEach((hdr, i) => {
      if (!hdr.name || !/^[-A-Za-z0-9!#$%&'*+.^_`|~]+$/.test(hdr.name)) {
        errs.push(fieldErrors.invalid(hp.child("httpHeaders").index(i).child("name"), hdr.name ?? "", "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name',  regex used for validation is '[-A-Za-z0-9]+')"));
      }
    });
  }
  if (h.tcpSocket) errs.push(...validatePortNumOrName(h.tcpSocket.port, p.child("tcpSocket", "port")));
  if (grpc) errs.push(...validatePort(grpc.port, p.child("grpc", "port")));
  return errs;
}

function validateProbe(probe: Probe | undefined, p: FieldPath, kind: "liveness" | "readiness" | "startup"): FieldError[] {
  if (!probe) return [];
  const errs = validateHandler(probe, p, true);
  errs.push(...nonNegative(probe.initialDelaySeconds, p.child("initialDelaySeconds")));
  errs.push(...nonNegative(probe.timeoutSeconds, p.child("timeoutSeconds")));
  errs.push(...nonNegative(probe.periodSeconds, p.child("periodSeconds")));
  errs.push(...nonNegative(probe.successThreshold, p.child("successThreshold")));
  errs.push(...nonNegative(probe.failureThreshold, p.child("failureThreshold")));
  if (kind !== "readiness" && probe.successThreshold !== undefined && probe.successThreshold !== 1) {
    errs.push(fieldErrors.invalid(p.child("successThreshold"), probe.successThreshold, "must be 1"));
  }
  if (kind === "readiness" && probe.terminationGracePeriodSeconds !== undefined) {
    errs.push(fieldErrors.invalid(p.child("terminationGracePeriodSeconds"), probe.terminationGracePeriodSeconds, "must not be set for readinessProbes"));
  }
  errs.push(...positive(probe.terminationGracePeriodSeconds, p.child("terminationGracePeriodSeconds")));
  return errs;
}

function validateFieldPath(fieldPath: string | undefined, p: FieldPath): FieldError[] {
  if (!fieldPath) return [fieldErrors.required(p)];
  const sub = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (sub) return isQualifiedName(sub[2].toLowerCase()).map((m) => fieldErrors.invalid(p, fieldPath, m));
  return FIELD_REF_PATHS.includes(fieldPath) ? [] : [fieldErrors.notSupported(p, fieldPath, FIELD_REF_PATHS)];
}

function validateEnv(env: EnvVar[], p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  env.forEach((e, i) => {
    const ep = p.index(i);
    if (!e.name) errs.push(fieldErrors.required(ep.child("name")));
    else for (const m of isEnvVarName(e.name)) errs.push(fieldErrors.invalid(ep.child("name"), e.name, m));
    const from = e.valueFrom;
    if (!from) return;
    const vp = ep.child("valueFrom");
    const n = countSet(from.fieldRef, from.resourceFieldRef, from.configMapKeyRef, from.secretKeyRef);
    if (e.value) errs.push(fieldErrors.invalid(vp, "", "may not be specified when `value` is not empty"));
    if (n === 0) {
      errs.push(fieldErrors.invalid(vp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
    } else if (n > 1) {
      errs.push(fieldErrors.invalid(vp, "", "may not have more than one field specified at a time"));
    }
    if (from.fieldRef) errs.push(...validateFieldPath(from.fieldRef.fieldPath, vp.child("fieldRef", "fieldPath")));
    if (from.resourceFieldRef) {
      errs.push(...oneOf(from.resourceFieldRef.resource, RESOURCE_FIELD_REFS, vp.child("resourceFieldRef", "resource"), true));
    }
    for (const [ref, name] of [
      [from.configMapKeyRef, "configMapKeyRef"],
      [from.secretKeyRef, "secretKeyRef"],
    ] as const) {
      if (!ref) continue;
      const rp = vp.child(name);
      if (!ref.name) errs.push(fieldErrors.required(rp.child("name")));
      if (!ref.key) errs.push(fieldErrors.required(rp.child("key")));
      else for (const m of isConfigMapKey(ref.key)) errs.push(fieldErrors.invalid(rp.child("key"), ref.key, m));
    }
  });
  return errs;
}

function validateEnvFrom(list: EnvFromSource[], p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  list.forEach((e, i) => {
    const ep = p.index(i);
    if (e.prefix) for (const m of isEnvVarName(e.prefix)) errs.push(fieldErrors.invalid(ep.child("prefix"), e.prefix, m));
    const n = countSet(e.configMapRef, e.secretRef);
    if (n === 0) errs.push(fieldErrors.invalid(ep, "", "must specify one of: `configMapRef` or `secretRef`"));
    if (n > 1) errs.push(fieldErrors.invalid(ep, "", "may not have more than one field specified at a time"));
    if (e.configMapRef && !e.configMapRef.name) errs.push(fieldErrors.required(ep.child("configMapRef", "name")));
    if (e.secretRef && !e.secretRef.name) errs.push(fieldErrors.required(ep.child("secretRef", "name")));
  });
  return errs;
}

function validateContainer(c: Container, p: FieldPath, volumes: Set<string>, hostNetwork: boolean, init: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) errs.push(fieldErrors.required(p.child("name")));
  else for (const m of isDNS1123Label(c.name)) errs.push(fieldErrors.invalid(p.child("name"), c.name, m));
  if (!c.image || c.image.trim() === "") errs.push(fieldErrors.required(p.child("image")));
  else if (c.image !== c.image.trim()) errs.push(fieldErrors.invalid(p.child("image"), c.image, "must not have leading or trailing whitespace"));
  errs.push(...oneOf(c.imagePullPolicy, PULL_POLICIES, p.child("imagePullPolicy")));
  errs.push(...oneOf(c.terminationMessagePolicy, TERMINATION_MESSAGE_POLICIES, p.child("terminationMessagePolicy")));
  if (init) errs.push(...oneOf(c.restartPolicy, ["Always"], p.child("restartPolicy")));
  else if (c.restartPolicy !== undefined) errs.push(fieldErrors.forbidden(p.child("restartPolicy"), "may not be set for non-init containers"));
  const portNames = new Set<string>();
  (c.ports ?? []).forEach((port, i) => {
    const pp = p.child("ports").index(i);
    if (port.name) {
      for (const m of isValidPortName(port.name)) errs.push(fieldErrors.invalid(pp.child("name"), port.name, m));
      if (portNames.has(port.name)) errs.push(fieldErrors.duplicate(pp.child("name"), port.name));
      portNames.add(port.name);
    }
    errs.push(...validatePort(port.containerPort, pp.child("containerPort")));
    if (port.hostPort !== undefined && port.hostPort !== 0) errs.push(...validatePort(port.hostPort, pp.child("hostPort")));
    errs.push(...oneOf(port.protocol, PROTOCOLS, pp.child("protocol")));
    if (hostNetwork && port.hostPort !== undefined && port.hostPort !== port.containerPort) {
      errs.push(fieldErrors.invalid(pp.child("hostPort"), port.hostPort, "must match `containerPort` when `hostNetwork` is true"));
    }
  });
  errs.push(...validateEnv(c.env ?? [], p.child("env")));
  errs.push(...validateEnvFrom(c.envFrom ?? [], p.child("envFrom")));
  const mountPaths = new Set<string>();
  (c.volumeMounts ?? []).forEach((vm, i) => {
    const mp = p.child("volumeMounts").index(i);
    if (!vm.name) errs.push(fieldErrors.required(mp.child("name")));
    else if (!volumes.has(vm.name)) errs.push(fieldErrors.notFound(mp.child("name"), vm.name));
    if (!vm.mountPath) errs.push(fieldErrors.required(mp.child("mountPath")));
    else {
      if (mountPaths.has(vm.mountPath)) errs.push(fieldErrors.invalid(mp.child("mountPath"), vm.mountPath, "must be unique"));
      mountPaths.add(vm.mountPath);
    }
    if (vm.subPath && (vm.subPath.startsWith("/") || vm.subPath.split("/").includes(".."))) {
      errs.push(fieldErrors.invalid(mp.child("subPath"), vm.subPath, "must be a relative path without '..'"));
    }
    errs.push(...oneOf(vm.mountPropagation, ["Bidirectional", "HostToContainer", "None"], mp.child("mountPropagation")));
  });
  errs.push(...validateResources(c.resources, p.child("resources")));
  if (init && c.restartPolicy !== "Always") {
    for (const [probe, name] of [[c.livenessProbe, "livenessProbe"], [c.readinessProbe, "readinessProbe"], [c.startupProbe, "startupProbe"]] as const) {
      if (probe) errs.push(fieldErrors.forbidden(p.child(name), "may not be set for init containers without restartPolicy=Always"));
    }
  } else {
    errs.push(...validateProbe(c.livenessProbe, p.child("livenessProbe"), "liveness"));
    errs.push(...validateProbe(c.readinessProbe, p.child("readinessProbe"), "readiness"));
    errs.push(...validateProbe(c.startupProbe, p.child("startupProbe"), "startup"));
  }
  if (c.lifecycle?.postStart) errs.push(...validateHandler(c.lifecycle.postStart, p.child("lifecycle", "postStart"), false));
  if (c.lifecycle?.preStop) errs.push(...validateHandler(c.lifecycle.preStop, p.child("lifecycle", "preStop"), false));
  return errs;
}

function validateMode(mode: number | undefined, p: FieldPath): FieldError[] {
  if (mode === undefined) return [];
  return mode >= 0 && mode <= 0o777 ? [] : [fieldErrors.invalid(p, mode, "must be a number between 0 and 0777 (octal), both inclusive")];
}

function validateKeyToPaths(items: Array<{ key?: string; path?: string; mode?: number }>, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  items.forEach((it, i) => {
    const ip = p.index(i);
    if (!it.key) errs.push(fieldErrors.required(ip.child("key")));
    if (!it.path) errs.push(fieldErrors.required(ip.child("path")));
    else if (it.path.startsWith("/")) errs.push(fieldErrors.invalid(ip.child("path"), it.path, "must be a relative path"));
    else if (it.path.split("/").includes("..")) errs.push(fieldErrors.invalid(ip.child("path"), it.path, "must not contain '..'"));
    errs.push(...validateMode(it.mode, ip.child("mode")));
  });
  return errs;
}

function validateVolume(v: Volume, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!v.name) errs.push(fieldErrors.required(p.child("name")));
  else for (const m of isDNS1123Label(v.name)) errs.push(fieldErrors.invalid(p.child("name"), v.name, m));
  const n = countSet(v.hostPath, v.emptyDir, v.secret, v.configMap, v.persistentVolumeClaim, v.downwardAPI, v.nfs);
  if (n === 0) errs.push(fieldErrors.required(p, "must specify a volume type"));
  if (n > 1) errs.push(fieldErrors.forbidden(p, "may not specify more than 1 volume type"));
  if (v.hostPath) {
    if (!v.hostPath.path) errs.push(fieldErrors.required(p.child("hostPath", "path")));
    errs.push(...oneOf(v.hostPath.type, HOST_PATH_TYPES, p.child("hostPath", "type")));
  }
  if (v.emptyDir) {
    errs.push(...oneOf(v.emptyDir.medium, STORAGE_MEDIA, p.child("emptyDir", "medium")));
    const q = v.emptyDir.sizeLimit === undefined ? undefined : Quantity.tryParse(v.emptyDir.sizeLimit);
    if (q && q.sign() < 0) errs.push(fieldErrors.invalid(p.child("emptyDir", "sizeLimit"), v.emptyDir.sizeLimit, "must be greater than or equal to 0"));
  }
  if (v.secret) {
    if (!v.secret.secretName) errs.push(fieldErrors.required(p.child("secret", "secretName")));
    errs.push(...validateMode(v.secret.defaultMode, p.child("secret", "defaultMode")));
    errs.push(...validateKeyToPaths(v.secret.items ?? [], p.child("secret", "items")));
  }
  if (v.configMap) {
    if (!v.configMap.name) errs.push(fieldErrors.required(p.child("configMap", "name")));
    errs.push(...validateMode(v.configMap.defaultMode, p.child("configMap", "defaultMode")));
    errs.push(...validateKeyToPaths(v.configMap.items ?? [], p.child("configMap", "items")));
  }
  if (v.persistentVolumeClaim && !v.persistentVolumeClaim.claimName) {
    errs.push(fieldErrors.required(p.child("persistentVolumeClaim", "claimName")));
  }
  if (v.downwardAPI) {
    errs.push(...validateMode(v.downwardAPI.defaultMode, p.child("downwardAPI", "defaultMode")));
    (v.downwardAPI.items ?? []).forEach((it, i) => {
      const ip = p.child("downwardAPI", "items").index(i);
      if (!it.path) errs.push(fieldErrors.required(ip.child("path")));
      if (countSet(it.fieldRef, it.resourceFieldRef) !== 1) {
        errs.push(fieldErrors.invalid(ip, "", "fieldRef and resourceFieldRef can not be specified simultaneously"));
      }
      if (it.fieldRef) errs.push(...validateFieldPath(it.fieldRef.fieldPath, ip.child("fieldRef", "fieldPath")));
    });
  }
  if (v.nfs) {
    if (!v.nfs.server) errs.push(fieldErrors.required(p.child("nfs", "server")));
    if (!v.nfs.path) errs.push(fieldErrors.required(p.child("nfs", "path")));
    else if (!v.nfs.path.startsWith("/")) errs.push(fieldErrors.invalid(p.child("nfs", "path"), v.nfs.path, "must be an absolute path"));
  }
  return errs;
}

function validateToleration(t: Toleration, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (t.key) for (const m of isQualifiedName(t.key)) errs.push(fieldErrors.invalid(p.child("key"), t.key, m));
  const op = t.operator ?? "Equal";
  if (!t.key && op !== "Exists") {
    errs.push(fieldErrors.invalid(p.child("operator"), op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
  }
  if (op === "Equal") {
    for (const m of isValidLabelValue(t.value ?? "")) errs.push(fieldErrors.invalid(p.child("value"), t.value, m));
  } else if (op === "Exists") {
    if (t.value) errs.push(fieldErrors.invalid(p.child("operator"), op, "value must be empty when `operator` is 'Exists'"));
  } else {
    errs.push(fieldErrors.notSupported(p.child("operator"), op, ["Equal", "Exists"]));
  }
  if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute") {
    errs.push(fieldErrors.invalid(p.child("effect"), t.effect ?? "", "effect must be 'NoExecute' when `tolerationSeconds` is set"));
  }
  errs.push(...oneOf(t.effect, TAINT_EFFECTS, p.child("effect")));
  return errs;
}

function validateNodeSelectorRequirement(r: NodeSelectorRequirement, p: FieldPath, field: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const op = r.operator ?? "";
  const values = r.values ?? [];
  if (!NODE_SELECTOR_OPERATORS.includes(op)) errs.push(fieldErrors.invalid(p.child("operator"), op, "not a valid selector operator"));
  if ((op === "In" || op === "NotIn") && values.length === 0) {
    errs.push(fieldErrors.required(p.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
  }
  if ((op === "Exists" || op === "DoesNotExist") && values.length > 0) {
    errs.push(fieldErrors.forbidden(p.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
  }
  if ((op === "Gt" || op === "Lt") && (values.length !== 1 || !/^-?[0-9]+$/.test(values[0]))) {
    errs.push(fieldErrors.required(p.child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
  }
  if (field) {
    if (r.key !== "metadata.name") errs.push(fieldErrors.invalid(p.child("key"), r.key ?? "", "not a valid field selector key"));
  } else {
    for (const m of isQualifiedName(r.key ?? "")) errs.push(fieldErrors.invalid(p.child("key"), r.key ?? "", m));
  }
  return errs;
}

function validateNodeSelectorTerm(t: NodeSelectorTerm, p: FieldPath): FieldError[] {
  return [
    ...(t.matchExpressions ?? []).flatMap((r, i) => validateNodeSelectorRequirement(r, p.child("matchExpressions").index(i), false)),
    ...(t.matchFields ?? []).flatMap((r, i) => validateNodeSelectorRequirement(r, p.child("matchFields").index(i), true)),
  ];
}

export function validateNodeSelector(ns: NodeSelector | undefined, p: FieldPath): FieldError[] {
  if (!ns) return [];
  const terms = ns.nodeSelectorTerms ?? [];
  if (terms.length === 0) return [fieldErrors.required(p.child("nodeSelectorTerms"), "must have at least one node selector term")];
  return terms.flatMap((t, i) => validateNodeSelectorTerm(t, p.child("nodeSelectorTerms").index(i)));
}

function validateWeight(w: number | undefined, p: FieldPath): FieldError[] {
  return w !== undefined && w >= 1 && w <= 100 ? [] : [fieldErrors.invalid(p, w ?? 0, "must be in the range 1-100")];
}

function validatePodAffinityTerm(t: PodAffinityTerm, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateLabelSelector(t.labelSelector, p.child("labelSelector")));
  errs.push(...validateLabelSelector(t.namespaceSelector, p.child("namespaceSelector")));
  (t.namespaces ?? []).forEach((ns, i) => {
    for (const m of isDNS1123Label(ns)) errs.push(fieldErrors.invalid(p.child("namespaces").index(i), ns, m));
  });
  if (!t.topologyKey) errs.push(fieldErrors.required(p.child("topologyKey"), "can not be empty"));
  else for (const m of isQualifiedName(t.topologyKey)) errs.push(fieldErrors.invalid(p.child("topologyKey"), t.topologyKey, m));
  return errs;
}

function validateAffinityTerms(required: PodAffinityTerm[], preferred: WeightedPodAffinityTerm[], p: FieldPath): FieldError[] {
  return [
    ...required.flatMap((t, i) => validatePodAffinityTerm(t, p.child("requiredDuringSchedulingIgnoredDuringExecution").index(i))),
    ...preferred.flatMap((w, i) => {
      const wp = p.child("preferredDuringSchedulingIgnoredDuringExecution").index(i);
      return [
        ...validateWeight(w.weight, wp.child("weight")),
        ...(w.podAffinityTerm ? validatePodAffinityTerm(w.podAffinityTerm, wp.child("podAffinityTerm")) : [fieldErrors.required(wp.child("podAffinityTerm"))]),
      ];
    }),
  ];
}

function validateAffinity(a: Affinity | undefined, p: FieldPath): FieldError[] {
  if (!a) return [];
  const errs: FieldError[] = [];
  if (a.nodeAffinity) {
    const np = p.child("nodeAffinity");
    errs.push(...validateNodeSelector(a.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution, np.child("requiredDuringSchedulingIgnoredDuringExecution")));
    (a.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((t, i) => {
      const tp = np.child("preferredDuringSchedulingIgnoredDuringExecution").index(i);
      errs.push(...validateWeight(t.weight, tp.child("weight")));
      if (t.preference) errs.push(...validateNodeSelectorTerm(t.preference, tp.child("preference")));
    });
  }
  if (a.podAffinity) {
    errs.push(...validateAffinityTerms(a.podAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? [], a.podAffinity.preferredDuringSchedulingIgnoredDuringExecution ?? [], p.child("podAffinity")));
  }
  if (a.podAntiAffinity) {
    errs.push(...validateAffinityTerms(a.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? [], a.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution ?? [], p.child("podAntiAffinity")));
  }
  return errs;
}

export interface PodSpecOptions {
  /** Workloads narrow the restart policies a template may use (Deployment: only Always). */
  restartPolicies?: readonly string[];
  /** Volume names provided from outside the spec (a StatefulSet's volumeClaimTemplates). */
  extraVolumes?: readonly string[];
}

/** Kubernetes' ValidatePodSpec. */
export function validatePodSpec(spec: PodSpec | undefined, p: FieldPath, opts: PodSpecOptions = {}): FieldError[] {
  if (!spec) return [fieldErrors.required(p)];
  const errs: FieldError[] = [];
  const volumes = new Set<string>(opts.extraVolumes ?? []);
  (spec.volumes ?? []).forEach((v, i) => {
    const vp = p.child("volumes").index(i);
    errs.push(...validateVolume(v, vp));
    if (v.name) {
      if (volumes.has(v.name)) errs.push(fieldErrors.duplicate(vp.child("name"), v.name));
      volumes.add(v.name);
    }
  });
  const hostNetwork = spec.hostNetwork === true;
  const names = new Set<string>();
  const checkName = (c: Container, cp: FieldPath) => {
    if (!c.name) return;
    if (names.has(c.name)) errs.push(fieldErrors.duplicate(cp.child("name"), c.name));
    names.add(c.name);
  };
  (spec.initContainers ?? []).forEach((c, i) => {
    const cp = p.child("initContainers").index(i);
    errs.push(...validateContainer(c, cp, volumes, hostNetwork, true));
    checkName(c, cp);
  });
  const containers = spec.containers ?? [];
  if (containers.length === 0) errs.push(fieldErrors.required(p.child("containers")));
  containers.forEach((c, i) => {
    const cp = p.child("containers").index(i);
    errs.push(...validateContainer(c, cp, volumes, hostNetwork, false));
    checkName(c, cp);
  });
  const restart = opts.restartPolicies ?? RESTART_POLICIES;
  if (spec.restartPolicy !== undefined && !restart.includes(spec.restartPolicy)) {
    errs.push(fieldErrors.notSupported(p.child("restartPolicy"), spec.restartPolicy, restart));
  }
  errs.push(...oneOf(spec.dnsPolicy, DNS_POLICIES, p.child("dnsPolicy")));
  errs.push(...nonNegative(spec.terminationGracePeriodSeconds, p.child("terminationGracePeriodSeconds")));
  if (spec.activeDeadlineSeconds !== undefined && (spec.activeDeadlineSeconds < 1 || spec.activeDeadlineSeconds > 2147483647)) {
    errs.push(fieldErrors.invalid(p.child("activeDeadlineSeconds"), spec.activeDeadlineSeconds, "must be between 1 and 2147483647, inclusive"));
  }
  errs.push(...validateLabels(spec.nodeSelector, p.child("nodeSelector")));
  if (spec.nodeName) for (const m of isDNS1123Subdomain(spec.nodeName)) errs.push(fieldErrors.invalid(p.child("nodeName"), spec.nodeName, m));
  if (spec.priorityClassName) {
    for (const m of isDNS1123Subdomain(spec.priorityClassName)) errs.push(fieldErrors.invalid(p.child("priorityClassName"), spec.priorityClassName, m));
  }
  if (spec.schedulerName !== undefined) {
    for (const m of isDNS1123Subdomain(spec.schedulerName)) errs.push(fieldErrors.invalid(p.child("schedulerName"), spec.schedulerName, m));
  }
  if (spec.serviceAccountName) {
    for (const m of isDNS1123Subdomain(spec.serviceAccountName)) errs.push(fieldErrors.invalid(p.child("serviceAccountName"), spec.serviceAccountName, m));
  }
  if (spec.hostname) for (const m of isDNS1123Label(spec.hostname)) errs.push(fieldErrors.invalid(p.child("hostname"), spec.hostname, m));
  if (spec.subdomain) for (const m of isDNS1123Label(spec.subdomain)) errs.push(fieldErrors.invalid(p.child("subdomain"), spec.subdomain, m));
  (spec.tolerations ?? []).forEach((t, i) => errs.push(...validateToleration(t, p.child("tolerations").index(i))));
  errs.push(...validateAffinity(spec.affinity, p.child("affinity")));
  errs.push(...oneOf(spec.preemptionPolicy, ["Never", "PreemptLowerPriority"], p.child("preemptionPolicy")));
  (spec.topologySpreadConstraints ?? []).forEach((c, i) => {
    const cp = p.child("topologySpreadConstraints").index(i);
    if (c.maxSkew === undefined || c.maxSkew <= 0) errs.push(fieldErrors.invalid(cp.child("maxSkew"), c.maxSkew ?? 0, "must be greater than zero"));
    if (!c.topologyKey) errs.push(fieldErrors.required(cp.child("topologyKey"), "can not be empty"));
    errs.push(...oneOf(c.whenUnsatisfiable, ["DoNotSchedule", "ScheduleAnyway"], cp.child("whenUnsatisfiable"), true));
  });
  return errs;
}

export function validatePodTemplateSpec(t: PodTemplateSpec | undefined, p: FieldPath, opts: PodSpecOptions = {}): FieldError[] {
  if (!t) return [fieldErrors.required(p)];
  return [
    ...validateLabels(t.metadata?.labels, p.child("metadata", "labels")),
    ...validatePodSpec(t.spec, p.child("spec"), opts),
  ];
}

export function validatePod(pod: Pod): FieldError[] {
  const errs = [...validateObjectMeta(pod.metadata, { namespaced: true }), ...validatePodSpec(pod.spec, path("spec"))];
  // Kubernetes' ValidatePodSpecificAnnotations.
  const cost = pod.metadata?.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (cost !== undefined && parseDeletionCost(cost) === undefined) {
    errs.push(fieldErrors.invalid(path("metadata", "annotations").key(POD_DELETION_COST_ANNOTATION), cost, "must be a 32bit integer"));
  }
  return errs;
}

/** What a pod update may change: images, activeDeadlineSeconds, added tolerations (as Kubernetes). */
export function validatePodUpdate(next: Pod, prev: Pod): FieldError[] {
  const errs = [...validateObjectMetaUpdate(next.metadata, prev.metadata), ...validatePod(next)];
  const strip = (spec: PodSpec | undefined) => {
    const s = deepCopy(spec ?? {}) as PodSpec;
    for (const c of [...(s.containers ?? []), ...(s.initContainers ?? [])]) c.image = undefined;
    s.activeDeadlineSeconds = undefined;
    s.tolerations = [];
    // nodeName is not among them, set or not: pods are placed through the binding subresource.
    return JSON.stringify(s);
  };
  const tolerationsKept = (): boolean => {
    const before = prev.spec?.tolerations ?? [];
    return JSON.stringify((next.spec?.tolerations ?? []).slice(0, before.length)) === JSON.stringify(before);
  };
  // Most updates (status, labels) leave the spec alone: that is a walk, not two copies and texts.
  if (!deepEqual(next.spec, prev.spec) && (strip(next.spec) !== strip(prev.spec) || !tolerationsKept())) {
    errs.push(
      fieldErrors.forbidden(
        "spec",
        "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
      ),
    );
  }
  return errs;
}
