// Field-path errors in Kubernetes' wording (k8s.io/apimachinery/pkg/util/validation/field).
//
// Decoding, defaulting and validation all report problems as FieldError values; the API server
// turns a list of them into one Invalid ApiError whose message is formatInvalid(...).

export type FieldErrorType =
  | "FieldValueNotFound"
  | "FieldValueRequired"
  | "FieldValueDuplicate"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueForbidden"
  | "FieldValueTooLong"
  | "FieldValueTooMany"
  | "InternalError"
  | "FieldValueTypeInvalid"
  | "FieldValueUnknown"
  /** Not a field problem: Kubernetes' StatusCause of a Forbidden create in a terminating namespace. */
  | "NamespaceTerminating"
  /** Not a field problem: Kubernetes' StatusCause of an eviction a PodDisruptionBudget refused. */
  | "DisruptionBudget";

const TYPE_TEXT: Record<FieldErrorType, string> = {
  FieldValueNotFound: "Not found",
  FieldValueRequired: "Required value",
  FieldValueDuplicate: "Duplicate value",
  FieldValueInvalid: "Invalid value",
  FieldValueNotSupported: "Unsupported value",
  FieldValueForbidden: "Forbidden",
  FieldValueTooLong: "Too long",
  FieldValueTooMany: "Too many",
  InternalError: "Internal error",
  FieldValueTypeInvalid: "Invalid value",
  FieldValueUnknown: "unknown field",
  NamespaceTerminating: "Namespace terminating",
  DisruptionBudget: "Disruption budget",
};

/** Types whose message shows no value (as in Kubernetes). */
const VALUELESS = new Set<FieldErrorType>([
  "FieldValueRequired",
  "FieldValueForbidden",
  "FieldValueTooLong",
  "InternalError",
  "FieldValueUnknown",
  "NamespaceTerminating",
  "DisruptionBudget",
]);

export interface FieldError {
  /** Path such as `spec.template.spec.containers[0].image` or `metadata.labels[app]`. */
  field: string;
  type: FieldErrorType;
  /** The offending value, when the type shows one. */
  value?: unknown;
  detail: string;
}

/**
 * Builds field paths: path("spec").child("containers").index(0).child("image"). The text is put
 * together only when asked for: validation builds a path for every field it checks, and nearly
 * all of them name no error.
 */
export class FieldPath {
  private text: string | undefined;
  private constructor(
    private readonly parent: FieldPath | undefined,
    private readonly segment: string,
    /** `[segment]` (an index or a key) rather than `.segment`. */
    private readonly bracketed: boolean,
  ) {}

  static root(name = ""): FieldPath {
    const p = new FieldPath(undefined, name, false);
    p.text = name;
    return p;
  }

  child(name: string, ...more: string[]): FieldPath {
    let p = new FieldPath(this, name, false);
    for (const m of more) p = new FieldPath(p, m, false);
    return p;
  }

  index(i: number): FieldPath {
    return new FieldPath(this, String(i), true);
  }

  key(k: string): FieldPath {
    return new FieldPath(this, k, true);
  }

  toString(): string {
    if (this.text === undefined) {
      const base = this.parent!.toString();
      this.text = this.bracketed ? `${base}[${this.segment}]` : base === "" ? this.segment : `${base}.${this.segment}`;
    }
    return this.text;
  }
}

export function path(first: string, ...more: string[]): FieldPath {
  return FieldPath.root().child(first, ...more);
}

type P = FieldPath | string;

export const fieldErrors = {
  required: (p: P, detail = ""): FieldError => ({ field: String(p), type: "FieldValueRequired", detail }),
  invalid: (p: P, value: unknown, detail = ""): FieldError => ({
    field: String(p),
    type: "FieldValueInvalid",
    value,
    detail,
  }),
  notSupported: (p: P, value: unknown, supported: readonly string[]): FieldError => ({
    field: String(p),
    type: "FieldValueNotSupported",
    value,
    detail: supported.length ? `supported values: ${supported.map((s) => JSON.stringify(s)).join(", ")}` : "",
  }),
  duplicate: (p: P, value: unknown): FieldError => ({ field: String(p), type: "FieldValueDuplicate", value, detail: "" }),
  forbidden: (p: P, detail: string): FieldError => ({ field: String(p), type: "FieldValueForbidden", detail }),
  notFound: (p: P, value: unknown): FieldError => ({ field: String(p), type: "FieldValueNotFound", value, detail: "" }),
  tooLong: (p: P, maxLength: number): FieldError => ({
    field: String(p),
    type: "FieldValueTooLong",
    detail: `may not be more than ${maxLength} bytes`,
  }),
  tooMany: (p: P, actual: number, max: number): FieldError => ({
    field: String(p),
    type: "FieldValueTooMany",
    value: actual,
    detail: `must have at most ${max} items`,
  }),
  typeInvalid: (p: P, value: unknown, detail: string): FieldError => ({
    field: String(p),
    type: "FieldValueTypeInvalid",
    value,
    detail,
  }),
  unknown: (p: P): FieldError => ({ field: String(p), type: "FieldValueUnknown", detail: "" }),
  internal: (p: P, detail: string): FieldError => ({ field: String(p), type: "InternalError", detail }),
};

/** A value already rendered the way Kubernetes prints it (e.g. `map[string]string{"app":"web"}`). */
export class PrintedValue {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

/** Go-like rendering of a value: strings quoted, numbers bare, objects as JSON. */
export function formatValue(value: unknown): string {
  if (value instanceof PrintedValue) return value.text;
  if (value === undefined) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (value === null) return "null";
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** `spec.replicas: Invalid value: -1: must be greater than or equal to 0` */
export function formatFieldError(e: FieldError): string {
  let body = TYPE_TEXT[e.type];
  if (!VALUELESS.has(e.type)) body = `${body}: ${formatValue(e.value)}`;
  if (e.detail) body = `${body}: ${e.detail}`;
  return e.field ? `${e.field}: ${body}` : body;
}

/** One line for a list, as Kubernetes' aggregate: one error alone, several in brackets. */
export function formatFieldErrors(errors: readonly FieldError[]): string {
  const parts = errors.map(formatFieldError);
  return parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
}

/**
 * Kubernetes' Invalid message: `Deployment.apps "web" is invalid: spec.replicas: Invalid value: ...`.
 * group is "" for the core group.
 */
export function formatInvalid(kind: string, group: string, name: string, errors: readonly FieldError[]): string {
  const qualified = group ? `${kind}.${group}` : kind;
  return `${qualified} ${JSON.stringify(name)} is invalid: ${formatFieldErrors(errors)}`;
}
