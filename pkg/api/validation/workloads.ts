// Deployment, ReplicaSet, DaemonSet, StatefulSet, Job and CronJob validation, Kubernetes' wording.

import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from "../../../gen/navarch/api/v1/apps.js";
import type { CronJob, Job, JobSpec } from "../../../gen/navarch/api/v1/batch.js";
import type { PodTemplateSpec } from "../../../gen/navarch/api/v1/core.js";
import type { LabelSelector } from "../../../gen/navarch/api/v1/meta.js";
import { toJson } from "../convert/json.js";
import { type FieldError, type FieldPath, fieldErrors, path, PrintedValue } from "../field_errors.js";
import { selectorFromLabelSelector, validateLabelSelector } from "../labels.js";
import {
  goStringMap,
  intOrPercentIsZero,
  isPercentOver100,
  nonNegative,
  oneOf,
  validateNonNegativeIntOrPercent,
  validateObjectMeta,
} from "./common.js";
import { validatePodTemplateSpec } from "./pod.js";

/** A selector as Kubernetes JSON, for error values. */
function printSelector(sel: LabelSelector): PrintedValue {
  return new PrintedValue(JSON.stringify(toJson("LabelSelector", sel)));
}

function selectorIsEmpty(sel: LabelSelector): boolean {
  return Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
}

/**
 * A workload's selector and template: selector required and not empty, template labels matched
 * by it, and the template's restart policies narrowed.
 */
function validateSelectorAndTemplate(
  selector: LabelSelector | undefined,
  template: PodTemplateSpec | undefined,
  p: FieldPath,
  what: string,
  restartPolicies: readonly string[],
  extraVolumes: readonly string[] = [],
): FieldError[] {
  const errs: FieldError[] = [];
  if (!selector) {
    errs.push(fieldErrors.required(p.child("selector")));
  } else {
    errs.push(...validateLabelSelector(selector, p.child("selector")));
    if (selectorIsEmpty(selector)) {
      errs.push(fieldErrors.invalid(p.child("selector"), printSelector(selector), `empty selector is invalid for ${what}`));
    }
  }
  if (!template) {
    errs.push(fieldErrors.required(p.child("template")));
    return errs;
  }
  if (selector && !selectorIsEmpty(selector) && errs.length === 0) {
    const labels = template.metadata?.labels ?? {};
    let matches = false;
    try {
      matches = selectorFromLabelSelector(selector).matches(labels);
    } catch {
      // An invalid operator is reported by validateLabelSelector.
    }
    if (!matches) {
      errs.push(fieldErrors.invalid(p.child("template", "metadata", "labels"), goStringMap(labels), "`selector` does not match template `labels`"));
    }
  }
  errs.push(...validatePodTemplateSpec(template, p.child("template"), { restartPolicies, extraVolumes }));
  return errs;
}

function forbidActiveDeadline(template: PodTemplateSpec | undefined, p: FieldPath, owner: string): FieldError[] {
  if (template?.spec?.activeDeadlineSeconds === undefined) return [];
  return [fieldErrors.forbidden(p.child("template", "spec", "activeDeadlineSeconds"), `activeDeadlineSeconds in ${owner} is not Supported`)];
}

