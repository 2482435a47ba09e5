// Validation pieces shared by every kind: object metadata, numbers, IntOrString, enumerations.

import type { IntOrString, ObjectMeta } from "../../../gen/navarch/api/v1/meta.js";
import { type FieldError, type FieldPath, fieldErrors, PrintedValue, path } from "../field_errors.js";
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, isValidPortName } from "./names.js";

export type NameValidator = (name: string) => string[];

export const ANNOTATIONS_MAX_BYTES = 256 * 1024;

export function nonNegative(v: number | undefined, p: FieldPath): FieldError[] {
  return v !== undefined && v < 0 ? [fieldErrors.invalid(p, v, "must be greater than or equal to 0")] : [];
}

export function positive(v: number | undefined, p: FieldPath): FieldError[] {
  return v !== undefined && v <= 0 ? [fieldErrors.invalid(p, v, "must be greater than 0")] : [];
}

export function oneOf(v: string | undefined, supported: readonly string[], p: FieldPath, required = false): FieldError[] {
  if (v === undefined || v === "") return required ? [fieldErrors.required(p)] : [];
  return supported.includes(v) ? [] : [fieldErrors.notSupported(p, v, supported)];
}

export function validateLabels(labels: Record<string, string> | undefined, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const m of isQualifiedName(k)) errs.push(fieldErrors.invalid(p, k, m));
    for (const m of isValidLabelValue(v)) errs.push(fieldErrors.invalid(p, v, m));
  }
  return errs;
}

export function validateAnnotations(annotations: Record<string, string> | undefined, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(fieldErrors.invalid(p, k, m));
    total += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (total > ANNOTATIONS_MAX_BYTES) errs.push(fieldErrors.tooLong(p, ANNOTATIONS_MAX_BYTES));
  return errs;
}

export interface MetaOptions {
  namespaced: boolean;
  /** How the name is checked; DNS-1123 subdomain unless the kind says otherwise. */
  nameFn?: NameValidator;
}

/** Kubernetes' ValidateObjectMeta. */
export function validateObjectMeta(meta: ObjectMeta | undefined, opts: MetaOptions, p: FieldPath = path("metadata")): FieldError[] {
  const errs: FieldError[] = [];
  const m = meta ?? ({} as ObjectMeta);
  const nameFn = opts.nameFn ?? isDNS1123Subdomain;
  if (!m.name) {
    if (!m.generateName) errs.push(fieldErrors.required(p.child("name"), "name or generateName is required"));
  } else {
    for (const msg of nameFn(m.name)) errs.push(fieldErrors.invalid(p.child("name"), m.name, msg));
  }
  if (m.generateName) {
    // A prefix: the random suffix makes a trailing "-" fine.
    for (const msg of nameFn(m.generateName.replace(/-+$/, "") + "x")) {
      errs.push(fieldErrors.invalid(p.child("generateName"), m.generateName, msg));
    }
  }
  if (opts.namespaced) {
    if (!m.namespace) errs.push(fieldErrors.required(p.child("namespace")));
    else for (const msg of isDNS1123Label(m.namespace)) errs.push(fieldErrors.invalid(p.child("namespace"), m.namespace, msg));
  } else if (m.namespace) {
    errs.push(fieldErrors.forbidden(p.child("namespace"), "not allowed on this type"));
  }
  errs.push(...nonNegative(m.generation, p.child("generation")));
  errs.push(...validateLabels(m.labels, p.child("labels")));
  errs.push(...validateAnnotations(m.annotations, p.child("annotations")));
  let controllers = 0;
  (m.ownerReferences ?? []).forEach((ref, i) => {
    const rp = p.child("ownerReferences").index(i);
    if (!ref.apiVersion) errs.push(fieldErrors.invalid(rp.child("apiVersion"), ref.apiVersion ?? "", "version must not be empty"));
    if (!ref.kind) errs.push(fieldErrors.invalid(rp.child("kind"), ref.kind ?? "", "kind must not be empty"));
    if (!ref.name) errs.push(fieldErrors.invalid(rp.child("name"), ref.name ?? "", "name must not be empty"));
    if (!ref.uid) errs.push(fieldErrors.invalid(rp.child("uid"), ref.uid ?? "", "uid must not be empty"));
    if (ref.controller) controllers++;
  });
  if (controllers > 1) {
    errs.push(
      fieldErrors.invalid(
        p.child("ownerReferences"),
        (m.ownerReferences ?? []).filter((r) => r.controller).map((r) => r.name),
        "Only one reference can have Controller set to true",
      ),
    );
  }
  (m.finalizers ?? []).forEach((f, i) => {
    for (const msg of isQualifiedName(f)) errs.push(fieldErrors.invalid(p.child("finalizers").index(i), f, msg));
  });
  // The garbage collector cannot both orphan and delete the dependents.
  if (m.finalizers?.includes("orphan") && m.finalizers.includes("foregroundDeletion")) {
    errs.push(fieldErrors.invalid(p.child("finalizers"), m.finalizers, "finalizer orphan and foregroundDeletion cannot be both set"));
  }
  return errs;
}

