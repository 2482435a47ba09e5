// One entry point per operation: validateObject on create, validateObjectUpdate on update.
// Both return every problem as a FieldError (empty: valid). Run defaults first, as Kubernetes does;
// fields that defaulting fills are only checked when set.

import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from "../../../gen/navarch/api/v1/apps.js";
import type { HorizontalPodAutoscaler } from "../../../gen/navarch/api/v1/autoscaling.js";
import type { CronJob, Job } from "../../../gen/navarch/api/v1/batch.js";
import type { Lease } from "../../../gen/navarch/api/v1/coordination.js";
import type {
  ConfigMap,
  Endpoints,
  Event,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  Secret,
  Service,
} from "../../../gen/navarch/api/v1/core.js";
import type { Ingress } from "../../../gen/navarch/api/v1/networking.js";
import type { PodDisruptionBudget } from "../../../gen/navarch/api/v1/policy.js";
import type { PriorityClass } from "../../../gen/navarch/api/v1/scheduling.js";
import { toJson } from "../convert/json.js";
import { type FieldError, fieldErrors, PrintedValue, path } from "../field_errors.js";
import type { KubeObject } from "../registry.js";
import { validateObjectMetaUpdate } from "./common.js";
import { validateEndpoints, validateIngress, validateService } from "./network.js";
import {
  validateConfigMap,
  validateEvent,
  validateHorizontalPodAutoscaler,
  validateLease,
  validateNamespace,
  validateNode,
  validatePersistentVolume,
  validatePersistentVolumeClaim,
  validatePriorityClass,
  validateSecret,
} from "./other.js";
import { validatePod, validatePodUpdate } from "./pod.js";
import { validatePodDisruptionBudget } from "./policy.js";
import {
  validateCronJob,
  validateDaemonSet,
  validateDeployment,
  validateJob,
  validateReplicaSet,
  validateStatefulSet,
} from "./workloads.js";

