// Whole objects: apiVersion + kind pick the message type through the registry.

import { type FieldError, fieldErrors, formatFieldErrors } from "../field_errors.js";
import { type KindInfo, type KubeObject, kindByName, kindFor } from "../registry.js";
import { type FromJsonOptions, fromJson, toJson } from "./json.js";

export type DecodeErrorReason =
  /** Not JSON / YAML, or not an object. */
  | "Malformed"
  /** apiVersion + kind name nothing Navarch serves. */
  | "UnknownKind"
  /** Unknown fields or values of the wrong type; `errors` names each with its path. */
  | "Invalid";

export class DecodeError extends Error {
  constructor(
    readonly reason: DecodeErrorReason,
    message: string,
    readonly errors: readonly FieldError[] = [],
  ) {
    super(message);
    this.name = "DecodeError";
  }
}

/** An object decoded from a manifest, with the registry entry of its kind. */
export interface Decoded<T extends KubeObject = KubeObject> {
  info: KindInfo;
  object: T;
}

/**
 * Reads apiVersion and kind and decodes the whole object, checking every field.
 * Throws DecodeError: Malformed, UnknownKind (`no matches for kind "X" in version "v"`), or Invalid
 * with one FieldError per unknown field or wrongly typed value.
 */
export function decodeObject(json: unknown, options: FromJsonOptions = {}): Decoded {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new DecodeError("Malformed", `Cannot decode object: expected a JSON object, got ${json === null ? "null" : Array.isArray(json) ? "a list" : typeof json}`);
  }
  const o = json as Record<string, unknown>;
  const missing: FieldError[] = [];
  if (typeof o.apiVersion !== "string" || o.apiVersion === "") missing.push(fieldErrors.required("apiVersion"));
  if (typeof o.kind !== "string" || o.kind === "") missing.push(fieldErrors.required("kind"));
  if (missing.length) {
    throw new DecodeError("Invalid", `Cannot decode object: ${formatFieldErrors(missing)}`, missing);
  }
  const apiVersion = o.apiVersion as string;
  const kind = o.kind as string;
  const info = kindFor(apiVersion, kind);
  if (!info) {
    const other = kindByName(kind);
    const hint = other ? `; Navarch serves ${kind} as ${JSON.stringify(other.apiVersion)}` : "";
    throw new DecodeError(
      "UnknownKind",
      `no matches for kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)}${hint}`,
    );
  }
  const { value, errors } = fromJson<KubeObject>(info.messageName, json, options);
  if (errors.length) {
    const name = nameOf(o);
    const what = name ? `${info.kind} ${JSON.stringify(name)}` : info.kind;
    throw new DecodeError("Invalid", `Cannot decode ${what}: ${formatFieldErrors(errors)}`, errors);
  }
  return { info, object: value as KubeObject };
}

function nameOf(o: Record<string, unknown>): string | undefined {
  const m = o.metadata;
  if (typeof m === "object" && m !== null && typeof (m as Record<string, unknown>).name === "string") {
    return (m as Record<string, string>).name;
  }
  return undefined;
}

/** Decodes JSON text; a syntax error is a Malformed DecodeError. */
export function decodeObjectJson(text: string, options: FromJsonOptions = {}): Decoded {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DecodeError("Malformed", `Cannot parse JSON: ${(e as Error).message}`);
  }
  return decodeObject(json, options);
}

/** The kind's registry entry for a typed object, from its apiVersion and kind fields. */
export function infoOf(object: { apiVersion?: string | undefined; kind?: string | undefined }): KindInfo {
  const info = kindFor(object.apiVersion ?? "", object.kind ?? "");
  if (!info) {
    throw new DecodeError(
      "UnknownKind",
      `no matches for kind ${JSON.stringify(object.kind ?? "")} in version ${JSON.stringify(object.apiVersion ?? "")}`,
    );
  }
  return info;
}

/** Kubernetes JSON for a typed object (a plain object; JSON.stringify it or hand it to YAML). */
export function encodeObject(object: KubeObject): Record<string, unknown> {
  return toJson(infoOf(object).messageName, object);
}

export function encodeObjectJson(object: KubeObject, indent?: number): string {
  return JSON.stringify(encodeObject(object), null, indent);
}