/** Metadata that may not change on update (name, namespace, uid, creationTimestamp). */
export function validateObjectMetaUpdate(next: ObjectMeta | undefined, prev: ObjectMeta | undefined, p: FieldPath = path("metadata")): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ["name", "namespace", "uid", "creationTimestamp"] as const) {
    const a = next?.[f] ?? "";
    const b = prev?.[f] ?? "";
    if (b !== "" && a !== b) errs.push(fieldErrors.invalid(p.child(f), a, "field is immutable"));
  }
  return errs;
}

const PERCENT_MSG = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";

/** Kubernetes' ValidatePositiveIntOrPercent ("positive" meaning non-negative). */
export function validateNonNegativeIntOrPercent(v: IntOrString | undefined, p: FieldPath): FieldError[] {
  if (!v) return [];
  if (v.strVal !== undefined) {
    if (!/^[0-9]+%$/.test(v.strVal)) return [fieldErrors.invalid(p, v.strVal, PERCENT_MSG)];
    return [];
  }
  return nonNegative(v.intVal ?? 0, p);
}

export function isPercentOver100(v: IntOrString | undefined): boolean {
  return v?.strVal !== undefined && /^[0-9]+%$/.test(v.strVal) && Number(v.strVal.slice(0, -1)) > 100;
}

export function intOrPercentIsZero(v: IntOrString | undefined): boolean {
  if (!v) return true;
  return v.strVal !== undefined ? v.strVal === "0%" : (v.intVal ?? 0) === 0;
}

/** A port given as number or IANA name (probes, targetPort). */
export function validatePortNumOrName(v: IntOrString | undefined, p: FieldPath, required = true): FieldError[] {
  if (!v) return required ? [fieldErrors.required(p)] : [];
  if (v.strVal !== undefined) return isValidPortName(v.strVal).map((m) => fieldErrors.invalid(p, v.strVal, m));
  const n = v.intVal ?? 0;
  return n >= 1 && n <= 65535 ? [] : [fieldErrors.invalid(p, n, "must be between 1 and 65535, inclusive")];
}

export function validatePort(n: number | undefined, p: FieldPath, required = true): FieldError[] {
  if (n === undefined) return required ? [fieldErrors.required(p)] : [];
  return n >= 1 && n <= 65535 ? [] : [fieldErrors.invalid(p, n, "must be between 1 and 65535, inclusive")];
}

/** Go's %#v of a map[string]string, as Kubernetes prints label sets in selector errors. */
export function goStringMap(m: Record<string, string>): PrintedValue {
  const keys = Object.keys(m).sort();
  return new PrintedValue(`map[string]string{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(m[k])}`).join(", ")}}`);
}

export function isIP(s: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(s)) {
    return s.split(".").every((o) => Number(o) <= 255 && (o === "0" || !o.startsWith("0")));
  }
  if (s.includes(":") && /^[0-9a-fA-F:.]+$/.test(s)) {
    const parts = s.split("::");
    if (parts.length > 2) return false;
    const groups = s.split(":").filter((g) => g !== "");
    return groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g) || isIP(g)) && groups.length <= 8;
  }
  return false;
}
