// policy/v1 PodDisruptionBudget, as Kubernetes' policy validation checks it: one of minAvailable and
// maxUnavailable, each a non-negative integer or a percentage up to 100%, a valid selector, a known
// unhealthy-pod eviction policy, and a status whose counts are not negative.

import type { PodDisruptionBudget } from "../../../gen/navarch/api/v1/policy.js";
import { type FieldError, fieldErrors, path } from "../field_errors.js";
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
  return errs;
}
