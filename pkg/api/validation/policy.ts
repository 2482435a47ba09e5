// policy/v1 PodDisruptionBudget, as Kubernetes' policy validation checks it: one of minAvailable and
// maxUnavailable, each a non-negative integer or a percentage up to 100%, a valid selector, a known
// unhealthy-pod eviction policy, and a status whose counts are not negative.

import type { PodDisruptionBudget } from "../../../gen/navarch/api/v1/policy.js";
import type { Condition } from "../../../gen/navarch/api/v1/meta.js";
import { isRFC3339 } from "../convert/json.js";
import { type FieldError, type FieldPath, fieldErrors, path } from "../field_errors.js";
import { validateLabelSelector } from "../labels.js";
import { isPercentOver100, nonNegative, oneOf, validateNonNegativeIntOrPercent, validateObjectMeta } from "./common.js";

export const UNHEALTHY_POD_EVICTION_POLICIES = ["AlwaysAllow", "IfHealthyBudget"] as const;

export function validatePodDisruptionBudget(pdb: PodDisruptionBudget): FieldError[] {
  const errs = validateObjectMeta(pdb.metadata, { namespaced: true });
  const spec = pdb.spec ?? {};
  const sp = path("spec");
  if (spec.minAvailable && spec.maxUnavailable) errs.push(fieldErrors.invalid(sp, "…", "minAvailable and maxUnavailable cannot be both set"));
  for (const f of ["minAvailable", "maxUnavailable"] as const) {
    const v = spec[f];
    if (!v) continue;
    errs.push(...validateNonNegativeIntOrPercent(v, sp.child(f)));
    if (isPercentOver100(v)) errs.push(fieldErrors.invalid(sp.child(f), v.strVal, "must not be greater than 100%"));
  }
  if (spec.selector) errs.push(...validateLabelSelector(spec.selector, sp.child("selector")));
  errs.push(...oneOf(spec.unhealthyPodEvictionPolicy, UNHEALTHY_POD_EVICTION_POLICIES, sp.child("unhealthyPodEvictionPolicy")));
  const st = pdb.status;
  const stp = path("status");
  for (const f of ["disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"] as const) errs.push(...nonNegative(st?.[f], stp.child(f)));
  for (const [pod, at] of Object.entries(st?.disruptedPods ?? {})) {
    if (!isRFC3339(at)) errs.push(fieldErrors.invalid(stp.child("disruptedPods").key(pod), at, "expected an RFC 3339 timestamp"));
  }
  errs.push(...validateConditions(st?.conditions ?? [], stp.child("conditions")));
  return errs;
}

const CONDITION_REASON_RE = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/** metav1.Condition lists, as Kubernetes' ValidateConditions: type unique and set, a known status, a reason and a transition time. */
export function validateConditions(conditions: readonly Condition[], p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  conditions.forEach((c, i) => {
    const cp = p.index(i);
    if (!c.type) errs.push(fieldErrors.required(cp.child("type"), "must not be empty"));
    else if (seen.has(c.type)) errs.push(fieldErrors.duplicate(cp.child("type"), c.type));
    else seen.add(c.type);
    errs.push(...oneOf(c.status, ["False", "True", "Unknown"], cp.child("status"), true));
    errs.push(...nonNegative(c.observedGeneration, cp.child("observedGeneration")));
    if (!c.lastTransitionTime) errs.push(fieldErrors.required(cp.child("lastTransitionTime"), "must be set"));
    if (!c.reason) errs.push(fieldErrors.required(cp.child("reason"), "must not be empty"));
    else if (c.reason.length > 1024) errs.push(fieldErrors.tooLong(cp.child("reason"), 1024));
    else if (!CONDITION_REASON_RE.test(c.reason)) {
      errs.push(fieldErrors.invalid(cp.child("reason"), c.reason, "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')"));
    }
    if ((c.message ?? "").length > 32768) errs.push(fieldErrors.tooLong(cp.child("message"), 32768));
  });
  return errs;
}
