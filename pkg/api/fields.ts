// Field selectors (`metadata.name=web,status.phase!=Running`): parsing, the fields each kind
// supports, and matching against objects.

import type { KindName, KubeObject, ObjectLike } from "./registry.js";

export interface FieldRequirement {
  field: string;
  operator: "=" | "!=";
  value: string;
}

export class FieldSelectorError extends SyntaxError {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`Cannot parse field selector ${JSON.stringify(input)}: ${reason}`);
    this.name = "FieldSelectorError";
  }
}

export const MAX_FIELD_SELECTOR_LENGTH = 16384;

const str = (v: unknown): string => (v === undefined || v === null ? "" : String(v));

/** A selectable field's value of an object, as a string (booleans "true"/"false", numbers in decimal). */
type FieldGetter = (o: Record<string, any>) => string;

const META_FIELDS: Readonly<Record<string, FieldGetter>> = {
  "metadata.name": (o) => str(o.metadata?.name),
  "metadata.namespace": (o) => str(o.metadata?.namespace),
};

const INVOLVED_OBJECT_FIELDS = ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"];

const KIND_FIELDS: Partial<Record<KindName, Readonly<Record<string, FieldGetter>>>> = {
  Pod: {
    "spec.nodeName": (o) => str(o.spec?.nodeName),
    "spec.restartPolicy": (o) => str(o.spec?.restartPolicy),
    "spec.schedulerName": (o) => str(o.spec?.schedulerName),
    "spec.serviceAccountName": (o) => str(o.spec?.serviceAccountName),
    "spec.hostNetwork": (o) => String(o.spec?.hostNetwork === true),
    "status.phase": (o) => str(o.status?.phase),
    "status.podIP": (o) => str(o.status?.podIP),
    "status.nominatedNodeName": (o) => str(o.status?.nominatedNodeName),
  },
  Event: {
    ...Object.fromEntries(INVOLVED_OBJECT_FIELDS.map((f): [string, FieldGetter] => [`involvedObject.${f}`, (o) => str(o.involvedObject?.[f])])),
    reason: (o) => str(o.reason),
    reportingComponent: (o) => str(o.reportingComponent),
    source: (o) => str(o.source?.component),
    type: (o) => str(o.type),
  },
  Node: { "spec.unschedulable": (o) => String(o.spec?.unschedulable === true) },
  Namespace: { "status.phase": (o) => str(o.status?.phase) },
  Secret: { type: (o) => str(o.type) },
  ReplicaSet: { "status.replicas": (o) => String(o.status?.replicas ?? 0) },
  Job: { "status.successful": (o) => String(o.status?.succeeded ?? 0) },
};

/** The field names a kind can be selected by. */
export function supportedFieldSelectors(kind: KindName): readonly string[] {
  return [...Object.keys(META_FIELDS), ...Object.keys(KIND_FIELDS[kind] ?? {})];
}

/** One selectable field of an object ("" when the kind has no such field). */
export function objectField(object: KubeObject | ObjectLike, field: string): string {
  const o = object as Record<string, any>;
  const kind = KIND_FIELDS[o.kind as KindName];
  const get = Object.hasOwn(META_FIELDS, field) ? META_FIELDS[field] : kind !== undefined && Object.hasOwn(kind, field) ? kind[field] : undefined;
  return get === undefined ? "" : get(o);
}

function escapeValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/,/g, "\\,").replace(/=/g, "\\=");
}

export class FieldSelector {
  private constructor(readonly requirements: readonly FieldRequirement[]) {}

  static everything(): FieldSelector {
    return new FieldSelector([]);
  }

  static of(requirements: readonly FieldRequirement[]): FieldSelector {
    return new FieldSelector([...requirements].sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0)));
  }

  isEverything(): boolean {
    return this.requirements.length === 0;
  }

  /** Whether the object's fields meet every requirement, reading only the fields named (a watch matches every change). */
  matchesObject(object: KubeObject | ObjectLike): boolean {
    for (const r of this.requirements) {
      const v = objectField(object, r.field);
      if (r.operator === "=" ? v !== r.value : v === r.value) return false;
    }
    return true;
  }

  /** The value a field must equal, if the selector pins it (metadata.name=web → "web"). */
  exactValue(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.operator === "=")?.value;
  }

  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator}${escapeValue(r.value)}`).join(",");
  }
}

/** Splits on separators not escaped with "\". */
function splitTerms(input: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c === "\\" && i + 1 < input.length) {
      cur += c + input[i + 1];
      i++;
    } else if (c === ",") {
      out.push(cur);
      cur = "";
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

function unescape(input: string, value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\") {
      const n = value[i + 1];
      if (n !== "\\" && n !== "," && n !== "=") {
        throw new FieldSelectorError(input, `invalid escape sequence "\\${n ?? ""}" in value ${JSON.stringify(value)}`);
      }
      out += n;
      i++;
    } else if (c === "," || c === "=") {
      throw new FieldSelectorError(input, `value ${JSON.stringify(value)} has an unescaped ${JSON.stringify(c)}`);
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * Parses `field=value`, `field==value` and `field!=value` terms joined by ",". Values may escape
 * "\", "," and "=" with "\". With a kind, fields that kind cannot be selected by are refused with
 * Kubernetes' wording: `field label not supported: spec.foo`.
 */
export function parseFieldSelector(input: string, kind?: KindName): FieldSelector {
  if (input.length > MAX_FIELD_SELECTOR_LENGTH) {
    throw new FieldSelectorError(input.slice(0, 64) + "…", `longer than ${MAX_FIELD_SELECTOR_LENGTH} characters`);
  }
  if (input.trim() === "") return FieldSelector.everything();
  const supported = kind ? new Set(supportedFieldSelectors(kind)) : undefined;
  const reqs: FieldRequirement[] = [];
  for (const term of splitTerms(input)) {
    let field: string;
    let operator: "=" | "!=";
    let raw: string;
    const ne = term.indexOf("!=");
    const eq = term.indexOf("=");
    if (ne >= 0 && ne < eq) {
      field = term.slice(0, ne);
      operator = "!=";
      raw = term.slice(ne + 2);
    } else if (eq >= 0) {
      field = term.slice(0, eq);
      operator = "=";
      raw = term.slice(term[eq + 1] === "=" ? eq + 2 : eq + 1);
    } else {
      throw new FieldSelectorError(input, `term ${JSON.stringify(term)} has no operator; use "=", "==" or "!="`);
    }
    field = field.trim();
    if (field === "") throw new FieldSelectorError(input, `term ${JSON.stringify(term)} has no field name`);
    if (supported && !supported.has(field)) {
      throw new FieldSelectorError(input, `field label not supported: ${field}`);
    }
    reqs.push({ field, operator, value: unescape(input, raw) });
  }
  return FieldSelector.of(reqs);
}
