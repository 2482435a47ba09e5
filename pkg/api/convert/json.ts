// Kubernetes JSON ↔ typed message, driven by the schema read from the .proto files.
//
// fromJson checks every key and every value: an unknown field or a value of the wrong type becomes a
// FieldError with its path; nothing is silently dropped or coerced. The typed value has the shape
// ts-proto's decode produces (every field present: undefined, [] or {}), so objects decoded from JSON
// and from protobuf bytes compare equal. toJson writes Kubernetes' JSON forms: IntOrString as a bare
// number or string, bytes as base64, absent and empty lists and maps omitted.

import { type FieldError, fieldErrors } from "../field_errors.js";
import { Quantity, QuantityError } from "../quantity.js";
import { type FieldSchema, type MessageSchema, messageSchema } from "../schema.js";

export interface FromJsonOptions {
  /** Stop collecting after this many errors; a hostile document cannot make the list huge. @default 100 */
  maxErrors?: number;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const UINT32_MAX = 4294967295;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// RFC 3339, with optional fractional seconds (metav1.Time and MicroTime).
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** Whether the text is an RFC 3339 timestamp (what a +time field holds). */
export function isRFC3339(text: string): boolean {
  return RFC3339_RE.test(text) && !Number.isNaN(Date.parse(text));
}

class Collector {
  readonly errors: FieldError[] = [];
  constructor(private readonly maxErrors: number) {}
  add(e: FieldError): void {
    if (this.errors.length < this.maxErrors) this.errors.push(e);
  }
  full(): boolean {
    return this.errors.length >= this.maxErrors;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Date);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "number") return Number.isInteger(v) ? "a number" : "a decimal number";
  return `a ${typeof v}`;
}

function keyPath(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** The typed value with every field at its empty state, as ts-proto's createBase builds it. */
export function emptyMessage(schema: MessageSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of schema.fields) out[f.name] = f.label === "repeated" ? [] : f.label === "map" ? {} : undefined;
  return out;
}

function convertMessage(schema: MessageSchema, json: unknown, path: string, c: Collector): Record<string, unknown> | undefined {
  if (!isPlainObject(json)) {
    c.add(fieldErrors.typeInvalid(path, json, `expected an object, got ${describe(json)}`));
    return undefined;
  }
  if (schema.name === "IntOrString") {
    // A message here only when someone wrote the internal form; Kubernetes JSON never does.
    c.add(fieldErrors.typeInvalid(path, json, "expected an integer or a string"));
    return undefined;
  }
  const out = emptyMessage(schema);
  for (const key of Object.keys(json)) {
    if (c.full()) break;
    const field = schema.byJsonName.get(key);
    const p = keyPath(path, key);
    if (!field) {
      c.add(fieldErrors.unknown(p));
      continue;
    }
    const v = json[key];
    if (v === null || v === undefined) continue;
    out[field.name] = convertField(field, v, p, c);
  }
  return out;
}

function convertField(field: FieldSchema, v: unknown, p: string, c: Collector): unknown {
  if (field.label === "repeated") {
    if (!Array.isArray(v)) {
      c.add(fieldErrors.typeInvalid(p, v, `expected a list, got ${describe(v)}`));
      return [];
    }
    const items: unknown[] = [];
    for (let i = 0; i < v.length; i++) {
      if (c.full()) break;
      const item = convertValue(field, v[i], `${p}[${i}]`, c);
      if (item !== undefined) items.push(item);
    }
    return items;
  }
  if (field.label === "map") {
    if (!isPlainObject(v)) {
      c.add(fieldErrors.typeInvalid(p, v, `expected an object, got ${describe(v)}`));
      return {};
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      if (c.full()) break;
      const item = convertValue(field, v[k], `${p}[${k}]`, c);
      if (item !== undefined) out[k] = item;
    }
    return out;
  }
  return convertValue(field, v, p, c);
}

function convertValue(field: FieldSchema, v: unknown, p: string, c: Collector): unknown {
  if (field.isMessage) {
    if (field.type === "IntOrString") return convertIntOrString(v, p, c);
    if (v === null && field.label !== "single") {
      c.add(fieldErrors.typeInvalid(p, v, "expected an object, got null"));
      return undefined;
    }
    return convertMessage(messageSchema(field.type), v, p, c);
  }
  return convertScalar(field, v, p, c);
}

function convertIntOrString(v: unknown, p: string, c: Collector): unknown {
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) {
      c.add(fieldErrors.typeInvalid(p, v, "expected a 32-bit integer or a string"));
      return undefined;
    }
    return { intVal: v, strVal: undefined };
  }
  if (typeof v === "string") return { intVal: undefined, strVal: v };
  c.add(fieldErrors.typeInvalid(p, v, `expected an integer or a string, got ${describe(v)}`));
  return undefined;
}