/** Validates an object for create. */
export function validateObject(object: KubeObject): FieldError[] {
  const o = object as KubeObject;
  switch (o.kind) {
    case "Namespace":
      return validateNamespace(o as Namespace);
    case "Node":
      return validateNode(o as Node);
    case "Pod":
      return validatePod(o as Pod);
    case "Service":
      return validateService(o as Service);
    case "Endpoints":
      return validateEndpoints(o as Endpoints);
    case "ConfigMap":
      return validateConfigMap(o as ConfigMap);
    case "Secret":
      return validateSecret(o as Secret);
    case "Event":
      return validateEvent(o as Event);
    case "PersistentVolume":
      return validatePersistentVolume(o as PersistentVolume);
    case "PersistentVolumeClaim":
      return validatePersistentVolumeClaim(o as PersistentVolumeClaim);
    case "Deployment":
      return validateDeployment(o as Deployment);
    case "ReplicaSet":
      return validateReplicaSet(o as ReplicaSet);
    case "DaemonSet":
      return validateDaemonSet(o as DaemonSet);
    case "StatefulSet":
      return validateStatefulSet(o as StatefulSet);
    case "Job":
      return validateJob(o as Job);
    case "CronJob":
      return validateCronJob(o as CronJob);
    case "HorizontalPodAutoscaler":
      return validateHorizontalPodAutoscaler(o as HorizontalPodAutoscaler);
    case "Lease":
      return validateLease(o as Lease);
    case "Ingress":
      return validateIngress(o as Ingress);
    case "PriorityClass":
      return validatePriorityClass(o as PriorityClass);
    case "PodDisruptionBudget":
      return validatePodDisruptionBudget(o as PodDisruptionBudget);
    default:
      return [fieldErrors.notSupported(path("kind"), o.kind ?? "", [])];
  }
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function immutable(next: unknown, prev: unknown, field: string, value: unknown = next): FieldError[] {
  return same(next, prev) ? [] : [fieldErrors.invalid(field, value ?? null, "field is immutable")];
}

function immutableSelector(n: any, p: any): FieldError[] {
  const a = n.spec?.selector;
  const b = p.spec?.selector;
  if (same(a, b)) return [];
  return [fieldErrors.invalid("spec.selector", a ? new PrintedValue(JSON.stringify(toJson("LabelSelector", a))) : null, "field is immutable")];
}

/** ConfigMaps and Secrets marked immutable keep their data and the mark. */
function immutableData(n: any, p: any, binary: boolean): FieldError[] {
  if (p.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (n.immutable !== true) errs.push(fieldErrors.forbidden("immutable", "field is immutable when `immutable` is set"));
  if (!same(n.data, p.data)) errs.push(fieldErrors.forbidden("data", "field is immutable when `immutable` is set"));
  if (binary && !same(n.binaryData, p.binaryData)) {
    errs.push(fieldErrors.forbidden("binaryData", "field is immutable when `immutable` is set"));
  }
  return errs;
}

const STATEFULSET_MUTABLE = [
  "replicas",
  "ordinals",
  "template",
  "updateStrategy",
  "revisionHistoryLimit",
  "persistentVolumeClaimRetentionPolicy",
  "minReadySeconds",
];

function without(spec: any, fields: readonly string[]): unknown {
  const out = { ...(spec ?? {}) };
  for (const f of fields) delete out[f];
  return out;
}

/**
 * Validates an update: everything validateObject checks, plus what may not change once created
 * (metadata identity, workload selectors, Job templates, Service clusterIP, StatefulSet fields,
 * PVC and Secret rules, immutable ConfigMaps and Secrets, and Pod spec fields).
 */
export function validateObjectUpdate(next: KubeObject, prev: KubeObject): FieldError[] {
  if (next.kind !== prev.kind) return [fieldErrors.invalid(path("kind"), next.kind ?? "", "field is immutable")];
  if (next.kind === "Pod") return validatePodUpdate(next as Pod, prev as Pod);
  const errs = [...validateObjectMetaUpdate(next.metadata, prev.metadata), ...validateObject(next)];
  const n = next as any;
  const p = prev as any;
  switch (next.kind) {
    case "Deployment":
    case "ReplicaSet":
    case "DaemonSet":
      errs.push(...immutableSelector(n, p));
      break;
    case "StatefulSet":
      errs.push(...immutableSelector(n, p));
      if (!same(without(n.spec, STATEFULSET_MUTABLE), without(p.spec, STATEFULSET_MUTABLE))) {
        errs.push(
          fieldErrors.forbidden(
            "spec",
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
          ),
        );
      }
      break;
    case "Job":
      errs.push(...immutableSelector(n, p));
      errs.push(...immutable(n.spec?.completions, p.spec?.completions, "spec.completions"));
      errs.push(...immutable(n.spec?.completionMode, p.spec?.completionMode, "spec.completionMode"));
      // Kubernetes lets a suspended Job's template change; otherwise it is fixed.
      if (p.spec?.suspend !== true && !same(n.spec?.template, p.spec?.template)) {
        errs.push(fieldErrors.invalid("spec.template", "…", "field is immutable"));
      }
      break;
    case "Service":
      if (p.spec?.clusterIP && n.spec?.type !== "ExternalName") {
        errs.push(...immutable(n.spec?.clusterIP, p.spec?.clusterIP, "spec.clusterIP"));
      }
      break;
    case "PersistentVolumeClaim":
      if (!same(without(n.spec, ["resources", "volumeName"]), without(p.spec, ["resources", "volumeName"]))) {
        errs.push(fieldErrors.forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"));
      }
      break;
    case "Secret":
      errs.push(...immutable(n.type, p.type, "type"));
      errs.push(...immutableData(n, p, false));
      break;
    case "ConfigMap":
      errs.push(...immutableData(n, p, true));
      break;
    case "PriorityClass":
      errs.push(...immutable(n.value, p.value, "value"));
      errs.push(...immutable(n.preemptionPolicy, p.preemptionPolicy, "preemptionPolicy"));
      break;
  }
  return errs;
}
