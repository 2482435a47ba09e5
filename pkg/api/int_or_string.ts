// IntOrString: 1 or "25%" in JSON, { intVal } or { strVal } when typed (see meta.proto).

import type { IntOrString } from "../../gen/navarch/api/v1/meta.js";

export type { IntOrString } from "../../gen/navarch/api/v1/meta.js";

export function intOrString(value: number | string): IntOrString {
  return typeof value === "number" ? { intVal: value, strVal: undefined } : { intVal: undefined, strVal: value };
}

/** The JSON form: a bare number or a string. */
export function intOrStringValue(v: IntOrString): number | string {
  return v.strVal !== undefined ? v.strVal : (v.intVal ?? 0);
}

export function formatIntOrString(v: IntOrString | undefined): string {
  return v === undefined ? "<none>" : String(intOrStringValue(v));
}

export function isPercent(v: IntOrString): boolean {
  return v.strVal !== undefined && /^[0-9]+%$/.test(v.strVal);
}

/**
 * Kubernetes' GetScaledValueFromIntOrPercent: an integer as is; "N%" as N% of total, rounded up or
 * down. Deployments round maxSurge up and maxUnavailable down. Throws RangeError for a string that
 * is not a percentage.
 */
export function scaledValueFromIntOrPercent(v: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) throw new RangeError("Cannot scale IntOrString: value is missing");
  if (v.strVal === undefined) return v.intVal ?? 0;
  const m = /^([0-9]+)%$/.exec(v.strVal);
  if (!m) throw new RangeError(`Cannot scale IntOrString ${JSON.stringify(v.strVal)}: a string value must be a percentage such as "25%"`);
  // Integer product first, so 10% of 30 is exactly 3, never 3.0000000000000004 rounded up to 4.
  const scaled = Number(m[1]) * total;
  return roundUp ? Math.ceil(scaled / 100) : Math.floor(scaled / 100);
}

/**
 * Deployment's ResolveFenceposts: how many pods a rolling update may add and take down at once.
 * maxSurge rounds up, maxUnavailable rounds down, and when both are 0 one pod may be unavailable so
 * the rollout can progress.
 */
export function resolveFenceposts(
  maxSurge: IntOrString | undefined,
  maxUnavailable: IntOrString | undefined,
  desired: number,
): { surge: number; unavailable: number } {
  const surge = scaledValueFromIntOrPercent(maxSurge ?? intOrString(0), desired, true);
  let unavailable = scaledValueFromIntOrPercent(maxUnavailable ?? intOrString(0), desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}