export function validateDeployment(d: Deployment): FieldError[] {
  const errs = validateObjectMeta(d.metadata, { namespaced: true });
  const p = path("spec");
  const s = d.spec;
  if (!s) return [...errs, fieldErrors.required(p)];
  errs.push(...nonNegative(s.replicas, p.child("replicas")));
  errs.push(...validateSelectorAndTemplate(s.selector, s.template, p, "deployment", ["Always"]));
  errs.push(...forbidActiveDeadline(s.template, p, "ReplicaSet"));
  const strategy = s.strategy;
  if (strategy) {
    const sp = p.child("strategy");
    errs.push(...oneOf(strategy.type, ["Recreate", "RollingUpdate"], sp.child("type"), true));
    if (strategy.type === "Recreate" && strategy.rollingUpdate) {
      errs.push(fieldErrors.forbidden(sp.child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"));
    }
    const ru = strategy.rollingUpdate;
    if (strategy.type === "RollingUpdate" && ru) {
      const rp = sp.child("rollingUpdate");
      errs.push(...validateNonNegativeIntOrPercent(ru.maxUnavailable, rp.child("maxUnavailable")));
      errs.push(...validateNonNegativeIntOrPercent(ru.maxSurge, rp.child("maxSurge")));
      if (intOrPercentIsZero(ru.maxUnavailable) && intOrPercentIsZero(ru.maxSurge)) {
        errs.push(fieldErrors.invalid(rp.child("maxUnavailable"), ru.maxUnavailable?.strVal ?? ru.maxUnavailable?.intVal ?? 0, "may not be 0 when `maxSurge` is 0"));
      }
      if (isPercentOver100(ru.maxUnavailable)) {
        errs.push(fieldErrors.invalid(rp.child("maxUnavailable"), ru.maxUnavailable?.strVal, "must not be greater than 100%"));
      }
    }
  }
  errs.push(...nonNegative(s.revisionHistoryLimit, p.child("revisionHistoryLimit")));
  errs.push(...nonNegative(s.minReadySeconds, p.child("minReadySeconds")));
  if (s.progressDeadlineSeconds !== undefined) {
    errs.push(...nonNegative(s.progressDeadlineSeconds, p.child("progressDeadlineSeconds")));
    if (s.progressDeadlineSeconds <= (s.minReadySeconds ?? 0)) {
      errs.push(fieldErrors.invalid(p.child("progressDeadlineSeconds"), s.progressDeadlineSeconds, "must be greater than minReadySeconds"));
    }
  }
  return errs;
}

export function validateReplicaSet(rs: ReplicaSet): FieldError[] {
  const errs = validateObjectMeta(rs.metadata, { namespaced: true });
  const p = path("spec");
  const s = rs.spec;
  if (!s) return [...errs, fieldErrors.required(p)];
  errs.push(...nonNegative(s.replicas, p.child("replicas")));
  errs.push(...nonNegative(s.minReadySeconds, p.child("minReadySeconds")));
  errs.push(...validateSelectorAndTemplate(s.selector, s.template, p, "deployment", ["Always"]));
  errs.push(...forbidActiveDeadline(s.template, p, "ReplicaSet"));
  return errs;
}

export function validateDaemonSet(ds: DaemonSet): FieldError[] {
  const errs = validateObjectMeta(ds.metadata, { namespaced: true });
  const p = path("spec");
  const s = ds.spec;
  if (!s) return [...errs, fieldErrors.required(p)];
  errs.push(...validateSelectorAndTemplate(s.selector, s.template, p, "daemonset", ["Always"]));
  errs.push(...forbidActiveDeadline(s.template, p, "DaemonSet"));
  errs.push(...nonNegative(s.minReadySeconds, p.child("minReadySeconds")));
  errs.push(...nonNegative(s.revisionHistoryLimit, p.child("revisionHistoryLimit")));
  const u = s.updateStrategy;
  if (u) {
    const up = p.child("updateStrategy");
    errs.push(...oneOf(u.type, ["OnDelete", "RollingUpdate"], up.child("type"), true));
    const ru = u.rollingUpdate;
    if (u.type === "RollingUpdate" && ru) {
      const rp = up.child("rollingUpdate");
      errs.push(...validateNonNegativeIntOrPercent(ru.maxUnavailable, rp.child("maxUnavailable")));
      errs.push(...validateNonNegativeIntOrPercent(ru.maxSurge, rp.child("maxSurge")));
      if (intOrPercentIsZero(ru.maxUnavailable) && intOrPercentIsZero(ru.maxSurge)) {
        errs.push(fieldErrors.invalid(rp.child("maxUnavailable"), ru.maxUnavailable?.strVal ?? ru.maxUnavailable?.intVal ?? 0, "may not be 0 when `maxSurge` is 0"));
      }
      if (isPercentOver100(ru.maxUnavailable)) {
        errs.push(fieldErrors.invalid(rp.child("maxUnavailable"), ru.maxUnavailable?.strVal, "must not be greater than 100%"));
      }
    }
  }
  return errs;
}

export function validateStatefulSet(sts: StatefulSet): FieldError[] {
  const errs = validateObjectMeta(sts.metadata, { namespaced: true });
  const p = path("spec");
  const s = sts.spec;
  if (!s) return [...errs, fieldErrors.required(p)];
  errs.push(...nonNegative(s.replicas, p.child("replicas")));
  errs.push(...nonNegative(s.minReadySeconds, p.child("minReadySeconds")));
  errs.push(...nonNegative(s.revisionHistoryLimit, p.child("revisionHistoryLimit")));
  errs.push(...oneOf(s.podManagementPolicy, ["OrderedReady", "Parallel"], p.child("podManagementPolicy")));
  // Claim templates are volumes the pods may mount.
  const claimNames = (s.volumeClaimTemplates ?? []).map((c) => c.metadata?.name ?? "").filter((n) => n !== "");
  errs.push(...validateSelectorAndTemplate(s.selector, s.template, p, "statefulset", ["Always"], claimNames));
  errs.push(...forbidActiveDeadline(s.template, p, "StatefulSet"));
  const u = s.updateStrategy;
  if (u) {
    const up = p.child("updateStrategy");
    errs.push(...oneOf(u.type, ["OnDelete", "RollingUpdate"], up.child("type"), true));
    if (u.type === "OnDelete" && u.rollingUpdate) {
      errs.push(fieldErrors.invalid(up.child("rollingUpdate"), u.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
    }
    if (u.rollingUpdate) errs.push(...nonNegative(u.rollingUpdate.partition, up.child("rollingUpdate", "partition")));
  }
  const retention = s.persistentVolumeClaimRetentionPolicy;
  if (retention) {
    const rp = p.child("persistentVolumeClaimRetentionPolicy");
    errs.push(...oneOf(retention.whenDeleted, ["Delete", "Retain"], rp.child("whenDeleted")));
    errs.push(...oneOf(retention.whenScaled, ["Delete", "Retain"], rp.child("whenScaled")));
  }
  const names = new Set<string>();
  (s.volumeClaimTemplates ?? []).forEach((pvc, i) => {
    const vp = p.child("volumeClaimTemplates").index(i);
    const name = pvc.metadata?.name;
    if (!name) errs.push(fieldErrors.required(vp.child("metadata", "name")));
    else if (names.has(name)) errs.push(fieldErrors.duplicate(vp.child("metadata", "name"), name));
    else names.add(name);
    if ((pvc.spec?.accessModes ?? []).length === 0) {
      errs.push(fieldErrors.required(vp.child("spec", "accessModes"), "at least 1 access mode is required"));
    }
  });
  if (s.ordinals) errs.push(...nonNegative(s.ordinals.start, p.child("ordinals", "start")));
  return errs;
}

/** Validates a JobSpec at p (used by Job and by CronJob's jobTemplate). */
export function validateJobSpec(s: JobSpec | undefined, p: FieldPath): FieldError[] {
  if (!s) return [fieldErrors.required(p)];
  const errs: FieldError[] = [];
  errs.push(...nonNegative(s.parallelism, p.child("parallelism")));
  errs.push(...nonNegative(s.completions, p.child("completions")));
  errs.push(...nonNegative(s.backoffLimit, p.child("backoffLimit")));
  errs.push(...nonNegative(s.ttlSecondsAfterFinished, p.child("ttlSecondsAfterFinished")));
  if (s.activeDeadlineSeconds !== undefined && s.activeDeadlineSeconds <= 0) {
    errs.push(fieldErrors.invalid(p.child("activeDeadlineSeconds"), s.activeDeadlineSeconds, "must be greater than or equal to 1"));
  }
  errs.push(...oneOf(s.completionMode, ["Indexed", "NonIndexed"], p.child("completionMode")));
  if (s.completionMode === "Indexed" && s.completions === undefined) {
    errs.push(fieldErrors.required(p.child("completions"), "when completion mode is Indexed"));
  }
  errs.push(...oneOf(s.podReplacementPolicy, ["Failed", "TerminatingOrFailed"], p.child("podReplacementPolicy")));
  // The server fills in the selector (controller-uid) unless manualSelector; a given one must match.
  const tp = p.child("template");
  if (!s.template) {
    errs.push(fieldErrors.required(tp));
    return errs;
  }
  if (s.manualSelector && !s.selector) errs.push(fieldErrors.required(p.child("selector")));
  if (s.selector) {
    errs.push(...validateLabelSelector(s.selector, p.child("selector")));
    try {
      if (!selectorFromLabelSelector(s.selector).matches(s.template.metadata?.labels ?? {})) {
        errs.push(fieldErrors.invalid(tp.child("metadata", "labels"), goStringMap(s.template.metadata?.labels ?? {}), "`selector` does not match template `labels`"));
      }
    } catch {
      // Reported by validateLabelSelector.
    }
  }
  const policy = s.template.spec?.restartPolicy;
  if (policy !== "OnFailure" && policy !== "Never") {
    errs.push(fieldErrors.required(tp.child("spec", "restartPolicy"), 'valid values: "OnFailure", "Never"'));
  }
  errs.push(...validatePodTemplateSpec(s.template, tp, { restartPolicies: ["OnFailure", "Never", "Always"] }));
  return errs;
}

export function validateJob(job: Job): FieldError[] {
  return [...validateObjectMeta(job.metadata, { namespaced: true }), ...validateJobSpec(job.spec, path("spec"))];
}

const CRON_MACROS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];
const CRON_FIELDS: Array<{ name: string; min: number; max: number; names?: string[] }> = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] },
  { name: "day of week", min: 0, max: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
];

/** Checks a standard 5-field cron expression (or @macro); returns the problem or undefined. */
export function cronScheduleError(schedule: string): string | undefined {
  const s = schedule.trim();
  if (CRON_MACROS.includes(s) || /^@every\s+\S+$/.test(s)) return undefined;
  if (/^(TZ|CRON_TZ)=/.test(s)) return "cannot use TZ or CRON_TZ in schedule, use timeZone field instead";
  const fields = s.split(/\s+/);
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: ${JSON.stringify(s)}`;
  for (let i = 0; i < 5; i++) {
    const spec = CRON_FIELDS[i];
    const value = (v: string): number | undefined => {
      const byName = spec.names?.indexOf(v.toUpperCase()) ?? -1;
      if (byName >= 0) return byName + (spec.name === "month" ? 1 : 0);
      return /^[0-9]+$/.test(v) ? Number(v) : undefined;
    };
    for (const part of fields[i].split(",")) {
      const [range, step] = part.split("/");
      if (step !== undefined && !/^[1-9][0-9]*$/.test(step)) return `failed to parse int from ${step}: invalid step in ${spec.name}`;
      if (range === "*" || range === "?") continue;
      const [lo, hi] = range.split("-");
      const a = value(lo);
      const b = hi === undefined ? a : value(hi);
      if (a === undefined || b === undefined) return `failed to parse ${spec.name} ${JSON.stringify(part)}`;
      if (a < spec.min || b > spec.max || a > b) {
        return `${spec.name} ${JSON.stringify(part)} is out of range (${spec.min}-${spec.max})`;
      }
    }
  }
  return undefined;
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function validateCronJob(cj: CronJob): FieldError[] {
  const errs = validateObjectMeta(cj.metadata, { namespaced: true });
  // Job names get an 11-character suffix and must stay DNS labels.
  const name = cj.metadata?.name ?? "";
  if (name.length > 52) errs.push(fieldErrors.invalid(path("metadata", "name"), name, "must be no more than 52 characters"));
  const p = path("spec");
  const s = cj.spec;
  if (!s) return [...errs, fieldErrors.required(p)];
  if (!s.schedule) errs.push(fieldErrors.required(p.child("schedule")));
  else {
    const problem = cronScheduleError(s.schedule);
    if (problem) errs.push(fieldErrors.invalid(p.child("schedule"), s.schedule, problem));
  }
  if (s.timeZone !== undefined && !validTimeZone(s.timeZone)) {
    errs.push(fieldErrors.invalid(p.child("timeZone"), s.timeZone, `unknown time zone ${s.timeZone}`));
  }
  errs.push(...oneOf(s.concurrencyPolicy, ["Allow", "Forbid", "Replace"], p.child("concurrencyPolicy"), true));
  errs.push(...nonNegative(s.startingDeadlineSeconds, p.child("startingDeadlineSeconds")));
  errs.push(...nonNegative(s.successfulJobsHistoryLimit, p.child("successfulJobsHistoryLimit")));
  errs.push(...nonNegative(s.failedJobsHistoryLimit, p.child("failedJobsHistoryLimit")));
  if (!s.jobTemplate) errs.push(fieldErrors.required(p.child("jobTemplate")));
  else errs.push(...validateJobSpec(s.jobTemplate.spec, p.child("jobTemplate", "spec")));
  return errs;
}