function convertScalar(field: FieldSchema, v: unknown, p: string, c: Collector): unknown {
  switch (field.type) {
    case "string": {
      if (field.quantity && typeof v === "number" && Number.isFinite(v)) v = String(v);
      if (typeof v !== "string") {
        const what = field.quantity ? "a quantity string" : field.time ? "an RFC 3339 timestamp string" : "a string";
        c.add(fieldErrors.typeInvalid(p, v, `expected ${what}, got ${describe(v)}`));
        return undefined;
      }
      if (field.quantity) {
        try {
          Quantity.parse(v);
        } catch (e) {
          c.add(fieldErrors.invalid(p, v, e instanceof QuantityError ? e.reason : String(e)));
          return undefined;
        }
      }
      if (field.time && !isRFC3339(v)) {
        c.add(fieldErrors.invalid(p, v, "must be an RFC 3339 timestamp (e.g. '2006-01-02T15:04:05Z')"));
        return undefined;
      }
      return v;
    }
    case "bool":
      if (typeof v !== "boolean") {
        c.add(fieldErrors.typeInvalid(p, v, `expected a boolean (true or false), got ${describe(v)}`));
        return undefined;
      }
      return v;
    case "int32":
    case "int64":
    case "uint32":
    case "uint64": {
      const [min, max, what] =
        field.type === "int32"
          ? [INT32_MIN, INT32_MAX, "a 32-bit integer"]
          : field.type === "uint32"
            ? [0, UINT32_MAX, "a non-negative 32-bit integer"]
            : field.type === "uint64"
              ? [0, Number.MAX_SAFE_INTEGER, "a non-negative integer"]
              : [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, "an integer"];
      if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
        c.add(fieldErrors.typeInvalid(p, v, `expected ${what}, got ${typeof v === "number" ? "an out-of-range or decimal number" : describe(v)}`));
        return undefined;
      }
      return v;
    }
    case "double":
    case "float":
      if (typeof v !== "number" || !Number.isFinite(v)) {
        c.add(fieldErrors.typeInvalid(p, v, `expected a number, got ${describe(v)}`));
        return undefined;
      }
      return v;
    case "bytes":
      if (typeof v !== "string" || !BASE64_RE.test(v)) {
        c.add(fieldErrors.typeInvalid(p, typeof v === "string" ? v : undefined, "expected a base64-encoded string"));
        return undefined;
      }
      return Buffer.from(v, "base64");
    default:
      c.add(fieldErrors.internal(p, `unsupported scalar type ${field.type}`));
      return undefined;
  }
}

export interface FromJsonResult<T> {
  /** Present when errors is empty. */
  value: T | undefined;
  errors: FieldError[];
}

/** Converts Kubernetes JSON (already parsed) into the typed message `messageName`. */
export function fromJson<T = Record<string, unknown>>(
  messageName: string,
  json: unknown,
  options: FromJsonOptions = {},
): FromJsonResult<T> {
  const c = new Collector(options.maxErrors ?? 100);
  const value = convertMessage(messageSchema(messageName), json, "", c);
  if (c.errors.length > 0) return { value: undefined, errors: c.errors };
  return { value: value as T, errors: [] };
}

function scalarToJson(field: FieldSchema, v: unknown): unknown {
  if (field.type === "bytes") return Buffer.from(v as Uint8Array).toString("base64");
  return v;
}

function valueToJson(field: FieldSchema, v: unknown): unknown {
  if (!field.isMessage) return scalarToJson(field, v);
  if (field.type === "IntOrString") {
    const ios = v as { intVal?: number; strVal?: string };
    return ios.strVal !== undefined ? ios.strVal : (ios.intVal ?? 0);
  }
  return messageToJson(messageSchema(field.type), v as Record<string, unknown>);
}

function messageToJson(schema: MessageSchema, value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of schema.fields) {
    const v = value[f.name];
    if (v === undefined || v === null) continue;
    if (f.label === "repeated") {
      const list = v as unknown[];
      if (list.length === 0) continue;
      out[f.jsonName] = list.map((item) => valueToJson(f, item));
    } else if (f.label === "map") {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length === 0) continue;
      const m: Record<string, unknown> = {};
      for (const [k, item] of entries) m[k] = valueToJson(f, item);
      out[f.jsonName] = m;
    } else {
      out[f.jsonName] = valueToJson(f, v);
    }
  }
  return out;
}

/** Converts a typed message into Kubernetes JSON (a plain object ready for JSON.stringify or YAML). */
export function toJson(messageName: string, value: unknown): Record<string, unknown> {
  return messageToJson(messageSchema(messageName), value as Record<string, unknown>);
}
